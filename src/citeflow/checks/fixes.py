"""Fixes that findings carry, and the citation edits that turn placeholders into ``[@key]``.

A :class:`Fix` is a list of :class:`Edit` objects on a manuscript's text with an
:class:`Applicability`: *safe* fixes keep the meaning exactly (an identifier placeholder
whose work is in the bibliography becomes its key) and ``citeflow check --fix`` applies
them; *unsafe* ones need a reader's eye (``--unsafe-fixes``). ``citeflow resolve`` uses the
same planner after fetching what the bibliography lacks, so that the two commands can
never disagree about how a placeholder is written as a citation.

Example::

    [doi:10.1056/NEJMoa1610020] [pmid:27690741]   ->   [@simpson2016two; @blauvelt2017long]
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from ..document.citations import KEY_PATTERN
from ..document.placeholders import FREETEXT, Placeholder, PlaceholderItem
from ..references.identifiers import Identifier

#: A citation key that Pandoc reads without braces after ``@``.
_PLAIN_KEY = re.compile(KEY_PATTERN)


class Applicability(Enum):
    """Whether a fix may be applied without a reader looking at it."""

    SAFE = "safe"
    UNSAFE = "unsafe"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Edit:
    """``text[start:end]`` (which reads ``old``) becomes ``new``.

    ``line``/``column`` and ``end_line``/``end_column`` (1-based, end exclusive) locate the
    span for reports; they are 0 when the edit was made without a manuscript at hand.
    """

    start: int
    end: int
    old: str
    new: str
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)
    end_line: int = field(default=0, compare=False)
    end_column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Fix:
    """How to repair a finding: a message, the edits, and whether it is safe."""

    message: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE

    @property
    def safe(self) -> bool:
        return self.applicability is Applicability.SAFE


def apply_edits(text: str, edits: Iterable[Edit]) -> tuple[str, list[Edit]]:
    """``text`` with the edits applied, and the edits that were applied.

    Edits are applied in order of position; an edit identical to one already applied is
    dropped, and one that overlaps an applied edit, or whose ``old`` no longer matches the
    text, is skipped (it is not in the returned list).
    """
    ordered = sorted(set(edits), key=lambda e: (e.start, e.end))
    applied: list[Edit] = []
    pieces: list[str] = []
    position = 0
    for edit in ordered:
        if edit.start < position or text[edit.start:edit.end] != edit.old:
            continue
        pieces.append(text[position:edit.start])
        pieces.append(edit.new)
        position = edit.end
        applied.append(edit)
    pieces.append(text[position:])
    return "".join(pieces), applied


def citation_key_text(key: str) -> str:
    """``@key``, or ``@{key}`` when the key has characters Pandoc would not read as part of it."""
    return f"@{key}" if _PLAIN_KEY.fullmatch(key) else "@{" + key + "}"


def _item_text(item: PlaceholderItem, key: str) -> str:
    prefix = f"{item.prefix} " if item.prefix else ""
    minus = "-" if item.suppress_author else ""
    locator = f", {item.locator}" if item.locator else ""
    return f"{prefix}{minus}{citation_key_text(key)}{locator}"


def _kept(item: PlaceholderItem, known_keys: Container[str]) -> bool:
    """An entry written as an ordinary citation (or a ``@doi:`` key the bibliography has)."""
    return item.key is not None or bool(item.literal_key and item.literal_key in known_keys)


def _parts(placeholder: Placeholder, keys: Mapping[Identifier, str],
           known_keys: Container[str]) -> tuple[list[str], bool, bool]:
    """The bracket entries replacing a placeholder, whether any entry was resolved, and
    whether all were."""
    parts: list[str] = []
    any_done = False
    all_done = True
    for item in placeholder.items:
        if _kept(item, known_keys):
            parts.append(item.raw)
            continue
        key = keys.get(item.identifier) if item.identifier is not None else None
        if key is None:
            parts.append(item.raw)
            all_done = False
            continue
        parts.append(_item_text(item, key))
        any_done = True
    unique: list[str] = []
    for part in parts:
        if part not in unique:
            unique.append(part)
    return unique, any_done, all_done


@dataclass(frozen=True)
class CitationEdit:
    """An edit that writes placeholders as a citation, and the placeholders it covers."""

    edit: Edit
    placeholders: tuple[Placeholder, ...]


_SPACES = re.compile(r"[ \t]*")


def citation_edits(text: str, placeholders: Sequence[Placeholder],
                   keys: Mapping[Identifier, str], known_keys: Container[str],
                   picks: Mapping[int, str] | None = None) -> list[CitationEdit]:
    """Edits writing every identifier placeholder that has a key for some entry as a citation.

    ``keys`` maps identifiers to bibliography keys; entries without one stay as written.
    ``picks`` maps the start offset of a free-text placeholder to the key a writer chose.
    Placeholders separated only by spaces on one line, all of whose entries are resolved,
    become one bracket (``[@a; @b]``); an in-text ``@doi:`` stays in-text.
    """
    picks = picks or {}
    planned: list[tuple[Placeholder, list[str], bool, str | None]] = []
    for placeholder in placeholders:
        if placeholder.kind == FREETEXT:
            key = picks.get(placeholder.start)
            if key:
                planned.append((placeholder, [citation_key_text(key)], False, None))
            continue
        parts, any_done, all_done = _parts(placeholder, keys, known_keys)
        if not any_done:
            continue
        if placeholder.form in ("intext", "narrative"):  # Simpson et al. (2016) -> @simpson2016
            item = placeholder.items[0]
            assert item.identifier is not None
            written = ("-" if item.suppress_author else "") + citation_key_text(keys[item.identifier])
            planned.append((placeholder, parts, False, written))
        else:  # a link keeps its text and a footnote moves, so neither joins another bracket
            planned.append((placeholder, parts, all_done and placeholder.form != "link", None))

    result: list[CitationEdit] = []
    index = 0
    while index < len(planned):
        placeholder, parts, mergeable, intext = planned[index]
        start, end = placeholder.start, placeholder.end
        if intext is not None:
            result.append(CitationEdit(Edit(start, end, text[start:end], intext), (placeholder,)))
            index += 1
            continue
        if placeholder.footnote_span is not None and mergeable:
            # A footnote holding only this reference: the citation stands where its marker
            # stood and the footnote goes.
            new = "[" + "; ".join(parts) + "]"
            for marker_start, marker_end in placeholder.footnote_markers:
                result.append(CitationEdit(
                    Edit(marker_start, marker_end, text[marker_start:marker_end], new), (placeholder,)))
            span_start, span_end = placeholder.footnote_span
            result.append(CitationEdit(Edit(span_start, span_end, text[span_start:span_end], ""), (placeholder,)))
            index += 1
            continue
        if placeholder.form == "link":  # the link's text stays, the citation follows it
            new = "[" + "; ".join(parts) + "]"
            new = f"{placeholder.kept_text} {new}" if placeholder.kept_text else new
            result.append(CitationEdit(Edit(start, end, text[start:end], new), (placeholder,)))
            index += 1
            continue
        merged = list(parts)
        covered = [placeholder]
        while (
            mergeable
            and index + 1 < len(planned)
            and planned[index + 1][2]
            and _SPACES.fullmatch(text, end, planned[index + 1][0].start)
        ):
            index += 1
            nxt = planned[index][0]
            merged.extend(p for p in planned[index][1] if p not in merged)
            covered.append(nxt)
            end = nxt.end
        new = "[" + "; ".join(merged) + "]"
        result.append(CitationEdit(Edit(start, end, text[start:end], new), tuple(covered)))
        index += 1
    return result


__all__ = [
    "Applicability", "CitationEdit", "Edit", "Fix", "apply_edits", "citation_edits",
    "citation_key_text",
]
