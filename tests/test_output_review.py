"""The review a busy editor reads: one marker per sentence, candidates once, a one-page
summary, a compact appendix, the review as Word comments, and `--review` with `--to`."""

from __future__ import annotations

import html
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from citeflow.checks.engine import check_manuscript
from citeflow.cli import main
from citeflow.output.review import marker_label, place_findings
from pdfread import page_texts, pdf_text

ROOT = Path(__file__).resolve().parents[1]
DRAFT = ROOT / "manuscripts" / "dupixent-joint-pain.md"
DATA = Path(__file__).parent / "data" / "output"
BIB = Path(__file__).parent / "data" / "render" / "dupilumab.bib"

pytestmark = pytest.mark.slow


def invoke(*args: str):
    return CliRunner().invoke(main, ["render", *map(str, args)])


@pytest.fixture(scope="module")
def draft(tmp_path_factory):
    """The real web draft (over thirty findings) reviewed in every format."""
    out = tmp_path_factory.mktemp("draft")
    result = invoke(DRAFT, "--review", "--to", "pdf,html,docx", "-o", out)
    assert result.exit_code == 0, result.output
    return out, check_manuscript(DRAFT)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Excerpts of the draft with two findings in one sentence (an unknown key and a
    placeholder)."""
    folder = tmp_path_factory.mktemp("small")
    shutil.copy(DATA / "review-draft.md", folder / "review-draft.md")
    shutil.copy(BIB, folder / "dupilumab.bib")
    manuscript = folder / "review-draft.md"
    result = invoke(manuscript, "--review", "--to", "pdf,docx", "-o", folder / "out")
    assert result.exit_code == 0, result.output
    return folder / "out", check_manuscript(manuscript)


def _one_line(text: str) -> str:
    return " ".join(text.replace("\u00ad\n", "").replace("-\n", "-").split())


# -- the printed review --------------------------------------------------------------------------------


def test_one_marker_per_sentence_lists_its_codes(small):
    out, result = small
    text = _one_line(pdf_text(out / "review-draft.review.pdf"))
    placements = [p for p in place_findings(result.manuscript, result.findings, by_sentence=True)
                  if p.placed]
    labels = [marker_label(p) for p in placements]
    assert "[2 CF101 CF201]" in labels  # two findings, one sentence, one marker
    assert len(labels) == len({p.sentence for p in placements})
    for label in labels:
        assert text.count(label) == 2, label  # in the text, and heading its appendix entry
    assert "[2 CF101]" not in text and "[3 CF201]" not in text


def test_candidates_are_listed_once_by_author_year_and_title(draft):
    out, result = draft
    text = _one_line(pdf_text(out / f"{DRAFT.stem}.review.pdf"))
    appendix = text[text.rindex("Review findings"):text.rindex("Claims table")]
    assert "candidates: gandhi2016targeting" not in appendix  # the keys of the message: gone
    entries = re.split(r"(?=\[\d+ CF\d{3})", appendix)[1:]
    in_text = [f for f in result.active() if str(f.file) == str(DRAFT)]
    assert len(entries) == len({f.sentence for f in in_text})  # one entry per sentence
    with_candidates = [e for e in entries if "Candidates:" in e]
    suggested = {f.sentence for f in in_text if f.suggestions}
    assert len(with_candidates) == len(suggested) >= 5
    for entry in with_candidates:
        listed = entry.split("Candidates:", 1)[1].strip()
        names = re.findall(r"(?:^|; )([A-Z][\w-]+ (?:19|20)\d\d), ", listed)
        assert names and len(names) == len(set(names)), entry
    assert "Gandhi 2016, Targeting key proximal drivers of type 2 inflammation in disease" in appendix


def test_the_summary_is_the_whole_first_page(draft):
    out, result = draft
    pages = page_texts(out / f"{DRAFT.stem}.review.pdf")
    first = _one_line(pages[0])
    summary = result.summary()
    assert "Editorial review" in first and f"{summary['total']} findings" in first
    for code, count in summary["by_rule"].items():
        assert re.search(rf"{code} \S+ \w+ {count}\b", first), code
    assert "Dupixent (dupilumab) has revolutionized" not in first
    assert _one_line(pages[1]).startswith("Dupixent (dupilumab) has revolutionized")


def test_the_appendix_is_compact(draft):
    out, _ = draft
    pages = page_texts(out / f"{DRAFT.stem}.review.pdf")
    start = next(i for i, t in enumerate(pages) if re.search(r"(?m)^Review findings\s*$", t))
    end = next(i for i, t in enumerate(pages) if re.search(r"(?m)^Claims table\s*$", t))
    # 27 findings on sentences and 14 about the bibliography: under three pages
    # (it took four and a half); the claims table after it has a row per claim (26).
    assert end - start <= 2
    assert len(pages) <= 8


def test_bibliography_findings_are_one_line_each_at_the_end(draft):
    out, result = draft
    text = pdf_text(out / f"{DRAFT.stem}.review.pdf")
    unused = [f for f in result.findings if f.code == "CF106"]
    section = text[text.index("About the bibliography and the whole file"):text.rindex("Claims table")]
    lines = [line for line in section.splitlines() if "CF106" in line]
    assert len(lines) == len(unused) == 14
    assert all(re.search(r"CF106 info, dupilumab\.bib:\d+: \w+ is not cited", line) for line in lines)


# -- the review in Word ----------------------------------------------------------------------------------


def _docx(path: Path) -> tuple[str, str]:
    with zipfile.ZipFile(path) as docx:
        return (docx.read("word/document.xml").decode("utf-8"),
                docx.read("word/comments.xml").decode("utf-8"))


def _comments(xml: str) -> dict[str, tuple[str, str]]:
    found = {}
    for ident, author, body in re.findall(r'<w:comment w:id="(\d+)" w:author="([^"]*)"[^>]*>(.*?)</w:comment>',
                                          xml, re.S):
        found[ident] = (author, html.unescape("".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", body))))
    return found


def _anchored(document: str, ident: str) -> str:
    """The text a comment is anchored on."""
    start = document.index(f'<w:commentRangeStart w:id="{ident}"')
    end = document.index(f'<w:commentRangeEnd w:id="{ident}"')
    return html.unescape("".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", document[start:end])))


def test_every_finding_is_one_word_comment_by_citeflow(draft):
    out, result = draft
    document, comments = _docx(out / f"{DRAFT.stem}.review.docx")
    found = _comments(comments)
    active = [f for f in result.findings if f.suppressed is None]
    assert len(found) == len(active) > 30
    assert {author for author, _ in found.values()} == {"citeflow"}
    for ident in found:
        assert document.count(f'<w:commentRangeStart w:id="{ident}"') == 1
        assert document.count(f'<w:commentRangeEnd w:id="{ident}"') == 1
        assert document.count(f'<w:commentReference w:id="{ident}"') == 1
    codes = sorted(re.match(r"CF\d{3}", text).group() for _, text in found.values())
    assert codes == sorted(f.code for f in active)


def test_comments_sit_on_their_sentence_and_name_code_message_and_candidates(draft):
    out, _ = draft
    document, comments = _docx(out / f"{DRAFT.stem}.review.docx")
    found = _comments(comments)
    revolutionized = next(i for i, (_, t) in found.items() if "revolutionized" in t)
    assert _anchored(document, revolutionized) == (
        "Dupixent (dupilumab) has revolutionized the treatment of atopic dermatitis (eczema), "
        "asthma, and chronic rhinosinusitis with nasal polyposis.")
    assert found[revolutionized][1].startswith(
        'CF301 (warning): claim without a citation (superlative cue "revolutionized"). '
        "Candidates: Bachert 2019, Efficacy and safety of dupilumab in patients with severe "
        "chronic rhinosinusitis with nasal polyps")
    placeholder = next(i for i, (_, t) in found.items() if t.startswith("CF201"))
    assert "Specific citations would be inserted here" in _anchored(document, placeholder)


def test_findings_about_the_bibliography_are_comments_at_the_start(draft):
    out, result = draft
    document, comments = _docx(out / f"{DRAFT.stem}.review.docx")
    found = _comments(comments)
    unused = [i for i, (_, t) in found.items() if t.startswith("CF106 (info):")]
    assert len(unused) == 14
    for ident in unused:
        assert _anchored(document, ident).startswith(
            f"citeflow review of dupixent-joint-pain.md: {len(result.active())} findings")
    body = re.sub(r"<[^>]+>", "", document)
    assert body.index("citeflow review of") < body.index("Dupixent (dupilumab) has revolutionized")
    assert "Editorial review" not in body and "Claims table" not in body  # the printed parts


def test_two_findings_of_one_sentence_are_two_comments_on_it(small):
    out, _ = small
    document, comments = _docx(out / "review-draft.review.docx")
    found = _comments(comments)
    both = [i for i, (_, t) in found.items() if t.startswith(("CF101", "CF201"))]
    assert len(both) == 2
    sentence = ("Studies on ScienceDirect and other databases often mention joint pain as an "
                "adverse event in clinical trials")
    assert all(_anchored(document, i).startswith(sentence) for i in both)


# -- `--review` and `--to` ----------------------------------------------------------------------------------


def test_review_with_to_docx_writes_the_article_and_its_review_in_word(tmp_path):
    shutil.copy(DATA / "review-draft.md", tmp_path / "m.md")
    shutil.copy(BIB, tmp_path / "dupilumab.bib")
    result = invoke(tmp_path / "m.md", "--review", "--to", "docx", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output  # the unknown key is a finding, not an error
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["m.docx", "m.review.docx"]
    assert result.output.splitlines() == [f"wrote {tmp_path / 'out' / 'm.docx'}",
                                          f"wrote {tmp_path / 'out' / 'm.review.docx'}"]


def test_review_without_to_writes_html_and_pdf_of_both(tmp_path):
    shutil.copy(DATA / "review-draft.md", tmp_path / "m.md")
    shutil.copy(BIB, tmp_path / "dupilumab.bib")
    assert invoke(tmp_path / "m.md", "--review", "-o", tmp_path / "out").exit_code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "m.html", "m.pdf", "m.review.html", "m.review.pdf"]


def test_help_says_what_review_writes():
    text = " ".join(CliRunner().invoke(main, ["render", "--help"]).output.split())
    assert "Also write the editorial review, in the formats of --to" in text
    assert "STEM.review.docx (every finding a Word comment)" in text
