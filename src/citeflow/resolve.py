"""Turn citation placeholders into Pandoc citations.

:func:`resolve_manuscript` finds the identifier placeholders of a manuscript
(:mod:`citeflow.placeholders`), looks each identifier up in the manuscript's bibliography
(by normalised DOI, PMID or PMCID, whatever form the bibliography writes them in), fetches
the ones it does not know from the metadata sources (:mod:`citeflow.sources`), and replaces
each placeholder by a citation: ``[doi:10.1056/NEJMoa1610020]`` becomes
``[@simpson2016two]``; placeholders standing side by side become one bracket
(``[@a; @b]``); prefixes and locators are kept (``[see @a, p. 3]``).

Only the bytes of the replaced spans change: line endings, a byte-order mark and every other
character stay as they were, so running it again changes nothing. Fetched entries are
appended to the manuscript's first BibTeX bibliography (created if it does not exist yet);
the bibliography is written before the manuscript, so the manuscript never cites a key the
bibliography lacks.

Free-text placeholders ("[citation needed]") are never filled on their own: each is reported
with up to three candidate references ranked by :class:`citeflow.suggest.Suggester`. A caller
that has asked the writer may pass ``picks`` to fill some of them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from .bibliography import Bibliography, Reference, append_references, load_bibliography, make_key, to_bibtex
from .checks.base import Suggestion
from .config import Config, load_config
from .errors import CiteflowError
from .files import atomic_write_text, read_text_exact
from .identifiers import Identifier
from .manuscript import Manuscript, read_manuscript
from .placeholders import FREETEXT, IDENTIFIER, Placeholder, PlaceholderItem, extra_patterns_from_config, find_placeholders
from .suggest import Suggester

#: Reasons an identifier placeholder can be left in place.
NOT_FOUND = "not found"
OFFLINE = "offline"
MALFORMED = "malformed"
ERROR = "error"

_STATUS_REASON = {"not_found": NOT_FOUND, "offline": OFFLINE, "malformed": MALFORMED, "error": ERROR}
_PLAIN_KEY = re.compile(r"\w(?:\w|[:.#$%&\-+?<>~/](?=\w))*")


@dataclass(frozen=True)
class Replacement:
    """``original[start:end]`` (``old``) was replaced by ``new``."""

    start: int
    end: int
    old: str
    new: str


@dataclass(frozen=True)
class Unresolved:
    """An identifier left as written, with the reason and where it is."""

    placeholder: Placeholder
    item: PlaceholderItem
    reason: str
    message: str
    line: int
    column: int

    def describe(self) -> str:
        detail = f" ({self.message})" if self.message and self.message != self.reason else ""
        return f"{self.item.raw}: {self.reason}{detail}"


@dataclass(frozen=True)
class FreeText:
    """A free-text placeholder, the sentence it stands for and candidate references."""

    placeholder: Placeholder
    line: int
    column: int
    sentence: str
    suggestions: tuple[Suggestion, ...]
    confident: tuple[bool, ...]


@dataclass
class ResolveResult:
    """What :func:`resolve_manuscript` did, or would do without ``write``."""

    path: Path
    original: str
    text: str
    replacements: list[Replacement] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    freetext: list[FreeText] = field(default_factory=list)
    appended: list[Reference] = field(default_factory=list)
    bibliography_path: Path | None = None
    bibliography_diff: str = ""
    written: bool = False
    keys: list[str] = field(default_factory=list)  # keys of the bibliography (after appending)

    @property
    def changed(self) -> bool:
        return self.text != self.original

    @property
    def diff(self) -> str:
        """Unified diff of the manuscript (and of the bibliography when entries are added)."""
        return unified_diff(self.original, self.text, str(self.path)) + self.bibliography_diff

    @property
    def resolved(self) -> int:
        """Number of replaced spans."""
        return len(self.replacements)

    @property
    def exit_code(self) -> int:
        """0 when every identifier placeholder was resolved, 1 when some are left."""
        return 1 if self.unresolved else 0

    def undo(self, text: str | None = None) -> str:
        """The original text rebuilt from ``text`` (default: the new text) by putting back
        every replaced span; equal to :attr:`original` by construction."""
        text = self.text if text is None else text
        pieces: list[str] = []
        position = 0
        shift = 0
        for rep in self.replacements:
            new_start = rep.start + shift
            pieces.append(text[position:new_start])
            pieces.append(rep.old)
            position = new_start + len(rep.new)
            shift += len(rep.new) - len(rep.old)
        pieces.append(text[position:])
        return "".join(pieces)


# --------------------------------------------------------------------------------------


def resolve_manuscript(
    path: str | Path,
    config: Config | None = None,
    offline: bool = False,
    write: bool = False,
    fetcher: Any = None,
    bibliography: str | Path | None = None,
    picks: Mapping[int, str] | None = None,
    suggest: bool = True,
) -> ResolveResult:
    """Resolve the placeholders of the manuscript at ``path``.

    ``config`` defaults to the project config found from the manuscript's folder.
    ``fetcher`` is an object with ``fetch_many(identifiers)`` (default: a
    :class:`citeflow.sources.Fetcher` built from the config; ``offline`` makes it use the
    cache only). ``bibliography`` is a BibTeX file to look in first and to append fetched
    entries to, instead of the first one named in the front matter. ``picks`` maps the start
    offset of a free-text placeholder to the key chosen for it. With ``write`` the
    bibliography and then the manuscript are rewritten atomically; otherwise nothing is
    written. Raises :class:`CiteflowError` for unreadable input.
    """
    path = Path(path)
    manuscript = read_manuscript(path)
    if config is None:
        config = load_config(path.parent)
    bib_paths = _bibliography_paths(manuscript, config, bibliography)
    bib = load_bibliography(bib_paths, missing_ok=True) if bib_paths else Bibliography()
    target = next((p for p in bib_paths if p.suffix.lower() in (".bib", ".bibtex")), None)
    placeholders = find_placeholders(manuscript, extra_patterns_from_config(config))

    keys, unresolved, new_refs = _lookup(manuscript, placeholders, bib, config, offline, fetcher, target)

    # Fetched entries get their final keys from the file they go into.
    if new_refs and write and target is not None:
        try:
            written = append_references(target, new_refs)
        except OSError as exc:
            raise CiteflowError(f"cannot add entries to the bibliography: {exc.strerror or exc}", target) from exc
        renamed = {old.key: new.key for old, new in zip(new_refs, written)}
        keys = {ident: renamed.get(key, key) for ident, key in keys.items()}
        new_refs = written

    picks = dict(picks or {})
    replacements = _replacements(manuscript, placeholders, keys, bib, picks)
    text = apply_replacements(manuscript.text, replacements)

    result = ResolveResult(
        path=path,
        original=manuscript.text,
        text=text,
        replacements=replacements,
        unresolved=unresolved,
        appended=list(new_refs),
        bibliography_path=target if new_refs else None,
        keys=bib.keys() + [ref.key for ref in new_refs],
    )
    if new_refs and not write and target is not None:
        result.bibliography_diff = _bibliography_preview(target, new_refs)
    if suggest:
        result.freetext = _freetext_reports(manuscript, placeholders, bib, picks)
    if write and result.changed:
        try:
            atomic_write_text(path, text)
        except OSError as exc:
            raise CiteflowError(f"cannot write the manuscript: {exc.strerror or exc}", path) from exc
        result.written = True
    return result


def apply_replacements(text: str, replacements: list[Replacement]) -> str:
    """``text`` with each replacement's span swapped for its new text (spans sorted, disjoint)."""
    pieces: list[str] = []
    position = 0
    for rep in replacements:
        pieces.append(text[position : rep.start])
        pieces.append(rep.new)
        position = rep.end
    pieces.append(text[position:])
    return "".join(pieces)


def unified_diff(old: str, new: str, name: str) -> str:
    """A unified diff of two texts; a last line without newline is marked as such."""
    if old == new:
        return ""
    # git's a/ b/ prefixes for relative paths, so `git apply -p1` takes the diff as it is.
    before, after = (name, name) if name.startswith("/") else (f"a/{name}", f"b/{name}")
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), before, after
    )
    out = []
    for line in lines:
        if line.endswith(("\n", "\r")):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def citation_key_text(key: str) -> str:
    """``@key``, or ``@{key}`` when the key has characters Pandoc would not read as part of it."""
    return f"@{key}" if _PLAIN_KEY.fullmatch(key) else "@{" + key + "}"


# --------------------------------------------------------------------------------------
# Steps


def _bibliography_paths(manuscript: Manuscript, config: Config, explicit: str | Path | None) -> list[Path]:
    paths = manuscript.bibliography_paths() or list(config.bibliography)
    if explicit is not None:
        explicit = Path(explicit)
        paths = [explicit] + [p for p in paths if p.resolve() != explicit.resolve()]
    return paths


def _lookup(
    manuscript: Manuscript,
    placeholders: list[Placeholder],
    bib: Bibliography,
    config: Config,
    offline: bool,
    fetcher: Any,
    target: Path | None,
) -> tuple[dict[Identifier, str], list[Unresolved], list[Reference]]:
    """Keys for every identifier (bibliography first, then sources), and what is left."""
    keys: dict[Identifier, str] = {}
    missing: dict[Identifier, list[tuple[Placeholder, PlaceholderItem]]] = {}
    unresolved: list[Unresolved] = []

    def leave(placeholder: Placeholder, item: PlaceholderItem, reason: str, message: str) -> None:
        line, column = manuscript.line_col(placeholder.start)
        unresolved.append(Unresolved(placeholder, item, reason, message, line, column))

    for placeholder in placeholders:
        if placeholder.kind != IDENTIFIER:
            continue
        for item in placeholder.items:
            if item.key is not None:
                continue
            if item.literal_key and item.literal_key in bib:
                continue  # "@doi:..." is an ordinary key of this bibliography
            if item.identifier is None:
                leave(placeholder, item, MALFORMED, item.malformed or "")
                continue
            ref = bib.find(item.identifier)
            if ref is not None:
                keys[item.identifier] = ref.key
            else:
                missing.setdefault(item.identifier, []).append((placeholder, item))

    new_refs: list[Reference] = []
    if not missing:
        return keys, unresolved, new_refs

    results = _fetch(list(missing), config, offline, fetcher)
    taken = set(bib.keys())
    for identifier, uses in missing.items():
        result = results.get(identifier)
        status = getattr(result, "status", "error") if result is not None else "error"
        reference = getattr(result, "reference", None)
        if status == "ok" and reference is not None:
            key = _known_key(reference, bib, new_refs)
            if key is None and target is None:
                for placeholder, item in uses:
                    leave(placeholder, item, ERROR, "found, but the manuscript names no BibTeX "
                          "bibliography to add it to (use --bib FILE or 'bibliography:' in the front matter)")
                continue
            if key is None:
                key = make_key(reference, taken)
                taken.add(key)
                new_refs.append(replace(reference, key=key))
            keys[identifier] = key
            continue
        reason = _STATUS_REASON.get(status, ERROR)
        message = getattr(result, "message", "") if result is not None else "no answer from the sources"
        url = getattr(result, "url", None) if result is not None else None
        if url and url not in message:
            message = f"{message or reason} at {url}"
        for placeholder, item in uses:
            leave(placeholder, item, reason, message or reason)
    unresolved.sort(key=lambda u: (u.placeholder.start, u.item.raw))
    return keys, unresolved, new_refs


def _fetch(identifiers: list[Identifier], config: Config, offline: bool, fetcher: Any) -> dict:
    if fetcher is None:
        try:
            from .sources import Fetcher
        except ImportError:
            return {}
        # offline=None lets CITEFLOW_OFFLINE decide when --offline was not given.
        fetcher = Fetcher(config, offline=True if offline else None)
    try:
        return dict(fetcher.fetch_many(identifiers))
    except CiteflowError:
        raise
    except Exception as exc:  # a source failing as a whole leaves every identifier unresolved
        return {ident: _Failure(ident, "error", str(exc)) for ident in identifiers}


@dataclass(frozen=True)
class _Failure:
    identifier: Identifier
    status: str
    message: str
    reference: None = None


def _known_key(reference: Reference, bib: Bibliography, new_refs: list[Reference]) -> str | None:
    """The key of an entry (existing or just fetched) sharing an identifier with ``reference``."""
    for identifier in reference.identifiers():
        found = bib.find(identifier)
        if found is not None:
            return found.key
        for ref in new_refs:
            if identifier in ref.identifiers():
                return ref.key
    return None


def _item_text(item: PlaceholderItem, key: str) -> str:
    prefix = f"{item.prefix} " if item.prefix else ""
    minus = "-" if item.suppress_author else ""
    locator = f", {item.locator}" if item.locator else ""
    return f"{prefix}{minus}{citation_key_text(key)}{locator}"


def _parts(placeholder: Placeholder, keys: Mapping[Identifier, str], bib: Bibliography) -> tuple[list[str], bool, bool]:
    """The bracket entries replacing a placeholder, whether any entry was resolved, and
    whether all were."""
    parts: list[str] = []
    any_done = False
    all_done = True
    for item in placeholder.items:
        if item.key is not None or (item.literal_key and item.literal_key in bib):
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


def _replacements(
    manuscript: Manuscript,
    placeholders: list[Placeholder],
    keys: Mapping[Identifier, str],
    bib: Bibliography,
    picks: Mapping[int, str],
) -> list[Replacement]:
    text = manuscript.text
    planned: list[tuple[Placeholder, list[str], bool, str | None]] = []  # (placeholder, parts, mergeable, intext)
    for placeholder in placeholders:
        if placeholder.kind == FREETEXT:
            key = picks.get(placeholder.start)
            if key:
                planned.append((placeholder, [citation_key_text(key)], False, None))
            continue
        parts, any_done, all_done = _parts(placeholder, keys, bib)
        if not any_done:
            continue
        if placeholder.form == "intext":
            item = placeholder.items[0]
            intext = ("-" if item.suppress_author else "") + citation_key_text(keys[item.identifier])
            planned.append((placeholder, parts, False, intext))
        else:
            planned.append((placeholder, parts, all_done, None))

    replacements: list[Replacement] = []
    index = 0
    while index < len(planned):
        placeholder, parts, mergeable, intext = planned[index]
        start, end = placeholder.start, placeholder.end
        if intext is not None:
            replacements.append(Replacement(start, end, text[start:end], intext))
            index += 1
            continue
        merged = list(parts)
        # Placeholders separated only by spaces on one line become one bracket.
        while (
            mergeable
            and index + 1 < len(planned)
            and planned[index + 1][2]
            and re.fullmatch(r"[ \t]*", text[end : planned[index + 1][0].start])
        ):
            index += 1
            nxt = planned[index][0]
            merged.extend(p for p in planned[index][1] if p not in merged)
            end = nxt.end
        new = "[" + "; ".join(merged) + "]"
        replacements.append(Replacement(start, end, text[start:end], new))
        index += 1
    return replacements


def _freetext_reports(
    manuscript: Manuscript, placeholders: list[Placeholder], bib: Bibliography, picks: Mapping[int, str]
) -> list[FreeText]:
    free = [p for p in placeholders if p.kind == FREETEXT and p.start not in picks]
    if not free:
        return []
    suggester = Suggester(bib)
    ranked: dict[tuple[str, str], tuple[tuple[Suggestion, ...], tuple[bool, ...]]] = {}
    reports = []
    for placeholder in free:
        sentence = placeholder.sentence()
        query = (sentence, placeholder.paragraph())
        if query not in ranked:  # once per text: the placeholders of a sentence share it
            suggestions = tuple(suggester.rank(*query))
            ranked[query] = suggestions, tuple(suggester.is_confident(s, sentence) for s in suggestions)
        line, column = manuscript.line_col(placeholder.start)
        reports.append(FreeText(placeholder, line, column, sentence, *ranked[query]))
    return reports


def _bibliography_preview(target: Path, refs: list[Reference]) -> str:
    """The diff that appending ``refs`` to ``target`` would make (nothing is written)."""
    old = read_text_exact(target) if target.exists() else ""
    newline = "\r\n" if "\r\n" in old else "\n"
    addition = ""
    if old and not old.endswith(("\n", "\r")):
        addition += newline
    for ref in refs:
        if old or addition:
            addition += newline
        addition += to_bibtex(ref).replace("\n", newline)
    return unified_diff(old, old + addition, str(target))
