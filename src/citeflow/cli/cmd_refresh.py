"""`citeflow refresh`: learn from the registries once, keep it in citeflow.lock."""

from __future__ import annotations

from pathlib import Path

import click

from ..api import Project
from . import main
from ._output import ProgressBar, console, say

#: Show a progress bar (on a terminal) from this many identifiers in a phase on.
PROGRESS_FROM = 2


@main.command()
@click.argument("manuscripts", nargs=-1, type=click.Path(path_type=Path))
@click.option("--all", "all_entries", is_flag=True,
              help="Ask about every bibliography entry, not only the cited ones.")
def refresh(manuscripts: tuple[Path, ...], all_entries: bool) -> None:
    """Ask Crossref, PubMed, doi.org and the bioRxiv API about the works MANUSCRIPTS cite
    (default: every manuscript of the project) and write what they say to citeflow.lock.

    The lock sits at the project root and is meant to be committed: `citeflow check` judges
    retractions, expressions of concern, corrections, preprints and mistyped references from
    it offline (CF107-CF112). A registry that cannot be reached keeps a work's previous
    entry and the work is named here.

    Exit status: 0 every work checked, 1 some could not be checked, 2 bad input.
    """
    project = Project.find(manuscripts[0] if manuscripts else None)
    # On a terminal the bar shows each phase; in a log (CI) each phase is a line.
    terminal = console(stderr=True).is_terminal
    with ProgressBar("Asking the registries", minimum=PROGRESS_FROM) as bar:
        result = project.refresh(manuscripts, all_entries=all_entries, progress=bar,
                                 on_progress=None if terminal else lambda text: say(f"asking {text}"))
    for change in result.changes:
        click.echo(f"{', '.join(change.keys)}: {change.message}", err=True)
    for unchecked in result.unchecked:
        click.echo(f"citeflow: could not check {unchecked.describe()}; its previous entry is kept",
                   err=True)
    state = "written" if result.written else "unchanged"
    summary = (f"{result.lock_path}: {state}; {result.works} work{'s' if result.works != 1 else ''} "
               f"asked about in {result.requests} request{'s' if result.requests != 1 else ''}")
    if result.dropped:
        summary += f"; {len(result.dropped)} no longer cited, dropped"
    if result.unchecked:
        summary += f"; {len(result.unchecked)} could not be checked"
    click.echo(summary, err=True)
    click.get_current_context().exit(result.exit_code)
