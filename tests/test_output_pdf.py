"""The PDF an editor gets: tables across pages, DOIs that copy, unbroken superscripts, a
tagged and accessible file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pybtex.database import parse_file
from pypdf import PdfReader

from citeflow.checks.engine import check_manuscript
from citeflow.cli import main
from pdfread import conformance, overprinted, page_texts, pdf_text, pdftotext

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "manuscripts" / "dupilumab-arthralgia-review.md"
DRAFT = ROOT / "manuscripts" / "dupixent-joint-pain.md"
BIB = Path(__file__).parent / "data" / "render" / "dupilumab.bib"
FIGURE = Path(__file__).parent / "data" / "output" / "arthralgia-bars.png"

pytestmark = pytest.mark.slow


def render(manuscript: Path, out: Path, *args: str, to: str = "pdf"):
    result = CliRunner().invoke(main, ["render", str(manuscript), "--to", to, "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return result


def project(tmp_path: Path, front: str, body: str, name: str = "m.md") -> Path:
    shutil.copy(BIB, tmp_path / "refs.bib")
    manuscript = tmp_path / name
    manuscript.write_text(f"---\n{front}bibliography: refs.bib\n---\n\n{body}\n", encoding="utf-8")
    return manuscript


def bib_dois() -> dict[str, str]:
    return {k: e.fields["doi"] for k, e in parse_file(str(BIB)).entries.items() if "doi" in e.fields}


def draft_sentences() -> list[str]:
    """Sentences of the real web draft, for tables and paragraphs of real text."""
    body = DRAFT.read_text(encoding="utf-8").split("---", 2)[2]
    prose = " ".join(line.lstrip("- ") for line in body.splitlines()
                     if line.strip() and not line.startswith("#"))
    return [s.strip() for s in re.split(r"(?<=[.?!])\s+", prose) if len(s.split()) > 4]


# -- DOIs and the hyphen -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hyphenated_first(tmp_path_factory):
    """A page on which words are hyphenated before any real hyphen appears, then the
    reference list, whose DOIs hold hyphens: the case where every hyphen used to extract as
    a soft hyphen. Narrow A5 pages make Typst hyphenate; the prose is the sample article's."""
    folder = tmp_path_factory.mktemp("hyphen")
    keys = ["gandhi2016targeting", "blauvelt2017longterm", "bachert2019efficacy",
            "woodbury2023dupilumab", "beck2020dupilumab", "simpson2016two", "castro2018dupilumab"]
    prose = ("Type 2 inflammation drives atopic dermatitis, asthma and chronic rhinosinusitis "
             "with nasal polyps, and dupilumab is now used across these diseases. Interrupting "
             "this shared pathway explains why a single antibody is effective in several type 2 "
             "diseases of the skin and airways. ")
    body = prose * 3 + "[" + "; ".join(f"@{k}" for k in keys) + "]."
    manuscript = project(folder, "title: Hyphens\npapersize: a5\n", body)
    render(manuscript, folder / "out", to="pdf,html")
    return folder / "out" / "m.pdf", [bib_dois()[k] for k in keys]


def test_every_doi_comes_back_exactly_from_pypdf(hyphenated_first):
    pdf, dois = hyphenated_first
    text = pdf_text(pdf)
    assert re.search(r"[a-z]-\n[a-z]", text), "the test needs words hyphenated by Typst"
    assert "\u00ad" not in text
    for doi in dois:
        assert doi in text, doi  # on one line, every hyphen a hyphen
    assert "S0140-6736(17)31191-1" in text and "s40257-023-00804-5" in text


def test_every_doi_comes_back_exactly_from_pdftotext(hyphenated_first):
    pdf, dois = hyphenated_first
    text = pdftotext(pdf)
    if text is None:
        pytest.skip("poppler's pdftotext is not installed")
    for doi in dois:
        assert doi in text, doi


def test_dois_and_urls_are_never_hyphenated_or_split(tmp_path):
    render(SAMPLE, tmp_path)
    text = pdf_text(tmp_path / f"{SAMPLE.stem}.pdf")
    references = text[text.index("References"):]
    for line in references.splitlines():
        if "doi:" in line and not line.rstrip().endswith("doi:"):
            doi = line.split("doi:", 1)[1].strip()
            assert doi in bib_dois().values(), line  # the whole DOI on its line
    for doi in bib_dois().values():
        if f"doi:{doi}" in re.sub(r"\s+", "", references):
            assert doi in references, doi


def test_superscript_ranges_stay_on_one_line(tmp_path):
    keys = ["gandhi2016targeting", "matsunaga2020dupilumab", "salvati2022therapeutical",
            "sanofi2017dupixent"]
    cite = "[" + "; ".join(f"@{k}" for k in keys) + "]"
    sentences = draft_sentences()[:40]
    # Sentences of every length, each ending in the superscript range 1–4.
    body = " ".join(s.rstrip(".") + " " + cite + "." for s in sentences)
    manuscript = project(tmp_path, "title: Ranges\n", body)
    render(manuscript, tmp_path / "out")
    text = pdf_text(tmp_path / "out" / "m.pdf")
    assert text.count("1–4") >= 35
    assert not re.search(r"\d–\s*\n\s*\d", text)
    assert not re.search(r"\n–", text)


# -- tables ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tall_table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("table")
    rows = [f"| {n} | {s.replace('|', '/')} | {len(s.split())} |"
            for n, s in enumerate(draft_sentences(), start=1)]
    body = ("The draft's sentences, one a row.\n\n| # | Sentence | Words |\n|--:|:-----|--:|\n"
            + "\n".join(rows) + "\n\n: Table 1. Sentences of the draft\n")
    manuscript = project(folder, "title: A tall table\n", body)
    render(manuscript, folder / "out", to="pdf,html,docx")
    return folder / "out" / "m.pdf"


def test_a_table_taller_than_a_page_breaks_without_rows_on_top_of_each_other(tall_table):
    pages = page_texts(tall_table)
    assert len(pages) >= 3
    assert overprinted(tall_table) == []
    text = pdf_text(tall_table)
    for n in range(1, len(draft_sentences()) + 1):
        assert re.search(rf"(?m)^{n} ", text), n


def test_its_header_row_repeats_on_every_page(tall_table):
    with_rows = [t for t in page_texts(tall_table) if re.search(r"(?m)^\d+ \S", t)]
    assert len(with_rows) >= 2
    assert all(re.search(r"#\s*Sentence\s*Words", t) for t in with_rows)


def test_a_caption_that_numbers_itself_is_printed_once(tall_table):
    text = pdf_text(tall_table)
    assert text.count("Table 1. Sentences of the draft") == 1
    assert "Table 1:" not in text


def test_the_review_claims_table_is_readable_on_every_page(tmp_path):
    result = CliRunner().invoke(main, ["render", str(DRAFT), "--review", "--to", "pdf", "-o",
                                       str(tmp_path)])
    assert result.exit_code == 0, result.output
    review = tmp_path / f"{DRAFT.stem}.review.pdf"
    assert overprinted(review) == []
    text = pdf_text(review)
    claims = text[text.rindex("Claims table"):]
    sentences = len(check_manuscript(DRAFT).claims)
    assert sentences > 15
    for number in range(1, sentences + 1):  # every claim sentence of the draft, in order
        assert re.search(rf"(?m)^{number} \d+ ", claims), number


# -- a tagged, accessible file -----------------------------------------------------------------------


def test_the_pdf_is_tagged_pdf_ua_and_pdf_a_with_title_and_language(tmp_path):
    render(SAMPLE, tmp_path)
    pdf = tmp_path / f"{SAMPLE.stem}.pdf"
    reader = PdfReader(pdf)
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en"
    assert reader.metadata.title == "Dupilumab and Joint Pain: What the Evidence Shows"
    claims = conformance(pdf)
    assert claims["pdfuaid:part"] == "1"
    assert (claims["pdfaid:part"], claims["pdfaid:conformance"]) == ("2", "A")


def test_language_and_title_come_from_the_front_matter_or_the_file_name(tmp_path):
    manuscript = project(tmp_path, "lang: de-DE\n", "Dupilumab wirkt [@simpson2016two].",
                         name="ohne-titel.md")
    render(manuscript, tmp_path / "out")
    reader = PdfReader(tmp_path / "out" / "ohne-titel.pdf")
    assert reader.trailer["/Root"]["/Lang"] == "de"
    assert reader.metadata.title == "ohne-titel"
    assert conformance(tmp_path / "out" / "ohne-titel.pdf")["pdfuaid:part"] == "1"


def test_an_image_gets_its_description_as_alt_text(tmp_path):
    shutil.copy(FIGURE, tmp_path / "bars.png")
    manuscript = project(tmp_path, "title: Figure\n",
                         "![Arthralgia by treatment arm](bars.png)\n\nSee the figure.")
    result = render(manuscript, tmp_path / "out")
    assert "[pdf-standard]" not in result.stderr
    assert conformance(tmp_path / "out" / "m.pdf")["pdfuaid:part"] == "1"


def test_an_image_without_description_costs_pdf_ua_with_a_warning_not_the_pdf(tmp_path):
    shutil.copy(FIGURE, tmp_path / "bars.png")
    manuscript = project(tmp_path, "title: Figure\n", "Bars: ![](bars.png)")
    result = render(manuscript, tmp_path / "out", to="pdf,html")
    warning = [line for line in result.stderr.splitlines() if "[pdf-standard]" in line]
    assert warning == [f"citeflow: warning: {manuscript}: the PDF is not PDF/A-2a and PDF/UA-1 "
                       "(missing alt text: give every image a description, "
                       "![what it shows](file.png)); written as PDF/A-2b [pdf-standard]"]
    claims = conformance(tmp_path / "out" / "m.pdf")
    assert (claims["pdfaid:part"], claims["pdfaid:conformance"]) == ("2", "B")
    assert "pdfuaid:part" not in claims


def test_typst_attributes_of_an_untrusted_manuscript_are_dropped(tmp_path):
    # Pandoc's Typst writer pastes `typst:` attributes in as code.
    manuscript = project(tmp_path, "title: Attributes\n",
                         '::: {typst:text:fill="rgb(255, 0, 0)" typst:inset="read(\\"/etc/passwd\\")"}\n'
                         "Dupilumab improved atopic dermatitis [@simpson2016two].\n:::")
    result = render(manuscript, tmp_path / "out")
    warnings = [line for line in result.stderr.splitlines() if "[attribute]" in line]
    assert len(warnings) == 1 and "typst:" in warnings[0]
    assert "Dupilumab improved atopic dermatitis" in pdf_text(tmp_path / "out" / "m.pdf")
