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
* PII (Elsevier's Publisher Item Identifier): the 17 characters without punctuation,
  upper-cased (``S0140-6736(10)61350-5`` and ``PIIS0140673610613505`` -> ``S0140673610613505``).
* A short DOI (``10/abc``, as Manubot writes them) is kept as ``10/abc``; doi.org resolves it.

:func:`find_identifiers` is the one recogniser of identifiers in running text: labels
(``doi: 10...``, ``DOI 10...``, ``PMID: n``, ``PMCID: PMC...``, ``arXiv:...``, ``PII ...``) and
links (doi.org, PubMed, PMC, Europe PMC, arXiv, bioRxiv/medRxiv, ScienceDirect, Lancet/Cell
landing pages and any publisher URL carrying a DOI in its path or query).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import unquote

KINDS = ("doi", "pmid", "pmcid", "arxiv", "isbn", "pii")

#: The DOI pattern, the only one in citeflow. A DOI is ``10.`` and a registrant code of 4 to
#: 9 digits (sub-codes after dots allowed), a slash, and a suffix: :data:`DOI_PREFIX` is the
#: part before the slash. :data:`DOI_PATTERN` (a regular expression, as a string) finds DOIs in
#: running text, stopping at white space, quotes, angle and curly brackets; matches may carry
#: trailing prose punctuation, so use :func:`find_dois`, or pass each match through
#: :func:`normalize_doi`.
DOI_PREFIX = r"10\.\d{4,9}(?:\.\d+)*"
DOI_PATTERN = DOI_PREFIX + r"/[^\s\"<>{}|\\^`]+"

_DOI_RE = re.compile(rf"^{DOI_PREFIX}/\S+$")
_SHORT_DOI_RE = re.compile(r"^10/[a-z0-9]+$", re.IGNORECASE)
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
    if not _DOI_RE.match(doi) and not _SHORT_DOI_RE.match(doi):
        return None
    return _PREPRINT_VERSION.sub(r"\1", doi.lower())


#: bioRxiv and medRxiv links carry the version (``10.1101/2020.12.01.406702v1``); the DOI
#: does not.
_PREPRINT_VERSION = re.compile(r"^(10\.1101/(?:\d{4}\.\d{2}\.\d{2}\.)?\d{6,})v\d+$")


def _doi_reason(text: str) -> str:
    stripped = _DOI_PREFIXES.sub("", unquote(text.strip()))
    if re.match(r"^10/", stripped):
        return "a short DOI is '10/' followed by letters and digits"
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


# -- PII ----------------------------------------------------------------------------------
_PII_LABEL = re.compile(r"^pii\s*:?\s*", re.IGNORECASE)
_PII_COMPACT = re.compile(r"S\d{7}[\dX]\d{7}[\dX]")


def normalize_pii(text: str | None) -> str | None:
    """An Elsevier PII without punctuation (``PIIS0140-6736(10)61350-5`` -> ``S0140673610613505``)."""
    if not text:
        return None
    value = _PII_LABEL.sub("", text.strip())
    compact = re.sub(r"[-()\s\\]", "", value).upper()
    return compact if _PII_COMPACT.fullmatch(compact) else None


def pii_doi(pii: str) -> str:
    """The DOI an Elsevier journal gives the article with this (normalised) PII when it uses
    the punctuated PII as the suffix (the Lancet and Cell do): ``10.1016/s0140-6736(10)61350-5``.
    Only for matching entries that already carry a DOI; never fetched as a guess."""
    c = pii.lower()
    return f"10.1016/{c[0]}{c[1:5]}-{c[5:9]}({c[9:11]}){c[11:16]}-{c[16]}"


# -- detection ----------------------------------------------------------------------------
_NORMALIZERS = {
    "pii": normalize_pii,
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
    if lower.startswith("pii") or _PII_COMPACT.fullmatch(re.sub(r"[-()]", "", value).upper()):
        return "pii"
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
                text, "not a DOI, PMID, PMCID, arXiv ID, ISBN or PII", None
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
    if kind == "pii":
        return "a PII looks like S0140673610613505 or S0140-6736(10)61350-5"
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



# -- identifiers in running text ------------------------------------------------------------
@dataclass(frozen=True)
class Mention:
    """An identifier written in running text at ``text[start:end]``.

    ``form`` is ``"url"`` (a link to a resolver, a database or a publisher's page) or
    ``"label"`` (``doi: 10...``, ``PMID 123``, ``PMC123``). Exactly one of ``identifier``
    and ``reason`` (why the identifier cannot be read) is set.
    """

    start: int
    end: int
    raw: str
    kind: str
    form: str
    identifier: Identifier | None = None
    reason: str | None = None


# Where a link may start: a scheme, "www." or one of the hosts writers paste without one.
# The run after it is taken possessively and trimmed afterwards, so a long run is read once.
_URL_START = re.compile(
    r"(?<![\w/@.:%-])(?:https?://|www\.|(?:dx\.)?doi\.org/|pubmed\.ncbi\.nlm\.nih\.gov/|"
    r"pmc\.ncbi\.nlm\.nih\.gov/|europepmc\.org/|arxiv\.org/|(?:bio|med)rxiv\.org/)",
    re.IGNORECASE,
)
_URL_STOP = re.compile(r"[\s<>\"`{}|\\^\[\]]")


_DOI_STOP = re.compile(r"[\s\"<>{}|\\^`]")


def _balanced_end(text: str, start: int, stop: int) -> int:
    """Where a link or DOI starting before ``start`` ends, at ``stop`` at the latest: at the
    first closing parenthesis or bracket that none after ``start`` opened."""
    depth = {"(": 0, "[": 0}
    end = start
    while end < stop:
        char = text[end]
        if char in depth:
            depth[char] += 1
        elif char in ")]":
            opener = _OPENERS[char]
            if depth[opener] == 0:
                break
            depth[opener] -= 1
        end += 1
    return end


def _urls(text: str):
    """(start, raw) of each pasted link, left to right, trimmed by :func:`trim_url`.

    The end of the run of characters a link may hold is looked up once per run, and each
    link is read only up to a closing bracket nobody opened, so the text is read a bounded
    number of times however many links start in one run.
    """
    position, stop_from, stop_at = 0, -1, -1
    while True:
        head = _URL_START.search(text, position)
        if head is None:
            return
        if not stop_from <= head.end() <= stop_at:
            found = _URL_STOP.search(text, head.end())
            stop_from, stop_at = head.end(), found.start() if found else len(text)
        raw = trim_url(text[head.start():_balanced_end(text, head.end(), stop_at)])
        if len(raw) > head.end() - head.start():
            yield head.start(), raw
        position = max(head.start() + len(raw), head.end())


_HOST = r"^(?:https?://)?(?:www\.)?"
_URL_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("doi", re.compile(_HOST + r"(?:dx\.)?doi\.org/(?P<v>[^?#]+)", re.I)),
    ("pmid", re.compile(_HOST + r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)"
                        r"(?P<v>[^/?#]+)/?(?:[?#].*)?$", re.I)),
    ("pmcid", re.compile(_HOST + r"(?:ncbi\.nlm\.nih\.gov/pmc/articles/|pmc\.ncbi\.nlm\.nih\.gov/articles/)"
                         r"(?P<v>[^/?#]+)(?:[/?#].*)?$", re.I)),
    ("pmid", re.compile(_HOST + r"europepmc\.org/(?:article|abstract)/med/(?P<v>[^/?#]+)(?:[/?#].*)?$", re.I)),
    ("pmcid", re.compile(_HOST + r"europepmc\.org/(?:(?:article|abstract)/pmc/|articles/)?(?P<v>pmc[^/?#]*)"
                         r"(?:[/?#].*)?$", re.I)),
    ("arxiv", re.compile(_HOST + r"(?:export\.)?arxiv\.org/(?:abs|pdf)/(?P<v>[^?#]+?)(?:\.pdf)?/?(?:[?#].*)?$", re.I)),
    ("doi", re.compile(_HOST + r"(?:bio|med)rxiv\.org/content/(?:early/[\d/]+/)?(?P<v>10\.1101/[^/?#]+?)"
                       r"(?:\.(?:full|abstract|supplementary-material|article-info|article-metrics)"
                       r"(?:\.pdf|\.html)?|\.pdf)?(?:[/?#].*)?$", re.I)),
    ("pii", re.compile(_HOST + r"(?:sciencedirect\.com/science/article/(?:abs/)?pii/|"
                       r"linkinghub\.elsevier\.com/retrieve/pii/)(?P<v>[^/?#]+)(?:[/?#].*)?$", re.I)),
    ("pii", re.compile(_HOST + r"(?:thelancet\.com|cell\.com)/[^?#]*?/(?:fulltext/)?PII(?P<v>S[^/?#]+)"
                       r"(?:[/?#].*)?$", re.I)),
)
_DOI_IN_URL = re.compile(DOI_PREFIX + r"/")
_VIEW_SUFFIX = re.compile(
    r"(?:/(?:full|abstract|abs|pdf|epdf|pdfdirect|fulltext|html|summary|references|meta)"
    r"|\.full(?:\.pdf|\.html)?|\.abstract|\.pdf)$",
    re.I,
)


def identifier_from_url(url: str) -> tuple[str, str] | None:
    """``(kind, identifier as written)`` for a link to a work, or None for any other link.

    Resolver links (doi.org), PubMed, PMC and Europe PMC, arXiv, bioRxiv and medRxiv
    (version dropped), ScienceDirect, Lancet and Cell landing pages (a PII), and any other
    page whose path or query carries a DOI (``nejm.org/doi/full/10.1056/...``,
    ``journals.plos.org/plosone/article?id=10.1371/...``).
    """
    for kind, pattern in _URL_FORMS:
        match = pattern.match(url)
        if match:
            value = unquote(match.group("v"))
            if kind == "doi":
                value = _VIEW_SUFFIX.sub("", value)
            return kind, value
    decoded = unquote(url)
    found = _DOI_IN_URL.search(decoded)
    if found is None:
        return None
    in_query = "?" in decoded[: found.start()]
    stop = re.compile(r"[&#]" if in_query else r"[?#]").search(decoded, found.start())
    value = decoded[found.start(): stop.start() if stop else len(decoded)]
    previous = None
    while previous != value:
        previous, value = value, _VIEW_SUFFIX.sub("", value)
    return "doi", value


# Labels: "doi: 10...", "DOI 10...", "PMID: 123", "PMCID PMC123", "arXiv:2101.00001",
# "PII S0140-6736(10)61350-5", and a bare "PMC123".
_LABEL_IN_TEXT = re.compile(
    r"(?<![\w@:/.\[-])(?:"
    r"(?P<doi>doi)(?:\s*+:\s*+|\s++(?=10[./]))(?P<doi_v>\d)"
    r"|(?P<pmid>pmid)\s*+:?\s*+(?P<pmid_v>\d\w*+)(?!@)"
    r"|(?P<pmcid>pmcid)\s*+:?\s*+(?P<pmcid_v>(?:pmc)?\d\w*+(?:\.\d++)?)(?!@)"
    r"|(?P<arxiv>arxiv)\s*+:\s*+(?P<arxiv_v>\w[^\s,;\"<>()\[\]]*+)"
    r"|(?P<pii>pii)\s*+:?\s*+(?P<pii_v>S[\dX()-]++)(?!@)"
    r"|(?P<pmc>(?-i:PMC)\d{4,9})(?![\w@]|\.\d)"
    r")",
    re.IGNORECASE,
)


def trim_url(url: str) -> str:
    """Drop prose punctuation and unbalanced closing brackets after a pasted URL; a
    closing bracket that no earlier one opens ends the URL."""
    depth = {"(": 0, "[": 0, "{": 0}
    for index, char in enumerate(url):
        if char in depth:
            depth[char] += 1
        elif char in ")]}":
            opener = _OPENERS[char]
            if depth[opener] == 0:
                url = url[:index]
                break
            depth[opener] -= 1
    counts = {char: url.count(char) for char in "()[]{}"}  # kept up to date while trimming
    end = len(url)
    while end:
        last = url[end - 1]
        if last in ".,;:!?'\"*_":
            end -= 1
        elif last in _OPENERS and last != ">" and counts[last] > counts[_OPENERS[last]]:
            counts[last] -= 1
            end -= 1
        else:
            break
    return url[:end]


@functools.lru_cache(maxsize=4096)
def read_identifier(kind: str, value: str) -> tuple[Identifier | None, str | None]:
    """``(identifier, None)`` or ``(None, why it cannot be read)``."""
    try:
        return parse_identifier(value, kind=kind), None
    except InvalidIdentifier as exc:
        return None, exc.reason


def find_identifiers(text: str) -> list[Mention]:
    """Every identifier written in ``text`` (links and labels), in order, never overlapping.

    Links to pages that name no work are left out; a label whose identifier cannot be read
    (``doi: 10.1056``, ``PMID 12345678901``) is kept with the reason. Linear in the length
    of the text.
    """
    found: list[Mention] = []
    spans: list[tuple[int, int]] = []
    for start, raw in _urls(text) if ("/" in text or "." in text) else ():
        what = identifier_from_url(raw)
        if what is None:
            continue
        identifier, reason = read_identifier(*what)
        found.append(Mention(start, start + len(raw), raw, what[0], "url", identifier, reason))
        spans.append((start, start + len(raw)))
    index, last_end, stop_from, stop_at = 0, -1, -1, -1
    for match in _LABEL_IN_TEXT.finditer(text):
        if match.start() < last_end:
            continue  # inside the DOI of the label before
        while index < len(spans) and spans[index][1] <= match.start():
            index += 1
        kind = (match.lastgroup or "").removesuffix("_v")  # the value's group closes last
        start, end = match.start(), match.end()
        if kind == "doi":
            # The DOI runs to white space (looked up once per run) or a closing bracket
            # that nobody opened, without trailing prose punctuation.
            if not stop_from <= end <= stop_at:
                found_stop = _DOI_STOP.search(text, end)
                stop_from, stop_at = end, found_stop.start() if found_stop else len(text)
            end = _balanced_end(text, end, stop_at)
            end = match.start("doi_v") + len(_strip_trailing_punctuation(text[match.start("doi_v"):end]))
        elif kind == "arxiv":
            end = start + len(trim_url(match.group(0)))
        elif kind == "pii":
            end = start + len(_strip_trailing_punctuation(match.group(0)))
        if kind == "pmc":
            kind, value = "pmcid", match.group("pmc")
        else:
            value = text[match.start(f"{kind}_v"):end]
        if index < len(spans) and spans[index][0] < end:
            continue
        last_end = end
        identifier, reason = read_identifier(kind, value)
        found.append(Mention(start, end, text[start:end], kind, "label", identifier, reason))
    found.sort(key=lambda m: m.start)
    return found


def whole_identifier(text: str) -> Mention | None:
    """The identifier that ``text`` consists of (a label or a link, white space around
    allowed), or None."""
    stripped = text.strip()
    if not stripped:
        return None
    found = find_identifiers(stripped)
    if len(found) == 1 and found[0].start == 0 and found[0].end == len(stripped):
        return found[0]
    return None
