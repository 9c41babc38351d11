"""`citeflow cite`: bibliography entries for DOIs, PMIDs and PMCIDs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..api import Project, parse_identifiers
from ..references.bibliography import reference_to_csl, to_bibtex
from . import main
from ._output import ProgressBar, say

#: Show a progress bar (on a terminal) from this many identifiers on.
PROGRESS_FROM = 5


@main.command()
@click.argument("identifiers", nargs=-1, required=True)
@click.option("--bib", type=click.Path(dir_okay=False, path_type=Path),
              help="Append the entries to this BibTeX file (created if missing), skipping "
                   "works it already holds.")
@click.option("--format", "fmt", type=click.Choice(["bibtex", "csljson"]), default="bibtex",
              show_default=True, help="Output format when printing.")
@click.option("--offline", is_flag=True, default=None,
              help="Use only the bibliography and the cache; send no request.")
def cite(identifiers: tuple[str, ...], bib: Path | None, fmt: str, offline: bool | None) -> None:
    """Print bibliography entries for IDENTIFIERS (doi:…, pmid:…, pmcid:PMC…, or bare).

    With --bib, the entries are appended to that file instead; identifiers already in it are
    skipped. Exits 1 if any identifier could not be resolved, naming each with the reason.
    """
    count = len(parse_identifiers(identifiers))
    project = Project.find(bib.parent if bib and bib.parent.is_dir() else None)
    if bib is not None and not bib.exists():
        say(f"{bib} does not exist yet: it will be created")
    with ProgressBar("Fetching metadata", count, minimum=PROGRESS_FROM) as bar:
        result = project.cite(identifiers, bibliography=bib, offline=offline,
                              on_result=bar.advance)
    for skipped in result.skipped:
        say(f"skipped {skipped}")
    for warning in result.warnings:
        click.echo(f"citeflow: warning: {warning}", err=True)
    if bib is not None:
        for ref in result.written:
            click.echo(f"added @{ref.key} to {bib}:{ref.line}")
    elif fmt == "csljson":
        click.echo(json.dumps([reference_to_csl(r) for r in result.references],
                              ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(to_bibtex(r) for r in result.references), nl=False)
    for failed in result.failed:
        click.echo(f"citeflow: {failed.describe()}", err=True)
    click.get_current_context().exit(result.exit_code())
