"""`citeflow import`: a draft (.txt, .docx, .html) becomes a manuscript with front matter."""

from __future__ import annotations

from pathlib import Path

import click

from ..document.importer import import_draft
from . import main


@main.command(name="import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), default=None,
    help="Manuscript to write (default: manuscripts/STEM.md in the project).",
)
@click.option("--force", is_flag=True, help="Overwrite the output if it exists.")
def import_command(path: Path, output: Path | None, force: bool) -> None:
    """Convert the draft at PATH into a Pandoc Markdown manuscript.

    Web-page chrome is dropped, the title goes to the front matter, short title-cased
    lines ending in ':' become headings and bullets become lists; the prose is kept word
    for word.
    """
    written = import_draft(path, output=output, force=force)
    click.echo(f"wrote {written}")
