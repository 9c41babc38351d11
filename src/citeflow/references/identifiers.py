"""Persistent identifiers of published work: DOI, PMID, PMCID, arXiv ID and ISBN.

Every identifier a writer types (``doi:10.1056/NEJMoa1610020``, ``https://doi.org/...``,
``PMID 27690741``, ``PMC5122160``, ``arXiv:1706.03762``, ``ISBN 978-0-19-...``) is brought to
one normal form here, so that two spellings of the same work compare equal and a malformed
identifier is caught before anything is sent to a server.

Normal forms:

* DOI: lower-case ``10.<registrant>/<suffix>`` (DOIs are case-insensitive).
* PMID: the decimal number without leading zeros, as text.
* PMCID: ``PMC`` followed by digits (a version suffix such as ``.2`` is dropped).
* arXiv: ``2101.00001`` (new style) or ``hep-th/9901001`` (old style), version kept if given.
* ISBN: the 13-digit form (an ISBN-10 is converted), check digit verified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

KINDS = ("doi", "pmid", "pmcid", "arxiv", "isbn")

#: The DOI pattern, the only one in citeflow. A DOI is ``10.`` and a registrant code of 4 to
#: 9 digits (sub-codes after dots allowed), a slash, and a suffix: :data:`DOI_PREFIX` is the
#: part before the slash. :data:`DOI_PATTERN` (a regular expression, as a string) finds DOIs in
#: running text, stopping at white space, quotes, angle and curly brackets; matches may carry
#: trailing prose punctuation, so use :func:`find_dois`, or pass each match through
#: :func:`normalize_doi`.
DOI_PREFIX = r"10\.\d{4,9}(?:\.\d+)*"
DOI_PATTERN = DOI_PREFIX + r"/[^\s\"<>{}|\\^`]+"

_DOI_RE = re.compile(rf"^{DOI_PREFIX}/\S+$")
_DOI_IN_TEXT = re.compile(DOI_PATTERN)
_DOI_PREFIXES = re.compile(
    r"^(?:doi\s*:\s*|doi\s+|info:doi/|urn:doi:|(?:https?://)?(?:[\w.-]*\.)?doi\.(?:org|acm\.org)/)",
    re.IGNORECASE,
)
_OPENERS = {")": "(", "]": "[", "}": "{", ">": "<"}


class InvalidIdentifier(ValueError):
    """An identifier that is malformed; ``reason`` says why, ``text`` is what was given."""

    def __init__(self, text: str, reason: str, kind: str | None = None):
        self.text = text
        self.reason = reason
        self.kind = kind
        label = f"{kind} " if kind else ""
        super().__init__(f"malformed {label}identifier {text!r}: {reason}")


@dataclass(frozen=True, order=True)
class Identifier:
    """One normalised identifier, e.g. ``Identifier("doi", "10.1056/nejmoa1610020")``."""

    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


# -- DOI ----------------------------------------------------------------------------------
def _strip_trailing_punctuation(doi: str) -> str:
    """Drop prose punctuation after a DOI: ``.,;:'"`` and closing brackets nobody opened."""
    while doi:
        last = doi[-1]
        if last in ".,;:'\"!?" or (last in _OPENERS and doi.count(last) > doi.count(_OPENERS[last])):
            doi = doi[:-1]
        else:
            break
    return doi


def normalize_doi(text: str | None) -> str | None:
    """The lower-cased ``10.x/...`` form of a DOI written in any common way, or None.

    Accepts ``doi:``, ``https://doi.org/``, ``http://dx.doi.org/``, URL-encoded DOIs and a
    DOI followed by prose punctuation (``see 10.1/abc).`` -> ``10.1/abc``).
    """
    if not text:
        return None
    doi = text.strip().lstrip("([{<\"'").rstrip(">")
    doi = _DOI_PREFIXES.sub("", doi).strip()
    if "%" in doi:
        doi = unquote(doi)
    doi = _DOI_PREFIXES.sub("", doi).strip()
    doi = _strip_trailing_punctuation(doi)
    if not _DOI_RE.match(doi):
        return None
    return doi.lower()


def _doi_reason(text: str) -> str:
    stripped = _DOI_PREFIXES.sub("", unquote(text.strip()))
    if re.match(r"^10/\w+", stripped):
        return "short DOIs (10/...) are not supported; use the full DOI"
    if not stripped.startswith("10."):
        return "a DOI starts with '10.'"
    if "/" not in stripped:
        return "a DOI has a '/' between prefix and suffix"
    if not re.match(DOI_PREFIX, stripped):
        return "the DOI prefix must be '10.' followed by 4 to 9 digits"
    return "no suffix after the '/'"


# -- PubMed -------------------------------------------------------------------------------
_PMID_PREFIX = re.compile(
    r"^(?:pmid\s*:?\s*|pubmed\s*:?\s*|https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov/|"
    r"ncbi\.nlm\.nih\.gov/pubmed/))",
    re.IGNORECASE,
)
_PMCID_PREFIX = re.compile(
    r"^(?:pmcid\s*:?\s*|https?://(?:www\.)?(?:ncbi\.nlm\.nih\.gov/pmc/articles/|"
    r"pmc\.ncbi\.nlm\.nih\.gov/articles/|europepmc\.org/article/pmc/))",
    re.IGNORECASE,
)


def normalize_pmid(text: str | int | None) -> str | None:
    """A PubMed ID as a plain number (``"PMID: 027690741"`` -> ``"27690741"``), or None."""
    if text is None:
        return None
    value = _PMID_PREFIX.sub("", str(text).strip()).strip().rstrip("/.,;)")
    if not re.fullmatch(r"0*\d{1,9}", value) or int(value) == 0:
        return None
    return str(int(value))


def normalize_pmcid(text: str | None) -> str | None:
    """A PubMed Central ID as ``PMC<digits>`` (``pmcid:pmc5122160`` -> ``PMC5122160``)."""
    if not text:
        return None
    value = _PMCID_PREFIX.sub("", str(text).strip()).strip().rstrip("/.,;)")
    match = re.fullmatch(r"(?:PMC)?(\d{1,9})(?:\.\d+)?", value, re.IGNORECASE)
    if not match or int(match.group(1)) == 0:
        return None
    return f"PMC{int(match.group(1))}"


# -- arXiv --------------------------------------------------------------------------------
_ARXIV_PREFIX = re.compile(
    r"^(?:arxiv\s*:\s*|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/)", re.IGNORECASE
)
_ARXIV_NEW = re.compile(r"^(\d{2})(\d{2})\.(\d{4,5})(v\d+)?$")
_ARXIV_OLD = re.compile(r"^([a-z][a-z-]*(?:\.[a-z]{2})?)/(\d{7})(v\d+)?$", re.IGNORECASE)


def normalize_arxiv(text: str | None) -> str | None:
    """An arXiv ID (``arXiv:1706.03762v5``, ``https://arxiv.org/abs/hep-th/9901001``)."""
    if not text:
        return None
    value = _ARXIV_PREFIX.sub("", text.strip()).strip().rstrip("/.,;)")
    if value.lower().endswith(".pdf"):
        value = value[:-4]
    match = _ARXIV_NEW.match(value)
    if match:
        month = int(match.group(2))
        if not 1 <= month <= 12:
            return None
        if int(match.group(1) + match.group(2)) >= 1501 and len(match.group(3)) != 5:
            return None
        return value.lower()
    match = _ARXIV_OLD.match(value)
    if match:
        archive, _, subject = match.group(1).partition(".")
        archive = archive.lower() + (f".{subject.upper()}" if subject else "")
        return f"{archive}/{match.group(2)}{match.group(3) or ''}"
    return None


# -- ISBN ---------------------------------------------------------------------------------
def _isbn10_ok(digits: str) -> bool:
    total = sum((10 - i) * (10 if c in "Xx" else int(c)) for i, c in enumerate(digits))
    return total % 11 == 0


def _isbn13_check(first12: str) -> str:
    total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


def _isbn_reason(text: str) -> str | None:
    """None if the text is a valid ISBN, otherwise why not."""
    value = re.sub(r"^isbn(?:-1[03])?\s*:?\s*", "", text.strip(), flags=re.IGNORECASE)
    compact = re.sub(r"[\s-]", "", value)
    if re.fullmatch(r"\d{9}[\dXx]", compact):
        return None if _isbn10_ok(compact) else "ISBN-10 check digit does not match"
    if re.fullmatch(r"\d{13}", compact):
        if compact[:3] not in ("978", "979"):
            return "an ISBN-13 starts with 978 or 979"
        if _isbn13_check(compact[:12]) != compact[12]:
            return "ISBN-13 check digit does not match"
        return None
    return "an ISBN has 10 or 13 digits"


def normalize_isbn(text: str | None) -> str | None:
    """The ISBN-13 digits of a valid ISBN-10 or ISBN-13 (hyphens, spaces, prefix allowed)."""
    if not text or _isbn_reason(text) is not None:
        return None
    value = re.sub(r"^isbn(?:-1[03])?\s*:?\s*", "", text.strip(), flags=re.IGNORECASE)
    compact = re.sub(r"[\s-]", "", value).upper()
    if len(compact) == 10:
        first12 = "978" + compact[:9]
        return first12 + _isbn13_check(first12)
    return compact


# -- detection ----------------------------------------------------------------------------
_NORMALIZERS = {
    "doi": normalize_doi,
    "pmid": normalize_pmid,
    "pmcid": normalize_pmcid,
    "arxiv": normalize_arxiv,
    "isbn": normalize_isbn,
}


def guess_kind(text: str) -> str | None:
    """Which kind of identifier the text looks like (by prefix or shape), or None."""
    value = text.strip()
    lower = value.lower()
    if lower.startswith(("doi:", "doi ", "info:doi/", "urn:doi:")) or re.match(
        r"^(?:https?://)?(?:[\w.-]*\.)?doi\.(?:org|acm\.org)/", lower
    ) or lower.startswith("10."):
        return "doi"
    if lower.startswith("10/"):
        return "doi"
    if _PMCID_PREFIX.match(value) or re.match(r"^pmc\d", lower):
        return "pmcid"
    if _PMID_PREFIX.match(value) or re.fullmatch(r"\d{1,9}", value):
        return "pmid"
    if _ARXIV_PREFIX.match(value) or _ARXIV_NEW.match(value) or _ARXIV_OLD.match(value):
        return "arxiv"
    if lower.startswith("isbn") or re.fullmatch(r"[\d\s-]{9,17}[\dXx]", value):
        return "isbn"
    return None


def parse_identifier(text: str, kind: str | None = None) -> Identifier:
    """Parse and normalise one identifier; raise :class:`InvalidIdentifier` saying why not.

    ``kind`` forces the kind (``"doi"``, ``"pmid"``, ...); without it the kind is guessed
    from a prefix (``doi:``, ``pmid:``, ``pmcid:``, ``arxiv:``, ``isbn:``, a resolver URL) or
    the shape (``10.`` DOI, ``PMC123``, bare digits = PMID).
    """
    if text is None or not str(text).strip():
        raise InvalidIdentifier(str(text or ""), "empty identifier", kind)
    text = str(text)
    if kind is not None:
        kind = kind.lower()
        if kind not in _NORMALIZERS:
            raise InvalidIdentifier(text, f"unknown identifier kind {kind!r}", None)
    else:
        kind = guess_kind(text)
        if kind is None:
            raise InvalidIdentifier(
                text, "not a DOI, PMID, PMCID, arXiv ID or ISBN", None
            )
    value = _NORMALIZERS[kind](text)
    if value is None:
        raise InvalidIdentifier(text, _reason(kind, text), kind)
    return Identifier(kind, value)


def _reason(kind: str, text: str) -> str:
    if kind == "doi":
        return _doi_reason(text)
    if kind == "pmid":
        return "a PMID is a positive number of up to 9 digits"
    if kind == "pmcid":
        return "a PMCID is 'PMC' followed by digits"
    if kind == "arxiv":
        return "an arXiv ID looks like 2101.00001 or hep-th/9901001"
    return _isbn_reason(text) or "not a valid ISBN"


def find_dois(text: str) -> list[tuple[int, int, str]]:
    """Every DOI in running text as ``(start, end, normalised doi)``; end excludes the
    prose punctuation that :func:`normalize_doi` strips."""
    found = []
    for match in _DOI_IN_TEXT.finditer(text):
        raw = _strip_trailing_punctuation(match.group(0))
        doi = normalize_doi(raw)
        if doi:
            found.append((match.start(), match.start() + len(raw), doi))
    return found
