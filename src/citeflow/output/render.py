"""Render a manuscript to HTML, PDF and DOCX with one Pandoc parse and one citeproc pass.

The work is split in layers so that other outputs (for instance an editorial review copy
with findings highlighted) reuse the same steps::

    job = prepare("manuscripts/review.md", csl="vancouver")     # resolve inputs, no Pandoc yet
    ast = citeproc_ast(job.manuscript.text, job)                # ONE parse + citeproc -> JSON AST
    # ... optionally change the AST (it is Pandoc's JSON: a dict with "meta" and "blocks") ...
    paths = write_outputs(ast, ["html", "pdf"], Path("build"), job.stem,
                          extra_css=".finding { background: #fff3b0 }",
                          typst_preamble="#let finding(body) = highlight(body)", job=job)

:func:`render` does all three for one manuscript.

* :func:`prepare` reads the manuscript (front matter errors carry their line) and settles
  where the bibliography and the CSL style come from: the ``--csl`` option when given, else
  the front matter (paths relative to the manuscript's own folder, whatever the working
  directory), else ``citeflow.toml``, else the AMA style. A dependent style is replaced by its
  independent parent offline (:mod:`citeflow.output.styles`).
* :func:`citeproc_ast` runs Pandoc once (``--citeproc -t json``) and checks that every cited
  key was found in the bibliography; a missing key stops the render with the key and its
  line unless the job allows it. The returned AST has its citations and reference list
  formatted; every DOI in the reference list is a link, citation links to entries that do
  not exist are removed, and the bibliography settings are dropped from the metadata (the
  writers must not run citeproc again). A manuscript that cites nothing has no reference
  section. The reference list is finished inside that Pandoc run, by the Lua filter
  ``data/finish-references.lua``.
* :func:`write_outputs` feeds that AST (``-f json``) to each writer: standalone HTML with an
  embedded style sheet, Typst compiled to PDF by the ``typst`` wheel, and DOCX. The writers
  run in parallel; every file is produced in memory first, written to a temporary file, and
  all are renamed into place together, so a failure (a full disk) leaves no half-written
  output and no partial set of new files.

Manuscripts are untrusted (docs/security.md): :func:`prepare` refuses bibliographies and
styles outside the project root (:mod:`citeflow.paths`); every Pandoc run has ``--sandbox``
(no file read but those on its command line, nothing fetched); the Lua filter
``data/guard.lua``, run before citeproc, hands citeproc only the checked bibliographies and,
unless the job is trusted, drops raw HTML/Typst/OpenXML, verbatim metadata
(``header-includes`` ...), script attributes and script links, each reported as a
:class:`RenderWarning`; images are checked and handed to each writer by
:mod:`citeflow.output.resources`; Typst compiles in a private folder holding only what it may read.
* :func:`citeproc_document` is :func:`citeproc_ast` for a document that goes to the writers
  unchanged (:func:`render`): Pandoc's JSON is handed on as it is, without building the
  AST in Python.

Pandoc is the binary shipped in the ``pypandoc-binary`` wheel (located with ``pypandoc``),
called directly so that its warnings can be read.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from citeflow.config import DEFAULT_STYLE, Config, load_config
from citeflow.document.citations import find_citations
from citeflow.document.manuscript import Manuscript, read_manuscript
from citeflow.errors import CiteflowError
from citeflow.files import atomic_write_all, read_utf8
from citeflow.output.citeproc_input import CiteprocInput, prepare_citeproc_input
from citeflow.output.manubot_input import ManubotInput, prepare_manubot_input
from citeflow.output.resources import (
    ImageKind,
    ImageSet,
    alt_texts,
    collect_images,
    restore,
    swap_images,
    typst_literal_files,
    write_typst_tree,
)
from citeflow.output.styles import lowers_subtitles, resolve_style, style_for_citeproc
from citeflow.output.titleblock import (
    TITLE_BLOCK_CSS,
    TITLE_BLOCK_KEYS,
    read_title_block,
    title_block,
    typst_settings,
    typst_string,
    with_header,
    writer_meta,
)
from citeflow.pandoc import run_pandoc
from citeflow.paths import bibliography_files, project_root, require_manuscript

FORMATS = ("html", "pdf", "docx")
REFERENCE_SECTION_TITLE = "References"

#: Readable defaults for the standalone HTML: a narrow serif column, hanging reference list.
HTML_CSS = """
html { background: #fdfdfd; }
body { max-width: 42em; margin: 2.5em auto; padding: 0 1.2em; color: #1d1d1d;
       font: 1.05rem/1.6 Georgia, "Times New Roman", serif; hyphens: auto; }
h1, h2, h3, h4 { font-family: "Helvetica Neue", Arial, sans-serif; line-height: 1.25;
                 margin: 1.6em 0 0.5em; }
header h1.title { font-size: 1.9em; margin-top: 0; }
a { color: #0b5394; text-decoration: none; }
a:hover { text-decoration: underline; }
sup { line-height: 0; }
#refs { margin-top: 1em; font-size: 0.95em; }
.csl-entry { margin: 0 0 0.6em; overflow-wrap: anywhere; }
div.csl-left-margin { float: left; min-width: 2.2em; }
div.csl-right-inline { margin-left: 2.2em; }
blockquote { border-left: 3px solid #ccc; margin-left: 0; padding-left: 1em; color: #444; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.6em; }
@media print { body { max-width: none; margin: 0; } a { color: inherit; } }
"""

#: Typst settings for the PDF (put in ``header-includes`` of ``data/citeflow.typst``).
#:
#: * Justified text (ragged reference list), links in dark blue.
#: * The label-link rule changes nothing in the PDF; it saves Typst a layout of the whole
#:   document. A link to a label (a citation to its reference entry) needs the label's
#:   location, which Typst knows only after a first layout, and its alt text names the page
#:   of its target. Typst lays the document out again until these settle. As Pandoc writes
#:   the links, the first layout cannot show them as they will be, so the next one has other
#:   line and page breaks and one more is needed for the pages. With the rule, the first
#:   layout (where Typst has not seen the link yet: ``query(here())`` is empty) shows the
#:   link's text unlinked, set as a link is set (no hyphenation): it already has the final
#:   breaks, and the second layout, with the links, is the last one. From then on the link
#:   is shown as it is, so a link to a label that does not exist is still an error.
#: * Links (DOIs, URLs) are never hyphenated, and a DOI link stays on one line, so a DOI
#:   copied from the PDF or read from its text layer is the DOI.
#: * A superscript of several citation numbers ("4–6", "1,2") is never broken across lines:
#:   :func:`typst_source` puts each in a box (a show rule on every superscript would box the
#:   single numbers too, which costs a long manuscript 15% of its PDF's layout time).
#: * Tables, and the figures that hold them, break across pages; Typst repeats the header
#:   rows on each page. Table cells are set ragged right.
#: * A caption that numbers itself ("Table 1. Baseline ...") is printed as written, without
#:   Typst's own "Table 1:" in front of it.
#: * The hyphen glyph: a PDF maps each glyph of a font to one text. Typst writes the hyphen
#:   it adds where it hyphenates a word as a soft hyphen (U+00AD), and the first use of the
#:   glyph decides its mapping; later uses with another text carry it as ``/ActualText``,
#:   which many extractors (pypdf, some viewers' copy and paste) ignore. Were a word on a
#:   page hyphenated before the first real hyphen, every hyphen of the document, those of
#:   DOIs included, would extract as U+00AD. So a pattern that is never seen, drawn before
#:   anything else, first uses the hyphen of each font variant as a hyphen. A pattern's
#:   content is not part of the page's text, so text extraction does not see it either.
TYPST_PREAMBLE = """#set par(justify: true)
#show <refs>: set par(justify: false)
#show link: set text(fill: rgb("#0b5394"), hyphenate: false)
#show link: it => if type(it.dest) == label {
  context if query(here()).len() > 0 { it } else { text(hyphenate: false, it.body) }
} else if type(it.dest) == str and it.dest.starts-with("https://doi.org/") { box(it) } else { it }
#show figure.where(kind: table): set block(breakable: true)
#show table: set par(justify: false)
#show table: set align(start)
#let citeflow-plain(it) = if type(it) == str { it } else if it.has("text") { it.text } else if it.has("children") { it.children.map(citeflow-plain).join("") } else if it.has("body") { citeflow-plain(it.body) } else { " " }
#show figure.caption: it => if citeflow-plain(it.body).trim().match(regex("^(?i)(table|tab\\.|figure|fig\\.|supplementary (table|figure))\\s*[a-z]?[0-9]")) != none { it.body } else { it }
#place(top + left, rect(width: 0.1pt, height: 0.1pt, stroke: none, fill: tiling(size: (4pt, 4pt))[#text(size: 1pt, fill: white)[-#strong[-]#emph[-]#strong(emph[-])]]))
"""

#: The standards the PDF is written to, best first: PDF/A-2a with PDF/UA-1 (archival,
#: tagged and accessible), else PDF/A-2b, else a tagged PDF of no particular standard.
#: See docs/output.md for why these.
PDF_STANDARDS: tuple[tuple[str, ...], ...] = (("a-2a", "ua-1"), ("a-2b",), ())
_STANDARD_NAMES = {"a-2a": "PDF/A-2a", "a-2b": "PDF/A-2b", "ua-1": "PDF/UA-1"}
_STANDARD_ERROR = re.compile(r"^(PDF/(A|UA)[^ ]* |PDF standards )", re.I)
TYPST_TEMPLATE = Path(__file__).parents[1] / "data" / "citeflow.typst"

_MISSING = re.compile(r"Citeproc: citation (\S+) not found")
_REFS_HEADING = re.compile(r"^(references|bibliography|works cited|literature cited)$", re.I)
# Metadata that only matters to citeproc; writers must not see it (Typst would run its own).
_CITEPROC_META = ("bibliography", "csl", "citation-style", "references", "nocite", "link-citations",
                  "link-bibliography", "citation-abbreviations")


class Dropped(Enum):
    """What the outputs leave out, or fall short of (the name shown in its warning): most
    kinds are what an untrusted manuscript loses; ``front-matter`` is a value a format cannot
    use, ``pdf-standard`` a PDF that could not meet PDF/UA-1 or PDF/A."""

    RAW_HTML = "raw-html"
    RAW_TYPST = "raw-typst"
    RAW_OPENXML = "raw-openxml"
    METADATA = "metadata"
    ATTRIBUTE = "attribute"
    SCRIPT_LINK = "script-link"
    IMAGE = "image"
    REMOTE_IMAGE = "remote-image"
    FRONT_MATTER = "front-matter"
    PDF_STANDARD = "pdf-standard"
    UNKNOWN_KEY = "unknown-key"


@dataclass(frozen=True)
class RenderWarning:
    """Something left out of the outputs, where the manuscript has it, and why."""

    kind: Dropped
    message: str
    file: Path | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.line else (f"{self.file}: " if self.file else "")
        return f"{where}{self.message} [{self.kind.value}]"


#: How a manuscript may bring these back (said in each warning about them).
TRUSTED_HINT = "the manuscript is not trusted (`--trusted` or `[render] trusted = true` keeps it)"
_DROP_TEXT = {
    Dropped.RAW_HTML: "raw HTML",
    Dropped.RAW_TYPST: "raw Typst",
    Dropped.RAW_OPENXML: "raw OpenXML",
    Dropped.METADATA: "front matter",
    Dropped.ATTRIBUTE: "script attribute",
    Dropped.SCRIPT_LINK: "script link",
}


@dataclass
class RenderJob:
    """Everything resolved for one manuscript before Pandoc runs."""

    manuscript: Manuscript
    source: Path
    bibliography: list[Path]
    style: Path
    style_name: str
    config: Config
    allow_missing: bool = False
    metadata: dict[str, str] = field(default_factory=dict)  # extra -M values for Pandoc
    root: Path | None = None  # the project root (resolved); None: the manuscript's folder
    trusted: bool = False  # keep raw HTML/Typst (docs/security.md)
    warnings: list[RenderWarning] = field(default_factory=list)
    raw_typst: list[str] = field(default_factory=list)  # raw Typst kept (trusted only)
    #: The text of each bibliography, read (and UTF-8 checked) by :func:`prepare`.
    bibliography_texts: dict[Path, str] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        return self.source.stem

    @property
    def folder(self) -> Path:
        return self.source.parent

    @property
    def project_root(self) -> Path:
        return self.root if self.root is not None else self.folder.resolve()


# -- layer 1: resolve inputs -------------------------------------------------------------


def prepare(
    manuscript_path: str | Path,
    csl: str | Path | None = None,
    config: Config | None = None,
    allow_missing: bool = False,
    trusted: bool | None = None,
    *,
    manuscript: Manuscript | None = None,
) -> RenderJob:
    """Read the manuscript and resolve its bibliography and CSL style (see module docstring).

    ``manuscript`` is the file already read (by a check of the same build), so that it is
    not read again.

    The bibliographies and a CSL style the manuscript (or citeflow.toml) names must lie
    inside the project root, and the manuscript may not be a symbolic link out of it
    (:mod:`citeflow.paths`); ``csl`` given here is the operator's and may lie anywhere.
    ``trusted`` (default: ``[render] trusted`` of the config) keeps raw HTML and Typst.
    """
    source = Path(manuscript_path)
    config = config or load_config(source)
    root = project_root(source, config)
    require_manuscript(source, root)
    if manuscript is None:
        manuscript = read_manuscript(source)
    front = manuscript.front_matter
    bibliography = bibliography_files(manuscript, config, root)

    # Pandoc reads only UTF-8: other bytes are named by file and line, as in `check`.
    texts = {bib: read_utf8(bib) for bib in bibliography}
    style_root: Path | None = root
    style_where: tuple[Path | None, int | None]
    if csl is not None:
        style_name, base, style_where, style_root = str(csl), Path.cwd(), (source, None), None
    elif front.get("csl") or front.get("citation-style"):
        key = "csl" if front.get("csl") else "citation-style"
        style_name, base = str(front[key]), manuscript.folder
        style_where = (source, manuscript.front_matter_line(key))
    elif config.style:
        style_name, base, style_where = config.style, config.root, (config.path, None)
    else:
        style_name, base, style_where = DEFAULT_STYLE, Path.cwd(), (None, None)
    try:
        style = resolve_style(style_name, base=base, root=style_root)
    except CiteflowError as exc:
        if exc.file is None and style_where[0] is not None:
            exc.file, exc.line = style_where
        raise

    metadata = {"link-citations": "true"}
    if not _has_reference_heading(manuscript):
        metadata["reference-section-title"] = REFERENCE_SECTION_TITLE
    if "notes-after-punctuation" not in front:
        # Superscript citation numbers go after full stops and commas (AMA 3.6.1: "outside
        # periods and commas, inside colons and semicolons"); styles with numbers in
        # brackets or author-date citations are not changed by it.
        metadata["notes-after-punctuation"] = "true"
    return RenderJob(manuscript, source, bibliography, style.resolve(), style_name, config,
                     allow_missing, metadata, root,
                     config.render_trusted if trusted is None else trusted,
                     bibliography_texts=texts)


def _has_reference_heading(manuscript: Manuscript) -> bool:
    """True when the writer placed the list already (a References heading or a #refs div)."""
    if "reference-section-title" in manuscript.front_matter:
        return True
    if re.search(r"\{#refs\b|id=[\"']refs[\"']", manuscript.text):
        return True
    return any(b.kind == "heading" and _REFS_HEADING.match(b.content.strip())
               for b in manuscript.blocks)


# -- layer 2: one parse + citeproc -------------------------------------------------------

#: Pandoc Lua filter run after citeproc: DOI links and the removal of an empty reference
#: list happen inside the Pandoc run, so that the (large) AST is not rebuilt for them.
FINISH_FILTER = Path(__file__).parents[1] / "data" / "finish-references.lua"
#: Pandoc Lua filter run before citeproc: citeproc reads only the bibliographies given, and
#: an untrusted manuscript loses raw HTML/Typst and the like (see the filter).
GUARD_FILTER = Path(__file__).parents[1] / "data" / "guard.lua"

#: What raw HTML/Typst, attributes and script links cannot be written without: ``<``,
#: ``{``, an entity (``&#106;avascript:``), a YAML escape (``"\x3Cscript\x3E"``) or the
#: scheme itself. A source without any needs no walk by the guard filter.
_MARKUP_CHARS = re.compile(r"[<{&\\]|script:|data:", re.I)
_GUARD_REPORT = re.compile(r"^citeflow-(dropped|typst)\t(?:([\w-]+)\t)?(.*)$", re.M)


def _citeproc_json(markdown_text: str, job: RenderJob) -> tuple[bytes, list[str]]:
    """Pandoc's JSON for the manuscript after citeproc and the finishing filter, and the
    cited keys missing from the bibliography (an error unless the job allows them)."""
    with tempfile.TemporaryDirectory(prefix="citeflow-citeproc-") as private:
        inputs = prepare_citeproc_input(job.bibliography, job.bibliography_texts, Path(private),
                                        lower_subtitles=lowers_subtitles(job.style))
        manubot = prepare_manubot_input(job.manuscript, job.bibliography, job.config, Path(private))
        if manubot.extra_bibliography is not None:
            inputs.bibliography.append(manubot.extra_bibliography)
        _warn_unknown_manubot_keys(manubot, job)
        try:
            style = style_for_citeproc(job.style, Path(private))
        except OSError as exc:
            raise CiteflowError(f"cannot prepare the CSL style for citeproc: {exc.strerror or exc}",
                                job.style) from exc
        args = ["-f", "markdown", "-t", "json", "--lua-filter", str(GUARD_FILTER), "--citeproc",
                "--lua-filter", str(FINISH_FILTER), "--csl", str(style)]
        for key, value in job.metadata.items():
            args += ["-M", f"{key}={value}"]
        try:
            out, stderr = run_pandoc(args, markdown_text.lstrip("\ufeff").encode("utf-8"), job.source,
                                     cwd=job.folder.resolve(),
                                     env=_guard_environment(markdown_text, job, inputs, manubot))
        except CiteflowError as exc:
            if exc.file is not None and str(exc.file) in inputs.originals:
                exc.file = inputs.original(exc.file)  # the user's .bib, not citeflow's copy
            exc.message = exc.message.replace("Pandoc failed:", f"Pandoc failed (style {job.style}):", 1)
            exc.message = exc.message.replace(str(style), str(job.style)).replace(private + "/", "")
            raise
    _read_guard_report(stderr, job)
    # Pandoc only warns about unknown keys (and prints "KEY?"); with or without a bibliography.
    missing = list(dict.fromkeys(_MISSING.findall(stderr)))
    if missing and not job.allow_missing:
        raise _missing_keys_error(missing, job)
    return out, missing


def _guard_environment(markdown_text: str, job: RenderJob,
                       inputs: CiteprocInput | None = None,
                       manubot: ManubotInput | None = None) -> dict[str, str]:
    """What the guard filter is told (see ``data/guard.lua``): trusted or not, whether the
    source needs a walk at all, the checked bibliographies (as prepared for citeproc), the
    journal abbreviations file and the ids under which citeproc reads Manubot keys."""
    mode = ("trusted" if job.trusted else "untrusted") + \
        ("" if _MARKUP_CHARS.search(markdown_text) else "-plain")
    files = inputs.bibliography if inputs is not None else job.bibliography
    abbreviations = inputs.abbreviations if inputs is not None else None
    return {"CITEFLOW_GUARD": mode,
            "CITEFLOW_BIBLIOGRAPHY": "\n".join(str(b.resolve()) for b in files),
            "CITEFLOW_ABBREVIATIONS": str(abbreviations.resolve()) if abbreviations else "",
            "CITEFLOW_CITATION_IDS": str(manubot.ids_file.resolve()) if manubot and manubot.ids_file else ""}


def _warn_unknown_manubot_keys(manubot: ManubotInput, job: RenderJob) -> None:
    """One warning for each Manubot key neither the bibliography nor the cache knows."""
    for key, line in manubot.unknown:
        why = (f"malformed ({key.malformed})" if key.malformed else
               f"no bibliography entry has this {key.kind.upper()} ({key.kind.upper()}s are never fetched)"
               if key.kind in ("url", "isbn") else
               "neither the bibliography nor the metadata cache knows it; `citeflow resolve` fetches it")
        job.warnings.append(RenderWarning(Dropped.UNKNOWN_KEY, f"citation @{key.key}: {why}",
                                          job.source, line))


def _read_guard_report(stderr: str, job: RenderJob) -> None:
    """Turn what the guard filter reported into warnings (one per kind) and, for a trusted
    manuscript, the raw Typst pieces whose file names Typst may need."""
    drops: dict[Dropped, list[str]] = {}
    for report, kind, detail in _GUARD_REPORT.findall(stderr):
        if report == "typst":
            job.raw_typst.append(detail)
        elif kind in Dropped._value2member_map_:
            drops.setdefault(Dropped(kind), []).append(detail)
    for kind, details in drops.items():
        job.warnings.append(_drop_warning(kind, details, job.manuscript))


def _line_of(manuscript: Manuscript, needle: str) -> int | None:
    """The line where ``needle`` first occurs in the manuscript's body, or None."""
    at = manuscript.text.find(needle, manuscript.body_start) if needle.strip() else -1
    return manuscript.line_col(at)[0] if at >= 0 else None


def _drop_warning(kind: Dropped, details: list[str], manuscript: Manuscript) -> RenderWarning:
    """One warning for every piece of one kind: what, how many, and the first one's line."""
    named = list(dict.fromkeys(details))
    if kind is Dropped.METADATA:
        line = manuscript.front_matter_line(named[0])
    else:
        line = _line_of(manuscript, f"{named[0]}=" if kind is Dropped.ATTRIBUTE else named[0])
    what = _DROP_TEXT[kind]
    if kind in (Dropped.METADATA, Dropped.ATTRIBUTE, Dropped.SCRIPT_LINK):
        what += " " + ", ".join(named[:3]) + (", ..." if len(named) > 3 else "")
    what += " dropped"
    if len(details) > 1 and kind is not Dropped.METADATA:
        what += f" ({len(details)} pieces{', the first on this line' if line else ''})"
    why = TRUSTED_HINT
    if named == ["citation-abbreviations"]:
        why = "citeproc reads only the bibliographies and style citeflow has checked"
    return RenderWarning(kind, f"{what}: {why}", manuscript.path, line)


def _finished_ast(out: bytes, missing: list[str], job: RenderJob) -> dict[str, Any]:
    try:
        ast = json.loads(out)
    except ValueError as exc:
        raise CiteflowError("Pandoc returned no readable document", job.source) from exc
    if missing:
        _unlink_dangling(ast["blocks"], _entry_ids(ast["blocks"]))
    _drop_citeproc_meta(ast["meta"])
    return ast


def _drop_citeproc_meta(meta: dict[str, Any]) -> None:
    for key in _CITEPROC_META:
        meta.pop(key, None)


def citeproc_ast(markdown_text: str, job: RenderJob) -> dict[str, Any]:
    """Parse ``markdown_text`` once with citeproc and return Pandoc's JSON AST (see module doc)."""
    return _finished_ast(*_citeproc_json(markdown_text, job), job)


def citeproc_document(markdown_text: str, job: RenderJob) -> _Document:
    """:func:`citeproc_ast` ready for :func:`write_outputs`, for a document not changed in between.

    The writers get Pandoc's JSON as Pandoc wrote it (compacted, see :meth:`_Document.of_json`);
    only when cited keys are missing is the AST built to unlink their citations.
    """
    out, missing = _citeproc_json(markdown_text, job)
    if missing:
        return _Document.of(_finished_ast(out, missing, job))
    try:
        return _Document.of_json(out.decode("utf-8"))
    except ValueError as exc:
        raise CiteflowError("Pandoc returned no readable document", job.source) from exc


def _missing_keys_error(missing: list[str], job: RenderJob) -> CiteflowError:
    lines: dict[str, int] = {}
    for citation in find_citations(job.manuscript):
        if citation.key in missing and citation.key not in lines:
            lines[citation.key] = job.manuscript.line_col(citation.start)[0]
    source = ", ".join(str(b) for b in job.bibliography) or "no bibliography given"
    if len(missing) == 1:
        what = f"citation key '{missing[0]}' is not in the bibliography"
    else:
        listed = ", ".join(f"{k} (line {lines[k]})" if k in lines else k for k in missing)
        what = f"{len(missing)} citation keys are not in the bibliography: {listed}"
    return CiteflowError(f"{what} ({source}); use --allow-missing to render anyway",
                         job.source, lines.get(missing[0]))


def _walk(node: Any):
    """Every dict node of a Pandoc JSON value, depth first."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            content = item.get("c")
            if isinstance(content, list):
                stack.extend(reversed(content))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def _entry_ids(blocks: list) -> set[str]:
    """The ids (``ref-KEY``) of the entries in the reference list."""
    refs = _find_refs(blocks)
    if refs is None:
        return set()
    return {node["c"][0][0] for node in _walk(refs["c"][1])
            if node.get("t") == "Div" and node["c"][0][0].startswith("ref-")}


def _find_refs(blocks: list) -> dict | None:
    """The ``#refs`` div: usually the last top-level block, else anywhere in the document."""
    for block in reversed(blocks):
        if block.get("t") == "Div" and block["c"][0][0] == "refs":
            return block
    for node in _walk(blocks):
        if node.get("t") == "Div" and node["c"][0][0] == "refs":
            return node
    return None


def _unlink_dangling(node: Any, entry_ids: set[str]) -> None:
    """Replace links to ``#ref-KEY`` with their text when no entry KEY exists."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            if (isinstance(item, dict) and item.get("t") == "Link"
                    and item["c"][2][0].startswith("#ref-")
                    and item["c"][2][0][1:] not in entry_ids):
                node[index] = {"t": "Span", "c": [["", ["missing-citation"], []], item["c"][1]]}
            _unlink_dangling(node[index], entry_ids)
    elif isinstance(node, dict) and isinstance(node.get("c"), list):
        _unlink_dangling(node["c"], entry_ids)


# -- layer 3: writers --------------------------------------------------------------------


def compact_inlines(node: Any) -> Any:
    """A copy of ``node`` with runs of words and spaces merged into single ``Str`` elements.

    Pandoc's JSON holds every word and every space as an element of its own, and reading
    that JSON back is the slowest part of each writer. Merging ``Str``/``Space`` runs halves
    the document without changing what HTML, Typst or DOCX writers print: the first element
    of each inline list and the element after a line break stay separate, because writers
    escape markup such as a leading "1." only where a line starts. ``node`` is not modified.
    """
    if isinstance(node, dict):
        content = node.get("c")
        if isinstance(content, list):
            return {"t": node["t"], "c": compact_inlines(content)}
        return node
    if not isinstance(node, list):
        return node
    out: list[Any] = []
    mergeable = False  # may the next Str/Space join out[-1]?
    line_start = True  # is the next element where an output line may start?
    for item in node:
        kind = item.get("t") if isinstance(item, dict) else None
        if kind in ("Str", "Space") and mergeable:
            text = item["c"] if kind == "Str" else " "
            out[-1] = {"t": "Str", "c": out[-1]["c"] + text}
        elif kind == "Space" and not line_start:
            out.append({"t": "Str", "c": " "})
            mergeable = True
        else:
            out.append(compact_inlines(item))
            mergeable = kind == "Str" and not line_start
        line_start = kind in ("LineBreak", "SoftBreak")
    return out


# Compacting Pandoc's JSON text directly (see :meth:`_Document.of_json`): a run of ``Str`` and
# ``Space`` elements, one after the other in a list, as Pandoc writes them.
_STR_JSON = r'\{"t":"Str","c":"[^"\\]*(?:\\.[^"\\]*)*"\}'
_RUN_ITEM = rf'(?:{_STR_JSON}|\{{"t":"Space"\}})'
_JSON_RUN = re.compile(rf"{_RUN_ITEM}(?:,{_RUN_ITEM})*")
_JSON_RUN_ITEM = re.compile(r'\{"t":"Str","c":"([^"\\]*(?:\\.[^"\\]*)*)"\}|\{"t":"Space"\}')
_JSON_BREAKS = ('{"t":"SoftBreak"}', '{"t":"LineBreak"}')
_JSON_CITATION = '{"citation'


def _compact_run(match: re.Match) -> str:
    """One run of Str/Space elements merged as :func:`compact_inlines` merges it."""
    text, start = match.string, match.start()
    items = list(_JSON_RUN_ITEM.finditer(match.group()))
    before = text[start - 1] if start else ""
    line_start = before == "[" or (before == "," and text.endswith(_JSON_BREAKS, 0, start - 1))
    kept = items[0].group() if line_start else ""
    rest = items[1:] if line_start else items
    if not rest:
        return kept
    merged = "".join(" " if item.group(1) is None else item.group(1) for item in rest)
    return f'{kept}{"," if kept else ""}{{"t":"Str","c":"{merged}"}}'


def compact_json(blocks: str) -> str:
    """:func:`compact_inlines` for Pandoc's own JSON text of a list of blocks.

    Works on the text as Pandoc writes it (no spaces, ``"t"`` before ``"c"``), without
    building the AST; like :func:`compact_inlines` it leaves the citations of a ``Cite``
    (their prefix and suffix) as they are.
    """
    parts: list[str] = []
    decoder = json.JSONDecoder()
    done = 0
    while True:
        citation = blocks.find(_JSON_CITATION, done)
        stop = len(blocks) if citation < 0 else citation
        parts.append(_JSON_RUN.sub(_compact_run, blocks[done:stop]))
        if citation < 0:
            return "".join(parts)
        done = decoder.raw_decode(blocks, citation)[1]
        parts.append(blocks[citation:done])


_IMAGE_JSON = '{"t":"Image"'


@dataclass
class _Document:
    """The AST serialised once; each writer gets it with its own metadata.

    A document with images keeps its AST as well (``ast``): each writer gets the images in
    its own form (:mod:`citeflow.output.resources`), so it is serialised once per writer.
    """

    api: str
    meta: dict[str, Any]
    blocks: str
    ast: dict[str, Any] | None = None

    @classmethod
    def of(cls, ast: dict[str, Any], compact: bool = True) -> _Document:
        blocks = json.dumps(compact_inlines(ast["blocks"]) if compact else ast["blocks"],
                            separators=(",", ":"))
        images = _IMAGE_JSON in blocks or _IMAGE_JSON in json.dumps(ast["meta"], separators=(",", ":"))
        return cls(json.dumps(ast["pandoc-api-version"]), ast["meta"], blocks,
                   ast if images else None)

    def for_writer(self, images: ImageSet, fmt: str) -> _Document:
        """This document with its images as the ``fmt`` writer takes them."""
        if self.ast is None:
            return self
        changes = swap_images(self.ast, images, fmt)
        try:
            return _Document.of(self.ast)
        finally:
            restore(changes)

    @classmethod
    def of_json(cls, text: str) -> _Document:
        """The document from Pandoc's JSON text (``-t json``), compacted (:func:`compact_json`).

        Only the metadata is parsed; the blocks stay text. The citeproc settings are dropped
        from the metadata as in :func:`citeproc_ast`. Raises ``ValueError`` for text that is
        not a JSON document.
        """
        decoder = json.JSONDecoder()
        head, meta_key, blocks_key = '{"pandoc-api-version":', ',"meta":', ',"blocks":'
        body = text.rstrip()
        if _IMAGE_JSON in body or not (body.startswith(head) and body.endswith("]}")):
            return cls._parsed(text)
        api, index = decoder.raw_decode(body, len(head))
        if not body.startswith(meta_key, index):
            return cls._parsed(text)
        meta, index = decoder.raw_decode(body, index + len(meta_key))
        if not (isinstance(meta, dict) and body.startswith(blocks_key + "[", index)):
            return cls._parsed(text)
        _drop_citeproc_meta(meta)
        return cls(json.dumps(api), meta, compact_json(body[index + len(blocks_key):-1]))

    @classmethod
    def _parsed(cls, text: str) -> _Document:
        ast = json.loads(text)
        _drop_citeproc_meta(ast["meta"])
        return cls.of(ast)

    def encode(self, meta: dict[str, Any] | None = None) -> bytes:
        meta_json = json.dumps(self.meta if meta is None else meta, separators=(",", ":"))
        return (f'{{"pandoc-api-version":{self.api},"meta":{meta_json},"blocks":{self.blocks}}}'
                .encode())

    def with_front(self, meta: dict[str, Any], blocks: list[dict[str, Any]]) -> _Document:
        """This document with other metadata and ``blocks`` put before its own."""
        body = self.blocks
        if blocks:
            front = json.dumps(blocks, separators=(",", ":"))[1:-1]
            body = f"[{front}{',' if body != '[]' else ''}{body[1:]}"
        return _Document(self.api, meta, body, self.ast)


def _html(doc: _Document, stem: str, source: Path | None, extra_css: str, folder: Path | None) -> bytes:
    meta = with_header(doc.meta, "html", f"<style>\n{HTML_CSS}{TITLE_BLOCK_CSS}{extra_css}\n</style>")
    args = ["-f", "json", "-t", "html5", "--standalone", "--wrap=none"]
    if "title" not in meta and "pagetitle" not in meta:
        args += ["-M", f"pagetitle={stem}"]
    return run_pandoc(args, doc.encode(meta), source, cwd=folder)[0]


def typst_source(doc: _Document, source: Path | None, preamble: str = "") -> bytes:
    """Typst markup for the document (Pandoc's Typst writer, citeflow's template)."""
    meta = with_header(doc.meta, "typst", TYPST_PREAMBLE + preamble)
    # "-citations": citations are already formatted by citeproc, Typst must not redo them.
    markup = run_pandoc(["-f", "json", "-t", "typst-citations", "--standalone", "--wrap=none",
                         "--template", str(TYPST_TEMPLATE)], doc.encode(meta), source)[0]
    return _SUPERSCRIPT_RUN.sub(_boxed_superscript, markup.decode("utf-8")).encode("utf-8")


#: A superscript as Pandoc's Typst writer writes citation numbers (``#super[#link(<ref-a>)[4]–
#: #link(<ref-c>)[6]]``) or a writer types them (``4^1,2^``): numbers, links to reference
#: entries and separators only.
_SUPERSCRIPT_RUN = re.compile(r"#super\[((?:#link\(<[^<>\s]+>\)\[[^\[\]\n]{1,20}\]|[\d,;–\-\u2009 ]){1,200})\]")


def _boxed_superscript(match: re.Match) -> str:
    inner = match.group(1)
    if not re.search(r"[,;–\-]", re.sub(r"#link\(<[^<>\s]+>\)", "", inner)):
        return match.group(0)  # one number: nothing to break
    return f"#box(super[{inner}])"


def compile_typst(typst_markup: bytes, source: Path | None, files: dict[str, bytes] | None = None,
                  folder: str = "", standards: Iterable[tuple[str, ...]] = PDF_STANDARDS,
                  warn: Callable[[str], None] | None = None) -> bytes:
    """Compile Typst markup to PDF bytes with the typst wheel; errors name ``source``.

    Typst sees nothing of the project itself: its root is a new private folder holding
    copies of ``files`` (paths relative to the project root) and the markup, written in the
    project folder ``folder``, so that its relative paths start there.

    The PDF meets the first of ``standards`` (each a tuple of Typst's names: ``"a-2a"``,
    ``"ua-1"``) that the document can meet; ``warn`` is told why a better one was missed
    (an image without alt text, say).
    """
    import typst

    attempts = list(standards) or [()]
    missed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="citeflow-typst-") as private:
        root = Path(private)
        document = write_typst_tree(root, typst_markup, folder, files or {})
        for number, standard in enumerate(attempts):
            try:
                pdf = typst.compile(str(document), root=private, format="pdf",  # type: ignore[call-overload]
                                    pdf_standards=list(standard))
            except typst.TypstError as exc:
                message = " ".join(str(getattr(exc, "message", exc)).split())
            except (RuntimeError, ValueError) as exc:
                message = str(exc)
            else:
                if missed and warn is not None:
                    names = " and ".join(_STANDARD_NAMES.get(s, s) for s in attempts[0])
                    got = " and ".join(_STANDARD_NAMES.get(s, s) for s in standard) or "a tagged PDF"
                    warn(f"the PDF is not {names} ({missed[0]}); written as {got}")
                return pdf
            if not _STANDARD_ERROR.match(message) or number == len(attempts) - 1:
                break
            reason = message.split(":", 1)[-1].strip()
            if "alt text" in reason:
                reason += ": give every image a description, ![what it shows](file.png)"
            missed.append(reason)
    # Paths in Typst's messages are in the private copy: show them as the project's.
    message = message.replace(private + "/", "").replace(private, ".")
    raise CiteflowError(f"Typst could not compile the PDF: {message}", source)


@dataclass
class _Place:
    """Where a document's files come from: the manuscript's folder inside the project root,
    and (trusted only) the raw Typst whose literal file names Typst may read."""

    source: Path | None
    folder: Path
    root: Path
    raw_typst: list[str] = field(default_factory=list)
    job: RenderJob | None = None

    @classmethod
    def of(cls, job: RenderJob | None, source: Path | None, folder: Path | None) -> _Place:
        if job is not None:
            return cls(job.source, job.folder.resolve(), job.project_root, job.raw_typst, job)
        folder = (folder or Path.cwd()).resolve()
        return cls(source, folder, folder)

    def warn(self, message: str) -> None:
        """A warning about the PDF, kept with the job's (when there is a job)."""
        if self.job is not None:
            self.job.warnings.append(RenderWarning(Dropped.PDF_STANDARD, message, self.source))

    @property
    def folder_key(self) -> str:
        return self.folder.relative_to(self.root).as_posix()

    def __post_init__(self) -> None:
        # A manuscript named outside its project (on the command line) has its own folder.
        if not self.folder.is_relative_to(self.root):
            self.root = self.folder


def _pdf(doc: _Document, preamble: str, place: _Place, images: ImageSet) -> bytes:
    files = images.typst_files()
    if place.raw_typst:
        files.update(typst_literal_files(place.raw_typst, place.folder, place.root, place.source))
    markup = typst_source(doc, place.source, preamble)
    if doc.ast is not None:
        markup = _with_alt_texts(markup, doc.ast, images)
    return compile_typst(markup, place.source, files, place.folder_key, warn=place.warn)


def _with_alt_texts(markup: bytes, ast: dict[str, Any], images: ImageSet) -> bytes:
    """Typst markup whose ``image(...)`` calls carry the images' alternative texts."""
    text = markup.decode("utf-8")
    for src, alt in alt_texts(ast).items():
        image = images.images.get(src)
        if image is not None and image.kind is not ImageKind.REMOTE:
            call = f'image("/{image.key}"'
            text = text.replace(call, f"{call}, alt: {typst_string(alt)}")
    return text.encode("utf-8")


def _docx(doc: _Document, source: Path | None, folder: Path | None) -> bytes:
    return run_pandoc(["-f", "json", "-t", "docx", "-o", "-"], doc.encode(), source, cwd=folder)[0]


def parse_formats(value: str | Iterable[str]) -> list[str]:
    """``"html,pdf"`` -> ``["html", "pdf"]``, checking each name; order kept, duplicates dropped."""
    items = value.split(",") if isinstance(value, str) else list(value)
    formats = list(dict.fromkeys(i.strip().lower() for i in items if i.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise CiteflowError(f"unknown output format {', '.join(unknown) or '(none)'}; choose from "
                            + ", ".join(FORMATS))
    return formats


def write_outputs(
    ast: dict[str, Any] | _Document,
    formats: Iterable[str],
    outdir: str | Path,
    stem: str,
    extra_css: str = "",
    typst_preamble: str = "",
    source: Path | None = None,
    resource_path: Path | None = None,
    job: RenderJob | None = None,
    parallel: bool = True,
    title_blocks: bool = True,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> list[Path]:
    """Write ``outdir/stem.<format>`` for each format from one citeproc'd AST.

    The AST is serialised once (see :func:`compact_inlines`) and handed to every writer;
    ``ast`` may also be the document :func:`citeproc_document` returns.
    All outputs are produced in memory (writers in parallel unless ``parallel`` is false),
    then written to temporary files, and only when every one is written are they renamed
    into place: a failure (a full disk) leaves every old output as it was.
    ``extra_css`` is appended to the HTML style sheet, ``typst_preamble`` to the Typst
    preamble. ``job`` (from :func:`prepare`) says where the manuscript's images may come
    from (its project root) and collects warnings about those left out; without it,
    ``source`` names the manuscript in error messages and ``resource_path`` is the folder
    relative image paths start from (and the only one images may come from).
    The front matter's authors, affiliations, date, abstract and keywords are printed as a
    title block after the title (:mod:`citeflow.output.titleblock`) unless ``title_blocks``
    is false; either way each writer gets only the metadata it can use. ``overrides`` gives
    a format a document of its own (the review's DOCX), written with the others.
    """
    formats = parse_formats(list(formats))
    outdir = Path(outdir)
    doc = ast if isinstance(ast, _Document) else _Document.of(ast)
    place = _Place.of(job, source, resource_path)
    images = ImageSet()
    if doc.ast is not None:
        images = collect_images(doc.ast, place.folder, place.root)
        if job is not None:
            job.warnings += [RenderWarning(Dropped(kind), message, job.source,
                                           _line_of(job.manuscript, f"]({src}"))
                             for kind, src, message in images.warnings]
    block = read_title_block(doc.meta if title_blocks else {})
    sources = {fmt: doc for fmt in formats}
    for fmt, other in (overrides or {}).items():
        if fmt in sources:
            collect_images(other, place.folder, place.root)  # refused images replaced, as above
            sources[fmt] = _Document.of(other)
    docs = {fmt: sources[fmt].for_writer(images, fmt).with_front(
                writer_meta(sources[fmt].meta, fmt, block, stem), title_block(block, fmt))
            for fmt in formats}
    if job is not None and "pdf" in formats:
        _, problems = typst_settings({k: v for k, v in doc.meta.items() if k not in TITLE_BLOCK_KEYS})
        job.warnings += [RenderWarning(Dropped.FRONT_MATTER, f"{p.key}: {p.reason}; left out of "
                                       "the PDF", job.source, job.manuscript.front_matter_line(p.key))
                         for p in problems]
    makers = {
        "html": lambda: _html(docs["html"], stem, place.source, extra_css, place.folder),
        "pdf": lambda: _pdf(docs["pdf"], typst_preamble, place, images),
        "docx": lambda: _docx(docs["docx"], place.source, place.folder),
    }
    # The PDF (writer, then Typst) takes longest: start it first.
    order = sorted(formats, key=lambda f: f != "pdf")
    if parallel and len(formats) > 1:
        with ThreadPoolExecutor(max_workers=len(formats)) as pool:
            futures = {fmt: pool.submit(makers[fmt]) for fmt in order}
            produced = {fmt: future.result() for fmt, future in futures.items()}
    else:
        produced = {fmt: makers[fmt]() for fmt in order}
    targets = {outdir / f"{stem}.{fmt}": produced[fmt] for fmt in formats}
    try:
        atomic_write_all(targets)
    except OSError as exc:
        names = ", ".join(path.name for path in targets)
        raise CiteflowError(f"cannot write outputs ({names}): {exc.strerror or exc}; none was "
                            "changed", outdir) from exc
    return list(targets)


# -- all together ------------------------------------------------------------------------


def default_outdir(config: Config) -> Path:
    """``output`` from citeflow.toml (default ``build``), or ./build without a project."""
    return config.output_dir if config.path is not None else Path.cwd() / "build"


def render(
    manuscript_path: str | Path,
    formats: Iterable[str] = ("html", "pdf"),
    csl: str | Path | None = None,
    outdir: str | Path | None = None,
    allow_missing: bool = False,
    config: Config | None = None,
    trusted: bool | None = None,
    warn: Callable[[RenderWarning], None] | None = None,
) -> list[Path]:
    """Render one manuscript to ``outdir/STEM.{html,pdf,docx}``; returns the paths written.

    ``trusted`` keeps raw HTML and Typst (default: ``[render] trusted``); ``warn`` is called
    with each :class:`RenderWarning` about what the outputs leave out.
    """
    formats = parse_formats(list(formats) if not isinstance(formats, str) else formats)
    job = prepare(manuscript_path, csl=csl, config=config, allow_missing=allow_missing,
                  trusted=trusted)
    document = citeproc_document(job.manuscript.text, job)
    target = Path(outdir) if outdir is not None else default_outdir(job.config)
    written = write_outputs(document, formats, target, job.stem, job=job)
    for warning in job.warnings:
        if warn is not None:
            warn(warning)
    return written

