"""`citeflow styles`: the CSL styles available offline, with their titles."""

from __future__ import annotations

import click

from ..errors import CiteflowError
from ..output.styles import ALIASES, closest_names, list_styles
from . import main


@main.command()
@click.argument("query", required=False)
def styles(query: str | None) -> None:
    """List CSL styles available offline, optionally only those matching QUERY.

    Each line shows the name to pass to `render --csl`, the title and, for a dependent
    style (a journal that borrows another style), the independent style it uses.
    """
    found = list_styles(query)
    if not found:
        closest = closest_names(query or "")
        hint = f"; closest names: {', '.join(closest)}" if closest else ""
        raise CiteflowError(f"no CSL style matches '{query}'{hint}")
    width = min(max(len(info.name) for info in found), 48)
    for info in found:
        line = f"{info.name:<{width}}  {info.title}"
        if info.parent:
            line += f"  [uses {info.parent}]"
        click.echo(line)
    if query:
        aliases = [f"{alias} -> {target}" for alias, target in sorted(ALIASES.items())
                   if query.lower() in alias]
        if aliases:
            click.echo("aliases: " + ", ".join(aliases))
