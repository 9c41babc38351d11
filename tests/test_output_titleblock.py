"""The journal title block from the front matter, in HTML, PDF and DOCX; front matter a
format cannot use never breaks it."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from citeflow.cli import main
from citeflow.output.titleblock import read_title_block, typst_settings
from pdfread import pdf_text

DATA = Path(__file__).parent / "data" / "output"
BIB = Path(__file__).parent / "data" / "render" / "dupilumab.bib"


def render(manuscript: Path, out: Path, to: str = "html,pdf,docx"):
    result = CliRunner().invoke(main, ["render", str(manuscript), "--to", to, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return result


def html_text(path: Path) -> str:
    import html

    raw = path.read_text(encoding="utf-8")
    body = raw[raw.index("<body"):]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def docx_xml(path: Path, part: str) -> str:
    with zipfile.ZipFile(path) as docx:
        return docx.read(part).decode("utf-8")


def docx_text(path: Path) -> str:
    xml = docx_xml(path, "word/document.xml")
    paragraphs = re.findall(r"<w:p[ >].*?</w:p>", xml, re.S)
    return "\n".join("".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", p)) for p in paragraphs)


@pytest.fixture(scope="module")
def article(tmp_path_factory):
    folder = tmp_path_factory.mktemp("titleblock")
    shutil.copy(DATA / "title-block.md", folder / "title-block.md")
    shutil.copy(BIB, folder / "dupilumab.bib")
    result = render(folder / "title-block.md", folder / "out")
    return folder / "out", result


AUTHORS = "Andrew Blauvelt1, Marjolein de Bruin-Weller2,*, Melinda Gooderham3"


def test_pdf_title_block_has_authors_affiliations_orcid_corresponding_date_abstract_keywords(article):
    out, _ = article
    text = pdf_text(out / "title-block.pdf")
    first = PdfReader(out / "title-block.pdf").pages[0].extract_text()
    head = " ".join(first[: first.index("Introduction")].split())
    assert "Long-term management of moderate-to-severe atopic dermatitis with dupilumab" in head
    assert "The LIBERTY AD CHRONOS trial" in head  # the subtitle
    assert AUTHORS in head
    assert "1 Oregon Medical Research Center, Portland, OR, USA" in head
    assert "2 Department of Dermatology and Allergology, University Medical Center Utrecht" in head
    assert "Marjolein de Bruin-Weller: https://orcid.org/0000-0002-1825-0097" in head
    assert "*Corresponding author: Marjolein de Bruin-Weller, m.debruin-weller@example.org" in head
    assert "2017-05-04" in head
    assert re.search(r"Abstract\s+Background: Long-term safety", head)
    assert "Keywords: dupilumab; atopic dermatitis; topical corticosteroids" in head
    assert text.index("Keywords:") < text.index("Introduction")


def test_pdf_file_metadata_names_authors_and_keywords(article):
    out, _ = article
    info = PdfReader(out / "title-block.pdf").metadata
    assert info.title.startswith("Long-term management of moderate-to-severe atopic dermatitis")
    assert info.author == "Andrew Blauvelt, Marjolein de Bruin-Weller, Melinda Gooderham"
    assert "dupilumab" in PdfReader(out / "title-block.pdf").metadata.get("/Keywords", "")


def test_html_title_block_and_meta_tags(article):
    out, _ = article
    page = (out / "title-block.html").read_text(encoding="utf-8")
    assert '<meta name="author" content="Marjolein de Bruin-Weller" />' in page
    assert '<meta name="keywords" content="dupilumab, atopic dermatitis, topical corticosteroids" />' in page
    assert '<a href="https://orcid.org/0000-0002-1825-0097">' in page
    assert '<a href="mailto:m.debruin-weller@example.org">' in page
    text = html_text(out / "title-block.html")
    assert "Andrew Blauvelt 1 , Marjolein de Bruin-Weller 2,* , Melinda Gooderham 3" in text
    assert text.index("Abstract") < text.index("Keywords:") < text.index("Introduction")


def test_docx_title_block_uses_words_title_page_styles(article):
    out, _ = article
    text = docx_text(out / "title-block.docx")
    assert "Andrew Blauvelt1, Marjolein de Bruin-Weller2,*, Melinda Gooderham3" in text
    assert "Keywords: dupilumab; atopic dermatitis; topical corticosteroids" in text
    xml = docx_xml(out / "title-block.docx", "word/document.xml")
    for style in ("Title", "Subtitle", "Author", "Date", "AbstractTitle", "Abstract"):
        assert f'<w:pStyle w:val="{style}" />' in xml, style
    core = docx_xml(out / "title-block.docx", "docProps/core.xml")
    assert "<cp:keywords>dupilumab, atopic dermatitis, topical corticosteroids</cp:keywords>" in core


def test_keywords_no_longer_stop_the_pdf(tmp_path):
    # A list of bare words, as most writers type them ("unknown variable: dupilumab").
    shutil.copy(BIB, tmp_path / "dupilumab.bib")
    for keywords in ("[dupilumab, arthralgia]", "dupilumab; arthralgia", "[\"IL-4\", 'a \"quote\"']"):
        (tmp_path / "k.md").write_text(f"---\ntitle: K\nkeywords: {keywords}\n"
                                       "bibliography: dupilumab.bib\n---\n\nText [@simpson2016two].\n",
                                       encoding="utf-8")
        render(tmp_path / "k.md", tmp_path / "out")
        assert "Keywords:" in pdf_text(tmp_path / "out" / "k.pdf"), keywords


def test_settings_typst_cannot_use_are_left_out_with_a_warning(tmp_path):
    (tmp_path / "s.md").write_text(
        "---\ntitle: Settings\nfontsize: 12\npapersize: huge\nmargin: lots\nlinestretch: 1.5\n"
        "columns: 1\nmainfont: Libertinus Serif\n---\n\nText.\n", encoding="utf-8")
    result = render(tmp_path / "s.md", tmp_path / "out")
    warnings = sorted(line for line in result.stderr.splitlines() if "[front-matter]" in line)
    assert warnings == [
        f"citeflow: warning: {tmp_path / 's.md'}:3: fontsize: '12' is not a length such as 11pt; "
        "left out of the PDF [front-matter]",
        f"citeflow: warning: {tmp_path / 's.md'}:4: papersize: 'huge' is not a paper size citeflow "
        "knows (a4, letter, a5, legal, ...); left out of the PDF [front-matter]",
        f"citeflow: warning: {tmp_path / 's.md'}:5: margin: 'lots' is not a length such as 2cm; "
        "left out of the PDF [front-matter]",
    ]
    assert "Text." in pdf_text(tmp_path / "out" / "s.pdf")


def test_front_matter_of_odd_shapes_never_breaks_a_format(tmp_path):
    (tmp_path / "odd.md").write_text(
        "---\ntitle: Odd\nauthor: 5\naffiliations: {name: Somewhere}\n"
        "date: {year: 2024}\nabstract: [one, two]\nkeywords: 42\n---\n\nText.\n",
        encoding="utf-8")
    render(tmp_path / "odd.md", tmp_path / "out")
    text = pdf_text(tmp_path / "out" / "odd.pdf")
    assert "Odd" in text and "Text." in text and "Keywords: 42" in text


def test_affiliations_are_numbered_in_order_of_first_use():
    meta = {
        "author": {"t": "MetaList", "c": [
            {"t": "MetaMap", "c": {"name": {"t": "MetaInlines", "c": [{"t": "Str", "c": "A"}]},
                                   "affiliation": {"t": "MetaInlines", "c": [{"t": "Str", "c": "2"}]}}},
            {"t": "MetaMap", "c": {"name": {"t": "MetaInlines", "c": [{"t": "Str", "c": "B"}]},
                                   "affiliations": {"t": "MetaList", "c": [
                                       {"t": "MetaMap", "c": {"ref": {"t": "MetaInlines", "c": [
                                           {"t": "Str", "c": "1"}]}}}]}}}]},
        "affiliations": {"t": "MetaList", "c": [
            {"t": "MetaMap", "c": {"id": {"t": "MetaInlines", "c": [{"t": "Str", "c": "1"}]},
                                   "name": {"t": "MetaInlines", "c": [{"t": "Str", "c": "One"}]}}},
            {"t": "MetaMap", "c": {"id": {"t": "MetaInlines", "c": [{"t": "Str", "c": "2"}]},
                                   "name": {"t": "MetaInlines", "c": [{"t": "Str", "c": "Two"}]}}}]},
    }
    block = read_title_block(meta)
    assert [a.text[0]["c"] for a in block.affiliations] == ["Two", "One"]
    assert [a.affiliations for a in block.authors] == [[0], [1]]


def test_typst_settings_keep_good_values_as_typst_takes_them():
    meta = {"papersize": {"t": "MetaInlines", "c": [{"t": "Str", "c": "Letter"}]},
            "lang": {"t": "MetaInlines", "c": [{"t": "Str", "c": "en-GB"}]},
            "margin": {"t": "MetaMap", "c": {"x": {"t": "MetaInlines", "c": [{"t": "Str", "c": "2cm"}]}}}}
    kept, problems = typst_settings(meta)
    assert problems == []
    assert kept["papersize"]["c"] == "us-letter" and kept["lang"]["c"] == "en"
    assert kept["margin"]["c"]["x"]["c"] == "2cm"
