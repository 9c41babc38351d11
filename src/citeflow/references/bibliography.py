"""The bibliography: references loaded from BibTeX/BibLaTeX and CSL-JSON files.

A :class:`Reference` is one work as citeflow sees it, whatever file or service it came from:
text fields are decoded from LaTeX (``Bostr\\"{o}m`` -> ``Boström``, braces dropped) so that
matching and checks compare like with like, identifiers are normalised
(:mod:`citeflow.references.identifiers`), and the raw fields are kept in ``fields``.

A :class:`Bibliography` indexes references by key, DOI, PMID and PMCID. New entries are added
to a ``.bib`` file with :func:`append_references`, which writes atomically and leaves every
existing byte of the file as it was, under an exclusive lock so that runs appending to the
same file at the same time lose nothing.

Bibliography files must be UTF-8 (as Pandoc requires): any other bytes are an error naming
the file and line, for every command alike.
"""

from __future__ import annotations

import bisect
import json
import re
import threading
import unicodedata
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

import pybtex.errors
from pybtex.database import BibliographyDataError, Person
from pybtex.database.input.bibtex import Parser, UndefinedMacro
from pybtex.backends.plaintext import Backend as PlainTextBackend
from pybtex.richtext import Text
from pybtex.scanner import PybtexError, PybtexSyntaxError

from citeflow.errors import CiteflowError
from citeflow.files import Snapshot, atomic_write_bytes, decode_utf8, exclusive_lock
from citeflow.references.identifiers import (
    Identifier,
    normalize_doi,
    normalize_isbn,
    normalize_pmcid,
    normalize_pmid,
)

# BibTeX/BibLaTeX entry types -> CSL types, and back for writing.
BIBTEX_TO_CSL = {
    "article": "article-journal",
    "book": "book",
    "mvbook": "book",
    "booklet": "pamphlet",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "proceedings": "book",
    "collection": "book",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "techreport": "report",
    "report": "report",
    "manual": "report",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "unpublished": "manuscript",
    "patent": "patent",
    "dataset": "dataset",
    "software": "software",
    "misc": "document",
}
CSL_TO_BIBTEX = {
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "review": "article",
    "book": "book",
    "chapter": "incollection",
    "paper-conference": "inproceedings",
    "thesis": "phdthesis",
    "report": "techreport",
    "manuscript": "unpublished",
    "webpage": "online",
    "patent": "patent",
}

#: Words skipped when a key takes the first word of the title.
STOP_WORDS = frozenset(
    """a an and are as at be but by for from has have how in into is it its of on or
    the their this to was were what when where which who why with""".split()
)


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


# -- LaTeX decoding -------------------------------------------------------------------------
_LEFTOVER_COMMAND = re.compile(r"\\([A-Za-z]+)\*?\s*")
_COMMAND_TEXT = {"textquotesingle": "'", "textquotedbl": '"', "textendash": "–",
                 "textemdash": "—", "ldots": "…", "dots": "…", "textregistered": "®",
                 "texttrademark": "™", "copyright": "©", "textdegree": "°", "textmu": "µ",
                 "textbackslash": "\\", "textasciitilde": "~", "S": "§", "P": "¶"}


_PLAIN_TEXT = PlainTextBackend()


@lru_cache(maxsize=8192)
def decode_latex(text: str | None) -> str:
    """Plain Unicode text from a BibTeX field value: accents decoded, braces and
    formatting commands (``\\textit``, ``\\emph``) dropped, white space collapsed."""
    if not text:
        return ""
    if "\\" in text or "{" in text or "~" in text or "--" in text:
        try:
            text = Text.from_latex(text).render(_PLAIN_TEXT)
        except Exception:  # pybtex gives up on unbalanced braces: fall back to stripping
            text = text.replace("{", "").replace("}", "")
        text = _LEFTOVER_COMMAND.sub(lambda m: _COMMAND_TEXT.get(m.group(1), ""), text)
        text = text.replace("{", "").replace("}", "")
    return " ".join(text.split())


def _person_name(person: Person) -> str:
    family = decode_latex(" ".join(person.prelast_names + person.last_names))
    given = decode_latex(" ".join(person.first_names + person.middle_names))
    lineage = decode_latex(" ".join(person.lineage_names))
    if lineage:
        family = f"{family}, {lineage}" if not given else family
        given = f"{given}, {lineage}" if given else ""
    # a corporate author written as {World Health Organization} arrives as one last name
    return f"{family}, {given}" if given else family


# -- BibTeX loading ---------------------------------------------------------------------------
_ENTRY_HEAD = re.compile(r"@[ \t]*([A-Za-z]+)[ \t\r\n]*[{(][ \t\r\n]*([^,\s{}()=\"#%'~]+)[ \t\r\n]*,")
_NON_ENTRIES = {"string", "preamble", "comment"}
_PYBTEX_LOCK = threading.Lock()


def entry_lines(text: str) -> dict[str, list[int]]:
    """Line numbers (1-based) of each entry head in BibTeX text, by key (lower-cased)."""
    lines: dict[str, list[int]] = {}
    line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    for match in _ENTRY_HEAD.finditer(text):
        if match.group(1).lower() in _NON_ENTRIES:
            continue
        line = bisect.bisect_right(line_starts, match.start())
        lines.setdefault(match.group(2).lower(), []).append(line)
    return lines


class WarningKind(str, Enum):
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


def _first(values: Iterable[str | None]) -> str:
    for value in values:
        if value:
            return value
    return ""


def _year(text: str | None) -> int | None:
    match = re.search(r"\b(\d{4})\b", text or "")
    return int(match.group(1)) if match else None


def _pages(text: str) -> str:
    return re.sub(r"\s*(?:--+|–|—)\s*", "-", text).strip()


def _isbn_from(text: str) -> str | None:
    """The first valid ISBN in a field that may list several (``978-... 978-...``)."""
    for candidate in re.findall(r"(?:97[89][\s-]?)?(?:\d[\s-]?){9}[\dXx]", text):
        value = normalize_isbn(candidate.strip())
        if value:
            return value
    return None


def reference_from_bibtex(key: str, entry: Any, file: Path | None = None,
                          line: int | None = None) -> Reference:
    """A :class:`Reference` from a pybtex ``Entry`` (fields already crossref-merged)."""
    raw = {name.lower(): str(value) for name, value in entry.fields.items()}
    authors = [_person_name(p) for p in entry.persons.get("author", [])]
    editors = [_person_name(p) for p in entry.persons.get("editor", [])]
    bib_type = entry.type.lower()
    doi = normalize_doi(raw.get("doi"))
    if doi is None:
        for candidate in (raw.get("url"), raw.get("eprint") if raw.get("eprinttype", "").lower() == "doi" else None):
            doi = doi or normalize_doi(candidate)
    pmid = normalize_pmid(raw.get("pmid"))
    eprinttype = raw.get("eprinttype", raw.get("archiveprefix", "")).lower()
    if pmid is None and eprinttype in ("pubmed", "pmid"):
        pmid = normalize_pmid(raw.get("eprint"))
    pmcid = normalize_pmcid(raw.get("pmcid"))
    if pmcid is None and eprinttype in ("pmc", "pmcid"):
        pmcid = normalize_pmcid(raw.get("eprint"))
    if eprinttype == "arxiv" and raw.get("eprint"):
        raw.setdefault("arxiv", raw["eprint"].strip())
    container = _first(decode_latex(raw.get(name)) for name in ("journal", "journaltitle", "booktitle", "maintitle", "series"))
    if bib_type in ("phdthesis", "mastersthesis", "thesis") and not raw.get("publisher"):
        publisher = decode_latex(raw.get("school") or raw.get("institution"))
    elif bib_type in ("techreport", "report") and not raw.get("publisher"):
        publisher = decode_latex(raw.get("institution"))
    else:
        publisher = decode_latex(raw.get("publisher"))
    keywords = [decode_latex(k) for k in re.split(r"[;,]", raw.get("keywords", "")) if k.strip()]
    return Reference(
        key=key,
        type=BIBTEX_TO_CSL.get(bib_type, "document"),
        title=decode_latex(raw.get("title")),
        authors=authors,
        year=_year(raw.get("year")) or _year(raw.get("date")),
        container=container,
        volume=decode_latex(raw.get("volume")),
        issue=decode_latex(raw.get("number") or raw.get("issue")),
        pages=_pages(decode_latex(raw.get("pages"))),
        doi=doi,
        pmid=pmid,
        pmcid=pmcid,
        url=raw.get("url", "").strip(),
        isbn=_isbn_from(raw["isbn"]) if raw.get("isbn") else None,
        abstract=decode_latex(raw.get("abstract")),
        keywords=keywords,
        publisher=publisher,
        fields=raw,
        file=file,
        line=line,
        editors=editors,
    )


def _line_at(text: str, offset: int) -> int:
    """The 1-based line of ``offset`` in ``text`` (CRLF, CR and LF all end a line)."""
    return len(re.findall(r"\r\n|\r|\n", text[:offset])) + 1


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise CiteflowError("bibliography file not found", path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CiteflowError(f"cannot read bibliography: {exc.strerror}", path) from exc


def _syntax_error(exc: PybtexSyntaxError, path: Path) -> CiteflowError:
    message = exc.args[0] if exc.args else str(exc)
    return CiteflowError(f"BibTeX syntax error: {message}", path, getattr(exc, "lineno", None))


def _parse_bibtex(parser: Parser, path: Path, text: str, warnings: list[BibliographyWarning],
                  origin: dict[str, tuple[Path, int | None]]) -> list[str]:
    """Parse one file into ``parser.data``; return the keys it added (and record in ``origin``
    where each is written). Syntax errors raise."""
    before = set(parser.data.entries.keys())
    with _PYBTEX_LOCK, pybtex.errors.capture() as captured:
        try:
            parser.parse_string(text)
        except PybtexSyntaxError as exc:
            raise _syntax_error(exc, path) from exc
        except PybtexError as exc:
            raise CiteflowError(f"cannot read BibTeX: {exc}", path) from exc
    lines = entry_lines(text)
    added = [k for k in parser.data.entries.keys() if k not in before]
    for key in added:
        found = lines.get(key.lower())
        origin[key] = (path, found[0] if found else None)
    repeats: dict[str, int] = {}  # entry heads of each key in this file seen so far
    for exc in captured:
        if isinstance(exc, UndefinedMacro):
            name = exc.args[0] if exc.args else str(exc)
            warnings.append(BibliographyWarning(path, getattr(exc, "lineno", None),
                                                f"undefined @string macro {name!r}",
                                                WarningKind.UNDEFINED_MACRO))
        elif isinstance(exc, PybtexSyntaxError):
            raise _syntax_error(exc, path)
        elif isinstance(exc, BibliographyDataError) and "repeated bibliography entry" in str(exc):
            warnings.append(_duplicate_warning(str(exc).rsplit(":", 1)[-1].strip(), path, lines,
                                               repeats, parser.data.entries, origin))
        else:
            warnings.append(BibliographyWarning(path, None, str(exc)))
    return added


def _duplicate_warning(key: str, path: Path, lines: dict[str, list[int]], repeats: dict[str, int],
                       entries: Any, origin: dict[str, tuple[Path, int | None]]) -> BibliographyWarning:
    """The warning for one repeated entry head of ``key`` in ``path``, naming the entry used.

    Keys are compared without case, as BibTeX does; the entry used is the first one.
    """
    folded = key.lower()
    used_key = key if key in origin else next((k for k in entries.keys() if k.lower() == folded), key)
    first_file, first_line = origin.get(used_key, (path, None))
    heads = lines.get(folded, [])
    index = repeats.get(folded, 1 if first_file == path else 0)
    repeats[folded] = index + 1
    line = heads[index] if index < len(heads) else None
    return BibliographyWarning(path, line, f"duplicate key {key!r} (the first entry is used)",
                               WarningKind.DUPLICATE_KEY, key, first_file, first_line)


def _merge_crossrefs(entries: dict[str, Any], warnings: list[BibliographyWarning],
                     origin: dict[str, tuple[Path, int | None]]) -> None:
    """Fill fields an entry lacks from the entry its ``crossref`` field names."""
    lowered = {k.lower(): k for k in entries}
    for key, entry in entries.items():
        target_key = entry.fields.get("crossref")
        if not target_key:
            continue
        target = entries.get(lowered.get(target_key.strip().lower(), ""))
        if target is None:
            path, line = origin.get(key, (Path("?"), None))
            warnings.append(BibliographyWarning(path, line, f"{key}: crossref {target_key!r} is not in the "
                                                "bibliography", WarningKind.DANGLING_CROSSREF, key))
            continue
        for name, value in target.fields.items():
            if name.lower() == "title" and "booktitle" not in entry.fields:
                entry.fields["booktitle"] = value
            elif name not in entry.fields:
                entry.fields[name] = value
        for role, people in target.persons.items():
            if role not in entry.persons:
                entry.persons[role] = people


# -- CSL-JSON -----------------------------------------------------------------------------------
def _csl_name(name: dict[str, Any] | str) -> str:
    """``"Family, Given"`` for a person, the whole name for an organisation; an empty
    string when the record gives no name at all (``{"family": null}``)."""
    if not isinstance(name, dict):
        return _name_part(name)
    whole = _name_part(name.get("literal")) or _name_part(name.get("name"))
    if whole:
        return whole
    family = " ".join(p for p in (_name_part(name.get("non-dropping-particle")), _name_part(name.get("family"))) if p)
    given = " ".join(p for p in (_name_part(name.get("given")), _name_part(name.get("dropping-particle"))) if p)
    suffix = _name_part(name.get("suffix"))
    if suffix:
        given = f"{given}, {suffix}" if given else suffix
    return f"{family}, {given}" if family and given else (family or given)


def _name_part(value: Any) -> str:
    """A part of a name as written (null, lists and tables give nothing)."""
    if value is None or isinstance(value, (bool, dict, list)):
        return ""
    return str(value).strip()


def csl_names(value: Any) -> list[str]:
    """Display names from a CSL/Crossref name list. Entries that are not names at all
    (numbers, nested lists) are skipped; an entry with every part missing or null gives an
    empty name, which :func:`reference_problems` reports."""
    if isinstance(value, (dict, str)):
        value = [value]
    if not isinstance(value, list):
        return []
    return [_csl_name(n) for n in value if isinstance(n, (dict, str)) and n]


def _text(value: Any) -> str:
    """A CSL/Crossref text value, which may be a string, a number or a list of strings."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = next((v for v in value if v), "")
    return " ".join(str(value).split())


def _date_parts(value: Any) -> list[int] | None:
    """``[year, month, day]`` (as many as given) from CSL ``{"date-parts": [[...]]}``;
    None when there are no date parts, or they are not whole numbers (a string where a
    list belongs, ``"2021-05-02"`` as one part)."""
    if not isinstance(value, dict):
        return None
    parts = value.get("date-parts")
    if not (isinstance(parts, list) and parts and isinstance(parts[0], list)):
        return None
    numbers: list[int] = []
    for part in parts[0]:
        if isinstance(part, float) and part.is_integer():
            part = int(part)
        elif isinstance(part, str) and part.strip().isdigit():
            part = int(part)
        if not isinstance(part, int) or isinstance(part, bool):
            break  # the parts up to here still make a date
        numbers.append(part)
    return numbers or None


def _date_year(value: Any) -> int | None:
    if isinstance(value, dict):
        numbers = _date_parts(value)
        if numbers:
            return numbers[0]
        return _year(_text(value.get("raw")) or _text(value.get("literal")))
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return _year(str(value))
    return None


def _date_text(value: Any) -> str | None:
    parts = _date_parts(value)
    if parts:
        return "-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts))
    return None


_TAG = re.compile(r"<[^>]+>")


def strip_markup(text: str | None) -> str:
    """Plain text from JATS/HTML-tagged text (tags removed, entities decoded, one line)."""
    import html

    if not text:
        return ""
    text = _TAG.sub(" ", text)
    text = html.unescape(html.unescape(text)) if "&amp;" in text else html.unescape(text)
    text = _TAG.sub("", text)
    return " ".join(text.split())


def _strip_inline_markup(text: str) -> str:
    """Titles: drop tags such as <i> without adding spaces (``SnO<sub>2</sub>`` -> ``SnO2``),
    also when the markup arrives HTML-escaped once or twice (``&amp;lt;sup&amp;gt;``)."""
    import html

    for _ in range(3):
        text = _TAG.sub("", text)
        if "&" not in text:
            break
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    return " ".join(_TAG.sub("", text).split())


def updates_from_metadata(item: dict[str, Any]) -> list[dict[str, Any]]:
    """Retraction, correction and version links from Crossref-style ``updated-by``,
    ``update-to`` and ``relation`` data (used by Crossref JSON and Crossref CSL-JSON)."""
    updates: list[dict[str, Any]] = []
    for direction in ("updated-by", "update-to"):
        for entry in item.get(direction) or []:
            if not isinstance(entry, dict):
                continue
            updates.append({
                "type": str(entry.get("type") or "").lower() or "update",
                "doi": normalize_doi(entry.get("DOI")),
                "direction": direction,
                "label": entry.get("label"),
                "date": _date_text(entry.get("updated")),
                "source": entry.get("source"),
            })
    relations = item.get("relation") or {}
    if isinstance(relations, dict):
        for name, targets in relations.items():
            for target in targets if isinstance(targets, list) else [targets]:
                if not isinstance(target, dict):
                    continue
                is_doi = str(target.get("id-type", "")).lower() == "doi"
                updates.append({
                    "type": name,
                    "doi": normalize_doi(target.get("id")) if is_doi else None,
                    "direction": name,
                    "label": None,
                    "date": None,
                    "source": target.get("asserted-by"),
                    "id": target.get("id"),
                })
    return updates


# Crossref work types that CSL spells differently.
CROSSREF_TO_CSL = {
    "journal-article": "article-journal",
    "book-chapter": "chapter",
    "book-section": "chapter",
    "book-part": "chapter",
    "proceedings-article": "paper-conference",
    "posted-content": "article",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "book-set": "book",
    "book-series": "book",
    "book-track": "chapter",
    "reference-entry": "entry",
    "component": "document",
    "dissertation": "thesis",
    "report-component": "report",
    "report-series": "report",
    "journal": "periodical",
    "journal-issue": "periodical",
    "peer-review": "review",
    "proceedings": "book",
    "other": "document",
}


def _upper_or_lower(item: dict[str, Any], name: str) -> Any:
    """CSL names these variables in capitals (``DOI``); pandoc writes them in lower case."""
    value = item.get(name)
    return value if value not in (None, "") else item.get(name.lower())


def reference_from_csl(item: dict[str, Any], key: str | None = None) -> Reference:
    """A :class:`Reference` from one CSL-JSON item (doi.org content negotiation, a .json
    bibliography, or Crossref's CSL transform). Crossref type names are mapped to CSL."""
    csl_type = str(item.get("type") or "document")
    csl_type = CROSSREF_TO_CSL.get(csl_type, csl_type)
    keywords_value = item.get("keyword") or ""
    if isinstance(keywords_value, list):
        keywords = [str(k).strip() for k in keywords_value if str(k).strip()]
    else:
        keywords = [k.strip() for k in re.split(r"[;,]", str(keywords_value)) if k.strip()]
    raw = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
           for k, v in item.items() if k != "reference"}
    return Reference(
        key=key or str(item.get("id") or ""),
        type=csl_type,
        title=_strip_inline_markup(_text(item.get("title"))),
        authors=csl_names(item.get("author")),
        year=_date_year(item.get("issued")) or _date_year(item.get("published-print"))
        or _date_year(item.get("published-online")) or _date_year(item.get("created")),
        pmid=normalize_pmid(_text(_upper_or_lower(item, "PMID")) or None),
        pmcid=normalize_pmcid(_text(_upper_or_lower(item, "PMCID")) or None),
        keywords=keywords,
        fields=raw,
        editors=csl_names(item.get("editor")),
        **work_fields(item),
    )


def work_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The Reference fields that CSL-JSON and Crossref's JSON spell alike: container,
    volume, issue, pages, DOI, URL, ISBN, abstract (markup stripped), publisher, updates."""
    isbn_value = _upper_or_lower(item, "ISBN")
    isbn = None
    for candidate in isbn_value if isinstance(isbn_value, list) else [isbn_value or ""]:
        isbn = isbn or _isbn_from(str(candidate))
    return {
        "container": _strip_inline_markup(_text(item.get("container-title"))),
        "volume": _text(item.get("volume")),
        "issue": _text(item.get("issue")),
        "pages": _pages(_text(item.get("page"))),
        "doi": normalize_doi(_text(_upper_or_lower(item, "DOI"))),
        "url": _text(_upper_or_lower(item, "URL")),
        "isbn": isbn,
        "abstract": strip_markup(_text(item.get("abstract"))),
        "publisher": _text(item.get("publisher")),
        "updates": updates_from_metadata(item),
    }


#: The date fields of CSL-JSON and Crossref records that a year is read from.
DATE_FIELDS = ("issued", "published-print", "published-online", "published", "created")


def date_problems(item: dict[str, Any]) -> list[str]:
    """Date fields of a CSL-JSON or Crossref record that are not dates: a string or a
    number where ``{"date-parts": [[year, month, day]]}`` belongs, or date parts that are
    not numbers (``{"date-parts": "2021"}``, ``[["2021-05-02"]]``)."""
    problems = []
    for name in DATE_FIELDS:
        value = item.get(name)
        if value is None or (isinstance(value, str) and _year(value)):
            continue
        parts = value.get("date-parts") if isinstance(value, dict) else value
        if isinstance(value, dict) and (parts in (None, [], [[]], [[None]]) or _date_parts(value)):
            continue
        shown = json.dumps(value, ensure_ascii=False)
        problems.append(f"the {name!r} date is not a date ({shown[:60]})")
    return problems


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
    import datetime

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


def reference_to_csl(ref: Reference) -> dict[str, Any]:
    """A CSL-JSON item for a reference (what ``citeflow cite --format csljson`` prints)."""
    item: dict[str, Any] = {"id": ref.key, "type": ref.type}

    def name(display: str) -> dict[str, str]:
        if "," in display:
            family, given = display.split(",", 1)
            return {"family": family.strip(), "given": given.strip()}
        return {"literal": display}

    if ref.title:
        item["title"] = ref.title
    if ref.authors:
        item["author"] = [name(a) for a in ref.authors]
    if ref.editors:
        item["editor"] = [name(a) for a in ref.editors]
    if ref.year:
        item["issued"] = {"date-parts": [[ref.year]]}
    for csl_key, value in (("container-title", ref.container), ("volume", ref.volume),
                           ("issue", ref.issue), ("page", ref.pages), ("DOI", ref.doi),
                           ("PMID", ref.pmid), ("PMCID", ref.pmcid), ("URL", ref.url),
                           ("ISBN", ref.isbn), ("abstract", ref.abstract),
                           ("publisher", ref.publisher)):
        if value:
            item[csl_key] = value
    if ref.keywords:
        item["keyword"] = ", ".join(ref.keywords)
    return item


def _line_of_json_ids(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line_text in enumerate(text.splitlines(), start=1):
        for match in re.finditer(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"', line_text):
            lines.setdefault(match.group(1), number)
    return lines


def _load_csl_json(path: Path, text: str) -> list[Reference]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CiteflowError(f"malformed CSL-JSON: {exc.msg}", path, exc.lineno) from exc
    if isinstance(data, dict):
        data = data.get("items", [data])
    if not isinstance(data, list):
        raise CiteflowError("CSL-JSON must be a list of items", path)
    lines = _line_of_json_ids(text)
    refs = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise CiteflowError(f"CSL-JSON item {index + 1} is not an object", path)
        ref = reference_from_csl(item)
        ref.file = path
        ref.line = lines.get(ref.key)
        refs.append(ref)
    return refs


def _load_csl_yaml(path: Path, text: str) -> list[Reference]:
    """CSL-YAML as pandoc writes it: a list of items, or a ``references:`` list."""
    import yaml

    try:
        # pandoc writes the list between "---" lines, like Markdown front matter
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "syntax error"
        raise CiteflowError(f"malformed CSL-YAML: {problem}", path,
                            mark.line + 1 if mark is not None else None) from exc
    data = documents[0] if documents else []
    if isinstance(data, dict):
        data = data.get("references", [])
    if not isinstance(data, list):
        raise CiteflowError("CSL-YAML must be a list of items or have a 'references' list", path)
    lines: dict[str, int] = {}
    for number, line_text in enumerate(text.splitlines(), start=1):
        match = re.match(r"\s*-?\s*id\s*:\s*['\"]?([^'\"\s]+)", line_text)
        if match:
            lines.setdefault(match.group(1), number)
    refs = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise CiteflowError(f"CSL-YAML item {index + 1} is not a mapping", path)
        item = {k: (str(v) if isinstance(v, (int, float)) and k not in ("issued",) else v)
                for k, v in item.items()}
        ref = reference_from_csl(item)
        ref.file = path
        ref.line = lines.get(ref.key)
        refs.append(ref)
    return refs


# -- the bibliography ---------------------------------------------------------------------------
@dataclass
class Bibliography:
    """References from one or more files, indexed by key, DOI, PMID and PMCID.

    Lookups by identifier accept any spelling (``by_doi("https://doi.org/10.1/ABC")``). When
    two entries share a key the first one is used and ``warnings`` says so. ``snapshots``
    records what each file held when it was read (see :func:`append_references`).
    """

    references: list[Reference] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    warnings: list[BibliographyWarning] = field(default_factory=list)
    snapshots: dict[Path, Snapshot] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._reindex()

    def _reindex(self) -> None:
        self._by_key: dict[str, Reference] = {}
        self._by_key_folded: dict[str, Reference] = {}
        self._by_id: dict[tuple[str, str], list[Reference]] = {}
        for ref in self.references:
            self._by_key.setdefault(ref.key, ref)
            self._by_key_folded.setdefault(ref.key.casefold(), ref)
            for ident in ref.identifiers():
                self._by_id.setdefault((ident.kind, ident.value), []).append(ref)

    def add(self, ref: Reference) -> None:
        """Add a reference (e.g. one just fetched) to the in-memory index."""
        self.references.append(ref)
        self._by_key.setdefault(ref.key, ref)
        self._by_key_folded.setdefault(ref.key.casefold(), ref)
        for ident in ref.identifiers():
            self._by_id.setdefault((ident.kind, ident.value), []).append(ref)

    def get(self, key: str) -> Reference | None:
        """The reference with this citation key (exact, else case-insensitive), or None."""
        return self._by_key.get(key) or self._by_key_folded.get(key.casefold())

    def _lookup(self, kind: str, value: str | None) -> Reference | None:
        if not value:
            return None
        found = self._by_id.get((kind, value))
        return found[0] if found else None

    def by_doi(self, doi: str) -> Reference | None:
        return self._lookup("doi", normalize_doi(doi))

    def by_pmid(self, pmid: str | int) -> Reference | None:
        return self._lookup("pmid", normalize_pmid(pmid))

    def by_pmcid(self, pmcid: str) -> Reference | None:
        return self._lookup("pmcid", normalize_pmcid(pmcid))

    def find(self, identifier: Identifier) -> Reference | None:
        """The reference carrying this identifier, or None."""
        return self._lookup(identifier.kind, identifier.value)

    def duplicates(self) -> list[tuple[str, list[Reference]]]:
        """Works entered twice: ``(normalised DOI, [references])`` for each DOI that
        appears under more than one key."""
        result = []
        for (kind, value), refs in self._by_id.items():
            if kind != "doi":
                continue
            keys = {r.key.casefold() for r in refs}
            if len(keys) > 1:
                result.append((value, list(refs)))
        return sorted(result, key=lambda item: item[0])

    def keys(self) -> list[str]:
        return [r.key for r in self.references]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __len__(self) -> int:
        return len(self.references)

    def __iter__(self) -> Iterator[Reference]:
        return iter(self.references)


def load_bibliography(paths: Iterable[str | Path] | str | Path, missing_ok: bool = False) -> Bibliography:
    """Load BibTeX/BibLaTeX (``.bib``), CSL-JSON (``.json``) and CSL-YAML (``.yaml``/``.yml``)
    files into one Bibliography.

    BibTeX files share one macro table, in the order given, so an ``@string`` file listed
    first serves the files after it; ``crossref`` fields are merged across all files.
    Undefined macros, dangling crossrefs and duplicate keys become ``warnings``; a syntax
    error or bytes that are not UTF-8 raise :class:`CiteflowError` naming the file and line,
    as does a missing file (unless ``missing_ok``).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    bib = Bibliography()
    parser = Parser()
    origin: dict[str, tuple[Path, int | None]] = {}
    bib_order: list[str] = []
    csl_refs: list[Reference] = []
    for raw_path in paths:
        path = Path(raw_path)
        if missing_ok and not path.is_file():
            continue
        data = _read_bytes(path)
        text = decode_utf8(data, path)
        bib.files.append(path)
        bib.snapshots[path] = Snapshot.of_bytes(data)
        if path.suffix.lower() == ".json":
            csl_refs.extend(_load_csl_json(path, text))
            continue
        if path.suffix.lower() in (".yaml", ".yml"):
            csl_refs.extend(_load_csl_yaml(path, text))
            continue
        bib_order.extend(_parse_bibtex(parser, path, text, bib.warnings, origin))
    entries = parser.data.entries
    _merge_crossrefs(entries, bib.warnings, origin)
    for key in bib_order:
        path, line = origin[key]
        bib.references.append(reference_from_bibtex(key, entries[key], path, line))
    seen = {r.key: r for r in bib.references}
    for ref in csl_refs:
        first = seen.get(ref.key)
        if first is not None:
            bib.warnings.append(BibliographyWarning(ref.file, ref.line, f"duplicate key {ref.key!r} (the first "
                                                    "entry is used)", WarningKind.DUPLICATE_KEY, ref.key,
                                                    first.file, first.line))
        seen.setdefault(ref.key, ref)
        bib.references.append(ref)
    bib._reindex()
    return bib


# -- writing --------------------------------------------------------------------------------------
def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    folded = folded.replace("ø", "o").replace("Ø", "O").replace("ß", "ss").replace("æ", "ae").replace("ł", "l")
    return re.sub(r"[^a-z0-9]", "", folded.encode("ascii", "ignore").decode().lower())


def make_key(ref: Reference, taken: Iterable[str] = ()) -> str:
    """A citation key ``firstauthorYEARfirstword`` in lower-case ASCII (``wakefield1998ileal``).

    The title's first word that is not a stop word is used; an organisation author gives
    its first significant word. A key already in ``taken`` gets a suffix ``a``, ``b``, ...
    """
    taken_folded = {k.casefold() for k in taken}
    author = ""
    if ref.authors:
        first = ref.authors[0]
        if "," in first:
            author = _ascii_word(first.split(",")[0])
        else:
            words = [w for w in first.split() if w.lower() not in STOP_WORDS]
            author = _ascii_word(words[0]) if words else _ascii_word(first)
    elif ref.editors:
        author = _ascii_word(ref.editors[0].split(",")[0])
    author = author or "anon"
    word = ""
    for candidate in re.findall(r"[^\W_]+", ref.title or ""):
        if candidate.lower() in STOP_WORDS:
            continue
        word = _ascii_word(candidate)
        if word:
            break
    base = f"{author}{ref.year or 'nd'}{word}"
    if base.casefold() not in taken_folded:
        return base
    suffix_index = 0
    while True:
        suffix = ""
        n = suffix_index
        while True:
            suffix = chr(ord("a") + n % 26) + suffix
            n = n // 26 - 1
            if n < 0:
                break
        if (base + suffix).casefold() not in taken_folded:
            return base + suffix
        suffix_index += 1


_LATEX_SPECIAL = re.compile(r"([&%$#_{}])")


def _escape(text: str) -> str:
    text = text.replace("\\", r"\textbackslash{}")
    text = _LATEX_SPECIAL.sub(r"\\\1", text)
    return text.replace(r"\textbackslash\{\}", r"\textbackslash{}")


def _bib_name(display: str) -> str:
    if "," in display:
        return _escape(display)
    return "{" + _escape(display) + "}"  # an organisation: keep it whole


def to_bibtex(ref: Reference) -> str:
    """A BibTeX entry for a reference: UTF-8 text, special characters escaped, identifiers
    verbatim, ending with a newline."""
    bib_type = CSL_TO_BIBTEX.get(ref.type, "misc")
    pairs: list[tuple[str, str]] = []
    if ref.authors:
        pairs.append(("author", " and ".join(_bib_name(a) for a in ref.authors)))
    if ref.editors and bib_type in ("book", "incollection", "inproceedings", "misc"):
        pairs.append(("editor", " and ".join(_bib_name(a) for a in ref.editors)))
    if ref.title:
        pairs.append(("title", _escape(ref.title)))
    container_field = {"article": "journal", "incollection": "booktitle",
                       "inproceedings": "booktitle"}.get(bib_type, "howpublished" if bib_type == "misc" else "")
    if ref.container and container_field:
        pairs.append((container_field, _escape(ref.container)))
    if ref.year:
        pairs.append(("year", str(ref.year)))
    for name, value in (("volume", ref.volume), ("number", ref.issue)):
        if value:
            pairs.append((name, _escape(value)))
    if ref.pages:
        pairs.append(("pages", _escape(ref.pages.replace("-", "--"))))
    if ref.publisher:
        publisher_field = {"phdthesis": "school", "techreport": "institution"}.get(bib_type, "publisher")
        pairs.append((publisher_field, _escape(ref.publisher)))
    for name, value in (("doi", ref.doi), ("pmid", ref.pmid), ("pmcid", ref.pmcid),
                        ("isbn", ref.isbn), ("url", ref.url)):
        if value:
            pairs.append((name, value.replace("{", "").replace("}", "")))
    if ref.keywords:
        pairs.append(("keywords", _escape(", ".join(ref.keywords))))
    if ref.abstract:
        pairs.append(("abstract", _escape(ref.abstract)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in pairs)
    return f"@{bib_type}{{{ref.key},\n{body}\n}}\n"


@dataclass(frozen=True)
class Placement:
    """Where one reference given to :func:`append_references` is in the file now:
    ``reference`` carries its final key, file and line; ``added`` is False when the file held
    the work already (same DOI, PMID or PMCID) and nothing was written for it."""

    reference: Reference
    added: bool


@dataclass
class AppendResult:
    """What :func:`append_references` did: one :class:`Placement` per reference given, in order."""

    placements: list[Placement] = field(default_factory=list)

    @property
    def references(self) -> list[Reference]:
        """Every reference given, as the file now has it."""
        return [p.reference for p in self.placements]

    @property
    def added(self) -> list[Reference]:
        """The references this call wrote."""
        return [p.reference for p in self.placements if p.added]

    @property
    def reused(self) -> list[Reference]:
        """The references the file held already."""
        return [p.reference for p in self.placements if not p.added]


#: Identifiers that name one work (an ISBN is shared by a book's chapters), normalised.
_WORK_IDENTIFIERS = {"doi": normalize_doi, "pmid": normalize_pmid, "pmcid": normalize_pmcid}


def work_identifiers(ref: Reference) -> list[Identifier]:
    """The DOI, PMID and PMCID of ``ref``, normalised, for telling whether two entries are
    the same work."""
    found = []
    for kind, normalize in _WORK_IDENTIFIERS.items():
        value = normalize(getattr(ref, kind))
        if value:
            found.append(Identifier(kind, value))
    return found


def _identifier_keys(refs: Iterable[Reference]) -> dict[Identifier, str]:
    """Each work identifier of ``refs`` with the key of the first reference carrying it."""
    found: dict[Identifier, str] = {}
    for ref in refs:
        for identifier in work_identifiers(ref):
            found.setdefault(identifier, ref.key)
    return found


def _parse_entries(path: Path, text: str) -> list[Reference]:
    """The BibTeX entries of ``text`` as references (fields as written, no crossref merge)."""
    parser = Parser()
    _parse_bibtex(parser, path, text, [], {})
    return [reference_from_bibtex(key, entry, path) for key, entry in parser.data.entries.items()]


def _present_identifiers(path: Path, data: bytes, text: str, known: Bibliography | None) -> dict[Identifier, str]:
    """Identifiers of the entries the file ``path`` holds now (``data``/``text``), with their keys.

    When ``known`` read this file before and the file only grew since (other runs appended),
    only the new part is parsed; otherwise the whole file is.
    """
    snapshot = known.snapshots.get(path) if known is not None else None
    if snapshot is not None and len(data) >= snapshot.size and Snapshot.of_bytes(data[: snapshot.size]) == snapshot:
        present = _identifier_keys(r for r in known.references if r.file == path)
        if len(data) > snapshot.size:
            tail = decode_utf8(data[snapshot.size:], path)
            for identifier, key in _identifier_keys(_parse_entries(path, tail)).items():
                present.setdefault(identifier, key)
        return present
    return _identifier_keys(_parse_entries(path, text))


_VALID_KEY = re.compile(r"[^,\s{}()=\"#%'~]+")


def append_references(path: str | Path, refs: Iterable[Reference], known: Bibliography | None = None,
                      taken: Iterable[str] = (), timeout: float | None = None) -> AppendResult:
    """Append BibTeX entries for ``refs`` to the file at ``path``, atomically and under the
    file's exclusive lock (:func:`citeflow.files.exclusive_lock`).

    The file is read again under the lock, so that what other processes appended meanwhile
    counts: a reference whose DOI, PMID or PMCID the file holds already is not added again
    (its existing key is returned), and a reference without a key, or whose key the file (or
    ``taken``, keys of other bibliographies) already uses, gets one from :func:`make_key`.
    ``known`` is the bibliography the caller loaded, including this file: when the file has
    only grown since, only the new part is parsed again. Every byte already in the file stays
    as it was; the new entries follow, separated by a blank line and written with the file's
    own newline convention. The file is created if missing.
    """
    path = Path(path)
    refs = list(refs)
    with exclusive_lock(path, timeout):
        old = path.read_bytes() if path.exists() else b""
        old_text = decode_utf8(old, path)
        present = _present_identifiers(path, old, old_text, known) if old else {}
        heads = entry_lines(old_text)
        taken_keys = set(heads) | {k.casefold() for k in taken}
        newline = "\r\n" if "\r\n" in old_text else "\n"
        result = AppendResult()
        chunks: list[str] = []
        line = _line_at(old_text, len(old_text)) if old else 1
        if old and not old_text.endswith(("\n", "\r")):
            chunks.append(newline)
            line += 1
        for ref in refs:
            existing = next((present[i] for i in work_identifiers(ref) if i in present), None)
            if existing is not None:
                first_line = heads.get(existing.lower(), [None])[0]
                result.placements.append(Placement(replace(ref, key=existing, file=path, line=first_line), False))
                continue
            usable = ref.key and ref.key.casefold() not in taken_keys and _VALID_KEY.fullmatch(ref.key)
            key = ref.key if usable else make_key(ref, taken_keys)
            taken_keys.add(key.casefold())
            if old or chunks:
                chunks.append(newline)
                line += 1
            heads[key.lower()] = [line]
            placed = replace(ref, key=key, file=path, line=line)
            result.placements.append(Placement(placed, True))
            for identifier in work_identifiers(ref):
                present.setdefault(identifier, key)
            entry = to_bibtex(placed)
            chunks.append(entry.replace("\n", newline))
            line += entry.count("\n")
        if result.added:
            atomic_write_bytes(path, old + "".join(chunks).encode("utf-8"))
    return result
