"""The draft's own reference list, and the numeric markers that point into it.

Many drafts end with a section titled "References" (or "Sources", "Bibliography", "Works
cited", ...) holding a numbered (``1.``, ``[1]``) or bulleted list, and cite it with numeric
markers: ``[1]``, ``[2-4]``, ``[1,3]``, ``[1–3, 5]``, ``^5^`` (Pandoc superscript) or Unicode
superscript digits (``…in adults.⁵``). :func:`find_reference_list` finds that section and
its items; :func:`find_markers` the markers of the text before it.

Each item is matched to a bibliography entry by :func:`match_item`: an identifier written in
the item wins (DOI, PMID, PMCID, PII, link); otherwise the entry whose normalised title the
item contains, whose first author's surname or year the item names too, and no other entry
does. Nothing is guessed: an item without exactly one such entry is left for the writer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from citeflow.document.citations import protected_spans
from citeflow.document.manuscript import Block, Manuscript, in_ranges
from citeflow.references.identifiers import find_identifiers
from citeflow.references.integrity import normalise_title

_TITLE = re.compile(
    r"^(?:\d+\.?\s*)?(?:references?(?:\s+list)?|sources|bibliography|works\s+cited|literature\s+cited|"
    r"literature|citations|notes\s+and\s+references|references\s+and\s+notes)\s*:?$",
    re.I,
)
_ITEM_NUMBER = re.compile(r"^\s*(?:\[(\d{1,4})\]|(\d{1,4})[.)])\s*")
_SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUPER_TO_DIGIT = {ord(c): str(i) for i, c in enumerate(_SUPERSCRIPT)} | {ord("⁻"): "-"}
_NUMBERS = r"\d{1,4}(?:\s*[-–—]\s*\d{1,4})?(?:\s*,\s*\d{1,4}(?:\s*[-–—]\s*\d{1,4})?)*+"
_MARKER = re.compile(
    # not a link's text ("[1](url)", "[1][label]"); in "[1][2]", "[1][@key]",
    # "[1][doi:10.1/x]" (an identifier placeholder, a citation once resolved) and
    # "[1][text](url)" (an inline link follows) it is a marker
    r"\[(?P<bracket>" + _NUMBERS + r")\](?![(:{]|\[(?!@|" + _NUMBERS + r"\]|(?i:doi|pmid|pmcid|arxiv|isbn|pii)\s*:"
    r"|[^\[\]]*+\]\())"
    r"|\^(?P<caret>\d{1,4}(?:[-–,]\d{1,4})*+)\^"
    r"|(?:(?<=[^\W\d_]{3})|(?<=[.,;:)\]]))(?P<super>[" + _SUPERSCRIPT + r"]++(?:[⁻,][" + _SUPERSCRIPT + r"]++)*+)"
    r"(?![\w" + _SUPERSCRIPT + r"])"
)
#: The most numbers one marker may stand for (``[1-9999]`` is no citation).
LARGEST_RANGE = 50


@dataclass(frozen=True)
class ListItem:
    """One entry of the reference list: its number (None when bulleted), its text and the
    source span of its block."""

    number: int | None
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class ReferenceList:
    """The reference section: ``start:end`` covers its heading and items (source offsets)."""

    heading: Block
    start: int
    end: int
    items: tuple[ListItem, ...]
    blocks: tuple[Block, ...]

    def item(self, number: int) -> ListItem | None:
        """The item with this number (its position when the list is not numbered)."""
        numbered = [i for i in self.items if i.number is not None]
        if numbered:
            return next((i for i in numbered if i.number == number), None)
        return self.items[number - 1] if 1 <= number <= len(self.items) else None


@dataclass(frozen=True)
class Marker:
    """A numeric citation marker at ``start:end`` (source offsets) and the numbers it names."""

    start: int
    end: int
    text: str
    numbers: tuple[int, ...]


def _heading_text(block: Block) -> str:
    return block.content.strip().strip("*_").strip()


def find_reference_list(manuscript: Manuscript) -> ReferenceList | None:
    """The last section titled as a reference list, when its blocks are list items (or
    paragraphs starting ``[n]``), or None."""
    blocks = manuscript.blocks
    for index in range(len(blocks) - 1, -1, -1):
        block = blocks[index]
        is_title = (block.kind == "heading" or (block.kind == "paragraph" and len(block.content) < 60)) \
            and _TITLE.match(_heading_text(block))
        if not is_title:
            continue
        members: list[Block] = []
        for later in blocks[index + 1:]:
            if later.kind == "heading" and (block.kind != "heading" or later.level <= block.level):
                break
            members.append(later)
        items = []
        for member in members:
            if member.kind not in ("list_item", "paragraph"):
                continue
            source = manuscript.text[member.start:member.end]
            number_match = _ITEM_NUMBER.match(source.lstrip(" \t"))
            if member.kind == "paragraph" and not (number_match and number_match.group(1)):
                return None  # prose under the heading: not a list of references
            if member.kind == "paragraph":  # "[1] ...", "[2] ..." on lines of one paragraph
                items.extend(_bracketed_items(source, member.start))
                continue
            number = None
            if number_match:
                number = int(number_match.group(1) or number_match.group(2))
            items.append(ListItem(number, member.content.strip(), member.start, member.end))
        if not items:
            return None
        end = max(b.end for b in members)
        return ReferenceList(block, block.start, end, tuple(items), tuple(members))
    return None


def _bracketed_items(source: str, offset: int) -> list[ListItem]:
    """The items of a paragraph whose lines start ``[n]``: each such line starts an item,
    the lines after it continue it."""
    items: list[ListItem] = []
    position = 0
    current: list[str] = []
    number = start = end = 0
    for line in source.splitlines(keepends=True):
        match = re.match(r"^[ \t]*\[(\d{1,4})\]\s*", line)
        if match:
            if current:
                items.append(ListItem(number, " ".join(current), start, end))
            number, start, current = int(match.group(1)), offset + position, []
            line_text = line[match.end():]
        else:
            line_text = line
        if line_text.strip():
            current.append(line_text.strip())
        end = offset + position + len(line.rstrip("\r\n"))
        position += len(line)
    if current:
        items.append(ListItem(number, " ".join(current), start, end))
    return items


def _expand(numbers: str) -> tuple[int, ...] | None:
    found: list[int] = []
    for part in re.split(r"\s*,\s*", numbers.strip()):
        bounds = re.split(r"\s*[-–—]\s*", part)
        first, last = int(bounds[0]), int(bounds[-1])
        if last < first or last - first >= LARGEST_RANGE:
            return None
        found.extend(range(first, last + 1))
    return tuple(found)


def find_markers(manuscript: Manuscript, reflist: ReferenceList) -> list[Marker]:
    """Numeric markers in the prose before the reference list, outside code, math, links."""
    result: list[Marker] = []
    for block in manuscript.prose_blocks():
        if block.start >= reflist.start:
            break
        content = block.content
        if not any(c in content for c in "[^") and not any(c in content for c in _SUPERSCRIPT):
            continue
        protected = protected_spans(content)
        for match in _MARKER.finditer(content):
            if in_ranges(match.start(), protected):
                continue
            raw = match.group("bracket") or match.group("caret") or match.group("super")
            numbers = _expand(raw.translate(_SUPER_TO_DIGIT))
            if not numbers:
                continue
            start = block.source_offset(match.start())
            end = block.source_offset(match.end() - 1) + 1
            result.append(Marker(start, end, manuscript.text[start:end], numbers))
    return result


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z0-9]+", folded)


def _surname(ref) -> str:
    return " ".join(_words(ref.first_author_family or ""))


def match_item(item: ListItem, bibliography, lookup) -> tuple[str | None, list[str]]:
    """The key of the entry ``item`` names, or None and up to three candidate keys.

    ``lookup(bibliography, identifier)`` finds an entry by identifier (see
    :func:`citeflow.document.placeholders.lookup_reference`).
    """
    if bibliography is None:
        return None, []
    for mention in find_identifiers(item.text):
        if mention.identifier is not None:
            ref = lookup(bibliography, mention.identifier)
            if ref is not None:
                return ref.key, []
    words = _words(item.text)
    text = " " + " ".join(words) + " "
    item_words = set(words)
    scored = []
    for ref in bibliography:
        # "RETRACTED: ..." and other notice prefixes Crossref adds are not the cited title
        title = _words(normalise_title(getattr(ref, "title", "") or ""))
        if len(title) < 3:
            continue
        contained = f" {' '.join(title)} " in text
        overlap = sum(1 for w in title if w in item_words) / len(title)
        surname = _surname(ref)
        year = str(getattr(ref, "year", "") or "")
        named = (bool(surname) and f" {surname} " in text) + (bool(year) and f" {year} " in text)
        scored.append((contained, overlap, named, ref.key))
    sure = [s for s in scored if s[0] and s[2] >= 1]
    if len(sure) == 1:
        return sure[0][3], []
    scored.sort(key=lambda s: (s[0], s[1], s[2]), reverse=True)
    return None, [s[3] for s in scored[:3] if s[1] >= 0.5]
