"""`citeflow suggest`: candidate references for placeholders and uncited claims."""

from __future__ import annotations

from pathlib import Path

import click

from ..api import Project
from . import main
from ._output import bibliography_entries, print_candidates, short


@main.command()
@click.argument("manuscripts", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--bib",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="BibTeX file to draw candidates from as well as the front matter's bibliographies.",
)
@click.option("-k", "count", default=3, show_default=True, type=click.IntRange(1, 20),
              help="Candidates per sentence.")
@click.option("--all", "show_all", is_flag=True,
              help="Also list sentences that have only weak candidates.")
def suggest(manuscripts: tuple[Path, ...], bib: Path | None, count: int, show_all: bool) -> None:
    """Suggest references for free-text placeholders and uncited claims.

    Every free-text placeholder is listed with up to K candidates from the bibliography,
    each as "Author Year, Title (key)" ('*' marks a confident candidate; --verbose adds the
    score and the words that matched). Claim sentences without a citation are listed when
    they have a confident candidate (all of them with --all).
    """
    for path in manuscripts:
        project = Project.find(path)
        references = bibliography_entries(project, path, bib)
        for item in project.suggest(path, k=count, include_weak=show_all, bibliography=bib):
            where = f"{path}:{item.line}:{item.column}"
            if item.kind == "placeholder":
                click.echo(f"{where}: placeholder {short(item.text)}")
                click.echo(f"    for: {short(item.sentence, 100)}")
            else:
                click.echo(f"{where}: uncited claim {short(item.sentence, 100)}")
            print_candidates(item.suggestions, item.confident, references=references)
