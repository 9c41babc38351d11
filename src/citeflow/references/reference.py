"""One work as citeflow sees it (:class:`Reference`), whatever file or service it came from.

The mappings from each format live beside it: BibTeX entries in
:mod:`citeflow.references.bibtex`, CSL-JSON items (CSL files, Crossref and doi.org answers)
in :mod:`citeflow.references.csl`, PubMed XML in :mod:`citeflow.sources.pubmed`. The field
readers they share (:func:`year_in`, :func:`page_range`, :func:`first_isbn`) and the check
that a fetched record is fit for a bibliography (:func:`reference_problems`) are here, and
:class:`BibliographyWarning`, something odd but not fatal in how a file writes an entry.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from citeflow.references.identifiers import Identifier, normalize_isbn


@dataclass
class Reference:
    """One work: what a bibliography entry or a metadata record says about it.

    ``authors`` are display names, ``"Family, Given"`` for people and the plain name for an
    organisation (``"The Genome Denmark Consortium"``). ``type`` is a CSL type
    (``article-journal``, ``chapter``, ...). ``updates`` lists notices linked to the work,
    each ``{"type": "retraction"|"correction"|"new_version"|..., "doi": ..., "direction":
    "updated-by"|"update-to"|<relation name>, "label": ..., "date": "YYYY-MM-DD"|None,
    "source": ...}``. ``file``/``line`` say where the entry is written, if it came from a file.
    """

    key: str
    type: str = "article-journal"
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    container: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str = ""
    isbn: str | None = None
    abstract: str = ""
    keywords: list[str] = field(default_factory=list)
    publisher: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    file: Path | None = None
    line: int | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    editors: list[str] = field(default_factory=list)

    def identifiers(self) -> list[Identifier]:
        """The identifiers this reference carries (DOI, PMID, PMCID, ISBN)."""
        found = []
        for kind in ("doi", "pmid", "pmcid", "isbn"):
            value = getattr(self, kind)
            if value:
                found.append(Identifier(kind, value))
        arxiv = self.fields.get("arxiv")
        if arxiv:
            found.append(Identifier("arxiv", arxiv))
        return found

    @property
    def first_author_family(self) -> str:
        """Family name of the first author (the whole name for an organisation)."""
        if not self.authors:
            return ""
        return self.authors[0].split(",")[0].strip()


def year_in(text: str | None) -> int | None:
    """The first four-digit year in a text (``"2016-12-15"``, ``"Dec 2016"``), or None."""
    match = re.search(r"\b(\d{4})\b", text or "")
    return int(match.group(1)) if match else None


def page_range(text: str) -> str:
    """A page range with a plain hyphen (``2335--2348``, ``2335–2348`` -> ``2335-2348``)."""
    return re.sub(r"\s*(?:--+|–|—)\s*", "-", text).strip()


def first_isbn(text: str) -> str | None:
    """The first valid ISBN in a field that may list several (``978-... 978-...``)."""
    for candidate in re.findall(r"(?:97[89][\s-]?)?(?:\d[\s-]?){9}[\dXx]", text):
        value = normalize_isbn(candidate.strip())
        if value:
            return value
    return None


#: Years a record may carry: from the first printed works to a few years ahead (journals
#: assign next year's volumes early).
EARLIEST_YEAR = 1000
YEARS_AHEAD = 5
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def reference_problems(ref: Reference, today_year: int | None = None) -> list[str]:
    """What makes a fetched record unfit for a bibliography, in words (empty: fit).

    Checked: U+FFFD replacement characters and control characters in any field written
    to a .bib (text lost to a broken encoding at the source), empty author or editor
    names (``{"family": null}``), and a year outside ``EARLIEST_YEAR`` .. this year +
    ``YEARS_AHEAD``.
    """
    problems: list[str] = []
    texts = {"title": ref.title, "journal": ref.container, "volume": ref.volume, "issue": ref.issue,
             "pages": ref.pages, "publisher": ref.publisher, "abstract": ref.abstract, "URL": ref.url,
             "keywords": " ".join(ref.keywords)}
    texts.update({f"author {n}": name for n, name in enumerate(ref.authors, 1)})
    texts.update({f"editor {n}": name for n, name in enumerate(ref.editors, 1)})
    broken = [name for name, text in texts.items() if "\ufffd" in text]
    if broken:
        problems.append(f"U+FFFD replacement characters (text lost to a broken encoding) in the "
                        f"{', '.join(broken)}")
    control = [name for name, text in texts.items() if _CONTROL.search(text)]
    if control:
        problems.append(f"control characters in the {', '.join(control)}")
    for role, names in (("author", ref.authors), ("editor", ref.editors)):
        empty = [str(n) for n, name in enumerate(names, 1) if not name.strip(" ,.;")]
        if empty:
            which = "name" if len(empty) == 1 else "names"
            problems.append(f"empty {role} {which} ({', '.join(empty)} of {len(names)})")
    latest = (today_year or datetime.date.today().year) + YEARS_AHEAD
    if ref.year is not None and not EARLIEST_YEAR <= ref.year <= latest:
        problems.append(f"an impossible year ({ref.year})")
    return problems


class WarningKind(StrEnum):
    """What a :class:`BibliographyWarning` is about."""

    DUPLICATE_KEY = "duplicate_key"
    UNDEFINED_MACRO = "undefined_macro"
    DANGLING_CROSSREF = "dangling_crossref"
    OTHER = "other"


@dataclass
class BibliographyWarning:
    """Something odd but not fatal in a bibliography file.

    ``key`` is the entry concerned, when there is one. For a duplicate key, ``file``/``line``
    is the repeated entry (ignored by citeflow) and ``first_file``/``first_line`` the entry
    that citeflow uses.
    """

    file: Path
    line: int | None
    message: str
    kind: WarningKind = WarningKind.OTHER
    key: str | None = None
    first_file: Path | None = None
    first_line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.message}"
