"""The Python API: `import citeflow` gives what the command line does, on paths or text."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

import citeflow
from citeflow.cli import main

ROOT = Path(__file__).resolve().parents[1]
DRAFT = ROOT / "manuscripts" / "dupixent-joint-pain.md"
REVIEW = ROOT / "manuscripts" / "dupilumab-arthralgia-review.md"
BIB = ROOT / "references" / "dupilumab.bib"
CROSSREF = Path(__file__).parent / "data" / "sources" / "crossref"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the sample project (config, manuscripts, bibliography)."""
    shutil.copy(ROOT / "citeflow.toml", tmp_path / "citeflow.toml")
    shutil.copytree(ROOT / "manuscripts", tmp_path / "manuscripts")
    shutil.copytree(ROOT / "references", tmp_path / "references")
    return tmp_path


def test_check_on_a_path_gives_what_the_cli_reports():
    result = citeflow.check(DRAFT)
    cli = CliRunner().invoke(main, ["check", str(DRAFT), "--format", "json"])
    reported = json.loads(cli.stdout)["findings"]
    assert [(f.code, f.line, f.column) for f in result.findings] == \
        [(f["code"], f["line"], f["column"]) for f in reported]
    assert result.summary()["claims"] > 0


def test_check_on_text_flags_an_uncited_attribution():
    text = "Studies show that dupilumab causes joint pain in some patients.\n"
    result = citeflow.check(text, project=citeflow.Project.find(ROOT))
    codes = [f.code for f in result.findings if str(f.file) == "<manuscript>"]
    assert codes == ["CF302"]
    assert result.findings[0].line == 1


def test_text_reads_its_front_matter_bibliography_from_the_project_root(project: Path):
    text = ("---\nbibliography: references/dupilumab.bib\n---\n\n"
            "Joint pain was reported in trials [doi:10.1056/NEJMoa1610020].\n")
    result = citeflow.resolve(text, project=citeflow.Project.find(project), offline=True)
    assert "+Joint pain was reported in trials [@simpson2016two]." in result.diff
    assert result.unresolved == []
    with pytest.raises(citeflow.CiteflowError, match="needs a manuscript file"):
        citeflow.resolve(text, project=citeflow.Project.find(project), write=True)


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        citeflow.check(DRAFT, None, "CF3")  # type: ignore[misc]


def test_project_sees_a_bibliography_edited_between_calls(project: Path):
    proj = citeflow.Project.find(project)
    manuscript = project / "manuscripts" / "dupilumab-arthralgia-review.md"
    before = [f for f in proj.check(manuscript).findings if f.code == "CF106"]
    bib = project / "references" / "dupilumab.bib"
    bib.write_text(bib.read_text() + "\n@article{unused2024entry, title = {Never cited},"
                   " author = {Doe, Jane}, journal = {J}, year = {2024}}\n")
    after = [f for f in proj.check(manuscript).findings if f.code == "CF106"]
    assert len(after) == len(before) + 1
    assert "unused2024entry" in after[-1].message


def test_check_all_reports_a_shared_bibliography_once(project: Path):
    report = citeflow.Project.find(project).check_all()
    assert len(report.results) == len(list((project / "manuscripts").glob("*.md"))) >= 2
    keys = [(str(f.file), f.line, f.code, f.message) for f in report.findings]
    assert len(keys) == len(set(keys))
    assert report.exit_code() == 0
    assert citeflow.Project.find(project).check_all(fail_on="info").exit_code() == 1


def test_render_writes_html_with_the_reference_list(project: Path, tmp_path: Path):
    out = tmp_path / "out"
    written = citeflow.render(project / "manuscripts" / "dupilumab-arthralgia-review.md",
                              formats=["html"], output_dir=out)
    assert written == [out / "dupilumab-arthralgia-review.html"]
    html = written[0].read_text()
    assert "10.1056/NEJMoa1610020" in html


def test_suggest_lists_the_placeholder_and_claims_of_the_draft():
    items = citeflow.suggest(DRAFT)
    kinds = {item.kind for item in items}
    assert "placeholder" in kinds
    first = next(item for item in items if item.kind == "placeholder")
    assert "citations would be inserted" in first.text.lower()
    assert len(first.suggestions) == len(first.confident) > 0


def test_cite_keys_new_works_and_skips_those_in_the_bibliography(
        project: Path, httpserver: HTTPServer, monkeypatch):
    monkeypatch.setenv("CITEFLOW_CROSSREF_URL", httpserver.url_for("/crossref"))
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(project / ".cache"))
    monkeypatch.delenv("CITEFLOW_OFFLINE", raising=False)
    httpserver.expect_request("/crossref/works/10.7554/elife.01567").respond_with_data(
        (CROSSREF / "10.7554_elife.01567.json").read_bytes(), content_type="application/json")
    bib = project / "references" / "dupilumab.bib"
    result = citeflow.cite(["doi:10.7554/eLife.01567", "doi:10.1056/NEJMoa1610020"],
                           bibliography=bib)
    assert [r.doi for r in result.written] == ["10.7554/elife.01567"]
    assert result.skipped == [f"doi:10.1056/nejmoa1610020: already in {bib} as @simpson2016two"]
    assert result.exit_code() == 0
    assert "10.7554/elife.01567" in bib.read_text().lower()


def test_import_citeflow_loads_no_heavy_module():
    code = ("import sys, citeflow; citeflow.Project; "
            "print(sorted(m for m in ('requests', 'pypandoc', 'typst', 'pybtex', 'numpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
