"""The editorial review: findings highlighted in place, summary, appendix, claims table."""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citeflow.checks.base import Finding, Severity
from citeflow.checks.engine import check_manuscript
from citeflow.document.manuscript import parse_manuscript
from citeflow.errors import CiteflowError
from citeflow.output.review import (
    highlight_markdown,
    marker_label,
    place_findings,
    render_review,
    sentence_of,
)
from citeflow.pandoc import pandoc_path

DATA = Path(__file__).parent / "data" / "review"


# --------------------------------------------------------------------------------------
# Helpers


def _normal(text: str) -> str:
    """Text compared without whitespace, hyphenation or typographic quotes."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    text = text.replace("\u201d", '"')
    return re.sub(r"[\s\-\u00ad*]+", "", text)


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def _prose_prefix(sentence: str) -> str:
    """The sentence up to its first citation, footnote or placeholder bracket."""
    return re.split(r"\s*\[", sentence, maxsplit=1)[0]


def _finding(manuscript, needle: str, code="CF301", severity=Severity.WARNING) -> Finding:
    start = manuscript.text.index(needle)
    end = start + len(needle)
    line, col = manuscript.line_col(start)
    end_line, end_col = manuscript.line_col(end)
    return Finding(manuscript.path, line, col, end_line, end_col, code, severity,
                   f"{code} at {needle[:20]}", needle, start=start, end=end)


def _pandoc_ast(text: str) -> dict:
    out = subprocess.run([pandoc_path(), "-f", "markdown", "-t", "json"], input=text.encode(),
                         capture_output=True, check=True).stdout
    return json.loads(out)


def _structure(node):
    """A Pandoc AST without raw inlines, adjacent strings merged: what the reader sees."""
    if isinstance(node, list):
        items = [_structure(n) for n in node
                 if not (isinstance(n, dict) and n.get("t") == "RawInline")]
        merged: list = []
        for item in items:
            if (merged and isinstance(item, dict) and item.get("t") == "Str"
                    and isinstance(merged[-1], dict) and merged[-1].get("t") == "Str"):
                merged[-1] = {"t": "Str", "c": merged[-1]["c"] + item["c"]}
            else:
                merged.append(item)
        return merged
    if isinstance(node, dict):
        if node.get("t") == "Table":
            # A longer source line makes a pipe table's columns relative: layout, not content.
            node = {**node, "c": [*node["c"][:2], [[a, "default"] for a, _ in node["c"][2]],
                                  *node["c"][3:]]}
        return {k: _structure(v) for k, v in node.items()}
    return node


# --------------------------------------------------------------------------------------
# The real thing: check + review of a manuscript with findings in every structure


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review")
    for name in ("structures.md", "dupilumab.bib"):
        shutil.copy(DATA / name, folder / name)
    manuscript = folder / "structures.md"
    result = check_manuscript(manuscript)
    paths = render_review(manuscript, outdir=folder / "out", result=result)
    return result, paths, folder


def test_review_writes_pdf_and_html_named_after_the_manuscript(reviewed):
    _, paths, folder = reviewed
    assert sorted(p.name for p in paths) == ["structures.review.html", "structures.review.pdf"]
    assert all(p.parent == folder / "out" and p.stat().st_size > 1000 for p in paths)


def test_pdf_text_has_each_sentences_marker_next_to_it(reviewed):
    result, paths, _ = reviewed
    text = _normal(_pdf_text(paths[0]))
    placements = place_findings(result.manuscript, result.findings, by_sentence=True)
    in_article = [p for p in placements if p.placed]
    assert len(in_article) == 9
    appendix = text[text.rindex(_normal("Review findings")):]
    for p in in_article:
        label = _normal(marker_label(p))
        sentence = _normal(_prose_prefix(sentence_of(p, result.manuscript)))
        # In the article: the marker follows the highlighted sentence (or starts it).
        assert label in text, p.finding
        # In the appendix: the label, the message, then the sentence.
        entry = appendix[appendix.index(label):]
        assert sentence[:60] in entry[:len(sentence) + 400], (p.finding.code, sentence)
    body = text[: text.rindex(_normal("Review findings"))]
    for p in in_article:
        if p.wrapped:  # the marker closes the highlighted sentence
            sentence = _normal(sentence_of(p, result.manuscript))
            at = body.index(sentence[:20])
            marker = body.index(_normal(marker_label(p)))
            assert 0 < marker - at <= len(sentence) + 30, p.finding


def test_pdf_starts_with_the_summary_and_ends_with_the_claims_table(reviewed):
    result, paths, _ = reviewed
    text = _pdf_text(paths[0])
    summary = result.summary()
    first_page = pypdf.PdfReader(paths[0]).pages[0].extract_text()
    assert "Editorial review" in first_page
    assert f"{summary['total']} findings" in first_page
    assert (f"{summary['claims_supported']} of {summary['claims']}"
            in first_page.replace("\n", " "))
    for code, count in summary["by_rule"].items():
        assert re.search(rf"{code}\s+\S+\s+\w+\s+{count}\b", first_page), code
    tail = _normal(text[text.rindex("Claims table"):])
    assert "unsupported" in tail
    assert _normal("Targeting key proximal drivers of type 2 inflammation") in tail
    # The article's own reference list comes before the appendix.
    assert text.index("\nReferences\n") < text.rindex("Review findings") < text.rindex("Claims table")


def test_html_keeps_each_highlight_with_its_severity_and_marker(reviewed):
    result, paths, _ = reviewed
    page = paths[1].read_text(encoding="utf-8")
    placements = place_findings(result.manuscript, result.findings, by_sentence=True)
    for p in placements:
        if not p.placed:
            continue
        severity = str(p.severity)
        assert f'href="#cf-finding-{p.number}">{marker_label(p)}</a>' in page
        assert f'id="cf-finding-{p.number}"' in page  # the appendix entry it links to
        if p.wrapped:
            mark = re.search(rf'<mark class="cf-finding cf-{severity}" id="cf-hl-{p.number}">'
                             r"(.*?)</mark>", page, re.S)
            assert mark, p.finding
            highlighted = result.manuscript.text[p.start:p.end]
            shown = re.sub("<[^>]+>", "", mark.group(1))
            assert re.sub(r"\W", "", highlighted)[:12] in re.sub(r"\W", "", shown)
    assert "mark.cf-error" in page and "background" in page  # the colours travel with it


def test_html_highlights_sit_inside_list_items_quotes_footnotes_and_cells(reviewed):
    _, paths, _ = reviewed
    page = paths[1].read_text(encoding="utf-8")
    assert re.search(r"<li><mark class=\"cf-finding cf-warning\"[^>]*>Joint pain is a "
                     r"<em>common side effect</em>", page)
    assert re.search(r"<blockquote>\s*<p><mark[^>]*>Experts agree", page)
    assert re.search(r'<li id="fn1"><p><mark[^>]*>Blocking IL-4', page)
    assert re.search(r"<th><sup class=\"cf-marker cf-warning\">", page)  # table: marker only
    assert re.search(r"<mark[^>]*>A placeholder remains here \[citation needed\]\.</mark>", page)


def test_bibliography_findings_are_listed_in_the_appendix_only(reviewed):
    result, paths, _ = reviewed
    text = _pdf_text(paths[0])
    unused = [f for f in result.findings if f.code == "CF106"]
    assert unused
    appendix = text[text.rindex("Review findings"):]
    body = text[: text.rindex("Review findings")]
    assert "CF106" not in body.split("Editorial review", 1)[1].split("Highlights:", 1)[1]
    assert appendix.count("CF106") == len(unused)
    assert "dupilumab.bib:" in appendix


# --------------------------------------------------------------------------------------
# The Markdown transform on its own


def test_span_crossing_emphasis_gets_a_marker_at_its_start_only():
    text = "Some *emphasised claim. Next* sentence here.\n"
    manuscript = parse_manuscript(text, "m.md")
    finding = _finding(manuscript, "claim. Next* sentence")
    (placement,) = place_findings(manuscript, [finding])
    assert not placement.wrapped and placement.start == text.index("claim")
    out = highlight_markdown(manuscript, [placement])
    assert "<mark" not in out and 'data-cf-marker="1 CF301"' in out
    assert _structure(_pandoc_ast(out)) == _structure(_pandoc_ast(text))


def test_span_ending_inside_a_citation_grows_to_the_whole_bracket():
    text = "Dupilumab works [see @smith2020, p. 3; @doe2021] in most people.\n"
    manuscript = parse_manuscript(text, "m.md")
    finding = _finding(manuscript, "works [see @smith2020")
    (placement,) = place_findings(manuscript, [finding])
    assert placement.wrapped
    assert text[placement.start:placement.end] == "works [see @smith2020, p. 3; @doe2021]"
    ast = _pandoc_ast(highlight_markdown(manuscript, [placement]))
    cites = [n for n in json.dumps(ast).split('"citationId": ')[1:]]
    assert [c.split('"')[1] for c in cites] == ["smith2020", "doe2021"]


def test_overlapping_findings_nest_or_fall_back_to_markers():
    text = "Alpha beta gamma delta epsilon zeta eta theta.\n"
    manuscript = parse_manuscript(text, "m.md")
    outer = _finding(manuscript, "Alpha beta gamma delta epsilon zeta eta theta.")
    inner = _finding(manuscript, "gamma delta", code="CF303")
    across = _finding(manuscript, "epsilon zeta eta theta.", code="CF302")
    half = Finding(manuscript.path, 1, 1, 1, 1, "CF101", Severity.ERROR, "x",
                   start=text.index("delta"), end=text.index("zeta"))
    placements = place_findings(manuscript, [outer, inner, across, half])
    wrapped = {p.finding.code: p.wrapped for p in placements}
    assert wrapped == {"CF301": True, "CF303": True, "CF302": True, "CF101": False}
    html = subprocess.run([pandoc_path(), "-f", "markdown", "-t", "html"],
                          input=highlight_markdown(manuscript, placements).encode(),
                          capture_output=True, check=True).stdout.decode()
    assert html.count("<mark") == html.count("</mark>") == 3
    assert html.count('class="cf-marker') == 4


STRUCTURED = r"""---
title: T
---

# Heading about *dupilumab* safety

Plain text with **bold words** and `code span` and a [link](http://example.org/x_y) and
math $a*b$ and a citation [@key2020, p. 4] and a note^[inline *note* text] here.

- item one with _emphasis_ inside
- item two [see @other2019]

> quoted line one
> quoted line two with ~~strike~~

| a | b |
|---|---|
| cell *x* | cell y |

Text with a footnote[^n] and 5^th^ super, an image ![alt *x*](fig.png){width=50%}, a
[reference link][r], <span class="x">raw *html*</span>, \*escaped\* stars, a
<!-- comment --> and <https://example.org/auto> here.

[r]: https://example.org/ref

[^n]: Footnote text with H~2~O.
"""


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 120)), min_size=1, max_size=6))
def test_any_findings_leave_the_document_structure_unchanged(spans):
    manuscript = parse_manuscript(STRUCTURED, "m.md")
    body = len(STRUCTURED) - manuscript.body_start
    findings = []
    for offset, length in spans:
        start = manuscript.body_start + offset % body
        end = min(start + length, len(STRUCTURED))
        findings.append(Finding(manuscript.path, 1, 1, 1, 1, "CF301", Severity.WARNING, "m",
                                start=start, end=end))
    placements = place_findings(manuscript, findings)
    ast = _pandoc_ast(highlight_markdown(manuscript, placements))
    assert _structure(ast) == _original_structure()
    raw = [item["c"][1] for item in _inlines(ast) if item.get("t") == "RawInline"]
    placed = [p for p in placements if p.placed]
    assert sum('class="cf-marker' in r for r in raw) == len(placed)
    assert (sum(r.startswith("<mark") for r in raw) == raw.count("</mark>")
            == sum(p.wrapped for p in placed))


@functools.lru_cache(maxsize=1)
def _original_structure():
    return _structure(_pandoc_ast(STRUCTURED))


def _inlines(node):
    if isinstance(node, dict):
        yield node
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            yield from _inlines(item)


# --------------------------------------------------------------------------------------
# Bad input


def test_missing_bibliography_is_an_error_naming_the_manuscript_and_writes_nothing(tmp_path):
    manuscript = tmp_path / "m.md"
    manuscript.write_text("---\nbibliography: gone.bib\n---\n\nText [@a].\n", encoding="utf-8")
    with pytest.raises(CiteflowError) as info:
        render_review(manuscript, outdir=tmp_path / "out")
    assert "gone.bib" in str(info.value) and str(manuscript) in str(info.value)
    assert info.value.line == 2
    assert not (tmp_path / "out").exists()
