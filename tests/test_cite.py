"""`citeflow cite` end to end: real CLI, real HTTP server on 127.0.0.1, recorded answers."""

from __future__ import annotations

import json
from pathlib import Path

import pypandoc
import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from citeflow.cli import main
from citeflow.references.bibliography import load_bibliography

DATA = Path(__file__).parent / "data" / "sources"
CSL_ACCEPT = "application/vnd.citationstyles.csl+json"
ELIFE = "10.7554/elife.01567"
WAKEFIELD = "10.1016/s0140-6736(97)11096-0"


@pytest.fixture
def project(httpserver: HTTPServer, tmp_path, monkeypatch):
    """A project folder whose citeflow.toml points every source at the local server."""
    base = httpserver.url_for("").rstrip("/")
    (tmp_path / "citeflow.toml").write_text(
        'mailto = "editor@example.org"\n[sources]\ntimeout = 0.5\nretries = 0\nbackoff = 0\n', encoding="utf-8")
    for name, value in {"CITEFLOW_CROSSREF_URL": f"{base}/crossref", "CITEFLOW_DOI_URL": f"{base}/doi",
                        "CITEFLOW_EUTILS_URL": f"{base}/eutils", "CITEFLOW_IDCONV_URL": f"{base}/idconv/"}.items():
        monkeypatch.setenv(name, value)
    for name in ("CITEFLOW_OFFLINE", "CITEFLOW_CACHE_DIR", "NCBI_API_KEY", "CITEFLOW_MAILTO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    httpserver.expect_request(f"/crossref/works/{ELIFE}").respond_with_data(
        (DATA / "crossref" / "10.7554_elife.01567.json").read_bytes(), content_type="application/json")
    httpserver.expect_request(f"/crossref/works/{WAKEFIELD}").respond_with_data(
        (DATA / "crossref" / "10.1016_s0140-6736(97)11096-0.json").read_bytes(), content_type="application/json")
    httpserver.expect_request("/crossref/works/10.1371/notarealdoi").respond_with_data(
        (DATA / "crossref" / "10.1371_notarealdoi.404.txt").read_bytes(), status=404)
    httpserver.expect_request("/doi/10.1371/notarealdoi").respond_with_data("DOI Not Found", status=404)
    httpserver.expect_request("/eutils/efetch.fcgi").respond_with_data(
        (DATA / "pubmed" / "35649368.efetch.xml").read_bytes(), content_type="text/xml")
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cite_prints_bibtex_that_pandoc_reads(project):
    result = run("cite", "https://doi.org/10.7554/eLife.01567", "PMID: 35649368")
    assert result.exit_code == 0, result.output
    items = json.loads(pypandoc.convert_text(result.stdout, "csljson", format="bibtex"))
    assert [i["DOI"].lower() for i in items] == [ELIFE, "10.1016/j.celrep.2022.110870"]
    assert items[1]["id"] == "li2022fatty"


def test_cite_prints_csl_json(project):
    result = run("cite", "--format", "csljson", f"doi:{WAKEFIELD}")
    assert result.exit_code == 0
    [item] = json.loads(result.stdout)
    assert item["title"].startswith("RETRACTED: Ileal-lymphoid-nodular hyperplasia")
    assert item["issued"] == {"date-parts": [[1998]]}
    assert item["id"] == "wakefield1998retracted"


def test_cite_appends_to_a_bib_and_skips_what_is_there(project, httpserver):
    bib = project / "refs.bib"
    original = b"@article{mine,\n  title = {Mine},\n  doi = {https://doi.org/10.7554/ELIFE.01567}\n}\n"
    bib.write_bytes(original)
    result = run("cite", "--bib", str(bib), f"doi:{ELIFE}", f"doi:{WAKEFIELD}")
    assert result.exit_code == 0, result.output
    assert f"skipped doi:{ELIFE}: already in {bib} as @mine" in result.stderr
    assert "added @wakefield1998retracted" in result.stdout
    assert bib.read_bytes().startswith(original)
    assert load_bibliography([bib]).by_doi(WAKEFIELD).key == "wakefield1998retracted"
    # a second run adds nothing and sends nothing (bibliography first, then the cache)
    sent = len(httpserver.log)
    again = run("cite", "--bib", str(bib), f"doi:{WAKEFIELD}")
    assert again.exit_code == 0 and "skipped" in again.stderr
    assert len(httpserver.log) == sent
    assert len(load_bibliography([bib])) == 2


def test_unresolved_identifier_exits_1_naming_it_and_the_others_are_printed(project):
    result = run("cite", f"doi:{ELIFE}", "doi:10.1371/notarealdoi")
    assert result.exit_code == 1
    assert "doi:10.1371/notarealdoi: DOI not found at Crossref or doi.org" in result.stderr
    assert "/doi/10.1371/notarealdoi" in result.stderr
    assert ELIFE in result.stdout.lower()


def test_malformed_identifier_is_an_input_error(project, httpserver):
    result = run("cite", f"doi:{ELIFE}", "doi:10.7554eLife")
    assert result.exit_code == 2
    assert "malformed identifier 'doi:10.7554eLife'" in result.stderr
    assert httpserver.log == []


def test_offline_with_an_empty_cache(project, httpserver):
    result = run("cite", "--offline", f"doi:{ELIFE}")
    assert result.exit_code == 1 and "offline" in result.stderr
    assert httpserver.log == []


def test_broken_bib_is_reported_with_file_and_line(project):
    bib = project / "broken.bib"
    bib.write_text("@article{a,\n title = {x}\n}\n@article{b,\n title = {open\n", encoding="utf-8")
    result = run("cite", "--bib", str(bib), f"doi:{ELIFE}")
    assert result.exit_code == 2
    assert f"{bib}:" in result.stderr and "syntax" in result.stderr
    assert bib.read_text(encoding="utf-8").endswith("{open\n")


def test_usage_error_without_identifiers(project):
    assert run("cite").exit_code == 2


def test_progress_bar_on_a_terminal_when_fetching_many(project, httpserver, monkeypatch):
    for n in range(5):
        httpserver.expect_request(f"/crossref/works/10.5555/missing.{n}").respond_with_data("Resource not found.", status=404)
        httpserver.expect_request(f"/doi/10.5555/missing.{n}").respond_with_data("DOI Not Found", status=404)
    ids = [f"doi:10.5555/missing.{n}" for n in range(5)]
    quiet = run("cite", *ids)
    assert "Fetching metadata" not in quiet.stderr
    sent = len(httpserver.log)
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich: treat stderr as a terminal
    assert "Fetching metadata" not in run("--quiet", "cite", "--offline", *ids).stderr
    shown = run("cite", "--offline", *ids)
    assert "Fetching metadata" in shown.stderr
    # offline, the cached "not found" answers are reused: same verdicts, no request
    assert shown.exit_code == 1 and shown.stderr.count("DOI not found") == 5
    assert len(httpserver.log) == sent
