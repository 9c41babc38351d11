"""The editorial review: the article with every finding highlighted in place.

``render_review`` writes ``STEM.review.html`` and ``STEM.review.pdf``: a summary up front
(findings by rule, the share of claim sentences that cite something), the article with each
finding's span highlighted in a colour by severity and followed by a numbered marker that
carries the rule code, an appendix listing every finding, and the claims table.

The highlighting works on the Markdown source, before Pandoc sees it: each highlight is an
inline ``<mark>`` tag pair followed by a ``<sup>`` marker tag, which Pandoc reads as raw HTML
inlines without touching the manuscript's own structure. After the citeproc pass
:func:`finish_review_ast` adds the Typst twin of each piece to the AST (``#highlight`` and
``#super``), so the HTML and the PDF show the same highlights. A span may only be wrapped
where the result stays valid Markdown: both ends inside the same prose block, no code span,
link target, math, raw HTML or citation bracket cut in two, emphasis delimiters balanced, no
table cell boundary crossed. A span that cannot be wrapped gets its marker alone, at its start.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from citeflow.references.bibliography import load_bibliography
from citeflow.checks.base import RULES, Finding, Severity
from citeflow.checks.engine import check_manuscript, summarize
from citeflow.document.citations import block_citations
from citeflow.claims.detect import block_sentences
from citeflow.output.claimtable import (
    ClaimRow,
    ClaimStats,
    claim_rows,
    claim_stats,
    cues_from_config,
    plain_sentence,
    rows_to_markdown,
)
from citeflow.document.manuscript import Block, Manuscript, protected_ranges
from citeflow.document.markdown import escape_inline

# --------------------------------------------------------------------------------------
# Colours


@dataclass(frozen=True)
class SeverityStyle:
    """How a severity looks: CSS class suffix, highlight fill and marker ink."""

    name: str
    fill: str
    ink: str


STYLES: dict[Severity, SeverityStyle] = {
    Severity.ERROR: SeverityStyle("error", "#ffc9c9", "#a4000f"),
    Severity.WARNING: SeverityStyle("warning", "#ffe8a3", "#7a4f00"),
    Severity.INFO: SeverityStyle("info", "#d3e5ff", "#0b4f9c"),
}

REVIEW_CSS = """
mark.cf-finding { padding: 0 .1em; border-radius: .15em; }
mark.cf-error { background: #ffc9c9; }
mark.cf-warning { background: #ffe8a3; }
mark.cf-info { background: #d3e5ff; }
sup.cf-marker { font-weight: bold; font-size: .7em; white-space: nowrap; }
sup.cf-marker a { text-decoration: none; color: inherit; }
sup.cf-error { color: #a4000f; }
sup.cf-warning { color: #7a4f00; }
sup.cf-info { color: #0b4f9c; }
.cf-review-summary { border: 1px solid #bbb; padding: .2em 1em; margin-bottom: 2em;
  background: #fafafa; }
.cf-review-appendix p { margin: 0 0 .8em; }
"""


def style_for(severity: Severity) -> SeverityStyle:
    return STYLES.get(Severity(severity), STYLES[Severity.INFO])


# --------------------------------------------------------------------------------------
# Where each finding goes


@dataclass
class Placement:
    """A numbered finding and where its highlight goes in the manuscript source.

    ``start``/``end`` are source offsets of the highlighted span when ``wrapped``; when not
    wrapped only a marker is inserted, at ``start``. ``start`` is None for a finding that has
    no place in the article text (a bibliography entry, the front matter): it is listed in
    the appendix only.
    """

    number: int
    finding: Finding
    start: int | None
    end: int | None
    wrapped: bool

    @property
    def placed(self) -> bool:
        return self.start is not None


_DELIMS = "*_~^"


@dataclass
class _BlockMap:
    """A prose block with the structures a highlight must not cut, in content indices."""

    block: Block
    atomic: list[tuple[int, int]]  # code, link targets, math, raw HTML, citation brackets
    brackets: list[tuple[int, int, int, int]]  # (outer start, inner start, inner end, outer end)


def _content_index(block: Block, offset: int) -> int:
    """First content index whose source offset is at or after ``offset``."""
    return bisect.bisect_left(block.offsets, offset)


def _map_block(block: Block) -> _BlockMap:
    content = block.content
    protected = protected_ranges(content)
    atomic = list(protected)
    for citation in block_citations(block):
        atomic.append((_content_index(block, citation.bracket_start),
                       _content_index(block, citation.bracket_end)))
    # Attribute blocks ``{#id .class}`` after a span, link or heading text; superscripts
    # ``5^th^``, subscripts ``H~2~O`` and footnote references ``[^1]``, which may hold no
    # raw pieces.
    for match in re.finditer(r"(?<=[\]\w)])\{[^{}\n]*\}|\^[^\s^\[\]]+\^|\[\^[^\]\s]+\]"
                             r"|(?<!~)~[^\s~]+~(?!~)", content):
        atomic.append((match.start(), match.end()))
    link_targets = {start: end for start, end in protected if content.startswith("](", start)}
    protected_at = dict(protected)
    brackets: list[tuple[int, int, int, int]] = []
    stack: list[int] = []
    i = 0
    while i < len(content):
        char = content[i]
        if i in link_targets:  # "](url)" closes a link text; "{width=50%}" may follow
            end = link_targets[i]
            follow = re.match(r"\{[^{}]*\}", content[end:])
            end += follow.end() if follow else 0
            if stack:
                open_at = stack.pop()
                outer = open_at - 1 if open_at and content[open_at - 1] in "!^" else open_at
                brackets.append((outer, open_at + 1, i, end))
            i = end
            continue
        if i in protected_at:
            i = protected_at[i]
            continue
        if char == "\\":
            i += 2
            continue
        if char == "[":
            stack.append(i)
        elif char == "]" and stack:
            open_at = stack.pop()
            outer = open_at - 1 if open_at and content[open_at - 1] in "!^" else open_at
            end = i + 1
            follow = re.match(r"\[[^\[\]]*\]|\{[^{}]*\}", content[end:])
            if follow:
                end += follow.end()
            brackets.append((outer, open_at + 1, i, end))
        i += 1
    # Brackets left open cannot be nested into safely: make them atomic to the block end.
    for open_at in stack:
        atomic.append((open_at, len(content)))
    return _BlockMap(block, sorted(atomic), brackets)


def _expand(span: tuple[int, int], bmap: _BlockMap) -> tuple[int, int]:
    """Grow a content span until it cuts no atomic range and no bracket pair in two."""
    s, e = span
    for _ in range(50):
        before = (s, e)
        for a, b in bmap.atomic:
            if a < s < b:
                s = a
            if a < e < b:
                e = b
        for outer_s, inner_s, inner_e, outer_e in bmap.brackets:
            inside = inner_s <= s and e <= inner_e
            covers = s <= outer_s and outer_e <= e
            disjoint = e <= outer_s or s >= outer_e
            if inside or covers or disjoint:
                continue
            s, e = min(s, outer_s), max(e, outer_e)
        if (s, e) == before:
            break
    return s, e


def _splits_delimiter_run(content: str, i: int) -> bool:
    """True when content index ``i`` falls between two characters of one ``**``-like run."""
    return 0 < i < len(content) and content[i - 1] == content[i] and content[i] in _DELIMS


def _after_backslash(content: str, i: int) -> bool:
    """True when ``content[i]`` is escaped: a position between ``\\`` and what it escapes."""
    run = len(content[:i]) - len(content[:i].rstrip("\\"))
    return i < len(content) and run % 2 == 1


def _balanced(content: str, s: int, e: int, bmap: _BlockMap, is_table: bool) -> bool:
    """True when the inline markup between content indices s and e is self-contained."""
    text = list(content[s:e])
    # Code, math, citations and whole bracketed pieces inside the span may hold anything.
    inner = [(a, b) for a, b in bmap.atomic] + [(a, b) for a, _, _, b in bmap.brackets
                                                 if s <= a and b <= e]
    for a, b in inner:
        for k in range(max(a, s), min(b, e)):
            text[k - s] = "x"
    piece = "".join(text)
    piece = re.sub(r"\\.", "xx", piece)
    if is_table and "|" in piece:
        return False
    piece = re.sub(r"(?<=[A-Za-z0-9])_(?=[A-Za-z0-9])", "x", piece)  # intraword underscores
    return all(piece.count(d) % 2 == 0 for d in _DELIMS)


_REFERENCE_DEFINITION = re.compile(r"\s{0,3}\[(?!\^)[^\]]+\]:\s*\S")


def _block_for(manuscript: Manuscript, offset: int) -> Block | None:
    """The prose block holding ``offset``; a link reference definition is not prose."""
    for block in manuscript.prose_blocks():
        if block.offsets and block.start <= offset <= block.offsets[-1]:
            return None if _REFERENCE_DEFINITION.match(block.content) else block
    return None


def _is_in_article(finding: Finding, manuscript: Manuscript) -> bool:
    if finding.suppressed is not None:
        return False
    if manuscript.path is not None and finding.file is not None:
        try:
            if Path(finding.file).resolve() != manuscript.path.resolve():
                return False
        except OSError:
            return False
    return manuscript.body_start <= finding.start <= len(manuscript.text)


def place_findings(manuscript: Manuscript, findings: Iterable[Finding]) -> list[Placement]:
    """Number the findings in reading order and decide how each is shown in the text.

    Findings in the article come first, in source order; the others (bibliography entries,
    suppressed findings) follow. Overlapping highlights must nest: a span that would
    half-overlap one already wrapped gets a marker only.
    """
    findings = list(findings)
    in_text = sorted((f for f in findings if _is_in_article(f, manuscript)),
                     key=lambda f: (f.start, -f.end, f.code))
    others = [f for f in findings if not _is_in_article(f, manuscript)]
    maps: dict[int, _BlockMap] = {}
    placements: list[Placement] = []
    wrapped_spans: list[tuple[int, int]] = []
    for number, finding in enumerate(in_text, start=1):
        block = _block_for(manuscript, finding.start)
        if block is None:
            # Not in prose (a code block, a comment): listed in the appendix only.
            placements.append(Placement(number, finding, None, None, False))
            continue
        bmap = maps.setdefault(id(block), _map_block(block))
        content = block.content
        s = min(_content_index(block, finding.start), len(content))
        end_offset = max(finding.end, finding.start)
        e = _content_index(block, end_offset)
        crosses_block = end_offset > block.offsets[-1] + 1
        if e <= s:
            e = min(s + 1, len(content))
        s, e = _expand((s, min(e, len(content))), bmap)
        if _after_backslash(content, s):
            s -= 1
        if _after_backslash(content, e):
            e += 1
        while s > 0 and _splits_delimiter_run(content, s):
            s -= 1
        while e < len(content) and _splits_delimiter_run(content, e):
            e += 1
        start, end = block.source_offset(s), block.source_offset(e)
        ok = (not crosses_block and e > s
              and _balanced(content, s, e, bmap, block.kind == "table")
              and all(end <= a or start >= b or (a <= start and end <= b)
                      or (start <= a and b <= end) for a, b in wrapped_spans))
        if ok:
            wrapped_spans.append((start, end))
        placements.append(Placement(number, finding, start, end if ok else None, ok))
    for number, finding in enumerate(others, start=len(placements) + 1):
        placements.append(Placement(number, finding, None, None, False))
    return placements


# --------------------------------------------------------------------------------------
# The pieces inserted into the Markdown, and what they become for each writer
#
# The Markdown gets plain inline HTML tags: Pandoc reads them as raw HTML inlines wherever
# they stand (next to a code span, inside a table cell or a footnote), and the HTML writer
# passes them through. :func:`finish_review_ast` then puts the Typst twin of each tag next
# to it in the AST, and expands each marker tag into its full HTML and Typst forms.

_BY_NAME = {style.name: style for style in STYLES.values()}
_OPEN_TAG = re.compile(r'<mark class="cf-finding cf-(\w+)" id="cf-hl-(\d+)">')
_MARKER_TAG = re.compile(r'<sup class="cf-marker cf-(\w+)" data-cf-marker="(\d+) ([\w-]+)">')


def _typst_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def open_piece(placement: Placement) -> str:
    style = style_for(placement.finding.severity)
    return f'<mark class="cf-finding cf-{style.name}" id="cf-hl-{placement.number}">'


def close_piece(placement: Placement) -> str:
    return "</mark>"


def marker_label(placement: Placement) -> str:
    return f"[{placement.number} {placement.finding.code}]"


def marker_piece(placement: Placement) -> str:
    style = style_for(placement.finding.severity)
    return (f'<sup class="cf-marker cf-{style.name}" '
            f'data-cf-marker="{placement.number} {placement.finding.code}"></sup>')


def _raw_inline(fmt: str, text: str) -> dict:
    return {"t": "RawInline", "c": [fmt, text]}


def _marker_inlines(severity: str, number: str, code: str) -> list[dict]:
    """The numbered marker: superscript number and rule code, linked to the appendix in HTML."""
    style = _BY_NAME.get(severity, STYLES[Severity.INFO])
    label = f"[{number} {code}]"
    typst_label = label.replace("[", "\\[").replace("]", "\\]")
    return [
        _raw_inline("html", f'<sup class="cf-marker cf-{style.name}"><a href="#cf-finding-{number}">'
                            f"{html.escape(label)}</a></sup>"),
        _raw_inline("typst", f"#super[#text(fill: rgb({_typst_string(style.ink)}), "
                             f'weight: "bold")[{typst_label}]];'),
    ]


def finish_review_ast(node: Any, _open: list[bool] | None = None) -> Any:
    """Give every highlight and marker tag in a Pandoc JSON AST its Typst twin (in place).

    A ``</mark>`` closes the innermost open ``<mark>``; only those opened by a highlight
    get a Typst closing piece, so a manuscript's own ``<mark>`` tags are left alone.
    """
    stack = [] if _open is None else _open
    if isinstance(node, dict):
        for key in ("blocks", "c"):  # a whole document, or one element
            if isinstance(node.get(key), list):
                finish_review_ast(node[key], stack)
        return node
    if not isinstance(node, list):
        return node
    out: list = []
    index = 0
    while index < len(node):
        item = node[index]
        index += 1
        if not (isinstance(item, dict) and item.get("t") == "RawInline"
                and item["c"][0] == "html"):
            out.append(finish_review_ast(item, stack))
            continue
        raw = item["c"][1]
        opened, marker = _OPEN_TAG.fullmatch(raw), _MARKER_TAG.fullmatch(raw)
        if opened:
            style = _BY_NAME.get(opened.group(1), STYLES[Severity.INFO])
            stack.append(True)
            out += [item, _raw_inline("typst", f"#highlight(fill: rgb({_typst_string(style.fill)}))[")]
        elif marker:
            out += _marker_inlines(*marker.groups())
            following = node[index] if index < len(node) else None
            if isinstance(following, dict) and following.get("t") == "RawInline" \
                    and following["c"] == ["html", "</sup>"]:
                index += 1
        elif raw.lower().startswith("<mark"):
            stack.append(False)
            out.append(item)
        elif raw.lower() == "</mark>" and stack:
            out.append(item)
            if stack.pop():
                out.append(_raw_inline("typst", "];"))
        else:
            out.append(item)
    node[:] = out
    return node


def highlight_markdown(manuscript: Manuscript, placements: Sequence[Placement]) -> str:
    """The manuscript source with every placed finding's highlight and marker inserted.

    At one position, closing pieces come first (inner highlights before outer ones), then
    markers, then opening pieces (outer before inner), so nested highlights stay nested.
    """
    inserts: list[tuple[int, tuple, str]] = []
    for p in placements:
        if not p.placed:
            continue
        if p.wrapped:
            assert p.end is not None
            inserts.append((p.start, (2, -p.end, p.number), open_piece(p)))
            inserts.append((p.end, (0, -p.start, -p.number), close_piece(p)))
            inserts.append((p.end, (1, p.start, p.number), marker_piece(p)))
        else:
            inserts.append((p.start, (1, p.start, p.number), marker_piece(p)))
    inserts.sort(key=lambda item: (item[0], item[1]))
    text = manuscript.text
    out: list[str] = []
    last = 0
    for position, _, piece in inserts:
        out.append(text[last:position])
        out.append(piece)
        last = position
    out.append(text[last:])
    return "".join(out)


# --------------------------------------------------------------------------------------
# Summary, appendix, the whole review document

_HEADING_ATTRS = "{.unnumbered .unlisted}"


def _active(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.suppressed is None]


def rule_counts(findings: Iterable[Finding]) -> list[tuple[str, str, Severity, int]]:
    """``(code, rule name, severity, count)`` per rule, most severe first, then by code."""
    active = _active(findings)
    counts = summarize(active)["by_rule"]
    severity = {code: max(f.severity for f in active if f.code == code) for code in counts}
    rows = [(code, RULES[code].name if code in RULES else "", severity[code], count)
            for code, count in counts.items()]
    return sorted(rows, key=lambda row: (-row[2], row[0]))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary_markdown(findings: Sequence[Finding], stats: ClaimStats, source_name: str) -> str:
    """The box up front: findings by severity and rule, and how many claims cite something."""
    totals = summarize(findings)
    suppressed = f" ({totals['suppressed']} suppressed)" if totals["suppressed"] else ""
    lines = [
        "::: {.cf-review-summary}",
        f"# Editorial review {_HEADING_ATTRS}",
        "",
        f"{escape_inline(source_name)}: **{_plural(totals['total'], 'finding')}**: "
        f"{totals['error']} error, {totals['warning']} warning, {totals['info']} info"
        f"{suppressed}.",
        "",
        f"Claim sentences that cite a reference: **{stats.cited} of {stats.claims}**"
        + (f" ({stats.share:.0%})." if stats.claims else "."),
        "",
    ]
    counts = rule_counts(findings)
    if counts:
        lines += ["| Rule | Name | Severity | Findings |", "|:--|:--|:--|--:|"]
        for code, name, severity, count in counts:
            lines.append(f"| {code} | {escape_inline(name)} | {severity} | {count} |")
        lines.append("")
    lines += [
        "Highlights: red = error, yellow = warning, blue = info. The marker after each "
        "highlight gives the finding's number and rule; *Review findings* at the end lists them.",
        ":::",
    ]
    return "\n".join(lines) + "\n"


def _candidate_text(suggestion, bibliography) -> str:
    ref = bibliography.get(suggestion.key) if bibliography is not None else None
    title = ""
    if ref is not None and ref.title:
        title = f" {ref.title}" + (f" ({ref.year})" if ref.year else "")
    return escape_inline(f"@{suggestion.key}{title}")


def _where(placement: Placement, manuscript: Manuscript) -> str:
    finding = placement.finding
    same_file = (manuscript.path is None or finding.file is None
                 or Path(finding.file).resolve() == manuscript.path.resolve())
    if same_file:
        return f"line {finding.line}"
    return f"{Path(finding.file).name}:{finding.line}"


def sentence_of(placement: Placement, manuscript: Manuscript) -> str:
    """The finding's sentence, or the sentence of the manuscript it sits in."""
    finding = placement.finding
    if finding.sentence or not _is_in_article(finding, manuscript):
        return finding.sentence
    block = _block_for(manuscript, finding.start)
    if block is None:
        return ""
    for sentence in block_sentences(block):
        if sentence.start <= finding.start < max(sentence.end, sentence.start + 1):
            return sentence.text
    return ""


def appendix_markdown(placements: Sequence[Placement], manuscript: Manuscript,
                      bibliography=None) -> str:
    """Every finding, numbered as in the text: code, severity, place, message, sentence and
    candidate references. One paragraph each, so the code and the sentence stay together
    in the PDF's text."""
    lines = ["::: {.cf-review-appendix}", f"# Review findings {_HEADING_ATTRS}", ""]
    if not placements:
        lines += ["No findings.", ""]
    for p in placements:
        f = p.finding
        anchor = f'<a id="cf-finding-{p.number}"></a>'
        label = escape_inline(marker_label(p))
        state = f", suppressed: {f.suppressed}" if f.suppressed is not None else ""
        parts = [f"{anchor}**{label}** {f.severity}, {escape_inline(_where(p, manuscript) + state)}: "
                 f"{escape_inline(f.message)}"]
        sentence = sentence_of(p, manuscript)
        if sentence:
            parts.append(f"Sentence: *{escape_inline(plain_sentence(sentence))}*")
        if f.suggestions:
            parts.append("Candidate references: "
                         + "; ".join(_candidate_text(s, bibliography) for s in f.suggestions))
        if f.suppressed is not None:
            parts.append("(Suppressed in the manuscript; not highlighted.)")
        elif not p.placed and _is_in_article(f, manuscript):
            parts.append("(Not highlighted: outside the article's prose.)")
        lines.append("\\\n".join(parts))
        lines.append("")
    lines.append(":::")
    return "\n".join(lines) + "\n"


def claims_markdown(rows: Sequence[ClaimRow]) -> str:
    body = rows_to_markdown(rows) if rows else "No claim sentences found.\n"
    return f"# Claims table {_HEADING_ATTRS}\n\n{body}"


_REFS_DIV = re.compile(r"\{#refs\b|id=[\"']refs[\"']")


def review_markdown(manuscript: Manuscript, findings: Sequence[Finding],
                    rows: Sequence[ClaimRow], bibliography=None,
                    references_title: str | None = None) -> str:
    """The review document as Pandoc Markdown: summary, highlighted article, reference list,
    findings appendix and claims table.

    The reference list is pinned before the appendix with a ``#refs`` div unless the
    manuscript places it itself; ``references_title`` is then the heading put above it.
    """
    placements = place_findings(manuscript, findings)
    body = highlight_markdown(manuscript, placements)
    # highlight_markdown keeps the front matter in place: the summary goes right after it.
    head_end = manuscript.body_start
    name = manuscript.path.name if manuscript.path else "manuscript"
    summary = summary_markdown(findings, claim_stats(rows), name)
    head, rest = body[:head_end], body[head_end:]
    parts = [head, "\n", summary, "\n", rest.rstrip("\r\n"), "\n\n"]
    if not _REFS_DIV.search(manuscript.text):
        if references_title:
            parts.append(f"# {escape_inline(references_title)}\n\n")
        parts.append("::: {#refs}\n:::\n\n")
    parts += [appendix_markdown(placements, manuscript, bibliography), "\n", claims_markdown(rows)]
    return "".join(parts)


# --------------------------------------------------------------------------------------
# Rendering


def render_review(
    manuscript_path: str | Path,
    outdir: str | Path | None = None,
    csl: str | Path | None = None,
    config=None,
    result=None,
    trusted: bool | None = None,
    warn=None,
) -> list[Path]:
    """Write ``DIR/STEM.review.pdf`` and ``DIR/STEM.review.html``; return their paths.

    ``result`` is a check result for this manuscript when one is at hand (``citeflow build``
    has just checked it); otherwise the checks run here. Citation keys missing from the
    bibliography do not stop the review: they are findings like any other. The manuscript's
    own raw HTML and Typst are dropped unless it is ``trusted`` (as in
    :func:`citeflow.output.render.render`, which says what ``warn`` gets); the review's highlights
    stay.
    """
    from citeflow.output import render as rendering

    source = Path(manuscript_path)
    job = rendering.prepare(source, csl=csl, config=config, allow_missing=True, trusted=trusted,
                            manuscript=result.manuscript if result is not None else None)
    if result is None:
        result = check_manuscript(source, config=job.config)
    bibliography = getattr(result, "bibliography", None)
    if bibliography is None:
        bibliography = load_bibliography(job.bibliography, missing_ok=True)
    rows = claim_rows(job.manuscript, bibliography, getattr(result, "claims", None),
                      cues=cues_from_config(job.config))
    # The reference list heading is written into the review document, before the appendix.
    references_title = job.metadata.pop("reference-section-title", None)
    text = review_markdown(job.manuscript, list(result.findings), rows, bibliography,
                           references_title)
    ast = finish_review_ast(rendering.citeproc_ast(text, job))
    target = Path(outdir) if outdir is not None else rendering.default_outdir(job.config)
    written = rendering.write_outputs(ast, ["pdf", "html"], target, f"{job.stem}.review",
                                      extra_css=REVIEW_CSS, job=job)
    for warning in job.warnings:
        if warn is not None:
            warn(warning)
    return written
