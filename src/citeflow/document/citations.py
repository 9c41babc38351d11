"""Pandoc citations (``[@key]``, ``[see @a, p. 3; @b]``, ``@key``, ``[-@key]``) in a manuscript.

Keys follow Pandoc's rules: they start with a letter, digit or ``_`` and may contain
alphanumerics and single internal punctuation from ``:.#$%&-+?<>~/``; ``@{...}`` keys may hold
anything but braces. An ``@`` preceded by a word character (an e-mail address) or a
backslash is not a citation. Cross-references of pandoc-crossref and Quarto (``@fig:x``,
``@tbl-x``, ``@eq:x``, ``@sec:x``) are not citations either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from citeflow.document.manuscript import Block, Manuscript, in_ranges, protected_ranges

#: Pandoc's citation key after ``@``: a word character, then word characters and internal
#: punctuation (the one copy of the grammar; others build on it).
KEY_PATTERN = r"\w(?:\w|[:.#$%&\-+?<>~/]+(?=\w))*"
_KEY = r"(?:\{(?P<bkey>[^{}]+)\}|(?P<key>" + KEY_PATTERN + r"))"
# "@key" or "-@key" not after a word character, "\\" or "@". Written to open on the literal
# "-" or "@" (the test of the character before it follows): Python's engine then skips at
# once every other position, which makes scanning a paragraph many times faster.
_AT_KEY = re.compile(r"(?:-(?<![\w\\@]-)@|@(?<![\w\\@]@))" + _KEY)
# The lookahead makes sure first that the bracket closes where it should, so that a bracket
# never closed is read once, not once for every "@" in it.
_BRACKET = re.compile(r"\[(?P<inner>(?=[^\[\]]*+\](?!\(|:))[^\[\]]*?(?<![\w\\])-?@[^\[\]]*+)\]")
_CROSSREF = re.compile(r"^(fig|tbl|eq|sec|lst|thm|lem|cor|prp|cnj|def|exm|exr)[:-]", re.I)


def protected_spans(content: str) -> list[tuple[int, int]]:
    """:func:`~citeflow.document.manuscript.protected_ranges` of ``content``, without a regular
    expression scan when no protected region can be there.

    Every such region needs a character that plain prose rarely has: a backtick (code), ``<``
    (autolinks, HTML tags and comments), ``$`` (math), ``](`` (a link target) or ``]:`` (a
    reference definition).
    """
    if "`" in content or "<" in content or "$" in content or "](" in content or "]:" in content:
        return protected_ranges(content)
    return []


@dataclass(frozen=True)
class Citation:
    """One cited key at one place in the manuscript.

    ``start``/``end`` are source offsets of the key's ``@key`` text; ``bracket_start`` and
    ``bracket_end`` those of the whole ``[...]`` group it belongs to (equal to start/end for
    an in-text citation). ``group`` numbers the bracket within the manuscript.
    """

    key: str
    start: int
    end: int
    bracket_start: int
    bracket_end: int
    in_text: bool
    suppress_author: bool = False
    group: int = 0


def block_citations(block: Block, group_base: int = 0) -> list[Citation]:
    """All citations in one prose block, in order."""
    content = block.content
    if "@" not in content:
        return []
    protected = protected_spans(content)
    found: list[Citation] = []
    covered: list[tuple[int, int]] = []
    group = group_base
    for bracket in _BRACKET.finditer(content):
        if in_ranges(bracket.start(), protected):
            continue
        group += 1
        covered.append((bracket.start(), bracket.end()))
        inner_start = bracket.start("inner")
        for at in _AT_KEY.finditer(bracket.group("inner")):
            key = at.group("bkey") or at.group("key")
            if _CROSSREF.match(key):
                continue
            s = inner_start + at.start()
            e = inner_start + at.end()
            found.append(
                Citation(
                    key=key,
                    start=block.source_offset(s),
                    end=block.source_offset(e - 1) + 1,
                    bracket_start=block.source_offset(bracket.start()),
                    bracket_end=block.source_offset(bracket.end() - 1) + 1,
                    in_text=False,
                    suppress_author=at.group().startswith("-"),
                    group=group,
                )
            )
    for at in _AT_KEY.finditer(content):
        if in_ranges(at.start(), protected) or in_ranges(at.start(), covered):
            continue
        key = at.group("bkey") or at.group("key")
        if _CROSSREF.match(key):
            continue
        group += 1
        s, e = at.start(), at.end()
        start = block.source_offset(s)
        end = block.source_offset(e - 1) + 1
        found.append(Citation(key, start, end, start, end, True, at.group().startswith("-"), group))
    found.sort(key=lambda c: c.start)
    return found


def find_citations(manuscript: Manuscript) -> list[Citation]:
    """Every citation in the manuscript's prose blocks, in source order."""
    result: list[Citation] = []
    for block in manuscript.prose_blocks():
        result.extend(block_citations(block, group_base=result[-1].group if result else 0))
    return result


def cited_keys(manuscript: Manuscript) -> list[str]:
    """Distinct cited keys in order of first appearance."""
    seen: dict[str, None] = {}
    for citation in find_citations(manuscript):
        seen.setdefault(citation.key, None)
    return list(seen)
