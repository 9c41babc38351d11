"""Writing text as Pandoc Markdown that reads back as exactly that text."""

from __future__ import annotations

import re

_INLINE_SPECIAL = re.compile(r"([\\`*\[\]<>$~^|])")
_AT = re.compile(r"(?<![\w\\])@(?=[\w{])")
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_LINE_START = re.compile(
    r"^(\s*)(#|>|[-+*:](?=\s|$)|\d+(?=[.)](?:\s|$))|\(\d+\)|\(?[A-Za-z](?=[.)]\s)|=+$|-+$|%)"
)


def escape_markdown(text: str, heading: bool = False) -> str:
    """Backslash-escape what Pandoc Markdown would read as markup in one line of prose."""
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    text = _AT.sub(r"\\@", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _ENTITY.sub(r"\\&", text)
    match = _LINE_START.match(text)
    if match:
        lead, marker = match.group(1), match.group(2)
        if marker[0].isdigit():
            # "2024. was" or "3) item": escape the punctuation after the number.
            cut = len(lead) + len(marker)
            text = text[:cut] + "\\" + text[cut:]
        elif marker[0] == "(" or marker[0].isalpha():
            cut = len(lead) + len(marker)
            text = text[:cut] + "\\" + text[cut:]
        else:
            text = lead + "\\" + text[len(lead):]
    if heading:
        text = re.sub(r"\{", r"\\{", text)
        text = re.sub(r"#+\s*$", lambda m: "\\" + m.group(0), text)
    return text


def escape_inline(text: str) -> str:
    """``text`` on one line (white space folded) as literal inline Markdown, for table
    cells and generated paragraphs."""
    return escape_markdown(" ".join(text.split()))
