"""BibTeX/BibLaTeX entries <-> :class:`~citeflow.references.reference.Reference`.

Reading: :func:`reference_from_bibtex` maps an entry (of :class:`~citeflow.references.bibparse.Parser`,
or pybtex's own; LaTeX decoded with
:func:`decode_latex` so that matching compares like with like, identifiers normalised, raw
fields kept); :func:`entry_lines` finds where each entry head is written. Writing:
:func:`to_bibtex` formats one entry and :func:`bibtex_addition` the text that appends entries
to a file as it is (its newline convention kept), for both the append itself and its preview.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from sys import intern
from typing import Any

from pybtex.backends.plaintext import Backend as PlainTextBackend
from pybtex.database import Person
from pybtex.richtext import Text

from citeflow.references.bibparse import as_person, split_plain
from citeflow.references.identifiers import normalize_doi, normalize_pmcid, normalize_pmid
from citeflow.references.reference import Reference, first_isbn, page_range, year_in

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


# -- LaTeX decoding -------------------------------------------------------------------------
_LEFTOVER_COMMAND = re.compile(r"\\([A-Za-z]+)\*?\s*")
_COMMAND_TEXT = {"textquotesingle": "'", "textquotedbl": '"', "textendash": "–",
                 "textemdash": "—", "ldots": "…", "dots": "…", "textregistered": "®",
                 "texttrademark": "™", "copyright": "©", "textdegree": "°", "textmu": "µ",
                 "textbackslash": "\\", "textasciitilde": "~", "S": "§", "P": "¶"}


_PLAIN_TEXT = PlainTextBackend()


# The LaTeX most field values hold besides braces: escaped specials, dashes and ties. Text
# with nothing else decodes without the LaTeX parser (pure Python, the costliest step of
# reading a large bibliography), each replaced as the parser would, the braces dropped.
_SIMPLE_LATEX = re.compile(r"\\[%&_#]|---?|~|''|``|,,|!`|\?`")
_SIMPLE_LATEX_TEXT = {"\\%": "%", "\\&": "&", "\\_": "_", "\\#": "#", "---": "\u2014", "--": "\u2013",
                      "~": " ", "''": "\u201d", "``": "\u201c", ",,": "\u201e", "!`": "\u00a1",
                      "?`": "\u00bf"}
_BRACE = re.compile(r"[{}]")


def _unmatched_braces(text: str) -> list[int]:
    """Where the braces of ``text`` that close nothing or are never closed are, counting
    every brace, escaped or not, as BibTeX does."""
    unmatched: list[int] = []
    opened: list[int] = []
    for brace in _BRACE.finditer(text):
        if brace.group() == "{":
            opened.append(brace.start())
        elif opened:
            opened.pop()
        else:
            unmatched.append(brace.start())
    return unmatched + opened


@lru_cache(maxsize=8192)
def decode_latex(text: str | None) -> str:
    """Plain Unicode text from a BibTeX field value: accents decoded, braces and
    formatting commands (``\\textit``, ``\\emph``) dropped, white space collapsed."""
    if not text:
        return ""
    if "\\" in text or "{" in text or "~" in text or "--" in text:
        rest = _SIMPLE_LATEX.sub("", text)
        # "$" too goes to the parser: "$^2$", "$-$" and "$^{TM}$" become "²", "−" and "™"
        if "\\" not in rest and "%" not in rest and "$" not in rest and not _unmatched_braces(text):
            text = _SIMPLE_LATEX.sub(lambda m: _SIMPLE_LATEX_TEXT[m.group()], text)
            return " ".join(text.replace("{", "").replace("}", "").split())
        return _decode_latex_fully(text)
    collapsed = " ".join(text.split())
    return text if collapsed == text else collapsed  # the same object when unchanged: no copy kept


def _decode_latex_fully(text: str) -> str:
    """:func:`decode_latex` by the LaTeX parser (pybtex and latexcodec)."""
    if "\\" in text or "{" in text or "~" in text or "--" in text:
        try:
            text = Text.from_latex(text).render(_PLAIN_TEXT)
        except Exception:  # pybtex gives up on unbalanced braces: fall back to stripping
            text = text.replace("{", "").replace("}", "")
        text = _LEFTOVER_COMMAND.sub(lambda m: _COMMAND_TEXT.get(m.group(1), ""), text)
        text = text.replace("{", "").replace("}", "")
    return " ".join(text.split())


# What makes decode_latex change text besides collapsing white space.
_LATEX_MARKS = re.compile(r"[\\{}~]|--")


def _person_name(person: Person | str) -> str:
    if isinstance(person, str):
        return _written_name(person)
    return _split_name(person)


@lru_cache(maxsize=16384)
def _written_name(name: str) -> str:
    """:func:`_person_name` of a name as written (kept: the same authors recur across a
    library's entries, and splitting and decoding a name costs some microseconds)."""
    return _split_name(name)


def _split_name(person: Person | str) -> str:
    parts = split_plain(person.strip()) if isinstance(person, str) and not _LATEX_MARKS.search(person) else None
    if parts is not None:  # plain words: decode_latex would only join them again
        first, middle, von, last, jr = parts
        family, given, lineage = " ".join(von + last), " ".join(first + middle), " ".join(jr)
    else:
        person = as_person(person)
        family = decode_latex(" ".join(person.prelast_names + person.last_names))
        given = decode_latex(" ".join(person.first_names + person.middle_names))
        lineage = decode_latex(" ".join(person.lineage_names))
    if lineage:
        family = f"{family}, {lineage}" if not given else family
        given = f"{given}, {lineage}" if given else ""
    # a corporate author written as {World Health Organization} arrives as one last name
    return f"{family}, {given}" if given else family


# -- entry heads ------------------------------------------------------------------------------
_ENTRY_HEAD = re.compile(r"@[ \t]*([A-Za-z]+)[ \t\r\n]*[{(][ \t\r\n]*([^,\s{}()=\"#%'~]+)[ \t\r\n]*,")
_NON_ENTRIES = {"string", "preamble", "comment"}


def entry_lines(text: str) -> dict[str, list[int]]:
    """Line numbers (1-based) of each entry head in BibTeX text, by key (lower-cased)."""
    lines: dict[str, list[int]] = {}
    line = 1
    counted = 0  # line breaks are counted up to here: "\r\n", "\r" and "\n" are one each
    for match in _ENTRY_HEAD.finditer(text):
        if match.group(1).lower() in _NON_ENTRIES:
            continue
        start = match.start()  # an "@", so never inside a "\r\n"
        line += text.count("\n", counted, start) + text.count("\r", counted, start) \
            - text.count("\r\n", counted, start)
        counted = start
        lines.setdefault(match.group(2).lower(), []).append(line)
    return lines


def _first(values: Iterable[str | None]) -> str:
    for value in values:
        if value:
            return value
    return ""


def reference_from_bibtex(key: str, entry: Any, file: Path | None = None,
                          line: int | None = None) -> Reference:
    """A :class:`Reference` from an entry (:class:`~citeflow.references.bibparse.Entry` or
    pybtex's ``Entry``; fields already crossref-merged)."""
    # field names interned: fifty thousand entries share a dozen names, not hold their own
    raw = {intern(name.lower()): str(value) for name, value in entry.fields.items()}
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
        year=year_in(raw.get("year")) or year_in(raw.get("date")),
        container=container,
        volume=decode_latex(raw.get("volume")),
        issue=decode_latex(raw.get("number") or raw.get("issue")),
        pages=page_range(decode_latex(raw.get("pages"))),
        doi=doi,
        pmid=pmid,
        pmcid=pmcid,
        url=raw.get("url", "").strip(),
        isbn=first_isbn(raw["isbn"]) if raw.get("isbn") else None,
        abstract=decode_latex(raw.get("abstract")),
        keywords=keywords,
        publisher=publisher,
        fields=raw,
        file=file,
        line=line,
        editors=editors,
    )


# -- writing -------------------------------------------------------------------------------------
_LATEX_SPECIAL = re.compile(r"([&%$#_{}])")


def _balanced(text: str) -> str:
    """``text`` without the braces that close nothing or are never closed: BibTeX counts
    every brace, escaped or not, so one unmatched brace would end the field (and let the
    rest of the text be read as fields and entries of its own)."""
    drop = set(_unmatched_braces(text))
    if not drop:
        return text
    return "".join(char for index, char in enumerate(text) if index not in drop)


def _escape(text: str) -> str:
    text = _balanced(text)
    text = text.replace("\\", r"\textbackslash{}")
    text = _LATEX_SPECIAL.sub(r"\\\1", text)
    return text.replace(r"\textbackslash\{\}", r"\textbackslash{}")


def _bib_name(display: str) -> str:
    if "," in display:
        return _escape(display)
    return "{" + _escape(display) + "}"  # an organisation: keep it whole


#: A field citeflow writes on entries it did not verify (``citeflow = {unverified: ...}``).
PROVENANCE_FIELD = "citeflow"


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
    for name, identifier in (("doi", ref.doi), ("pmid", ref.pmid), ("pmcid", ref.pmcid),
                             ("isbn", ref.isbn), ("url", ref.url)):
        if identifier:
            pairs.append((name, identifier.replace("{", "").replace("}", "")))
    if ref.keywords:
        pairs.append(("keywords", _escape(", ".join(ref.keywords))))
    if ref.abstract:
        pairs.append(("abstract", _escape(ref.abstract)))
    if ref.fields.get(PROVENANCE_FIELD):  # where an unverified entry came from; no style prints it
        pairs.append((PROVENANCE_FIELD, _escape(ref.fields[PROVENANCE_FIELD])))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in pairs)
    return f"@{bib_type}{{{ref.key},\n{body}\n}}\n"


@dataclass(frozen=True)
class BibtexAddition:
    """What appending entries to a BibTeX file adds: ``text`` goes after the file's last
    byte; ``lines`` are the lines (1-based) where the entries' heads will then be."""

    text: str
    lines: tuple[int, ...]


def bibtex_addition(existing: str, refs: Sequence[Reference]) -> BibtexAddition:
    """The text that appends :func:`to_bibtex` entries for ``refs`` to a file holding
    ``existing``: each entry after a blank line (none before the first entry of an empty
    file), a newline first if the file lacks a final one, all in the file's own newline
    convention (CRLF when the file has one)."""
    newline = "\r\n" if "\r\n" in existing else "\n"
    chunks: list[str] = []
    lines: list[int] = []
    line = _line_count(existing)
    if existing and not existing.endswith(("\n", "\r")):
        chunks.append(newline)
        line += 1
    for ref in refs:
        if existing or chunks:
            chunks.append(newline)
            line += 1
        lines.append(line)
        entry = to_bibtex(ref)
        chunks.append(entry.replace("\n", newline))
        line += entry.count("\n")
    return BibtexAddition("".join(chunks), tuple(lines))


def _line_count(text: str) -> int:
    """The line a text ends on (1 for empty text; CRLF, CR and LF all end a line)."""
    return len(re.findall(r"\r\n|\r|\n", text)) + 1
