"""The journal title block: authors, affiliations, ORCID iDs, corresponding author, date,
abstract and keywords from the front matter, the same in HTML, PDF and DOCX.

Pandoc's templates each print a different part of the front matter, and the Typst one
pastes some values in as code (``keywords: [dupilumab]`` stopped the PDF with "unknown
variable: dupilumab", and so every format). Here the front matter is read once
(:func:`read_title_block`, after citeproc, so its text is already Pandoc's) and written into
the body as ordinary blocks right after the title (:func:`title_block`); each writer then
gets only the metadata it can use (:func:`writer_meta`): the title and subtitle for all,
the author and keyword metadata of the file in each format's own form, and for Typst only
settings whose values it can take (:func:`typst_settings`).

Front matter understood (the forms Pandoc, Quarto and journal templates use)::

    author:
      - name: Marjolein de Bruin-Weller     # or given/family; or a plain string
        affiliation: [1, 2]                 # ids, or the affiliation itself
        orcid: 0000-0002-1825-0097
        email: m.debruin@example.org
        corresponding: true
      - Andrew Blauvelt
    affiliations:                           # or affiliation, institute
      - id: 1
        department: Department of Dermatology
        name: University Medical Center Utrecht
        city: Utrecht
        country: the Netherlands
    date: 2024-05-01
    abstract: |
      ...
    keywords: [dupilumab, arthralgia]       # or "dupilumab; arthralgia"

Anything else, or a value of another shape (a number for a name, a map for a date), is read
as far as it makes sense and never stops a format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from citeflow.pandoc import plain_text

#: Metadata the title block takes over from the templates.
TITLE_BLOCK_KEYS = ("author", "affiliation", "affiliations", "institute", "date", "abstract",
                    "abstract-title", "keywords")
_AFFILIATION_PARTS = ("department", "name", "institution", "organization", "address", "city",
                      "region", "state", "postal-code", "country")
_ORCID = re.compile(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])", re.I)
_TRUE = ("true", "yes", "1")


def _str(text: str) -> dict:
    return {"t": "Str", "c": text}


def _space() -> dict:
    return {"t": "Space"}


def _words(text: str) -> list[dict]:
    """Inlines for plain text: words and spaces."""
    out: list[dict] = []
    for word in text.split():
        if out:
            out.append(_space())
        out.append(_str(word))
    return out


def meta_inlines(value: Any) -> list[dict]:
    """The inlines of a metadata value, whatever its kind (a list is joined with commas)."""
    if not isinstance(value, dict):
        return []
    kind = value.get("t")
    content: Any = value.get("c")
    if kind == "MetaInlines":
        return list(content)
    if kind == "MetaString":
        return _words(str(content))
    if kind == "MetaBool":
        return []
    if kind == "MetaBlocks":
        inlines: list[dict] = []
        for block in content:
            if block.get("t") in ("Para", "Plain"):
                inlines += ([_space()] if inlines else []) + list(block["c"])
        return inlines
    if kind == "MetaList":
        out: list[dict] = []
        for item in content:
            piece = meta_inlines(item)
            if piece:
                out += ([_str(","), _space()] if out else []) + piece
        return out
    if kind == "MetaMap":
        for key in ("name", "literal", "text", "value"):
            if key in content:
                return meta_inlines(content[key])
    return []


def meta_text(value: Any) -> str:
    """The plain text of a metadata value."""
    return " ".join(plain_text(meta_inlines(value)).split())


def _meta_blocks(value: Any) -> list[dict]:
    if isinstance(value, dict) and value.get("t") == "MetaBlocks":
        return list(value["c"])
    inlines = meta_inlines(value)
    return [{"t": "Para", "c": inlines}] if inlines else []


def _items(value: Any) -> list[Any]:
    if isinstance(value, dict) and value.get("t") == "MetaList":
        return list(value["c"])
    return [value] if isinstance(value, dict) else []


def _map(value: Any) -> dict[str, Any]:
    return value["c"] if isinstance(value, dict) and value.get("t") == "MetaMap" else {}


def _truthy(value: Any) -> bool:
    if isinstance(value, dict) and value.get("t") == "MetaBool":
        return bool(value["c"])
    return meta_text(value).lower() in _TRUE


@dataclass
class Affiliation:
    key: str  # its id in the front matter ("" for one written in place)
    text: list[dict]  # inlines: "Department of Dermatology, UMC Utrecht, Utrecht"


@dataclass
class Author:
    name: list[dict]
    affiliations: list[int] = field(default_factory=list)  # indexes into TitleBlock.affiliations
    orcid: str = ""
    email: str = ""
    corresponding: bool = False

    @property
    def plain(self) -> str:
        return " ".join(plain_text(self.name).split())


@dataclass
class TitleBlock:
    authors: list[Author] = field(default_factory=list)
    affiliations: list[Affiliation] = field(default_factory=list)
    date: list[dict] = field(default_factory=list)
    abstract: list[dict] = field(default_factory=list)
    abstract_title: list[dict] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.authors or self.date or self.abstract or self.keywords)


def _affiliation_inlines(value: Any) -> list[dict]:
    parts = _map(value)
    if not parts:
        return meta_inlines(value)
    out: list[dict] = []
    for key in _AFFILIATION_PARTS:
        piece = meta_inlines(parts.get(key))
        if piece:
            out += ([_str(","), _space()] if out else []) + piece
    return out


def _author_name(entry: dict[str, Any]) -> list[dict]:
    for key in ("name", "literal"):
        if key in entry:
            name = _map(entry[key])
            if name:  # Quarto: name: {given: ..., family: ...}
                entry = name
                break
            return meta_inlines(entry[key])
    given, family = meta_inlines(entry.get("given")), meta_inlines(entry.get("family"))
    particle = meta_inlines(entry.get("non-dropping-particle") or entry.get("dropping-particle"))
    parts = [p for p in (given, particle, family) if p]
    out: list[dict] = []
    for part in parts:
        out += ([_space()] if out else []) + part
    return out


def read_title_block(meta: dict[str, Any]) -> TitleBlock:
    """The title block of a document's metadata (Pandoc JSON ``meta``)."""
    block = TitleBlock()
    listed: dict[str, Affiliation] = {}
    for key in ("affiliations", "affiliation", "institute"):
        for item in _items(meta.get(key)):
            entry = _map(item)
            ident = meta_text(entry.get("id")) if entry else ""
            affiliation = Affiliation(ident, _affiliation_inlines(item))
            if affiliation.text:
                listed.setdefault(ident or f"#{len(listed) + 1}", affiliation)
    numbers: dict[int, int] = {}  # id(Affiliation) -> index in block.affiliations

    def number_of(affiliation: Affiliation) -> int:
        if id(affiliation) not in numbers:
            numbers[id(affiliation)] = len(block.affiliations)
            block.affiliations.append(affiliation)
        return numbers[id(affiliation)]

    for item in _items(meta.get("author")):
        entry = _map(item)
        if not entry:
            name = meta_inlines(item)
            if name:
                block.authors.append(Author(name))
            continue
        author = Author(_author_name(entry))
        if not author.name:
            continue
        attributes = _map(entry.get("attributes"))
        for ref in _items(entry.get("affiliation") or entry.get("affiliations")):
            target = meta_text(_map(ref).get("ref")) if _map(ref).get("ref") else meta_text(ref)
            found = listed.get(target)
            if found is None:  # the affiliation written in place
                text = _affiliation_inlines(ref)
                found = next((a for a in listed.values() if plain_text(a.text) == plain_text(text)),
                             None) or Affiliation("", text)
            if found.text:
                index = number_of(found)
                if index not in author.affiliations:
                    author.affiliations.append(index)
        orcid = _ORCID.search(meta_text(entry.get("orcid") or entry.get("ORCID")))
        author.orcid = orcid.group(1).upper() if orcid else ""
        author.email = meta_text(entry.get("email"))
        author.corresponding = _truthy(entry.get("corresponding") or attributes.get("corresponding"))
        block.authors.append(author)
    for affiliation in listed.values():  # listed but named by no author: still shown
        number_of(affiliation)
    block.date = meta_inlines(meta.get("date"))
    block.abstract = _meta_blocks(meta.get("abstract"))
    block.abstract_title = meta_inlines(meta.get("abstract-title")) or [_str("Abstract")]
    keywords = meta.get("keywords")
    if isinstance(keywords, dict) and keywords.get("t") == "MetaList":
        words = [meta_text(k) for k in keywords["c"]]
    else:
        words = re.split(r"\s*[;,]\s*", meta_text(keywords))
    block.keywords = [w for w in dict.fromkeys(w.strip() for w in words) if w]
    return block


# -- the blocks ------------------------------------------------------------------------------


def _div(classes: list[str], blocks: list[dict], fmt: str, style: str = "",
         attributes: list[list[str]] | None = None) -> dict:
    pairs = [["custom-style", style]] if style and fmt == "docx" else []
    return {"t": "Div", "c": [["", classes, pairs + (attributes or [])], blocks]}


def _para(inlines: list[dict]) -> dict:
    return {"t": "Para", "c": inlines}


def _raw(fmt: str, text: str) -> dict:
    return {"t": "RawBlock", "c": [fmt, text]}


def _sup(text: str) -> dict:
    return {"t": "Superscript", "c": [_str(text)]}


def _link(inlines: list[dict], url: str) -> dict:
    return {"t": "Link", "c": [["", [], []], inlines, [url, ""]]}


def title_block(block: TitleBlock, fmt: str) -> list[dict]:
    """The title block as Pandoc blocks for the ``fmt`` writer (html, pdf or docx): a Div
    ``#title-block`` whose parts carry classes (HTML), Word's paragraph styles (DOCX) and a
    centred layout (Typst)."""
    if not block:
        return []
    numbered = len(block.affiliations) > 1
    parts: list[dict] = []
    centred: list[dict] = []
    if block.authors:
        names: list[dict] = []
        for n, author in enumerate(block.authors):
            if n:
                names += [_str(","), _space()]
            names += author.name
            marks = [str(i + 1) for i in author.affiliations] if numbered else []
            if author.corresponding:
                marks.append("*")
            if marks:
                names.append(_sup(",".join(marks)))
        centred.append(_div(["authors"], [_para(names)], fmt, "Author"))
    if block.affiliations:
        lines = [_para(([_sup(str(n + 1)), _space()] if numbered else []) + a.text)
                 for n, a in enumerate(block.affiliations)]
        centred.append(_div(["affiliations"], lines, fmt, "Author"))
    with_orcid = [a for a in block.authors if a.orcid]
    if with_orcid:
        lines = [_para([*a.name, _str(":"), _space(), _link([_str(f"https://orcid.org/{a.orcid}")], f"https://orcid.org/{a.orcid}")])
                 for a in with_orcid]
        centred.append(_div(["orcid"], lines, fmt, "Author"))
    corresponding = [a for a in block.authors if a.corresponding]
    if corresponding:
        lines = []
        for a in corresponding:
            inlines = [_str("*Corresponding"), _space(), _str("author:"), _space(), *a.name]
            if a.email:
                inlines += [_str(","), _space(), _link([_str(a.email)], f"mailto:{a.email}")]
            lines.append(_para(inlines))
        centred.append(_div(["corresponding"], lines, fmt, "Author"))
    if block.date:
        centred.append(_div(["date"], [_para(block.date)], fmt, "Date"))
    if centred:
        if fmt == "pdf":
            parts += [_raw("typst", "#align(center)[#set par(justify: false)"), *centred,
                      _raw("typst", "]")]
        else:
            parts += centred
    if block.abstract:
        title = _div(["abstract-title"], [_para([{"t": "Strong", "c": block.abstract_title}])],
                     fmt, "Abstract Title")
        inset = [["typst:inset", "(x: 2em)"]] if fmt == "pdf" else []
        parts.append(_div(["abstract"], [title, *block.abstract], fmt, "Abstract", inset))
    if block.keywords:
        words = [{"t": "Strong", "c": [_str("Keywords:")]}, _space(), *_words("; ".join(block.keywords))]
        inset = [["typst:inset", "(x: 2em)"]] if fmt == "pdf" else []
        parts.append(_div(["keywords"], [_para(words)], fmt, "Abstract", inset))
    return [{"t": "Div", "c": [["title-block", ["title-block"], []], parts]}]


TITLE_BLOCK_CSS = """
.title-block { margin: 0 0 2em; }
.title-block .authors, .title-block .affiliations, .title-block .orcid,
.title-block .corresponding, .title-block .date { text-align: center; }
.title-block .authors p { font-size: 1.1em; margin: .3em 0; }
.title-block .affiliations p, .title-block .orcid p, .title-block .corresponding p,
.title-block .date p { font-size: .9em; margin: .15em 0; }
.title-block .abstract, .title-block .keywords { margin: 1.2em 2em 0; font-size: .95em; }
.title-block .abstract-title p { margin-bottom: .3em; }
"""


# -- what each writer gets ---------------------------------------------------------------------


@dataclass(frozen=True)
class SettingProblem:
    """A front matter value the PDF cannot use: its key, and why."""

    key: str
    reason: str


_LENGTH = r"-?\d+(\.\d+)?(pt|mm|cm|in|em)"
_PAPERS = {"letter": "us-letter", "us-letter": "us-letter", "legal": "us-legal",
           "us-legal": "us-legal", "executive": "us-executive", "us-executive": "us-executive",
           **{f"a{n}": f"a{n}" for n in range(0, 11)}, **{f"b{n}": f"iso-b{n}" for n in range(0, 11)}}
_SETTINGS = {
    "fontsize": (re.compile(_LENGTH), "a length such as 11pt"),
    "linestretch": (re.compile(r"\d+(\.\d+)?"), "a number such as 1.5"),
    "columns": (re.compile(r"[1-9]"), "a number of columns from 1 to 9"),
    "toc-depth": (re.compile(r"[1-9]"), "a depth from 1 to 9"),
    "lang": (re.compile(r"[a-zA-Z]{2,3}"), "a language code such as en"),
    "region": (re.compile(r"[a-zA-Z]{2}"), "a region code such as GB"),
    "mainfont": (re.compile(r"[\w .+-]{1,80}"), "a font name"),
    "section-numbering": (re.compile(r"[\w.()\- ]{1,20}"), "a numbering such as 1.1"),
    "page-numbering": (re.compile(r"[\w.()\- ]{1,20}"), "a numbering such as 1 or i"),
    "table-caption-position": (re.compile(r"top|bottom"), "top or bottom"),
    "figure-caption-position": (re.compile(r"top|bottom"), "top or bottom"),
}
_FONT_LISTS = ("mathfont", "codefont")


def typst_settings(meta: dict[str, Any]) -> tuple[dict[str, Any], list[SettingProblem]]:
    """``meta`` with every setting the Typst template pastes in as code checked: a value
    Typst could not use is left out (and named), so that it cannot stop the PDF."""
    meta = dict(meta)
    problems: list[SettingProblem] = []
    for key, (pattern, wanted) in _SETTINGS.items():
        if key in meta:
            text = meta_text(meta[key])
            if key in ("lang", "region"):
                text = text.split("-")[0] if key == "lang" else text
            if pattern.fullmatch(text):
                meta[key] = {"t": "MetaString", "c": text.lower() if key == "lang" else text}
            else:
                problems.append(SettingProblem(key, f"{text!r} is not {wanted}"))
                del meta[key]
    if "papersize" in meta:
        text = meta_text(meta["papersize"]).lower().replace(" ", "-")
        if text in _PAPERS:
            meta["papersize"] = {"t": "MetaString", "c": _PAPERS[text]}
        else:
            problems.append(SettingProblem("papersize", f"{text!r} is not a paper size "
                                           "citeflow knows (a4, letter, a5, legal, ...)"))
            del meta["papersize"]
    if "margin" in meta:
        margin = _map(meta["margin"])
        if margin:
            good = {k: {"t": "MetaString", "c": meta_text(v)} for k, v in margin.items()
                    if k in ("x", "y", "top", "bottom", "left", "right", "inside", "outside", "rest")
                    and re.fullmatch(_LENGTH, meta_text(v))}
            if len(good) == len(margin):
                meta["margin"] = {"t": "MetaMap", "c": good}
            else:
                problems.append(SettingProblem("margin", "expects lengths such as x: 2cm"))
                del meta["margin"]
        else:
            text = meta_text(meta["margin"])
            if re.fullmatch(_LENGTH, text):
                meta["margin"] = {"t": "MetaMap", "c": {"rest": {"t": "MetaString", "c": text}}}
            else:
                problems.append(SettingProblem("margin", f"{text!r} is not a length such as 2cm"))
                del meta["margin"]
    for key in _FONT_LISTS:
        if key in meta:
            names = [meta_text(v) for v in _items(meta[key])]
            if names and all(re.fullmatch(r"[\w .+-]{1,80}", n) for n in names):
                meta[key] = {"t": "MetaList", "c": [{"t": "MetaString", "c": n} for n in names]}
            else:
                problems.append(SettingProblem(key, "expects font names"))
                del meta[key]
    return meta, problems


def typst_string(text: str) -> str:
    """``text`` as a Typst string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def writer_meta(meta: dict[str, Any], fmt: str, block: TitleBlock, stem: str) -> dict[str, Any]:
    """The metadata the ``fmt`` writer gets: the title block's keys removed (the body holds
    them), the file's own author and keyword metadata in the writer's form."""
    out = {k: v for k, v in meta.items() if k not in TITLE_BLOCK_KEYS}
    names = [a.plain for a in block.authors if a.plain]
    if fmt == "html":
        if names and "author-meta" not in meta:
            out["author-meta"] = _meta_list(names)
        if block.date and "date-meta" not in meta:
            out["date-meta"] = {"t": "MetaInlines", "c": _words(plain_text(block.date))}
        if block.keywords:
            out["keywords"] = _meta_list(block.keywords)
    elif fmt == "docx":
        if block.keywords:  # the file's keywords (docProps), not printed by the writer
            out["keywords"] = _meta_list(block.keywords)
    elif fmt == "pdf":
        out, _ = typst_settings(out)
        if "title" not in out:
            out["pagetitle"] = {"t": "MetaString", "c": meta_text(meta.get("pagetitle")) or stem}
        fields = []
        if names:
            fields.append("author: (" + ", ".join(typst_string(n) for n in names) + ",)")
        if block.keywords:
            fields.append("keywords: (" + ", ".join(typst_string(k) for k in block.keywords) + ",)")
        if fields:
            out = with_header(out, "typst", "#set document(" + ", ".join(fields) + ")\n")
    return out


def _meta_list(texts: list[str]) -> dict[str, Any]:
    return {"t": "MetaList", "c": [{"t": "MetaInlines", "c": _words(t)} for t in texts]}


def with_header(meta: dict[str, Any], fmt: str, text: str) -> dict[str, Any]:
    """A copy of ``meta`` whose ``header-includes`` also holds raw ``text`` for ``fmt``."""
    if not text.strip():
        return meta
    raw = {"t": "MetaBlocks", "c": [{"t": "RawBlock", "c": [fmt, text]}]}
    existing = meta.get("header-includes")
    meta = dict(meta)
    if existing is None:
        meta["header-includes"] = raw
    elif existing.get("t") == "MetaList":
        meta["header-includes"] = {"t": "MetaList", "c": [*existing["c"], raw]}
    else:
        meta["header-includes"] = {"t": "MetaList", "c": [existing, raw]}
    return meta
