"""`citeflow claims`: the claims table of a manuscript."""

from __future__ import annotations

from pathlib import Path

import click

from . import main

FORMATS = ("csv", "html", "md", "text")  # as citeflow.output.claimtable.FORMATS, without importing it here


@main.command()
@click.argument("manuscript", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Table format (default: from the -o suffix, else md).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write the table to this file instead of standard output.")
def claims(manuscript: Path, fmt: str | None, output: Path | None) -> None:
    """List every claim sentence with its citations and the cited titles, or "unsupported",
    and what citeflow.lock says of each cited work (retracted, corrected, not checked, ok...)."""
    from ..files import atomic_write_text
    from ..output.claimtable import claim_table, format_rows

    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output else ""
        fmt = {"csv": "csv", "html": "html", "htm": "html", "txt": "text"}.get(suffix, "md")
    rows = claim_table(manuscript)
    text = format_rows(rows, fmt, title=f"Claims table: {manuscript.name}")
    if output is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(output, text)
