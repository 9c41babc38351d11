"""A rule's explanation (its docstring) as plain text, terminal text or Markdown.

Rule docstrings quote code between double backticks and end with an indented example after
``Example:``. Nothing of that markup reaches a reader: plain text drops the backticks,
Markdown turns them into code spans and the example into a code block.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass

_LITERAL = re.compile(r"``(.+?)``", re.S)
_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
_EXAMPLE = re.compile(r"^Examples?:\s*$")


@dataclass(frozen=True)
class RuleDoc:
    """A docstring cut into its parts: summary, prose paragraphs and the example lines."""

    summary: str
    paragraphs: tuple[str, ...]
    example: tuple[str, ...]


def parse(doc: str) -> RuleDoc:
    """The parts of a rule's docstring (paragraphs keep their inline markup)."""
    text = inspect.cleandoc(doc or "")
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    paragraphs: list[str] = []
    example: list[str] = []
    for block in blocks:
        lines = block.splitlines()
        if _EXAMPLE.match(lines[0].strip()) or example:
            body = lines[1:] if _EXAMPLE.match(lines[0].strip()) else lines
            if example:
                example.append("")
            example.extend(textwrap.dedent("\n".join(body)).splitlines())
            continue
        paragraphs.append(" ".join(" ".join(lines).split()))
    summary = paragraphs[0] if paragraphs else ""
    return RuleDoc(summary, tuple(paragraphs[1:]), tuple(example))


def plain(text: str) -> str:
    """Inline markup removed: ``code`` and :role:`name` become their text."""
    return _ROLE.sub(r"\1", _LITERAL.sub(r"\1", text))


def markdown_inline(text: str) -> str:
    return _ROLE.sub(r"`\1`", _LITERAL.sub(lambda m: f"`{m.group(1)}`", text))


def summary_text(doc: str) -> str:
    return plain(parse(doc).summary)


def description_text(doc: str) -> str:
    """Summary and paragraphs, plain, one paragraph a line (no example)."""
    parsed = parse(doc)
    return "\n\n".join(plain(p) for p in (parsed.summary, *parsed.paragraphs) if p)


def full_text(doc: str, width: int = 88) -> str:
    """Everything, plain: paragraphs wrapped at ``width``, then the example as written."""
    parsed = parse(doc)
    parts = [textwrap.fill(plain(p), width) for p in (parsed.summary, *parsed.paragraphs) if p]
    if parsed.example:
        parts.append("Example:\n" + "\n".join("    " + line if line else ""
                                              for line in parsed.example))
    return "\n\n".join(parts)


def markdown(doc: str) -> str:
    """Everything as Markdown: code spans, and the example in a fenced block."""
    parsed = parse(doc)
    parts = [markdown_inline(p) for p in (parsed.summary, *parsed.paragraphs) if p]
    if parsed.example:
        parts.append("Example:\n\n```text\n" + "\n".join(parsed.example) + "\n```")
    return "\n\n".join(parts)
