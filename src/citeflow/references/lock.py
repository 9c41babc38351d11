"""``citeflow.lock``: what the registries said about each cited work, kept with the project.

``citeflow refresh`` asks Crossref, PubMed, doi.org and the bioRxiv API about every cited
work and writes what matters here; ``citeflow check`` then judges retractions, expressions
of concern, corrections, preprints and mistyped references from this file alone, without
opening a connection. The file is meant to be committed: CI checks against it offline and a
scheduled job refreshes it.

One JSON document, keys sorted, two-space indent, one value per line, dates without times,
so that a refresh shows as a short diff of what changed at the registries::

    {
      "lock": "citeflow",
      "version": 1,
      "works": {
        "doi:10.1016/s0140-6736(97)11096-0": {
          "abstract": "...",
          "doi": "10.1016/s0140-6736(97)11096-0",
          "pmid": "9500320",
          "sources": {
            "crossref": {"asked": "2026-10-01", "found": true, "title": "RETRACTED: ...",
                         "notices": [{"doi": "10.1016/s0140-6736(10)60175-4",
                                      "type": "retraction", "source": "retraction-watch",
                                      "date": "2010-02-06", "direction": "updated-by", ...}], ...},
            "pubmed": {"asked": "2026-10-01", "found": true,
                       "publication_types": [{"ui": "D016441", "label": "Retracted Publication"}],
                       "notices": [{"type": "RetractionIn", "pmid": "20137807", ...}], ...}
          }
        }
      }
    }

A work is filed under its DOI (``doi:...``), else its PMID (``pmid:...``), else its PMCID
(``pmcid:...``), else its normalised title (``title:...``, for works looked up by title). Each
source record keeps the registry's own words (update types as Crossref, Retraction Watch or
PubMed spell them); :mod:`citeflow.references.integrity` judges them.
"""

from __future__ import annotations

import datetime
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from citeflow.errors import CiteflowError
from citeflow.files import atomic_write_text
from citeflow.references.reference import Reference

LOCK_NAME = "citeflow.lock"
FORMAT = "citeflow"
VERSION = 1
#: Authors kept per record (the first ones; ``authors_total`` says how many there are).
MAX_AUTHORS = 20


class Source(StrEnum):
    """The registries a lock records; the value is the key in the file."""

    CROSSREF = "crossref"
    PUBMED = "pubmed"
    DOI = "doi.org"
    BIORXIV = "biorxiv"


#: How messages name each source.
SOURCE_NAMES = {Source.CROSSREF: "Crossref", Source.PUBMED: "PubMed", Source.DOI: "doi.org",
                Source.BIORXIV: "the bioRxiv API"}


@dataclass
class Notice:
    """One link between the work and an update notice, in the registry's words.

    ``type`` is the registry's update type (Crossref: ``retraction``, ``erratum``,
    ``expression_of_concern``, ...; PubMed: the ``CommentsCorrections`` reference type,
    ``RetractionIn``, ``ErratumFor``, ...). ``direction`` is ``updated-by`` (the notice
    updates this work), ``update-to`` (this work updates the linked one) or, for PubMed, the
    same read from the reference type. ``source`` is who asserted it: ``publisher``,
    ``retraction-watch`` (Crossref) or ``pubmed``.
    """

    type: str
    direction: str
    source: str
    doi: str | None = None
    pmid: str | None = None
    date: str | None = None
    label: str | None = None
    record_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _without_empty({"type": self.type, "direction": self.direction, "source": self.source,
                               "doi": self.doi, "pmid": self.pmid, "date": self.date,
                               "label": self.label, "record_id": self.record_id})

    @classmethod
    def from_json(cls, data: Any, where: str) -> Notice:
        data = _table(data, where)
        return cls(type=_text(data, "type", where, required=True) or "",
                   direction=_text(data, "direction", where, required=True) or "",
                   source=_text(data, "source", where) or "",
                   doi=_text(data, "doi", where), pmid=_text(data, "pmid", where),
                   date=_text(data, "date", where), label=_text(data, "label", where),
                   record_id=_text(data, "record_id", where))

    def sort_key(self) -> tuple:
        return (self.date or "", self.doi or "", self.pmid or "", self.type, self.source, self.direction)


@dataclass
class Relation:
    """A link to another version of the work: ``is-preprint-of`` (this work is a preprint
    of ``doi``), ``has-preprint``, ``is-version-of``, ... as Crossref names them; the bioRxiv
    API's published version is recorded as ``is-preprint-of`` with source ``biorxiv``."""

    type: str
    doi: str
    source: str = ""
    journal: str = ""
    date: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _without_empty({"type": self.type, "doi": self.doi, "source": self.source,
                               "journal": self.journal, "date": self.date})

    @classmethod
    def from_json(cls, data: Any, where: str) -> Relation:
        data = _table(data, where)
        return cls(type=_text(data, "type", where, required=True) or "",
                   doi=_text(data, "doi", where, required=True) or "",
                   source=_text(data, "source", where) or "",
                   journal=_text(data, "journal", where) or "",
                   date=_text(data, "date", where))


@dataclass
class SourceRecord:
    """What one registry answered about the work, on the day it was asked.

    ``found`` is False when the registry said it does not know the work (an answer, not a
    failure: failed lookups are never recorded). ``years`` holds every year the record
    dates the work by (print, online, issue), since a bibliography may give any of them.
    """

    asked: str
    found: bool = True
    title: str = ""
    authors: list[str] = field(default_factory=list)
    authors_total: int = 0
    year: int | None = None
    years: list[int] = field(default_factory=list)
    journal: str = ""
    journal_abbreviations: list[str] = field(default_factory=list)
    volume: str = ""
    issue: str = ""
    pages: str = ""
    type: str = ""
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    publication_types: list[dict[str, str]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    match_score: float | None = None  # a title search: how close the best match came

    def to_json(self) -> dict[str, Any]:
        return _without_empty({
            "asked": self.asked, "found": self.found, "title": self.title,
            "authors": self.authors[:MAX_AUTHORS],
            "authors_total": self.authors_total if self.authors_total > min(len(self.authors), MAX_AUTHORS) else None,
            "year": self.year, "years": sorted(set(self.years)) if len(set(self.years)) > 1 else None,
            "journal": self.journal,
            "journal_abbreviations": sorted(set(self.journal_abbreviations) - {self.journal}),
            "volume": self.volume, "issue": self.issue, "pages": self.pages, "type": self.type,
            "doi": self.doi, "pmid": self.pmid, "pmcid": self.pmcid,
            "publication_types": sorted(self.publication_types, key=lambda t: (t.get("ui", ""), t.get("label", ""))),
            "notices": [n.to_json() for n in sorted(self.notices, key=Notice.sort_key)],
            "relations": [r.to_json() for r in sorted(self.relations, key=lambda r: (r.type, r.doi, r.source))],
            "match_score": self.match_score,
        }, keep=("found",))

    @classmethod
    def from_json(cls, data: Any, where: str) -> SourceRecord:
        data = _table(data, where)
        asked = _text(data, "asked", where, required=True) or ""
        if not _DATE.fullmatch(asked):
            raise _bad(where, f"'asked' must be a date (YYYY-MM-DD), not {asked!r}")
        found = data.get("found", True)
        if not isinstance(found, bool):
            raise _bad(where, "'found' must be true or false")
        types = _list(data, "publication_types", where)
        return cls(
            asked=asked, found=found, title=_text(data, "title", where) or "",
            authors=[_item_text(a, f"{where}.authors") for a in _list(data, "authors", where)],
            authors_total=_int(data, "authors_total", where) or 0,
            year=_int(data, "year", where),
            years=[y for y in (_as_int(v, f"{where}.years") for v in _list(data, "years", where)) if y is not None],
            journal=_text(data, "journal", where) or "",
            journal_abbreviations=[_item_text(a, f"{where}.journal_abbreviations")
                                   for a in _list(data, "journal_abbreviations", where)],
            volume=_text(data, "volume", where) or "", issue=_text(data, "issue", where) or "",
            pages=_text(data, "pages", where) or "", type=_text(data, "type", where) or "",
            doi=_text(data, "doi", where), pmid=_text(data, "pmid", where), pmcid=_text(data, "pmcid", where),
            publication_types=[{k: str(v) for k, v in _table(t, f"{where}.publication_types").items()
                                if isinstance(v, str)} for t in types],
            notices=[Notice.from_json(n, f"{where}.notices") for n in _list(data, "notices", where)],
            relations=[Relation.from_json(r, f"{where}.relations") for r in _list(data, "relations", where)],
            match_score=_number(data, "match_score", where),
        )

    @property
    def all_years(self) -> set[int]:
        return {y for y in [self.year, *self.years] if y}


@dataclass
class LockedWork:
    """One work: its identifiers, what each registry answered, and its abstract."""

    id: str
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    title: str = ""  # for a work looked up by title: the title searched
    abstract: str = ""
    sources: dict[str, SourceRecord] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return _without_empty({
            "doi": self.doi, "pmid": self.pmid, "pmcid": self.pmcid, "title": self.title,
            "abstract": self.abstract,
            "sources": {name: record.to_json() for name, record in sorted(self.sources.items())},
        })

    @classmethod
    def from_json(cls, work_id: str, data: Any) -> LockedWork:
        where = f"works.{work_id}"
        data = _table(data, where)
        sources = _table(data.get("sources", {}), f"{where}.sources")
        return cls(id=work_id, doi=_text(data, "doi", where), pmid=_text(data, "pmid", where),
                   pmcid=_text(data, "pmcid", where), title=_text(data, "title", where) or "",
                   abstract=_text(data, "abstract", where) or "",
                   sources={str(name): SourceRecord.from_json(record, f"{where}.sources.{name}")
                            for name, record in sources.items()})

    def record(self, source: Source | str) -> SourceRecord | None:
        return self.sources.get(str(source))

    def found(self) -> list[tuple[str, SourceRecord]]:
        """The records of registries that know the work, Crossref first."""
        order = [str(s) for s in Source]
        return sorted(((n, r) for n, r in self.sources.items() if r.found),
                      key=lambda item: order.index(item[0]) if item[0] in order else len(order))

    @property
    def checked(self) -> str | None:
        """The day the work was last asked about (the latest of its records), or None."""
        return max((r.asked for r in self.sources.values()), default=None)

    @property
    def registries_know(self) -> bool | None:
        """True when some registry knows the work, False when every registry asked said it
        does not (and one was asked), None when nothing is recorded."""
        if not self.sources:
            return None
        return any(r.found for r in self.sources.values())


@dataclass
class Lock:
    """The works of a ``citeflow.lock``, with lookups by identifier and title."""

    works: dict[str, LockedWork] = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        self._index: dict[str, LockedWork] | None = None

    def __len__(self) -> int:
        return len(self.works)

    def __iter__(self) -> Iterator[LockedWork]:
        return iter(self.works.values())

    def _ids(self) -> dict[str, LockedWork]:
        if self._index is None:
            index: dict[str, LockedWork] = {}
            for work in self.works.values():
                for name in work_ids(work.doi, work.pmid, work.pmcid, work.title):
                    index.setdefault(name, work)
            self._index = index
        return self._index

    def find(self, ref: Reference) -> LockedWork | None:
        """The work a bibliography entry names: by DOI, else PMID, else PMCID, else title
        (for entries without identifiers)."""
        index = self._ids()
        title = ref.title if not (ref.doi or ref.pmid or ref.pmcid) else ""
        for name in work_ids(ref.doi, ref.pmid, ref.pmcid, title):
            if name in index:
                return index[name]
        return None

    def put(self, work: LockedWork) -> None:
        self.works[work.id] = work
        self._index = None

    def drop(self, work_id: str) -> None:
        self.works.pop(work_id, None)
        self._index = None

    def to_json(self) -> dict[str, Any]:
        return {"lock": FORMAT, "version": VERSION,
                "works": {work_id: work.to_json() for work_id, work in sorted(self.works.items())}}

    def dumps(self) -> str:
        """The file's text: sorted keys, two-space indent, a final newline."""
        return json.dumps(self.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def write(self, path: str | Path | None = None) -> Path:
        """Write the lock atomically (to ``path``, else where it was read from)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise CiteflowError("no path to write citeflow.lock to")
        atomic_write_text(target, self.dumps())
        self.path = target
        return target


def work_ids(doi: str | None, pmid: str | None, pmcid: str | None, title: str = "") -> list[str]:
    """The names a work is filed under, most specific first."""
    names = [f"doi:{doi.lower()}" if doi else "", f"pmid:{pmid}" if pmid else "",
             f"pmcid:{pmcid.upper()}" if pmcid else ""]
    key = title_key(title) if title else ""
    names.append(f"title:{key}" if key else "")
    return [n for n in names if n]


def title_key(title: str) -> str:
    """A title reduced to lower-case ASCII words (LaTeX braces, accents and punctuation
    dropped), used to file a work that has no identifier."""
    text = unicodedata.normalize("NFKD", re.sub(r"\\[a-zA-Z]+|[{}]", "", title or ""))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold()))


def today() -> str:
    return datetime.date.today().isoformat()


def days_since(day: str | None, now: datetime.date | None = None) -> int | None:
    if not day:
        return None
    try:
        then = datetime.date.fromisoformat(day)
    except ValueError:
        return None
    return ((now or datetime.date.today()) - then).days


def lock_path(root: str | Path) -> Path:
    return Path(root) / LOCK_NAME


def load_lock(path: str | Path, missing_ok: bool = True) -> Lock | None:
    """The lock at ``path``; None when there is none (and ``missing_ok``). A file that is
    not a citeflow lock is a :class:`CiteflowError` naming the file (and line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return None
        raise CiteflowError("citeflow.lock not found (run `citeflow refresh`)", path) from None
    except UnicodeDecodeError as exc:
        raise CiteflowError(f"citeflow.lock is not UTF-8 text (byte {exc.start})", path) from None
    except OSError as exc:
        raise CiteflowError(f"cannot read citeflow.lock: {exc.strerror or exc}", path) from exc
    return parse_lock(text, path)


def parse_lock(text: str, path: Path | None = None) -> Lock:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CiteflowError(f"citeflow.lock is not valid JSON: {exc.msg}", path, exc.lineno) from None
    if not isinstance(data, dict) or data.get("lock") != FORMAT:
        raise CiteflowError("not a citeflow lock (no \"lock\": \"citeflow\")", path)
    if data.get("version") != VERSION:
        raise CiteflowError(f"citeflow.lock version {data.get('version')!r} is not one this citeflow "
                            f"reads ({VERSION}); run `citeflow refresh`", path)
    works = data.get("works", {})
    if not isinstance(works, dict):
        raise CiteflowError("citeflow.lock: 'works' must be a table", path)
    try:
        lock = Lock({str(k): LockedWork.from_json(str(k), v) for k, v in works.items()}, path)
    except _BadLock as exc:
        raise CiteflowError(f"citeflow.lock: {exc}", path, _line_of(text, exc.work)) from None
    return lock


# -- reading values --------------------------------------------------------------------------------
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _BadLock(ValueError):
    def __init__(self, message: str, work: str):
        super().__init__(message)
        self.work = work


def _bad(where: str, message: str) -> _BadLock:
    work = where.split(".", 1)[1] if where.startswith("works.") else where
    return _BadLock(f"{where}: {message}", work.split(".sources")[0])


def _line_of(text: str, work: str) -> int | None:
    index = text.find(json.dumps(work, ensure_ascii=False))
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(where, "must be a table")
    return value


def _list(data: dict[str, Any], name: str, where: str) -> list[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise _bad(where, f"'{name}' must be a list")
    return value


def _text(data: dict[str, Any], name: str, where: str, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise _bad(where, f"'{name}' is missing")
        return None
    if not isinstance(value, str):
        raise _bad(where, f"'{name}' must be text")
    return value


def _item_text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _bad(where, "must hold text")
    return value


def _as_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(where, "must hold whole numbers")
    return value


def _int(data: dict[str, Any], name: str, where: str) -> int | None:
    return _as_int(data.get(name), f"{where}.{name}")


def _number(data: dict[str, Any], name: str, where: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(where, f"'{name}' must be a number")
    return float(value)


def _without_empty(data: dict[str, Any], keep: Iterable[str] = ()) -> dict[str, Any]:
    kept = set(keep)
    return {k: v for k, v in data.items() if k in kept or v not in (None, "", [], {}, 0)}


__all__ = ["LOCK_NAME", "Lock", "LockedWork", "Notice", "Relation", "Source", "SourceRecord",
           "days_since", "load_lock", "lock_path", "parse_lock", "title_key", "today", "work_ids"]
