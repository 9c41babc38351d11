"""Items of the draft's reference list that the bibliography lacks: found at Crossref, or
taken as written when the writer accepts that.

:func:`list_additions` looks at each item that names no bibliography entry
(:func:`citeflow.document.reflist.match_item`) and carries no identifier:

* online, Crossref's ``query.bibliographic`` is asked with the item's text (never more than
  ``crossref_concurrency`` questions in flight, through the fetcher's HTTP client and its
  politeness settings). An answer is accepted only when it agrees with what the item says on
  all three of: the title (normalised similarity of at least
  :data:`citeflow.references.integrity.TITLE_THRESHOLD`, or the item containing the work's
  title), the first author's surname and the year (of issue, print or online publication).
  Otherwise the item stays, reported with Crossref's answers as candidates
  ("Author Year, Title (DOI)");
* offline, with ``accept_parsed``, the fields read from the item
  (:func:`citeflow.references.freetext.parse_reference_text`) become the entry, marked
  unverified in its ``citeflow`` field; without it the item stays.

The new entries get keys from :func:`citeflow.references.bibliography.make_key`; the caller
appends them with the other fetched entries (:func:`citeflow.fixes.resolve.resolve_manuscript`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from citeflow.document.placeholders import lookup_reference
from citeflow.document.reflist import ListItem, ReferenceList, match_item
from citeflow.references.bibliography import Bibliography, Reference, TakenKeys, make_key
from citeflow.references.freetext import ParsedReference, parse_reference_text
from citeflow.references.identifiers import Identifier, find_identifiers
from citeflow.references.integrity import TITLE_THRESHOLD, normalise_title, plain_words, title_similarity
from citeflow.references.reference import reference_problems

#: Crossref answers read per item (the best first) and shown as candidates.
SEARCH_ROWS = 5
SHOWN_CANDIDATES = 3
#: The dates a cited year may be: Crossref's issue date, print or online publication.
_DATES = ("issued", "published-print", "published-online", "published")


@dataclass(frozen=True)
class ItemOutcome:
    """What became of one item of the list (``position`` counts from 1): a new entry for the
    bibliography, or the reason it stays with candidates."""

    position: int
    reference: Reference | None = None
    reason: str = ""
    candidates: tuple[str, ...] = ()
    warning: str = ""


@dataclass
class ListAdditions:
    """Entries to add for the list's items, the key each item gets, and what is left."""

    references: list[Reference]
    keys: dict[int, str]            # position -> key (new, or of an entry added for a placeholder)
    left: dict[int, ItemOutcome]    # position -> why the item stays
    warnings: list[tuple[int, str]]  # position -> "(doi) is retracted: ..." for added works


def _family(name: str) -> str:
    return " ".join(plain_words(name.split(",")[0]))


def work_years(work: Mapping[str, Any]) -> set[int]:
    years = set()
    for name in _DATES:
        parts = (work.get(name) or {}).get("date-parts") if isinstance(work.get(name), dict) else None
        if parts and parts[0] and isinstance(parts[0][0], int):
            years.add(parts[0][0])
    return years


def _work_first_family(work: Mapping[str, Any]) -> str:
    authors = work.get("author") or []
    if not authors or not isinstance(authors[0], dict):
        return ""
    first = authors[0]
    return str(first.get("family") or first.get("name") or "")


def _work_title(work: Mapping[str, Any]) -> str:
    title = work.get("title")
    return str(title[0] if isinstance(title, list) and title else title or "")


def describe_work(work: Mapping[str, Any]) -> str:
    """``Author Year, Title (DOI)`` for a candidate."""
    family = _work_first_family(work) or "no author"
    years = sorted(work_years(work))
    year = str(years[0]) if years else "n.d."
    title = " ".join(_work_title(work).split()) or "untitled"
    if len(title) > 90:
        title = title[:87] + "..."
    doi = work.get("DOI")
    return f"{family} {year}, {title}" + (f" ({doi})" if doi else "")


def disagreements(item_text: str, parsed: ParsedReference | None, work: Mapping[str, Any]) -> list[str]:
    """What a Crossref work and a list item disagree on (empty: the work is the item's):
    ``"title"``, ``"first author"``, ``"year"``."""
    found: list[str] = []
    title = _work_title(work)
    normal = normalise_title(title)
    text = " " + " ".join(plain_words(item_text)) + " "
    contained = len(normal.split()) >= 3 and f" {normal} " in text
    written = parsed.title if parsed else item_text
    if not (contained or title_similarity(written, title) >= TITLE_THRESHOLD):
        found.append("title")
    family = _family(_work_first_family(work))
    if parsed is not None:
        author_agrees = bool(family) and family == _family(parsed.first_author_family)
    else:
        author_agrees = bool(family) and text.startswith(f" {family} ")
    if not author_agrees:
        found.append("first author")
    # an item the reader could not split: any year it writes
    written_years = {parsed.year} if parsed else {int(y) for y in re.findall(r"\b(1[5-9]\d\d|20\d\d)\b", item_text)}
    if not written_years & work_years(work):
        found.append("year")
    return found


def _unverified_warning(work: Mapping[str, Any]) -> str:
    from citeflow.sources import FetchResult, FetchStatus
    from citeflow.sources.registry import integrity_warning

    doi = work.get("DOI")
    if not doi:
        return ""
    result = FetchResult(Identifier("doi", str(doi).lower()), FetchStatus.OK, source="crossref", raw=dict(work))
    try:
        return integrity_warning(result)
    except Exception:  # a record the integrity reader cannot judge adds no warning
        return ""


def _search(fetcher: Any, item: ListItem, parsed: ParsedReference | None
            ) -> tuple[Mapping[str, Any] | None, list[Mapping[str, Any]], str]:
    """Crossref's answers for one item: the first that agrees with it (or None), all of them,
    and the reason when Crossref could not be asked."""
    query = " ".join(item.text.split())[:1000]
    try:
        works, problem = fetcher.search_works(query, rows=SEARCH_ROWS)
    except Exception as exc:  # a failing source leaves the item as written, with the reason
        return (None, [], f"Crossref could not be asked: {exc}")
    if works is None:
        return (None, [], problem or "Crossref could not be asked")
    for work in works:
        if not disagreements(item.text, parsed, work):
            return (work, works, "")
    return (None, works, "")


def _reason(item: ListItem, parsed: ParsedReference | None, works: list[Mapping[str, Any]]) -> str:
    if not works:
        return "no bibliography entry matches this reference, and Crossref found no work for it"
    differ = disagreements(item.text, parsed, works[0])
    what = " and ".join(differ)
    return (f"no bibliography entry matches this reference, and Crossref's answers do not agree with it "
            f"(the best differs in {what})")


def list_additions(
    reflist: ReferenceList | None,
    bib: Bibliography,
    *,
    offline: bool,
    accept_parsed: bool,
    fetcher: Callable[[], Any],
    taken: Iterable[str],
    fetched: Iterable[Reference] = (),
    can_write: bool = True,
) -> ListAdditions:
    """New bibliography entries for the items of ``reflist`` that ``bib`` lacks (see the
    module's docstring). ``fetcher()`` gives the metadata fetcher (asked only when needed);
    ``taken`` are the keys in use; ``fetched`` the entries about to be added for
    placeholders (an item naming one of them gets its key). Without ``can_write`` (no BibTeX
    file to add to) nothing is taken and the items stay with that reason."""
    out = ListAdditions([], {}, {}, [])
    if reflist is None:
        return out
    missing: list[tuple[int, ListItem, ParsedReference | None]] = []
    for position, item in enumerate(reflist.items, start=1):
        key, _ = match_item(item, bib, lookup_reference)
        if key is not None:
            continue
        if any(m.identifier is not None for m in find_identifiers(item.text)):
            continue  # an identifier the bibliography lacks: named by the caller, never searched
        missing.append((position, item, parse_reference_text(item.text)))
    if not missing:
        return out
    keys = TakenKeys(taken)
    by_doi = {r.doi.lower(): r.key for r in fetched if r.doi}
    by_doi.update({r.doi.lower(): r.key for r in bib if r.doi})

    def take(position: int, reference: Reference) -> None:
        if reference.doi and reference.doi.lower() in by_doi:
            out.keys[position] = by_doi[reference.doi.lower()]
            return
        key = make_key(reference, keys)
        keys.add(key)
        reference = replace(reference, key=key)
        out.references.append(reference)
        out.keys[position] = key
        if reference.doi:
            by_doi[reference.doi.lower()] = key

    source = None if offline else fetcher()
    if source is not None and getattr(source, "offline", False):
        offline = True  # CITEFLOW_OFFLINE
    if offline:
        for position, _item, parsed in missing:
            if not accept_parsed:
                continue  # the caller names the item as unmatched
            if parsed is None:
                out.left[position] = ItemOutcome(position, reason="no bibliography entry matches this reference, "
                                                 "and no author, title and year could be read from it")
            elif not can_write:
                out.left[position] = ItemOutcome(position, reason="the manuscript names no BibTeX bibliography "
                                                 "to add it to (use --bib FILE)")
            else:
                take(position, parsed.reference())
        return out

    if not hasattr(source, "search_works"):
        for position, _, _ in missing:
            out.left[position] = ItemOutcome(position, reason="no bibliography entry matches this reference "
                                             "(Crossref cannot be searched with this fetcher)")
        return out
    settings = getattr(source, "settings", None)
    workers = max(1, int(getattr(settings, "crossref_concurrency", 3) or 3))
    with ThreadPoolExecutor(max_workers=min(workers, len(missing)), thread_name_prefix="citeflow-search") as pool:
        answers = list(pool.map(lambda entry: _search(source, entry[1], entry[2]), missing))
    for (position, item, parsed), (work, works, problem) in zip(missing, answers, strict=True):
        candidates = tuple(describe_work(w) for w in works[:SHOWN_CANDIDATES])
        if problem:
            out.left[position] = ItemOutcome(position, reason="no bibliography entry matches this reference, "
                                             f"and {problem}")
            continue
        if work is None:
            out.left[position] = ItemOutcome(position, reason=_reason(item, parsed, works), candidates=candidates)
            continue
        from citeflow.sources import crossref

        reference = crossref.reference_from_crossref(dict(work))
        problems = reference_problems(reference)
        if problems or not can_write:
            why = "; ".join(problems) if problems else \
                "the manuscript names no BibTeX bibliography to add it to (use --bib FILE)"
            out.left[position] = ItemOutcome(position, reason=f"found at Crossref ({describe_work(work)}), but {why}",
                                             candidates=candidates)
            continue
        take(position, reference)
        warning = _unverified_warning(work)
        if warning:
            out.warnings.append((position, f"({reference.doi}) {warning}"))
    return out


__all__ = ["ItemOutcome", "ListAdditions", "describe_work", "disagreements", "list_additions"]
