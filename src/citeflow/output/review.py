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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citeflow.checks.base import RULES, Finding, Severity
from citeflow.checks.engine import check_manuscript, summarize
from citeflow.claims.detect import block_sentences
from citeflow.document.citations import block_citations
from citeflow.document.manuscript import Block, Manuscript, protected_ranges
from citeflow.document.markdown import escape_inline
from citeflow.output.claimtable import (
    ClaimRow,
    ClaimStats,
    WorkStatuses,
    claim_rows,
    claim_stats,
    cues_from_config,
    plain_sentence,
    rows_to_markdown,
)
from citeflow.output.titleblock import typst_string
from citeflow.references.bibliography import load_bibliography

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
    """A numbered marker, the findings it stands for, and where its highlight goes in the
    manuscript source.

    The review puts one marker on each sentence with findings (:func:`place_findings` with
    ``by_sentence``); a placement may also stand for one finding. ``start``/``end`` are source
    offsets of the highlighted span when ``wrapped``; when not wrapped only a marker is
    inserted, at ``start``. ``start`` is None for findings that have no place in the article
    text (a bibliography entry, the front matter): they are listed in the appendix only.
    """

    number: int
    findings: list[Finding]
    start: int | None
    end: int | None
    wrapped: bool
    sentence: str = ""  # the sentence the marker sits on (plain text), if any

    @property
    def finding(self) -> Finding:
        """The first (most important) finding of the marker."""
        return self.findings[0]

    @property
    def placed(self) -> bool:
        return self.start is not None

    @property
    def codes(self) -> list[str]:
        """The rule codes of the marker's findings, each once, most severe first."""
        ordered = sorted(self.findings, key=lambda f: (-f.severity, f.code))
        return list(dict.fromkeys(f.code for f in ordered))

    @property
    def severity(self) -> Severity:
        return max(f.severity for f in self.findings)


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


class _Placer:
    """Decides where highlights may go in one manuscript, one span after another: a span
    grows until it cuts no structure in two, and it is wrapped only when the result stays
    valid Markdown and nests with the spans wrapped before it."""

    def __init__(self, manuscript: Manuscript) -> None:
        self.manuscript = manuscript
        self.maps: dict[int, _BlockMap] = {}
        self.wrapped: list[tuple[int, int]] = []

    def place(self, block: Block, start_offset: int, end_offset: int) -> tuple[int, int | None, bool]:
        """(start, end or None, wrapped) for the source span in ``block``."""
        bmap = self.maps.setdefault(id(block), _map_block(block))
        content = block.content
        s = min(_content_index(block, start_offset), len(content))
        end_offset = max(end_offset, start_offset)
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
                      or (start <= a and b <= end) for a, b in self.wrapped))
        if ok:
            self.wrapped.append((start, end))
        return start, (end if ok else None), ok


def _sentence_at(block: Block, offset: int, cache: dict[int, list]) -> Any:
    sentences = cache.setdefault(id(block), block_sentences(block))
    for sentence in sentences:
        if sentence.start <= offset < max(sentence.end, sentence.start + 1):
            return sentence
    return None


def place_findings(manuscript: Manuscript, findings: Iterable[Finding],
                   by_sentence: bool = False) -> list[Placement]:
    """Number the findings in reading order and decide how each is shown in the text.

    With ``by_sentence`` the findings of one sentence share one placement (one marker,
    one highlight over the sentence); otherwise each finding has its own. Placements in the
    article come first, in source order; then one for each finding outside it (bibliography
    entries, suppressed findings, code blocks), which have no place in the text. Overlapping
    highlights must nest: a span that would half-overlap one already wrapped gets a marker
    only.
    """
    findings = list(findings)
    in_text = sorted((f for f in findings if _is_in_article(f, manuscript)),
                     key=lambda f: (f.start, -f.end, f.code))
    others = [f for f in findings if not _is_in_article(f, manuscript)]
    groups: dict[tuple, list[Finding]] = {}
    spans: dict[tuple, tuple[Block | None, int, int, str]] = {}
    cache: dict[int, list] = {}
    for finding in in_text:
        block = _block_for(manuscript, finding.start)
        if block is None:  # not in prose (a code block, a comment)
            key: tuple = ("outside", id(finding))
            spans[key] = (None, finding.start, finding.end, "")
        elif by_sentence and (sentence := _sentence_at(block, finding.start, cache)) is not None:
            key = (block.start, sentence.start)
            _, start, end, _ = spans.get(key, (block, sentence.start, sentence.end, ""))
            said = spans[key][3] if key in spans else (finding.sentence or sentence.text)
            spans[key] = (block, min(start, finding.start), max(end, finding.end),
                          plain_sentence(said))
        else:
            key = (block.start, finding.start, id(finding))
            spans[key] = (block, finding.start, finding.end, "")
        groups.setdefault(key, []).append(finding)
    placer = _Placer(manuscript)
    placements: list[Placement] = []
    for key in sorted(groups, key=lambda k: (spans[k][1], -spans[k][2])):
        block, start, end, sentence = spans[key]
        number = len(placements) + 1
        if block is None:
            placements.append(Placement(number, groups[key], None, None, False))
            continue
        at, until, wrapped = placer.place(block, start, end)
        placements.append(Placement(number, groups[key], at, until, wrapped, sentence))
    for finding in others:
        placements.append(Placement(len(placements) + 1, [finding], None, None, False))
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
_MARKER_TAG = re.compile(r'<sup class="cf-marker cf-(\w+)" data-cf-marker="(\d+) ([\w -]+)">')



def open_piece(placement: Placement) -> str:
    style = style_for(placement.severity)
    return f'<mark class="cf-finding cf-{style.name}" id="cf-hl-{placement.number}">'


def close_piece(placement: Placement) -> str:
    return "</mark>"


def marker_label(placement: Placement) -> str:
    """The marker's text: its number and the codes of its findings, ``[3 CF301 CF302]``."""
    return f"[{placement.number} {' '.join(placement.codes)}]"


def marker_piece(placement: Placement) -> str:
    style = style_for(placement.severity)
    return (f'<sup class="cf-marker cf-{style.name}" '
            f'data-cf-marker="{placement.number} {" ".join(placement.codes)}"></sup>')


def _raw_inline(fmt: str, text: str) -> dict:
    return {"t": "RawInline", "c": [fmt, text]}


def _marker_inlines(severity: str, number: str, codes: str) -> list[dict]:
    """The numbered marker: superscript number and rule code, linked to the appendix in HTML."""
    style = _BY_NAME.get(severity, STYLES[Severity.INFO])
    label = f"[{number} {codes}]"
    typst_label = label.replace("[", "\\[").replace("]", "\\]")
    return [
        _raw_inline("html", f'<sup class="cf-marker cf-{style.name}"><a href="#cf-finding-{number}">'
                            f"{html.escape(label)}</a></sup>"),
        _raw_inline("typst", f"#super[#text(fill: rgb({typst_string(style.ink)}), "
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
            out += [item, _raw_inline("typst", f"#highlight(fill: rgb({typst_string(style.fill)}))[")]
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
        if not p.placed or p.start is None:
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


def summary_markdown(findings: Sequence[Finding], stats: ClaimStats, source_name: str,
                     placements: Sequence[Placement] = ()) -> str:
    """The first page: findings by severity and rule, where they are, and how many claims
    cite something."""
    totals = summarize(findings)
    suppressed = f" ({totals['suppressed']} suppressed)" if totals["suppressed"] else ""
    marked = [p for p in placements if p.placed]
    in_text = sum(len(p.findings) for p in marked)
    lines = [
        "::: {.cf-review-summary}",
        f"# Editorial review {_HEADING_ATTRS}",
        "",
        f"{escape_inline(source_name)}: **{_plural(totals['total'], 'finding')}**: "
        f"{totals['error']} error, {totals['warning']} warning, {totals['info']} info"
        f"{suppressed}.",
        "",
    ]
    if placements:
        rest = len(_active(findings)) - in_text
        lines += [f"{_plural(in_text, 'finding')} marked on {_plural(len(marked), 'sentence')} "
                  f"of the text; {rest} about the bibliography or the whole file, listed at the end.",
                  ""]
    lines += [
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
        "Highlights: red = error, yellow = warning, blue = info. Each highlighted sentence ends "
        "with one marker giving its number and rule codes, such as \\[3 CF301 CF302\\]; "
        "*Review findings* at the end lists each marker's messages and candidate references.",
        ":::",
    ]
    return "\n".join(lines) + "\n"


def candidate_label(key: str, bibliography=None, limit: int | None = None) -> str:
    """A candidate reference as an editor recognises it: "Gandhi 2016, Targeting key
    proximal drivers of type 2 inflammation in disease" (the key when the bibliography does
    not hold it); a title longer than ``limit`` characters is cut at a word, with "…"."""
    ref = bibliography.get(key) if bibliography is not None else None
    if ref is None:
        return f"@{key}"
    author = ref.first_author_family
    head = " ".join(part for part in (author, str(ref.year) if ref.year else "") if part)
    title = " ".join((ref.title or "").split())
    if limit is not None and len(title) > limit:
        title = title[:limit].rsplit(" ", 1)[0].rstrip(",:;") + "…"
    return ", ".join(part for part in (head, title) if part) or f"@{key}"


def review_message(finding: Finding) -> str:
    """A finding's message without the candidate keys the checks append to it ("; candidates:
    key1, key2"): the review lists candidates once, by author, year and title."""
    message = finding.message
    if finding.suggestions:
        cut = message.rfind("; candidates: ")
        if cut >= 0:
            message = message[:cut]
    return message


def candidates_of(findings: Iterable[Finding], limit: int = 3) -> list[str]:
    """The candidate reference keys of some findings, each once, best first."""
    keys: list[str] = []
    for finding in findings:
        for suggestion in finding.suggestions:
            if suggestion.key not in keys:
                keys.append(suggestion.key)
    return keys[:limit]


def _where(finding: Finding, manuscript: Manuscript) -> str:
    same_file = (manuscript.path is None or finding.file is None
                 or Path(finding.file).resolve() == manuscript.path.resolve())
    if same_file:
        return f"line {finding.line}"
    return f"{Path(finding.file).name}:{finding.line}"


def sentence_of(placement: Placement, manuscript: Manuscript) -> str:
    """The sentence a placement marks, or the finding's own sentence."""
    if placement.sentence:
        return placement.sentence
    finding = placement.finding
    if finding.sentence or not _is_in_article(finding, manuscript):
        return finding.sentence
    block = _block_for(manuscript, finding.start)
    if block is None:
        return ""
    sentence = _sentence_at(block, finding.start, {})
    return sentence.text if sentence is not None else ""


#: Candidate titles in the printed appendix are cut after this many characters.
APPENDIX_TITLE_LIMIT = 90


def appendix_markdown(placements: Sequence[Placement], manuscript: Manuscript,
                      bibliography=None) -> str:
    """Every marker, numbered as in the text: its line, each finding's code, severity and
    message, the sentence once and its candidate references once; then, one line each, the
    findings about the bibliography or the whole file, and the suppressed ones."""
    lines = ["::: {.cf-review-appendix}", f"# Review findings {_HEADING_ATTRS}", ""]
    if not placements:
        lines += ["No findings.", ""]
    marked = [p for p in placements if p.placed]
    unplaced = [p for p in placements if not p.placed]
    for p in marked:
        anchor = f'<a id="cf-finding-{p.number}"></a>'
        messages = "; ".join(f"{f.code} {f.severity}: {escape_inline(review_message(f))}"
                             for f in sorted(p.findings, key=lambda f: (-f.severity, f.code)))
        parts = [f"{anchor}**{escape_inline(marker_label(p))}** "
                 f"{escape_inline(_where(p.finding, manuscript))}. {messages}"]
        sentence = sentence_of(p, manuscript)
        if sentence:
            parts.append(f"*{escape_inline(plain_sentence(sentence))}*")
        keys = candidates_of(p.findings)
        if keys:
            parts.append("Candidates: " + "; ".join(
                escape_inline(candidate_label(k, bibliography, APPENDIX_TITLE_LIMIT)) for k in keys))
        lines.append("\\\n".join(parts))
        lines.append("")
    if unplaced:
        active = [p for p in unplaced if p.finding.suppressed is None]
        suppressed = [p for p in unplaced if p.finding.suppressed is not None]
        if active:
            lines += [f"## About the bibliography and the whole file {_HEADING_ATTRS}", ""]
        for group in (active, suppressed):
            if group is suppressed and suppressed:
                lines += [f"## Suppressed in the manuscript {_HEADING_ATTRS}", ""]
            for p in group:
                f = p.finding
                anchor = f'<a id="cf-finding-{p.number}"></a>'
                state = f" (suppressed: {f.suppressed})" if f.suppressed is not None else ""
                outside = (" (outside the article's prose)" if f.suppressed is None
                           and _is_in_article(f, manuscript) else "")
                keys = candidates_of([f])
                also = ("; candidates: " + "; ".join(candidate_label(k, bibliography,
                                                                     APPENDIX_TITLE_LIMIT)
                                                     for k in keys) if keys else "")
                lines.append(f"{anchor}**{f.code}** {f.severity}, "
                             f"{escape_inline(_where(f, manuscript) + state + outside)}: "
                             f"{escape_inline(review_message(f) + also)}")
                lines.append("")
    lines.append(":::")
    return "\n".join(lines) + "\n"


def claims_markdown(rows: Sequence[ClaimRow]) -> str:
    body = rows_to_markdown(rows) if rows else "No claim sentences found.\n"
    return f"::: {{.cf-review-claims}}\n# Claims table {_HEADING_ATTRS}\n\n{body}\n:::\n"


_REFS_DIV = re.compile(r"\{#refs\b|id=[\"']refs[\"']")


def review_markdown(manuscript: Manuscript, findings: Sequence[Finding],
                    rows: Sequence[ClaimRow], bibliography=None,
                    references_title: str | None = None,
                    placements: Sequence[Placement] | None = None) -> str:
    """The review document as Pandoc Markdown: summary, highlighted article, reference list,
    findings appendix and claims table.

    The reference list is pinned before the appendix with a ``#refs`` div unless the
    manuscript places it itself; ``references_title`` is then the heading put above it.
    """
    if placements is None:
        placements = place_findings(manuscript, findings, by_sentence=True)
    body = highlight_markdown(manuscript, placements)
    # highlight_markdown keeps the front matter in place: the summary goes right after it.
    head_end = manuscript.body_start
    name = manuscript.path.name if manuscript.path else "manuscript"
    summary = summary_markdown(findings, claim_stats(rows), name, placements)
    head, rest = body[:head_end], body[head_end:]
    parts = [head, "\n", summary, "\n", rest.rstrip("\r\n"), "\n\n"]
    if not _REFS_DIV.search(manuscript.text):
        if references_title:
            parts.append(f"# {escape_inline(references_title)}\n\n")
        parts.append("::: {#refs}\n:::\n\n")
    parts += [appendix_markdown(placements, manuscript, bibliography), "\n", claims_markdown(rows)]
    return "".join(parts)


# --------------------------------------------------------------------------------------
# Each format's review from the one citeproc'd document

#: Divs of the review document that only the PDF and HTML copies have.
REVIEW_PARTS = ("cf-review-summary", "cf-review-appendix", "cf-review-claims")


def _div_class(block: Any) -> str | None:
    if isinstance(block, dict) and block.get("t") == "Div":
        classes = block["c"][0][1]
        return next((c for c in classes if c in REVIEW_PARTS), None)
    return None


def printed_review(ast: dict[str, Any]) -> dict[str, Any]:
    """The PDF/HTML review: the summary alone on the first page of the PDF, the appendix on
    pages of its own, it and the claims table set small (in place)."""
    blocks = []
    for block in ast["blocks"]:
        kind = _div_class(block)
        if kind in ("cf-review-appendix", "cf-review-claims"):
            block["c"][0][2].append(["typst:text:size", "9pt"])
            block["c"][1].insert(0, {"t": "RawBlock", "c": ["typst", "#set par(spacing: 0.75em, justify: false)"]})
        if kind == "cf-review-appendix":
            blocks.append({"t": "RawBlock", "c": ["typst", "#pagebreak(weak: true)"]})
        blocks.append(block)
        if kind == "cf-review-summary":
            blocks.append({"t": "RawBlock", "c": ["typst", "#pagebreak(weak: true)"]})
    ast["blocks"] = blocks
    return ast


# --------------------------------------------------------------------------------------
# Rendering

FORMATS = ("pdf", "html", "docx")


def render_review(
    manuscript_path: str | Path,
    outdir: str | Path | None = None,
    csl: str | Path | None = None,
    config=None,
    result=None,
    trusted: bool | None = None,
    warn=None,
    formats: Iterable[str] = ("pdf", "html"),
) -> list[Path]:
    """Write ``DIR/STEM.review.{pdf,html,docx}`` (the ``formats`` asked for); return their
    paths.

    The PDF and HTML show every finding in place (one marker per sentence) with a summary
    page up front, an appendix and the claims table; the DOCX is the article with each
    finding as a Word comment (:mod:`citeflow.output.docx_review`).

    ``result`` is a check result for this manuscript when one is at hand (``citeflow build``
    has just checked it); otherwise the checks run here. Citation keys missing from the
    bibliography do not stop the review: they are findings like any other. The manuscript's
    own raw HTML and Typst are dropped unless it is ``trusted`` (as in
    :func:`citeflow.output.render.render`, which says what ``warn`` gets); the review's highlights
    stay.
    """
    import copy

    from citeflow.output import render as rendering
    from citeflow.output.docx_review import comment_review

    wanted = rendering.parse_formats(list(formats))
    source = Path(manuscript_path)
    job = rendering.prepare(source, csl=csl, config=config, allow_missing=True, trusted=trusted,
                            manuscript=result.manuscript if result is not None else None)
    if result is None:
        result = check_manuscript(source, config=job.config)
    bibliography = getattr(result, "bibliography", None)
    if bibliography is None:
        bibliography = load_bibliography(job.bibliography, missing_ok=True)
    rows = claim_rows(job.manuscript, bibliography, getattr(result, "claims", None),
                      cues=cues_from_config(job.config),
                      statuses=WorkStatuses.of_project(source, job.config))
    findings = list(result.findings)
    placements = place_findings(job.manuscript, findings, by_sentence=True)
    # The reference list heading is written into the review document, before the appendix.
    references_title = job.metadata.pop("reference-section-title", None)
    text = review_markdown(job.manuscript, findings, rows, bibliography, references_title,
                           placements)
    ast = rendering.citeproc_ast(text, job)
    overrides = {}
    if "docx" in wanted:
        overrides["docx"] = comment_review(copy.deepcopy(ast), placements, findings,
                                           job.manuscript, bibliography)
    ast = printed_review(finish_review_ast(ast))
    target = Path(outdir) if outdir is not None else rendering.default_outdir(job.config)
    written = rendering.write_outputs(ast, wanted, target, f"{job.stem}.review",
                                      extra_css=REVIEW_CSS, job=job, title_blocks=False,
                                      overrides=overrides)
    for warning in job.warnings:
        if warn is not None:
            warn(warning)
    return written
