"""Reference integrity (CF107-CF112, CF114) judged offline from citeflow.lock.

The lock is written once by `citeflow refresh` against a real HTTP server on 127.0.0.1 that
answers from recorded Crossref, PubMed and bioRxiv records (tests/registry_stub.py,
tests/data/integrity/PROVENANCE.md); every check then runs with that server's answers
frozen in the lock, and the tests make sure `check` sends no request.
"""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from citeflow.cli import main
from citeflow.references.integrity import (
    Category,
    Certainty,
    assess,
    disagreements,
    same_journal,
    title_similarity,
)
from citeflow.references.lock import LockedWork, load_lock
from citeflow.references.reference import Reference
from citeflow.sources import crossref, pubmed
from registry_stub import DATA, Registries

WAKEFIELD = "doi:10.1016/s0140-6736(97)11096-0"


@pytest.fixture(scope="module")
def locked(tmp_path_factory) -> Path:
    """A project whose citeflow.lock `citeflow refresh` wrote; the server is gone afterwards."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        registries = Registries(server)
        root = tmp_path_factory.mktemp("locked") / "project"
        shutil.copytree(DATA / "project", root)
        (root / "citeflow.toml").write_text('manuscripts = "."\nmailto = "editor@example.org"\n'
                                            + registries.toml(), encoding="utf-8")
        result = CliRunner().invoke(main, ["refresh", str(root / "review.md")], catch_exceptions=False,
                                    env={"CITEFLOW_CACHE_DIR": str(root.parent / "cache")})
        assert result.exit_code == 0, result.output
    finally:
        server.stop()
    return root


@pytest.fixture
def project(locked, tmp_path, monkeypatch) -> Path:
    root = tmp_path / "project"
    shutil.copytree(locked, root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    return root


def check(*args: str) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(main, ["check", "review.md", "--format", "json", *args], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)["findings"]


def by_key(findings: list[dict], key: str) -> list[dict]:
    return [f for f in findings if re.search(rf"\b{re.escape(key)} \(refs\.bib", f["message"])]


# -- the rules on the sample manuscript --------------------------------------------------------------
def test_retracted_works_are_errors_where_they_are_cited(project):
    code, findings = check()
    assert code == 1
    wakefield = by_key(findings, "wakefield1998ileal")
    assert [(f["code"], f["severity"], f["line"]) for f in wakefield] == [("CF107", "error", 6)]
    assert wakefield[0]["message"].startswith(
        "wakefield1998ileal (refs.bib:1) is retracted: retraction notice 10.1016/s0140-6736(10)60175-4 "
        "(PMID 20137807) of 2010-02-06 (Retraction Watch: retraction; PubMed: RetractionIn)")
    # the finding covers the citation itself, so the review marks it in place
    text = (project / "review.md").read_text(encoding="utf-8").splitlines()[5]
    assert text[wakefield[0]["column"] - 1:wakefield[0]["end_column"] - 1] == "@wakefield1998ileal"
    # the hydroxychloroquine paper is cited twice: a finding at each place
    hcq = by_key(findings, "mehra2020hydroxychloroquine")
    assert [(f["code"], f["line"]) for f in hcq] == [("CF107", 10), ("CF107", 10)]
    assert hcq[0]["column"] < hcq[1]["column"]


def test_a_work_cited_by_its_manubot_key_is_judged_too(project):
    review = project / "review.md"
    review.write_text(review.read_text(encoding="utf-8").replace(
        "[@sadasivan2012methylphenidate]", "[@doi:10.1371/journal.pone.0033693]"), encoding="utf-8")
    _, findings = check()
    corrected = by_key(findings, "sadasivan2012methylphenidate")
    assert [(f["code"], f["severity"], f["line"]) for f in corrected] == [("CF108", "info", 12)]
    assert not [f for f in findings if f["code"] == "CF106" and "sadasivan" in f["message"]]


def test_json_and_sarif_carry_the_notices(project):
    _, findings = check()
    notices = by_key(findings, "wakefield1998ileal")[0]["notices"]
    assert {"category": "retraction", "doi": "10.1016/s0140-6736(10)60175-4", "pmid": "20137807",
            "date": "2010-02-06", "partial": False, "label": None,
            "sources": ["retraction-watch: retraction", "pubmed: RetractionIn"]} in notices
    result = CliRunner().invoke(main, ["check", "review.md", "--format", "sarif"], catch_exceptions=False)
    sarif = json.loads(result.stdout)
    retracted = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "CF107"]
    assert retracted and "10.1016/s0140-6736(10)60175-4" in {n["doi"] for n in retracted[0]["properties"]["notices"]}
    assert {"CF107", "CF110", "CF114"} <= {rule["id"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]}


def test_an_expression_of_concern_or_erratum_is_never_called_a_retraction(project):
    _, findings = check()
    notices = {n["doi"]: n["category"] for n in by_key(findings, "mehra2020hydroxychloroquine")[0]["notices"]}
    # Retraction Watch: retraction; the publisher's deposit: erratum -> a retraction notice
    assert notices["10.1016/s0140-6736(20)31324-6"] == "retraction"
    # the paper's own update-to links type the expression of concern "retraction": ignored
    assert "10.1016/s0140-6736(20)31290-3" not in notices
    message = by_key(findings, "mehra2020hydroxychloroquine")[0]["message"]
    assert "31290-3" not in message and "31528-2" not in message
    # a retracted work is reported by CF107 alone, not also as corrected or of concern
    assert {f["code"] for f in by_key(findings, "mehra2020hydroxychloroquine")} == {"CF107"}


def test_a_cited_retraction_notice_is_cf111(project):
    _, findings = check()
    notice = by_key(findings, "editors2010retraction")
    assert [(f["code"], f["severity"]) for f in notice] == [("CF111", "warning")]
    assert "is itself a retraction notice (of 10.1016/s0140-6736(97)11096-0)" in notice[0]["message"]
    # PubMed's publication type is matched by its UI, whatever its label
    assert "D016440" in notice[0]["message"]


def test_corrections_are_info_and_an_in_place_new_version_is_silent(project):
    _, findings = check()
    corrected = by_key(findings, "sadasivan2012methylphenidate")
    assert [(f["code"], f["severity"]) for f in corrected] == [("CF108", "info")]
    assert "correction notice 10.1371/annotation/c76da2c1-ccb8-4797-94c1-359d3ceceeda of 2012-05-08" \
        in corrected[0]["message"]
    assert by_key(findings, "twittenhoff2020rna") == []


def test_preprints_with_a_published_version_get_an_unsafe_fix(project):
    _, findings = check()
    optica = by_key(findings, "osullivan2025optical")
    assert [f["code"] for f in optica] == ["CF110"]
    assert "its published version is 10.1364/oe.572415 (according to Crossref)" in optica[0]["message"]
    assert optica[0]["fix"]["applicability"] == "unsafe"
    biorxiv = by_key(findings, "joyce2020identification")
    assert "10.1371/journal.pbio.3001555 in PLOS Biology (according to the bioRxiv API)" in biorxiv[0]["message"]
    safe_only = CliRunner().invoke(main, ["check", "review.md", "--fix"], catch_exceptions=False)
    assert "@osullivan2025optical" in (project / "review.md").read_text(encoding="utf-8"), safe_only.output
    CliRunner().invoke(main, ["check", "review.md", "--fix", "--unsafe-fixes"], catch_exceptions=False)
    text = (project / "review.md").read_text(encoding="utf-8")
    assert "[@doi:10.1364/oe.572415]" in text and "[@doi:10.1371/journal.pbio.3001555]" in text
    # now a placeholder that `citeflow resolve` turns into a key with a new entry
    _, after = check()
    assert any(f["code"] == "CF202" and "10.1364/oe.572415" in f["message"] for f in after)


def test_the_fix_cites_the_published_version_already_in_the_bibliography(project):
    with open(project / "refs.bib", "a", encoding="utf-8") as bib:
        bib.write("\n@article{osullivan2025comb,\n  title = {Optical frequency comb bandwidth enhancement},\n"
                  "  journal = {Optics Express},\n  year = {2025},\n  doi = {10.1364/OE.572415}\n}\n")
    _, findings = check()
    optica = by_key(findings, "osullivan2025optical")[0]
    assert optica["message"].endswith("in the bibliography as osullivan2025comb")
    assert optica["fix"]["edits"][0]["new"] == "@osullivan2025comb"


def test_works_the_registries_do_not_know(project):
    _, findings = check()
    made_up = by_key(findings, "unknown2012citing")
    assert [f["code"] for f in made_up] == ["CF112"]
    assert made_up[0]["message"].endswith("could not verify that this work exists (Crossref and doi.org do "
                                          "not know doi:10.1371/notarealdoi)")
    phantom = by_key(findings, "vandergeer2010art")
    assert [f["code"] for f in phantom] == ["CF112"]
    assert "no Crossref record matches its title" in phantom[0]["message"]


def test_check_sends_no_request(project, httpserver):
    # point every registry at a live server: check must not ask it anything
    toml = (project / "citeflow.toml").read_text(encoding="utf-8")
    base = httpserver.url_for("").rstrip("/")
    (project / "citeflow.toml").write_text(re.sub(r"http://127\.0\.0\.1:\d+", base, toml), encoding="utf-8")
    code, findings = check()
    assert code == 1 and findings
    assert httpserver.log == []


# -- the bibliography against the registries (CF109) -------------------------------------------------
def test_a_mistyped_entry_shows_both_values(project):
    bib = (project / "refs.bib").read_text(encoding="utf-8")
    bib = bib.replace("  journal = {Lancet},\n  year = {1998},\n  volume = {351},",
                      "  journal = {N Engl J Med},\n  year = {1997},\n  volume = {315},")
    (project / "refs.bib").write_text(bib, encoding="utf-8")
    _, findings = check()
    mistyped = [f for f in by_key(findings, "wakefield1998ileal") if f["code"] == "CF109"]
    assert len(mistyped) == 1
    message = mistyped[0]["message"]
    assert "year '1997' in the bibliography, '1998' at Crossref" in message
    assert "journal 'N Engl J Med' in the bibliography, 'The Lancet' at Crossref" in message
    assert "volume '315' in the bibliography, '351' at Crossref" in message
    # the entry as written before ("Lancet" for "The Lancet", no "RETRACTED:") agrees
    assert "title" not in message and "first page" not in message


def test_full_and_abbreviated_journal_names_agree():
    ref = Reference("w", title="Ileal-lymphoid-nodular hyperplasia, non-specific colitis, and pervasive "
                    "developmental disorder in children", authors=["Wakefield, A. J."], year=1998,
                    container="Lancet (London, England)", volume="351", pages="637--41")
    record = pubmed.registry_record(pubmed.article_element(
        (DATA / "pubmed" / "9500320.retracted-eoc.pubmedarticle.xml").read_text(encoding="utf-8")), "2026-01-01")
    message = json.loads((DATA / "crossref" / "10.1016_s0140-6736(97)11096-0.json").read_text())["message"]
    work = LockedWork(WAKEFIELD, sources={"pubmed": record,
                                          "crossref": crossref.registry_record(message, "2026-01-01")})
    assert disagreements(ref, work) == []
    fabricated = Reference("w", title="The art of writing a scientific article", authors=["van der Geer, J."],
                           year=2010, container="J Sci Commun", volume="163", pages="51--59")
    fields = {d.field for d in disagreements(fabricated, work)}
    assert fields == {"title", "first author", "year", "journal", "volume", "first page"}


def test_the_journal_matcher_on_real_abbreviation_lists():
    """Measured, not tuned: NLM abbreviations from JabRef's Index Medicus list (every 8th row,
    tests/data/integrity/PROVENANCE.md). Recall on 397 real (title, abbreviation) pairs, and
    false matches among 20,000 pairs of different journals."""
    path = DATA / "journal_abbreviations_medicus.sample.csv"
    rows = [r for r in csv.reader(path.open(encoding="utf-8")) if r[1]]
    recall = sum(same_journal(full, short) for full, short, *_ in rows) / len(rows)
    rng = random.Random(3)
    pairs = [rng.sample(rows, 2) for _ in range(20000)]
    false = sum(same_journal(a[0], b[1]) for a, b in pairs if a[0].lower() != b[0].lower())
    assert recall >= 0.9 and false == 0


def test_title_similarity_ignores_case_markup_and_retraction_prefixes():
    registry = ("RETRACTED: Ileal-lymphoid-nodular hyperplasia, non-specific colitis, and pervasive "
                "developmental disorder in children")
    assert title_similarity("Ileal-lymphoid-nodular hyperplasia, non-specific colitis, and pervasive "
                            "developmental disorder in children.", registry) == 1.0
    assert title_similarity("{Ileal-Lymphoid-Nodular} Hyperplasia, Non-Specific Colitis, and Pervasive "
                            "Developmental Disorder in Children", registry) == 1.0
    assert title_similarity("The art of writing a scientific article", registry) < 0.5


# -- CF114: not checked, or checked long ago ------------------------------------------------------------
def test_works_missing_from_the_lock_or_checked_long_ago(project):
    lock = json.loads((project / "citeflow.lock").read_text(encoding="utf-8"))
    for source in lock["works"][WAKEFIELD]["sources"].values():
        source["asked"] = "2020-01-01"
    del lock["works"]["doi:10.1371/journal.pone.0033693"]
    (project / "citeflow.lock").write_text(json.dumps(lock), encoding="utf-8")
    _, findings = check()
    stale = [f for f in findings if f["code"] == "CF114"]
    assert [f["line"] for f in stale] == [6, 12]
    assert re.search(r"wakefield1998ileal \(refs.bib:1\) was last checked against the registries \d+ days ago "
                     r"\(2020-01-01\); run `citeflow refresh`", stale[0]["message"])
    assert "sadasivan2012methylphenidate (refs.bib:20) is not in citeflow.lock" in stale[1]["message"]
    assert all(f["severity"] == "info" for f in stale)
    # the stale entry still counts: the retraction it recorded is reported
    assert any(f["code"] == "CF107" for f in by_key(findings, "wakefield1998ileal"))


def test_without_a_lock_there_is_nothing_to_judge(project):
    (project / "citeflow.lock").unlink()
    _, findings = check()
    assert not {f["code"] for f in findings} & {"CF107", "CF108", "CF109", "CF110", "CF111", "CF112", "CF114"}


def test_a_damaged_lock_is_one_line_error(project):
    (project / "citeflow.lock").write_text('{"lock": "citeflow", "version": 1,\n "works": {oops}}\n',
                                           encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "review.md"])
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("citeflow.lock:2: citeflow.lock is not valid JSON: Expecting "
                                          "property name enclosed in double quotes")
    assert "Traceback" not in result.output


def test_configured_severity_wins(project):
    (project / "citeflow.toml").write_text((project / "citeflow.toml").read_text(encoding="utf-8")
                                           + '[check.severity]\nCF107 = "warning"\n', encoding="utf-8")
    _code, findings = check()
    assert {f["severity"] for f in findings if f["code"] == "CF107"} == {"warning"}


# -- the traps of real records, one by one --------------------------------------------------------------
def _crossref(name: str, **changes) -> LockedWork:
    message = json.loads((DATA / "crossref" / name).read_text(encoding="utf-8"))["message"]
    message.update(changes)
    record = crossref.registry_record(message, "2026-01-01")
    return LockedWork(f"doi:{record.doi}", record.doi, sources={"crossref": record})


def _pubmed(name: str, text_change: tuple[str, str] | None = None) -> LockedWork:
    text = (DATA / "pubmed" / name).read_text(encoding="utf-8")
    if text_change:
        text = text.replace(*text_change)
    record = pubmed.registry_record(pubmed.article_element(text), "2026-01-01")
    return LockedWork(f"pmid:{record.pmid}", record.doi, record.pmid, sources={"pubmed": record})


def test_a_retracted_paper_with_publisher_update_to_links_is_not_a_notice():
    verdict = assess(_crossref("10.1016_s0140-6736(20)31180-6.json"))
    assert verdict.retraction is Certainty.CONFIRMED and verdict.notice_of is None
    assert [n.doi for n in verdict.concerns] == ["10.1016/s0140-6736(20)31290-3"]


def test_a_retraction_notice_in_the_crossref_list_is_a_notice_not_retracted():
    items = json.loads((DATA / "crossref" / "updates_10.1016_s0140-6736(97)11096-0.worklist.json")
                       .read_text(encoding="utf-8"))["message"]["items"]
    notice = crossref.registry_record(items[1], "2026-01-01")
    verdict = assess(LockedWork("doi:x", notice.doi, sources={"crossref": notice}))
    assert verdict.notice_of is Category.RETRACTION and verdict.retraction is None
    assert verdict.notice_targets == ["10.1016/s0140-6736(97)11096-0"]


def test_a_partial_retraction_that_retraction_watch_calls_a_correction():
    wakefield = _pubmed("9500320.retracted-eoc.pubmedarticle.xml")
    wakefield.sources.update(_crossref("10.1016_s0140-6736(97)11096-0.json").sources)
    verdict = assess(wakefield)
    first = verdict.retractions[0]
    assert (first.doi, first.pmid, first.date) == ("10.1016/s0140-6736(04)15715-2", "15016483", "2004-03-06")
    assert sorted(first.said) == [("pubmed", "RetractionIn"), ("retraction-watch", "correction")]
    assert verdict.corrections == []  # listed once, as the retraction PubMed says it is
    assert [n.pmid for n in verdict.concerns] == ["21971344"]


def test_publication_types_are_matched_by_ui_not_label():
    renamed = _pubmed("20137807.retraction-notice.pubmedarticle.xml",
                      ("Retraction Notice</PublicationType>", "Retraction of Publication</PublicationType>"))
    original = _pubmed("20137807.retraction-notice.pubmedarticle.xml")
    assert assess(renamed).notice_of is assess(original).notice_of is Category.RETRACTION
    relabelled = _pubmed("9500320.retracted-eoc.pubmedarticle.xml",
                         ("Retracted Publication</PublicationType>", "Something else</PublicationType>"))
    assert assess(relabelled).retraction is Certainty.CONFIRMED


def test_a_published_erratum_is_a_notice_and_an_erratum_link_a_correction():
    erratum = assess(_pubmed("8643635.published-erratum.pubmedarticle.xml"))
    assert erratum.notice_of is Category.CORRECTION and erratum.retraction is None
    corrected = assess(_pubmed("23300797.erratum-in-note.pubmedarticle.xml"))
    assert corrected.notice_of is None and corrected.retraction is None
    assert [n.doi for n in corrected.corrections] == ["10.1371/annotation/df743c15-c50e-4d00-a24d-510e15f9a73b"]


def test_a_single_weak_signal_is_a_possible_retraction():
    """The Lancet record without its Retraction Watch entries and without its title prefix
    (derived from the real record): only the publisher's own deposit says "retraction"."""
    message = json.loads((DATA / "crossref" / "10.1016_s0140-6736(20)31180-6.json").read_text())["message"]
    updated_by = [u for u in message["updated-by"] if u["source"] == "publisher"
                  and u["DOI"] != "10.1016/s0140-6736(20)31174-0"]
    work = _crossref("10.1016_s0140-6736(20)31180-6.json", **{
        "title": [message["title"][0].removeprefix("RETRACTED: ")], "update-to": [],
        "updated-by": [*updated_by, {"DOI": "10.1016/s0140-6736(20)31174-0", "type": "retraction", "source": "publisher", "updated": {"date-parts": [[2020, 5, 22]]}}]})
    verdict = assess(work)
    assert verdict.retraction is Certainty.POSSIBLE
    assert verdict.retraction_evidence == ["the publisher: retraction 10.1016/s0140-6736(20)31174-0 "
                                           "(the publisher's deposit alone)"]


def test_a_retraction_in_place_counts():
    """A work whose own DOI is named by its retraction link (derived from the PLOS record
    updated in place)."""
    work = _crossref("10.1371_journal.ppat.1008184.json", **{
        "updated-by": [{"DOI": "10.1371/journal.ppat.1008184", "type": "retraction", "source": "publisher",
                        "updated": {"date-parts": [[2021, 3, 1]]}}]})
    verdict = assess(work)
    assert verdict.retraction is Certainty.CONFIRMED
    assert verdict.retraction_evidence[0].startswith("retracted in place")
    assert assess(_crossref("10.1371_journal.ppat.1008184.json")).notices() == []


def test_the_lock_is_read_back_as_written(locked):
    lock = load_lock(locked / "citeflow.lock")
    assert lock.dumps() == (locked / "citeflow.lock").read_text(encoding="utf-8")
    assert lock.find(Reference("x", pmid="9500320")).id == WAKEFIELD
