"""`citeflow cite`: bibliography entries for DOIs, PMIDs and PMCIDs."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Iterator

import click

from ..api import Project, parse_identifiers
from ..references.bibliography import reference_to_csl, to_bibtex
from . import main

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
    with _progress(count) as advance:
        result = project.cite(identifiers, bibliography=bib, offline=offline,
                              on_result=advance)
    for skipped in result.skipped:
        click.echo(f"skipped {skipped}", err=True)
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


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@contextlib.contextmanager
def _progress(count: int) -> Iterator:
    """A callback advancing a progress bar on stderr (a terminal, from PROGRESS_FROM items)."""
    if count < PROGRESS_FROM or not _stderr_is_terminal():
        yield None
        return
    with click.progressbar(length=count, label="Fetching metadata", file=sys.stderr) as bar:
        yield lambda _result: bar.update(1)
