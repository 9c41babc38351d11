"""`citeflow render`: HTML, PDF (Typst) and DOCX from one citeproc pass, and its errors."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from pybtex.database import parse_file
from pypdf import PdfReader

from citeflow.cli import main
from citeflow.output import render as render_module
from citeflow.output.render import _Document, citeproc_ast, prepare, typst_source, write_outputs
from citeflow.pandoc import run_pandoc

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "manuscripts" / "dupilumab-arthralgia-review.md"
DATA = Path(__file__).parent / "data" / "render"


def invoke(*args: str):
    return CliRunner().invoke(main, ["render", *args])


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def squash(text: str) -> str:
    """PDF text without whitespace or hyphenation breaks (DOIs wrap across lines)."""
    return re.sub(r"-\n", "-", re.sub(r"\s+", "", text))


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.styles = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "style":
            self.styles += 1


def html_text(path: Path) -> str:
    """The visible text of an HTML file, tags removed and spaces collapsed."""
    import html as html_lib

    raw = path.read_text(encoding="utf-8")
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", raw)).split())


def links(html_path: Path) -> Links:
    parser = Links()
    parser.feed(html_path.read_text(encoding="utf-8"))
    return parser


def cited_dois() -> dict[str, str]:
    """DOI of every entry the sample cites, read from the BibTeX with pybtex."""
    text = SAMPLE.read_text(encoding="utf-8")
    keys = set(re.findall(r"@([\w-]+)", text.split("---", 2)[2]))
    bib = parse_file(str(ROOT / "references" / "dupilumab.bib"))
    return {k: e.fields["doi"] for k, e in bib.entries.items() if k in keys and "doi" in e.fields}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The finished sample rendered once to every format with the project's defaults."""
    out = tmp_path_factory.mktemp("sample")
    result = invoke(str(SAMPLE), "--to", "html,pdf,docx", "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def style_texts(tmp_path_factory):
    """PDF text of the sample in several styles."""
    texts = {}
    for style in ("vancouver", "the-lancet-oncology", "jama"):
        out = tmp_path_factory.mktemp(style)
        result = invoke(str(SAMPLE), "--to", "pdf", "--csl", style, "-o", str(out))
        assert result.exit_code == 0, result.output
        texts[style] = pdf_text(out / "dupilumab-arthralgia-review.pdf")
    return texts


# -- the finished sample -------------------------------------------------------------------


def test_pdf_shows_title_ama_markers_and_reference_list_with_dois(sample):
    text = pdf_text(sample / "dupilumab-arthralgia-review.pdf")
    assert "Dupilumab and Joint Pain: What the Evidence Shows" in text
    # AMA: superscript numbers after the full stop, ranges with an en dash, no brackets or
    # author names.
    assert re.search(r"type 2 inflammation\.1,2", text)
    assert re.search(r"association\.4–6", text)
    assert "[@" not in text and "gandhi2016targeting" not in text
    references = text[text.index("References"):]
    assert re.search(r"^1\. Gandhi NA, Bennett BL", references, re.M)
    # NLM journal abbreviations, particles before the family name.
    assert "Nat Rev Drug Discov. 2016;15(1):35-50." in references
    assert "Blauvelt A, de Bruin-Weller M, Gooderham M, et al." in references
    squashed = squash(references)
    dois = cited_dois()
    assert len(dois) == 13
    for doi in dois.values():
        assert f"doi:{doi}" in squashed, doi


def test_html_is_standalone_with_css_linked_citations_and_doi_links(sample):
    page = links(sample / "dupilumab-arthralgia-review.html")
    assert page.styles >= 1
    for doi in cited_dois().values():
        assert f"https://doi.org/{doi}" in page.hrefs, doi
    citation_targets = [h for h in page.hrefs if h.startswith("#ref-")]
    assert "#ref-gandhi2016targeting" in citation_targets
    assert all(target[1:] in page.ids for target in citation_targets)
    html = (sample / "dupilumab-arthralgia-review.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "<title>Dupilumab and Joint Pain: What the Evidence Shows</title>" in html


def test_docx_holds_the_article_and_reference_list(sample):
    with zipfile.ZipFile(sample / "dupilumab-arthralgia-review.docx") as docx:
        xml = docx.read("word/document.xml").decode("utf-8")
    words = re.sub(r"<[^>]+>", "", xml)
    assert "Dupilumab and Joint Pain: What the Evidence Shows" in words
    assert "References" in words
    assert "10.1056/NEJMoa1610020" in words


def test_other_styles_render_differently(style_texts, sample):
    ama = pdf_text(sample / "dupilumab-arthralgia-review.pdf")
    vancouver, lancet, jama = style_texts["vancouver"], style_texts["the-lancet-oncology"], style_texts["jama"]
    assert len({ama, vancouver, lancet}) == 3
    assert "type 2 inflammation (1,2)." in vancouver  # NLM: numbers in parentheses
    assert re.search(r"^1 Gandhi NA", lancet, re.M)   # The Lancet: no period after the number
    # JAMA is a dependent style of AMA: resolved offline, it formats exactly like its parent.
    assert jama == ama


# -- where inputs come from ------------------------------------------------------------------


def test_front_matter_paths_are_relative_to_the_manuscript_not_the_cwd(tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "chapters").mkdir(parents=True)
    (project / "refs").mkdir()
    shutil.copy(DATA / "dupilumab.bib", project / "refs" / "library.bib")
    shutil.copy(DATA / "broken-style.csl", project / "refs" / "unused.csl")
    # citeflow.toml makes `project` the project root, so that ../refs lies inside it.
    (project / "citeflow.toml").write_text("", encoding="utf-8")
    manuscript = project / "chapters" / "one.md"
    manuscript.write_text("---\ntitle: One\nbibliography: ../refs/library.bib\ncsl: vancouver\n---\n\n"
                          "Dupilumab improved asthma control [@castro2018dupilumab].\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke(str(manuscript), "--to", "html", "-o", "build")
    assert result.exit_code == 0, result.output
    html = html_text(elsewhere / "build" / "one.html")
    assert "Dupilumab efficacy and safety in moderate-to-severe uncontrolled asthma" in html
    assert "asthma control (1)" in html  # the front-matter style (NLM), not the AMA default


def test_default_output_folder_and_style_come_from_citeflow_toml(tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "texts").mkdir(parents=True)
    shutil.copy(DATA / "dupilumab.bib", project / "library.bib")
    (project / "citeflow.toml").write_text('style = "nature"\nbibliography = ["library.bib"]\n'
                                           'output = "site"\n', encoding="utf-8")
    (project / "texts" / "note.md").write_text(
        "---\ntitle: Note\n---\n\nDupilumab improved asthma control [@castro2018dupilumab].\n",
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert invoke("project/texts/note.md", "--to", "html").exit_code == 0
    html = html_text(project / "site" / "note.html")
    assert "Castro, M. et al." in html  # Nature's reference format
    # The option wins over the config.
    assert invoke("project/texts/note.md", "--to", "html", "--csl", "ama").exit_code == 0
    html = html_text(project / "site" / "note.html")
    assert "Castro M, Corren J, Pavord ID, et al." in html


def test_one_citeproc_pass_feeds_every_format(tmp_path, monkeypatch):
    calls: list[list[str]] = []
    real = render_module.run_pandoc

    def counting(args, *rest, **kw):
        calls.append(list(args))
        return real(args, *rest, **kw)

    monkeypatch.setattr(render_module, "run_pandoc", counting)
    result = invoke(str(SAMPLE), "--to", "html,pdf,docx", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert sum("--citeproc" in c for c in calls) == 1
    readers = [c[c.index("-f") + 1] for c in calls]
    assert readers.count("markdown") == 1 and readers.count("json") == 3


def test_layers_let_another_output_restyle_the_same_ast(tmp_path):
    job = prepare(SAMPLE)
    ast = citeproc_ast(job.manuscript.text, job)
    written = write_outputs(ast, ["html"], tmp_path, "review", extra_css=".finding { color: red }",
                            source=job.source)
    assert written == [tmp_path / "review.html"]
    assert ".finding { color: red }" in written[0].read_text(encoding="utf-8")


def test_manuscript_citing_nothing_has_no_reference_section(tmp_path):
    result = invoke(str(DATA / "no-citations.md"), "--to", "html,pdf", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    html = (tmp_path / "no-citations.html").read_text(encoding="utf-8")
    assert "References" not in html and 'id="refs"' not in html
    text = pdf_text(tmp_path / "no-citations.pdf")
    assert "Nothing here is cited yet." in text and "References" not in text


# -- errors: one line naming the file, exit 2, nothing half-written -----------------------


def assert_input_error(result, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith("citeflow: error: ")
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in message, (needle, message)
    return message


def test_missing_manuscript(tmp_path):
    result = invoke(str(tmp_path / "absent.md"), "-o", str(tmp_path / "out"))
    assert_input_error(result, "absent.md", "not found")
    assert not (tmp_path / "out").exists()


def test_missing_bibliography_names_file_and_front_matter_line(tmp_path):
    result = invoke(str(DATA / "missing-bibliography.md"), "-o", str(tmp_path))
    assert_input_error(result, "missing-bibliography.md:3:", "no-such-file.bib")
    assert list(tmp_path.iterdir()) == []


def test_malformed_bibliography_names_the_bib_file_and_line(tmp_path):
    (tmp_path / "bad.bib").write_text("@article{a,\n  title = {X},\n  year = 2020\n\n"
                                      "@article{b, title = {Y}}\n", encoding="utf-8")
    manuscript = tmp_path / "m.md"
    manuscript.write_text("---\ntitle: T\nbibliography: bad.bib\n---\n\nText [@a].\n",
                          encoding="utf-8")
    result = invoke(str(manuscript), "-o", str(tmp_path / "out"))
    assert_input_error(result, "bad.bib:5:", "malformed bibliography")
    assert not (tmp_path / "out").exists()


def test_malformed_front_matter_names_its_line(tmp_path):
    result = invoke(str(DATA / "bad-front-matter.md"), "-o", str(tmp_path))
    assert_input_error(result, "bad-front-matter.md:4:", "front matter")
    assert list(tmp_path.iterdir()) == []


def test_unknown_style_lists_closest_names(tmp_path):
    result = invoke(str(SAMPLE), "--csl", "amercan-medical-association", "-o", str(tmp_path))
    assert_input_error(result, "dupilumab-arthralgia-review.md", "amercan-medical-association",
                       "american-medical-association")
    assert list(tmp_path.iterdir()) == []


def test_missing_citation_key_stops_with_key_and_line(tmp_path):
    result = invoke(str(DATA / "missing-key.md"), "--to", "html,pdf", "-o", str(tmp_path))
    assert_input_error(result, "missing-key.md:8:", "nokey2020")
    assert list(tmp_path.iterdir()) == []


def test_allow_missing_renders_anyway_and_marks_the_key(tmp_path):
    result = invoke(str(DATA / "missing-key.md"), "--to", "html,pdf", "-o", str(tmp_path),
                    "--allow-missing")
    assert result.exit_code == 0, result.output
    page = links(tmp_path / "missing-key.html")
    assert "#ref-nokey2020" not in page.hrefs  # no link to an entry that does not exist
    assert "nokey2020?" in (tmp_path / "missing-key.html").read_text(encoding="utf-8")
    assert "nokey2020?" in pdf_text(tmp_path / "missing-key.pdf")


def test_pandoc_failure_is_one_line_naming_the_file(tmp_path):
    result = invoke(str(DATA / "no-citations.md"), "--csl", str(DATA / "broken-style.csl"),
                    "-o", str(tmp_path))
    assert_input_error(result, "no-citations.md", "Pandoc failed", "broken-style.csl")
    assert list(tmp_path.iterdir()) == []


def test_typst_failure_leaves_no_output_and_keeps_old_files(tmp_path):
    old_html = tmp_path / "bad-typst.html"
    old_html.write_text("previous render\n", encoding="utf-8")
    # Raw Typst reaches Typst only from a trusted manuscript.
    result = invoke(str(DATA / "bad-typst.md"), "--to", "html,pdf,docx", "-o", str(tmp_path),
                    "--trusted")
    assert_input_error(result, "bad-typst.md", "Typst")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad-typst.html"]
    assert old_html.read_text(encoding="utf-8") == "previous render\n"


def test_unknown_format_is_a_usage_error(tmp_path):
    result = invoke(str(SAMPLE), "--to", "html,epub", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "epub" in result.output


@pytest.mark.parametrize("manuscript", [SAMPLE, ROOT / "manuscripts" / "dupixent-joint-pain.md"])
def test_compacted_ast_gives_writers_the_same_output(manuscript):
    job = prepare(manuscript)
    ast = citeproc_ast(job.manuscript.text, job)
    ast["blocks"].append({"t": "Para", "c": [
        {"t": "Str", "c": "Line"}, {"t": "LineBreak"}, {"t": "Str", "c": "1."}, {"t": "Space"},
        {"t": "Str", "c": "not"}, {"t": "Space"}, {"t": "Str", "c": "a"}, {"t": "Space"},
        {"t": "Str", "c": "list."}]})
    full, compact = _Document.of(ast, compact=False), _Document.of(ast)
    assert len(compact.blocks) < 0.75 * len(full.blocks)
    assert typst_source(compact, manuscript) == typst_source(full, manuscript)
    args = ["-f", "json", "-t", "html5", "--wrap=none"]
    assert run_pandoc(args, compact.encode(), manuscript)[0] == run_pandoc(args, full.encode(), manuscript)[0]
    docx = ["-f", "json", "-t", "docx", "-o", "-"]
    with zipfile.ZipFile(io.BytesIO(run_pandoc(docx, compact.encode(), manuscript)[0])) as a, \
            zipfile.ZipFile(io.BytesIO(run_pandoc(docx, full.encode(), manuscript)[0])) as b:
        # Word splits plain text into runs differently; the text and its formatting agree.
        def joined(xml: bytes) -> bytes:
            return xml.replace(b'</w:t></w:r><w:r><w:t xml:space="preserve">', b"")
        assert joined(a.read("word/document.xml")) == joined(b.read("word/document.xml"))
