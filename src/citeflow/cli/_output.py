"""Terminal output shared by several commands."""

from __future__ import annotations

from typing import Sequence

import click


def short(text: str, width: int = 70) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_candidates(ranked: Sequence, confident: Sequence[bool], *, err: bool = False) -> None:
    """Numbered candidate references; '*' marks a confident one."""
    if not ranked:
        click.echo("    no candidate in the bibliography", err=err)
        return
    for number, (suggestion, sure) in enumerate(zip(ranked, confident), 1):
        mark = "*" if sure else " "
        terms = ", ".join(suggestion.terms[:6])
        click.echo(f"   {mark}{number}. {suggestion.key}  score {suggestion.score:.2f}  ({terms})",
                   err=err)
