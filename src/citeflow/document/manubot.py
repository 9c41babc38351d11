"""Manubot citation keys: ``@doi:10.1056/NEJMoa1610020``, ``@pmid:...``, ``@url:https://...``.

A Manubot manuscript cites works by identifier instead of by bibliography key:
``[@doi:10.7717/peerj.705; @pmid:25648772]``, ``@pmcid:PMC4304851``, ``@arxiv:1407.3561``,
``@isbn:9780262517638``, ``@url:https://peerj.com/articles/705/``, and short DOIs
(``@doi:10/98p``). ``pmc:`` and ``pubmed:`` are Manubot's other names for ``pmcid:`` and
``pmid:``. These are Pandoc citations in their own right (Pandoc reads the whole
``doi:10.1056/NEJMoa1610020`` as the key), so the manuscript needs no rewriting: what is
missing is an entry under that key. :func:`resolve_manubot_keys` finds it, offline:

1. an entry of the bibliography whose DOI, PMID, PMCID, arXiv ID or ISBN is the key's
   identifier (however the entry writes it), or whose URL is the key's URL;
2. else the metadata cache (a record fetched earlier by ``resolve``, ``cite`` or
   ``refresh``), asked through the ``cached`` callable: a short DOI's record gives its long
   form, which may be in the bibliography after all; a work only the cache knows is given
   to citeproc from the cached record.

Keys naming one work (``@pmid:25648772`` and ``@doi:10.7717/peerj.705``) become one entry, so
the reference list holds the work once. A key that is itself a key of the bibliography
(a CSL-JSON file with ``"id": "url:https://..."``, as Manubot's ``manual-references.json``)
is an ordinary citation and not looked up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from citeflow.document.citations import Citation, find_citations
from citeflow.document.manuscript import Manuscript
from citeflow.document.placeholders import IDENTIFIER, Placeholder, PlaceholderItem, lookup_reference
from citeflow.references.bibliography import Bibliography
from citeflow.references.identifiers import Identifier, InvalidIdentifier, parse_identifier
from citeflow.references.reference import Reference

#: The identifier kinds a Manubot key may name, by the prefix it is written with.
PREFIXES = {"doi": "doi", "pmid": "pmid", "pubmed": "pmid", "pmcid": "pmcid", "pmc": "pmcid",
            "arxiv": "arxiv", "isbn": "isbn", "url": "url"}
_KEY = re.compile(r"^(?P<prefix>[A-Za-z]+):(?P<value>.+)$", re.S)
#: Where a Manubot key may be cited: a text without it needs no scan for citations.
_MAY_CITE = re.compile(r"@\{?(?:" + "|".join(PREFIXES) + r"):", re.I)

#: What the ``cached`` callable of :func:`resolve_manubot_keys` returns: the cached record
#: of each identifier it knows (identifiers it does not know may be left out).
CacheLookup = Callable[[list[Identifier]], Mapping[Identifier, Reference | None]]


@dataclass(frozen=True)
class ManubotKey:
    """One Manubot citation key: ``key`` as cited, ``kind`` (``doi`` ... ``url``), the
    parsed ``identifier`` (None for a URL, or when malformed: then ``malformed`` says why)
    and the ``url`` of a ``url:`` key."""

    key: str
    kind: str
    identifier: Identifier | None = None
    url: str = ""
    malformed: str = ""


def manubot_key(key: str) -> ManubotKey | None:
    """The Manubot key ``key`` is (``doi:10.1/x``, ``url:https://...``), or None when it is an
    ordinary citation key."""
    match = _KEY.match(key)
    if match is None:
        return None
    kind = PREFIXES.get(match.group("prefix").lower())
    if kind is None:
        return None
    value = match.group("value")
    if kind == "url":
        return ManubotKey(key, kind, url=value)
    try:
        return ManubotKey(key, kind, identifier=parse_identifier(value, kind))
    except InvalidIdentifier as exc:
        return ManubotKey(key, kind, malformed=exc.reason)


def _url_form(url: str) -> str:
    """A URL compared loosely: scheme and host case, a trailing slash and ``www.`` ignored."""
    text = url.strip().rstrip("/")
    match = re.match(r"^(https?)://(?:www\.)?([^/]+)(.*)$", text, re.I)
    return f"{match.group(2).lower()}{match.group(3)}" if match else text


def bibliography_entry(bib: Bibliography | None, key: ManubotKey) -> Reference | None:
    """The bibliography entry a Manubot key names, or None."""
    if bib is None:
        return None
    if key.identifier is not None:
        return lookup_reference(bib, key.identifier)
    if key.kind == "url" and key.url:
        wanted = _url_form(key.url)
        return next((ref for ref in bib if ref.url and _url_form(ref.url) == wanted), None)
    return None


@dataclass
class ManubotSources:
    """Where each Manubot key of a manuscript was found.

    ``ids`` maps each key found to the id citeproc should use: the bibliography entry's key,
    or (for a work only the cache knows) the id of its entry in ``extra``, which holds those
    records keyed so. ``unknown`` lists the keys neither knows, each with its first citation.
    """

    ids: dict[str, str] = field(default_factory=dict)
    extra: list[Reference] = field(default_factory=list)
    unknown: list[tuple[ManubotKey, Citation]] = field(default_factory=list)
    #: Keys found through the cache (a short DOI whose long form the bibliography has, or
    #: a work only the cache knows).
    from_cache: set[str] = field(default_factory=set)

    def renamed(self) -> dict[str, str]:
        """Only the keys citeproc must read under another id."""
        return {key: found for key, found in self.ids.items() if key != found}


def item_key(item: PlaceholderItem) -> ManubotKey | None:
    """The Manubot key a placeholder entry is written as (``@doi:...``, ``@url:...``), or None
    for entries written otherwise (``doi:...`` without ``@``, ordinary keys)."""
    if item.literal_key is not None:
        return manubot_key(item.literal_key)
    if item.key is not None and item.raw.lstrip("-").startswith("@"):
        found = manubot_key(item.key)
        return found if found is not None and found.kind == "url" else None
    return None


def keep_manubot_keys(placeholders: Sequence[Placeholder]) -> list[Placeholder]:
    """The placeholders with every Manubot key made an ordinary citation, kept as written."""
    kept = []
    for placeholder in placeholders:
        if placeholder.kind == IDENTIFIER and any(
                item.literal_key is not None and item_key(item) is not None for item in placeholder.items):
            items = tuple(replace(item, key=item.literal_key)
                          if item.literal_key is not None and item_key(item) is not None else item
                          for item in placeholder.items)
            placeholder = replace(placeholder, items=items)
        kept.append(placeholder)
    return kept


def manubot_citations(manuscript: Manuscript, bib: Bibliography | None,
                      citations: Iterable[Citation] | None = None) -> dict[ManubotKey, Citation]:
    """Each Manubot key the manuscript cites (that is not a key of the bibliography itself),
    with its first citation, in order of first appearance."""
    found: dict[str, tuple[ManubotKey, Citation]] = {}
    if citations is None and not _MAY_CITE.search(manuscript.text):
        return {}
    for citation in citations if citations is not None else find_citations(manuscript):
        if citation.key in found or (bib is not None and citation.key in bib):
            continue
        key = manubot_key(citation.key)
        if key is not None:
            found[citation.key] = (key, citation)
    return dict(found.values())


def resolve_manubot_keys(manuscript: Manuscript, bib: Bibliography | None,
                         cached: CacheLookup | None = None,
                         citations: Iterable[Citation] | None = None) -> ManubotSources:
    """Find the work each Manubot key of the manuscript names, offline (see module docstring).

    ``cached`` answers identifiers from the metadata cache only (never the network); without
    it only the bibliography is asked.
    """
    result = ManubotSources()
    cited = manubot_citations(manuscript, bib, citations)
    if not cited:
        return result
    asked: list[ManubotKey] = []
    for key in cited:
        entry = bibliography_entry(bib, key)
        if entry is not None:
            result.ids[key.key] = entry.key
        elif key.identifier is not None and cached is not None:
            asked.append(key)
    records: Mapping[Identifier, Reference | None] = {}
    if asked and cached is not None:
        records = cached([key.identifier for key in asked if key.identifier is not None])
    by_identifier: dict[Identifier, str] = {}  # works only the cache knows -> their id
    for key in asked:
        record = records.get(key.identifier) if key.identifier is not None else None
        if record is None:
            continue
        result.from_cache.add(key.key)
        entry = next((found for ident in record.identifiers()
                      if (found := bib.find(ident) if bib is not None else None) is not None), None)
        if entry is not None:  # a short DOI, or a PMID of a work the bibliography has by DOI
            result.ids[key.key] = entry.key
            continue
        known = next((by_identifier[i] for i in record.identifiers() if i in by_identifier), None)
        if known is None:
            known = key.key
            result.extra.append(replace(record, key=known))
            for ident in [*record.identifiers(), key.identifier]:
                if ident is not None:
                    by_identifier.setdefault(ident, known)
        result.ids[key.key] = known
    result.unknown = [(key, citation) for key, citation in cited.items() if key.key not in result.ids]
    return result


__all__ = ["CacheLookup", "ManubotKey", "ManubotSources", "bibliography_entry", "item_key",
           "keep_manubot_keys", "manubot_citations", "manubot_key", "resolve_manubot_keys"]
