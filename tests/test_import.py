"""`citeflow import`: web-scraped text, .html and .docx drafts become manuscripts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pypandoc
import pytest
import yaml
from click.testing import CliRunner

from citeflow.cli import main
from citeflow.document.importer import text_to_markdown

ROOT = Path(__file__).resolve().parents[1]
SEED = Path(__file__).parent / "data" / "seed" / "dupixent-joint-pain.txt"
COMMITTED = ROOT / "manuscripts" / "dupixent-joint-pain.md"


def pandoc_text(markdown: str, smart: bool = False) -> list[str]:
    """The text of each block as Pandoc reads it (paragraphs, headings, list items)."""
    reader = "markdown" if smart else "markdown-smart"
    out = subprocess.run([pypandoc.get_pandoc_path(), "-f", reader, "-t", "json"],
                         input=markdown.encode(), capture_output=True, check=True).stdout
    texts: list[str] = []

    def inline(items):
        parts = []
        for item in items:
            t = item["t"]
            if t == "Str":
                parts.append(item["c"])
            elif t in ("Space", "SoftBreak"):
                parts.append(" ")
            else:  # any markup at all means the prose was not read verbatim
                parts.append(f"<{t}>")
        return "".join(parts)

    def blocks(items):
        for block in items:
            if block["t"] in ("Para", "Plain"):
                texts.append(inline(block["c"]))
            elif block["t"] == "Header":
                texts.append("#" + inline(block["c"][2]))
            elif block["t"] == "BulletList":
                for entry in block["c"]:
                    blocks(entry)
            else:
                texts.append(f"<{block['t']}>")

    blocks(json.loads(out)["blocks"])
    return texts


@pytest.fixture()
def project(tmp_path):
    """A project folder with the repository's citeflow.toml."""
    shutil.copy(ROOT / "citeflow.toml", tmp_path / "citeflow.toml")
    return tmp_path


def run(args, cwd=None, monkeypatch=None):
    if cwd is not None:
        monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, args)


def test_seed_import_reproduces_the_committed_manuscript(project, monkeypatch):
    result = run(["import", str(SEED)], cwd=project, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    written = project / "manuscripts" / "dupixent-joint-pain.md"
    assert written.read_bytes() == COMMITTED.read_bytes()


def test_front_matter_has_title_relative_bibliography_and_style(project, monkeypatch):
    target = project / "drafts" / "deep" / "joint.md"
    target.parent.mkdir(parents=True)
    result = run(["import", str(SEED), "-o", str(target)], cwd=project, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front == {
        "title": "Dupixent and Joint Pain: Understanding the Connection",
        "bibliography": "../../references/dupilumab.bib",
        "csl": "american-medical-association",
    }


def test_page_chrome_is_dropped_and_structure_is_marked_up():
    body = text_to_markdown(SEED.read_text(encoding="utf-8"))
    lowered = body.lower()
    for chrome in ("close", "3 min read", "related posts", "latest posts", "popular posts",
                   "why does dupixent cause joint pain"):
        assert not any(line.strip().lower() == chrome or line.lower().startswith(chrome)
                       for line in body.splitlines()), chrome
    assert "11-12-2024" not in lowered
    assert "# Understanding Dupixent's Mechanism of Action\n" in body
    assert "# Conclusion\n" in body
    # A lower-case lead-in ending in ":" introduces the list; it is not a heading.
    assert "\nIf you experience joint pain while taking Dupilumab:\n" in body
    bullets = [line for line in body.splitlines() if line.startswith("- ")]
    assert len(bullets) == 8
    assert "•" not in body


def test_every_body_sentence_is_read_back_verbatim_by_pandoc():
    seed = SEED.read_text(encoding="utf-8")
    blocks = pandoc_text(text_to_markdown(seed))
    expected = []
    for line in seed.splitlines():
        line = line.strip().lstrip("•").strip()
        if len(line) > 60:  # every paragraph and bullet; headings and chrome are shorter
            expected.append(line)
    expected.append("If you experience joint pain while taking Dupilumab:")
    assert len(expected) == 15
    for line in expected:
        assert line in blocks, line
    assert any("(Note: Specific citations would be inserted here" in b for b in blocks)


def test_markdown_special_characters_survive_the_round_trip():
    tricky = [
        "Costs rose from $5 to $10 per dose, a *modest* change.",
        "The key [@simpson2016two] is not a citation here, nor is @castro2018dupilumab.",
        "Write to editor@example.org about snake_case_names and _underscored_ words.",
        "1. This sentence starts with a number and a period.",
        "# Not a heading, just a hash.",
        "A <b>bold</b> tag, a ~tilde~, a ^caret^ and a | pipe.",
        "Entities such as &amp; and &#169; stay literal; so does a back\\slash.",
        "- Not a list item either.",
        "> Not a quotation.",
    ]
    markdown = text_to_markdown("Title line\n\n" + "\n\n".join(tricky) + "\n")
    assert pandoc_text(markdown) == tricky


def test_import_refuses_to_overwrite_without_force(project, monkeypatch):
    target = project / "manuscripts" / "dupixent-joint-pain.md"
    target.parent.mkdir()
    target.write_text("my edited manuscript\n")
    result = run(["import", str(SEED)], cwd=project, monkeypatch=monkeypatch)
    assert result.exit_code == 2
    assert "dupixent-joint-pain.md" in result.stderr and "--force" in result.stderr
    assert target.read_text() == "my edited manuscript\n"

    result = run(["import", str(SEED), "--force"], cwd=project, monkeypatch=monkeypatch)
    assert result.exit_code == 0
    assert target.read_bytes() == COMMITTED.read_bytes()


def test_missing_or_unsupported_draft_is_an_input_error(project, monkeypatch):
    result = run(["import", "nowhere.txt"], cwd=project, monkeypatch=monkeypatch)
    assert result.exit_code == 2 and "nowhere.txt" in result.stderr
    (project / "draft.pdf").write_bytes(b"%PDF-1.4")
    result = run(["import", "draft.pdf"], cwd=project, monkeypatch=monkeypatch)
    assert result.exit_code == 2 and "draft.pdf" in result.stderr
    assert not (project / "manuscripts").exists()


def test_html_draft_goes_through_pandoc(project, monkeypatch):
    page = project / "page.html"
    page.write_text(
        "<html><head><title>Dupilumab and the joints</title></head><body>"
        "<h1>Dupilumab and the joints</h1>"
        "<p>Joint pain has been reported in <em>some</em> patients.</p>"
        "<h2>Management</h2><ul><li>See your doctor.</li><li>Do not stop alone.</li></ul>"
        "</body></html>",
        encoding="utf-8",
    )
    result = run(["import", "page.html"], cwd=project, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    text = (project / "manuscripts" / "page.md").read_text()
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["title"] == "Dupilumab and the joints"
    assert front["bibliography"] == "../references/dupilumab.bib"
    body = text.split("---\n", 2)[2]
    assert "Dupilumab and the joints" not in body  # the title is not repeated as a heading
    assert "Joint pain has been reported in *some* patients." in body
    assert "## Management" in body and "- See your doctor." in body


def test_docx_draft_goes_through_pandoc(project, monkeypatch):
    source = project / "draft.md"
    source.write_text("---\ntitle: Arthralgia on dupilumab\n---\n\nA first paragraph.\n\n"
                      "# Background\n\nA second paragraph.\n")
    docx = project / "draft.docx"
    pypandoc.convert_file(str(source), "docx", outputfile=str(docx))
    result = run(["import", "draft.docx", "-o", "manuscripts/arthralgia.md"], cwd=project,
                 monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    text = (project / "manuscripts" / "arthralgia.md").read_text()
    assert yaml.safe_load(text.split("---\n")[1])["title"] == "Arthralgia on dupilumab"
    assert "A first paragraph." in text and "# Background" in text


def test_only_the_preamble_loses_repeated_lines_and_a_byline_is_kept():
    from citeflow.document.importer import parse_text

    draft = parse_text("close\nslug line\nslug line\nMy Title\nBy Jane Doe\n\n"
                       "First paragraph of the article.\n\nShort line\n\n"
                       "Second paragraph.\n\nShort line\n\nRelated Posts\n")
    assert draft.title == "My Title"
    assert draft.body == ("By Jane Doe\n\nFirst paragraph of the article.\n\nShort line\n\n"
                          "Second paragraph.\n\nShort line\n")


def test_unreadable_docx_is_one_line_naming_the_file(project, monkeypatch):
    (project / "broken.docx").write_bytes(b"this is not a zip archive")
    result = run(["import", "broken.docx"], cwd=project, monkeypatch=monkeypatch)
    assert result.exit_code == 2
    assert result.stderr.startswith("citeflow: error: broken.docx: Pandoc failed")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (project / "manuscripts" / "broken.md").exists()


PLACEHOLDER_LINE = ("Joint pain was reported [citation needed] and in trials [doi:10.1000/a_b] "
                    "[pmid:27690741], see [@simpson2016two] [CITE], but [just words] and "
                    "[a link](http://example.org) stay as written.")


def _placeholder_texts(path):
    from citeflow.document.manuscript import read_manuscript
    from citeflow.document.placeholders import find_placeholders

    manuscript = read_manuscript(path)
    return [manuscript.text[p.start:p.end] for p in find_placeholders(manuscript)]


def test_imported_text_keeps_placeholders_for_resolve_and_reads_back_verbatim(project, monkeypatch):
    (project / "draft.txt").write_text(f"A draft title\n\n{PLACEHOLDER_LINE}\n", encoding="utf-8")
    result = run(["import", "draft.txt"], cwd=project, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    written = project / "manuscripts" / "draft.md"
    assert _placeholder_texts(written) == ["[citation needed]", "[doi:10.1000/a_b]",
                                           "[pmid:27690741]", "[CITE]"]
    body = written.read_text(encoding="utf-8").split("---\n", 2)[2]
    assert "\\[just words\\]" in body and "\\[a link\\](http://example.org)" in body
    # Pandoc reads the placeholders and all the other text back exactly as written.
    assert pandoc_text(body) == [PLACEHOLDER_LINE]


def test_imported_html_keeps_placeholders(project, monkeypatch):
    (project / "draft.html").write_text(
        "<html><body><h1>Arthralgia on dupilumab</h1>"
        "<p>Studies show joint pain [citation needed] (see [doi:10.1056/NEJMoa1610020]).</p>"
        "</body></html>", encoding="utf-8")
    result = run(["import", "draft.html"], cwd=project, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert _placeholder_texts(project / "manuscripts" / "draft.md") == [
        "[citation needed]", "[doi:10.1056/NEJMoa1610020]"]
