"""A reference written as free text, read into its parts.

Drafts end with reference lists written by hand in the styles medical writers use: Vancouver
(NLM) ``Wakefield AJ, Murch SH, Anthony A, et al. Ileal-lymphoid-nodular hyperplasia…. Lancet.
1998;351(9103):637-641.`` and author-(year) styles ``Robinson MD, McCarthy DJ, Smyth GK (2010).
edgeR: a Bioconductor package…. Bioinformatics, 26(1), 139-140.`` :func:`parse_reference_text`
reads authors, title, year, journal, volume, issue and pages from such a line, and nothing it
cannot find: a line it cannot read author, title and year from gives None.

What is read is unverified: it is only what the writer typed, split where these styles put
their full stops. It is used to ask Crossref, to judge Crossref's answers, and (only when the
writer accepts it) as a bibliography entry.

No parser on the package index fits here: refextract is built for high-energy-physics
references (it keeps no article title and splits Vancouver lines at the authors' initials),
and GROBID, CERMINE and AnyStyle are Java or Ruby services, not libraries citeflow can call
offline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from citeflow.references.bibtex import PROVENANCE_FIELD
from citeflow.references.reference import Reference

#: What an entry made of a list item's text says of itself in the .bib.
UNVERIFIED = "unverified: read from the draft's reference list as written"

_YEAR = r"(?:1[5-9]\d\d|20\d\d)"
#: ``(2010)`` or ``(2010a)`` or ``(2010, March)`` closing an author-(year) author list.
_PAREN_YEAR = re.compile(r"\(\s*(" + _YEAR + r")[a-z]?(?:,[^()]*+)?\)\.?")
#: Vancouver's ``1998;351(9103):637-41`` or ``2002 Apr; 13: 1059–1062`` or ``1925;52:399-433``.
_SOURCE = re.compile(
    r"(?P<year>" + _YEAR + r")(?:\s+[A-Z][a-z]{2}(?:\s+\d{1,2})?)?\s*;\s*(?P<volume>[\w-]+)?\s*"
    r"(?:\((?P<issue>[^)]+)\))?\s*(?::\s*(?P<pages>[\w]+(?:\s*[-–]\s*[\w]+)?))?"
)
#: Author-(year) styles' ``Bioinformatics, 26(1), 139-140``.
_VOLUME = re.compile(r",\s*(?P<volume>\d+)\s*(?:\((?P<issue>[^)]+)\))?\s*(?:[,:]\s*(?P<pages>\w+(?:\s*[-–]\s*\w+)?))?")
_TAIL = re.compile(r"\s*(?:\b(?:doi|DOI)\s*:?\s*10\.\S+|\bPMID:?\s*\d+|\bPMCID:?\s*PMC\d+|\bURL\s+\S+|https?://\S+"
                   r"|\bEpub\b.*|\bavailable\s+(?:at|from)\b.*)", re.I)
#: Where one part of a reference ends: a full stop (or ? !) and a space, not after an initial.
_PART_END = re.compile(r"(?<![\s.][A-Z])(?<=[.?!])\s+(?=\S)")
_ET_AL = re.compile(r",?\s*\bet\s+al\b\.?", re.I)
_PERSON = re.compile(r"^(?P<family>[^\W\d_][\w'’-]*(?:\s+[^\W\d_][\w'’-]*)*?)\s+(?P<initials>[A-Z]{1,4})$")
_PERSON_DOTTED = re.compile(r"^(?P<family>[^\W\d_][\w'’ -]*?),\s*(?P<initials>(?:[A-Z]\.\s*-?)+)$")


@dataclass(frozen=True)
class ParsedReference:
    """What a free-text reference says, as written (unverified)."""

    text: str
    authors: tuple[str, ...]  # "Family, I. J." for people, the name for an organisation
    title: str
    year: int | None
    container: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    et_al: bool = False

    @property
    def first_author_family(self) -> str:
        return self.authors[0].split(",")[0].strip() if self.authors else ""

    @property
    def complete(self) -> bool:
        """Author, title and year were all read: enough for a bibliography entry."""
        return bool(self.authors and self.title and self.year)

    def reference(self, key: str = "") -> Reference:
        """A bibliography entry made of what was written; its ``citeflow`` field says it is
        unverified (no citation style prints that field)."""
        return Reference(key=key, type="article-journal" if self.container else "document",
                         title=self.title, authors=list(self.authors), year=self.year,
                         container=self.container, volume=self.volume, issue=self.issue,
                         pages=self.pages, fields={PROVENANCE_FIELD: UNVERIFIED})


def _person(name: str) -> str | None:
    name = name.strip().strip(".").strip()
    if not name:
        return None
    match = _PERSON.match(name)
    if match:
        initials = ". ".join(match.group("initials")) + "."
        return f"{match.group('family')}, {initials}"
    match = _PERSON_DOTTED.match(name + ("." if re.search(r"\b[A-Z]$", name) else ""))
    if match:
        return f"{match.group('family').strip()}, {' '.join(match.group('initials').split())}"
    return name  # an organisation ("R Core Team"), or a name written some other way


def _authors(text: str) -> tuple[tuple[str, ...], bool]:
    et_al = bool(_ET_AL.search(text))
    text = _ET_AL.sub("", text).strip().rstrip(".,;").strip()
    if not text:
        return (), et_al
    if re.search(r",\s*(?:[A-Z]\.\s*)+(?:,|&|and\b|$)", text):  # "Smith, J. A., & Jones, B."
        parts = re.split(r"(?<=\.)\s*,\s*(?:&\s*|and\s+)?|\s+(?:&|and)\s+", text)
    else:                                                    # "Watson JD, Crick FHC"
        parts = re.split(r"\s*,\s*(?:&\s*|and\s+)?|\s+(?:&|and)\s+", text)
    people = [p for p in (_person(part) for part in parts) if p]
    if any(len(name.split()) > 6 or re.search(r"\d|\.\s+\S{3}", name) for name in people):
        return (), et_al  # a sentence, not a name: this is no author list
    return tuple(people), et_al


def parse_reference_text(text: str) -> ParsedReference | None:
    """The parts of a free-text reference, or None when it names no author, title and year
    in a form this reader knows."""
    line = " ".join(text.split())
    line = _TAIL.sub("", line).strip()
    if not line:
        return None
    paren = _PAREN_YEAR.search(line)
    year: int | None = None
    container = volume = issue = pages = ""
    if paren and paren.start() > 0:
        # Author (Year). Title. Journal, volume(issue), pages.
        year = int(paren.group(1))
        author_text, rest = line[:paren.start()], line[paren.end():].strip()
        parts = _PART_END.split(rest)
        title = parts[0] if parts else ""
        after = " ".join(parts[1:])
        volume_match = _VOLUME.search(after)
        source_match = _SOURCE.search(after)
        if volume_match:
            container = after[:volume_match.start()]
            volume, issue, pages = (volume_match.group(g) or "" for g in ("volume", "issue", "pages"))
        elif source_match:
            container = after[:source_match.start()]
            volume, issue, pages = (source_match.group(g) or "" for g in ("volume", "issue", "pages"))
        else:
            container = parts[1] if len(parts) > 1 else ""
    else:
        # Authors. Title. Journal. Year;volume(issue):pages.
        parts = _PART_END.split(line)
        if len(parts) < 3:
            return None
        author_text, title = parts[0], parts[1]
        rest = " ".join(parts[2:])
        source_match = _SOURCE.search(rest)
        if source_match:
            year = int(source_match.group("year"))
            container = rest[:source_match.start()]
            volume, issue, pages = (source_match.group(g) or "" for g in ("volume", "issue", "pages"))
        else:
            found = re.search(r"\b(" + _YEAR + r")\b", rest)
            if found is None:
                return None
            year = int(found.group(1))
            container = parts[2] if not re.match(r"\s*" + _YEAR, parts[2]) else ""
    authors, et_al = _authors(author_text)
    title = title.strip().rstrip(".").strip()
    container = re.sub(r"[;,.]?\s*" + _YEAR + r"\s*$", "", container.strip().rstrip(".")).rstrip(".,;").strip()
    if container and re.fullmatch(r"[\d\W]*", container):
        container = ""
    if not (authors and title and year):
        return None
    return ParsedReference(text=text, authors=authors, title=title, year=year, container=container,
                           volume=volume.strip(), issue=issue.strip(), pages=pages.replace(" ", ""),
                           et_al=et_al)


__all__ = ["ParsedReference", "parse_reference_text"]
