"""Test helper: undo the replacements a resolve made."""

from __future__ import annotations


def put_back(text: str, replacements) -> str:
    """``text`` with every replaced span given back its old text (spans in order)."""
    pieces: list[str] = []
    position = shift = 0
    for rep in replacements:
        start = rep.start + shift
        pieces += [text[position:start], rep.old]
        position = start + len(rep.new)
        shift += len(rep.new) - len(rep.old)
    return "".join(pieces) + text[position:]
