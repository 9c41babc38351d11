"""`citeflow refresh`: the registries asked in batches, citeflow.lock written, faults kept apart.

The registries are played by a real HTTP server on 127.0.0.1 answering from recorded records
(tests/registry_stub.py, tests/data/integrity/PROVENANCE.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

import citeflow
from citeflow.cli import main
from citeflow.references.lock import load_lock
from progress_recorder import Recorder
from registry_stub import DATA, Registries

WAKEFIELD = "doi:10.1016/s0140-6736(97)11096-0"
HCQ = "doi:10.1016/s0140-6736(20)31180-6"


@pytest.fixture
def registries(httpserver: HTTPServer) -> Registries:
    return Registries(httpserver)


def make_project(tmp_path: Path, registries: Registries, extra: str = "") -> Path:
    root = tmp_path / "project"
    shutil.copytree(DATA / "project", root)
    (root / "citeflow.toml").write_text('manuscripts = "."\nmailto = "editor@example.org"\n'
                                        + extra + registries.toml(), encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path, registries, monkeypatch) -> Path:
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("CITEFLOW_OFFLINE", "NCBI_API_KEY", "CITEFLOW_MAILTO"):
        monkeypatch.delenv(name, raising=False)
    root = make_project(tmp_path, registries)
    monkeypatch.chdir(root)
    return root


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_refresh_writes_a_sorted_lock_at_the_project_root(project, registries):
    result = run("refresh")
    assert result.exit_code == 0, result.output
    lock_file = project / "citeflow.lock"
    text = lock_file.read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    works = data["works"]
    # every cited work with an identifier, and the one without (looked up by title)
    assert WAKEFIELD in works and HCQ in works and "title:the art of writing a scientific article" in works
    wakefield = works[WAKEFIELD]
    assert wakefield["pmid"] == "9500320"
    crossref = wakefield["sources"]["crossref"]
    assert crossref["found"] is True and crossref["volume"] == "351"
    assert {"doi": "10.1016/s0140-6736(10)60175-4", "type": "retraction", "source": "retraction-watch",
            "date": "2010-02-06"}.items() <= crossref["notices"][1].items()
    pubmed = wakefield["sources"]["pubmed"]
    assert {"ui": "D016441", "label": "Retracted Publication"} in pubmed["publication_types"]
    assert [n["type"] for n in pubmed["notices"]] == ["RetractionIn", "RetractionIn", "ExpressionOfConcernIn"]
    assert wakefield["abstract"].startswith("BACKGROUND: We investigated a consecutive series")
    # the preprint's published version, from Crossref and from the bioRxiv API
    assert works["doi:10.1364/opticaopen.29459153.v1"]["sources"]["crossref"]["relations"] == [
        {"doi": "10.1364/oe.572415", "source": "crossref", "type": "is-preprint-of"}]
    assert works["doi:10.1101/2020.12.01.406702"]["sources"]["biorxiv"]["relations"][0]["doi"] == \
        "10.1371/journal.pbio.3001555"
    # the made-up DOI: both Crossref and doi.org said "not found"
    unknown = works["doi:10.1371/notarealdoi"]["sources"]
    assert unknown["crossref"]["found"] is False and unknown["doi.org"]["found"] is False
    assert "written" in result.stderr and "retracted: retraction notice" in result.stderr


def test_refresh_batches_its_requests_and_a_second_run_changes_nothing(project, registries):
    assert run("refresh").exit_code == 0
    # 9 works: one Crossref list request for the 8 DOIs, the unknown DOI asked alone, one title search
    assert registries.requests["crossref"] == 3
    assert registries.peak["crossref"] <= 3
    before = (project / "citeflow.lock").read_bytes()
    again = run("refresh")
    assert again.exit_code == 0 and "unchanged" in again.stderr
    assert (project / "citeflow.lock").read_bytes() == before


def test_crossref_batches_never_have_more_than_three_requests_in_flight(tmp_path, httpserver, monkeypatch):
    registries = Registries(httpserver, delay=0.2)
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    root = make_project(tmp_path, registries)
    toml = (root / "citeflow.toml").read_text(encoding="utf-8")
    (root / "citeflow.toml").write_text(toml.replace("[sources]\n", "[sources]\ncrossref_batch = 1\nworkers = 8\n"),
                                        encoding="utf-8")
    result = citeflow.Project.find(root).refresh()
    assert result.unchecked == []
    assert registries.requests["crossref"] >= 8 and registries.peak["crossref"] <= 3


def test_a_registry_that_is_down_keeps_the_previous_entries(project, registries):
    assert run("refresh").exit_code == 0
    before = load_lock(project / "citeflow.lock")
    registries.down.add("crossref")
    result = run("refresh")
    assert result.exit_code == 1
    assert "could not check wakefield1998ileal (doi:10.1016/s0140-6736(97)11096-0): Crossref" in result.stderr
    after = load_lock(project / "citeflow.lock")
    assert after.works[WAKEFIELD].sources["crossref"] == before.works[WAKEFIELD].sources["crossref"]
    assert after.works[HCQ].sources["crossref"].notices == before.works[HCQ].sources["crossref"].notices
    # the retraction is still reported, offline, from the kept entry
    check = run("check", "review.md", "--format", "json")
    codes = {(f["code"], f["line"]) for f in json.loads(check.stdout)["findings"]}
    assert ("CF107", 6) in codes and ("CF107", 10) in codes


def test_a_work_never_checked_is_not_taken_for_sound(project, registries):
    registries.down.add("crossref")
    result = run("refresh")
    assert result.exit_code == 1
    check = run("check", "review.md", "--format", "json")
    findings = json.loads(check.stdout)["findings"]
    hcq = [f for f in findings if f["code"] == "CF114" and "mehra2020hydroxychloroquine" in f["message"]]
    assert hcq and "Crossref" in hcq[0]["message"]
    # PubMed alone still knows Wakefield is retracted
    assert any(f["code"] == "CF107" and "wakefield1998ileal" in f["message"] for f in findings)


def test_refresh_all_asks_about_uncited_entries_too(project, registries):
    (project / "review.md").write_text("---\nbibliography: refs.bib\n---\n\nNothing cited here.\n",
                                       encoding="utf-8")
    cited = run("refresh")
    assert cited.exit_code == 0 and "0 works" in cited.stderr
    everything = run("refresh", "--all")
    assert everything.exit_code == 0
    assert WAKEFIELD in load_lock(project / "citeflow.lock").works


def test_refresh_from_python(project, registries):
    result = citeflow.refresh()
    assert result.written and result.lock_path == project / "citeflow.lock"
    assert {c.keys[0] for c in result.changes} >= {"wakefield1998ileal", "mehra2020hydroxychloroquine"}


def test_resolve_warns_when_it_adds_a_retracted_work(project, registries):
    (project / "draft.md").write_text(
        "---\nbibliography: refs.bib\n---\n\nIn 1998, Wakefield and his colleagues published a study in the "
        "medical journal The Lancet [doi:10.1016/S0140-6736(97)11096-0].\n\nThe Lancet retracted the paper "
        "[doi:10.1016/S0140-6736(10)60175-4].\n", encoding="utf-8")
    (project / "refs.bib").write_text("", encoding="utf-8")
    result = run("resolve", "draft.md", "--write")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("citeflow: warning:")]
    assert lines == [
        "citeflow: warning: draft.md: @wakefield1998retracted (doi:10.1016/s0140-6736(97)11096-0) is retracted: "
        "retraction notice 10.1016/s0140-6736(10)60175-4 of 2010-02-06 (Retraction Watch: retraction) "
        "(added to the bibliography)",
        "citeflow: warning: draft.md: @editors2010retraction (doi:10.1016/s0140-6736(10)60175-4) is itself a "
        "retraction notice (of 10.1016/s0140-6736(97)11096-0) (added to the bibliography)"]
    assert "[@wakefield1998retracted]" in (project / "draft.md").read_text(encoding="utf-8")


def test_cite_warns_about_a_retraction_notice_and_a_retracted_pubmed_record(project, registries):
    result = run("cite", "doi:10.1016/S0140-6736(10)60175-4", "pmid:9500320")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("citeflow: warning:")]
    assert warnings[0].startswith("citeflow: warning: @editors2010retraction (doi:10.1016/s0140-6736(10)60175-4) "
                                  "is itself a retraction notice (of 10.1016/s0140-6736(97)11096-0)")
    # PubMed alone: publication type D016441 and the RetractionIn links decide
    assert warnings[1] == ("citeflow: warning: @wakefield1998ileal (pmid:9500320) is retracted: retraction notice "
                           "10.1016/s0140-6736(10)60175-4 (PMID 20137807) of 2010-02-06 (PubMed: RetractionIn)")
    assert len(warnings) == 2


def test_cite_says_nothing_about_a_sound_work(project, registries):
    result = run("cite", "doi:10.1371/journal.ppat.1008184")
    assert result.exit_code == 0 and "warning" not in result.stderr


def test_pmcids_go_through_the_pmc_id_converter_in_one_request(project, registries):
    with open(project / "refs.bib", "a", encoding="utf-8") as bib:
        bib.write("\n@article{pmc2010only,\n  title = {Known only by its PMCID},\n  year = {2010},\n"
                  "  pmcid = {PMC2883744}\n}\n")
    with open(project / "review.md", "a", encoding="utf-8") as text:
        text.write("\nA work cited by its PubMed Central ID [@pmc2010only].\n")
    run("refresh")
    assert registries.requests["idconv"] == 1
    work = load_lock(project / "citeflow.lock").works["pmcid:PMC2883744"]
    assert (work.doi, work.pmid) == ("10.1038/ng.590", "20495566")


def test_a_doi_with_a_comma_is_asked_for_alone(project, registries, httpserver):
    from citeflow.config import load_config
    from citeflow.references.identifiers import Identifier
    from citeflow.sources import Fetcher

    dois = ["10.1016/s0140-6736(97)11096-0", "10.1371/journal.pone.0033693", "10.1000/a,b"]
    with Fetcher(load_config(project)) as fetcher:
        results = fetcher.fetch_many(Identifier("doi", d) for d in dois)
    assert [r.status for r in results.values()] == ["ok", "ok", "not_found"]
    asked = [(r.path, r.args.get("filter")) for r, _ in httpserver.log if r.path.startswith("/crossref")]
    assert ("/crossref/works", "doi:10.1016/s0140-6736(97)11096-0,doi:10.1371/journal.pone.0033693") in asked
    assert ("/crossref/works/10.1000/a,b", None) in asked and len(asked) == 2


def test_refresh_refuses_to_run_offline(project, registries, monkeypatch):
    monkeypatch.setenv("CITEFLOW_OFFLINE", "1")
    result = CliRunner().invoke(main, ["refresh"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "citeflow: error: refresh asks the registries, but CITEFLOW_OFFLINE is set"
    assert not (project / "citeflow.lock").exists() and registries.requests == {}


def test_refresh_reports_each_phase_to_a_progress_bar(project, registries, monkeypatch):
    recorder = Recorder()
    result = citeflow.Project.find(project).refresh(progress=recorder)
    starts = [call for call in recorder.calls if call[0] == "start"]
    # one phase per registry's batched lookup, named after it, counting what it asks for
    assert {label.split(":")[0] for _, _, label in starts} == {"Crossref", "PubMed"}
    for _, total, label in starts:
        assert label.endswith(f": {total} DOIs") or label.endswith(f": {total} PMIDs")
    advanced = [call[1] for call in recorder.calls if call[0] == "advance"]
    assert WAKEFIELD in advanced and HCQ in advanced
    assert sum(total for _, total, _ in starts) == len(advanced)
    assert result.written
    # In a log each phase is a line; on a terminal a bar takes their place (none with --quiet).
    logged = run("refresh")
    assert "asking Crossref:" in logged.stderr
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich: treat stderr as a terminal
    shown = run("refresh")
    assert "asking Crossref:" not in shown.stderr and "Crossref:" in shown.stderr
    quiet = run("--quiet", "refresh")
    assert "Crossref:" not in quiet.stderr and quiet.exit_code == 0
