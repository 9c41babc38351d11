"""`citeflow claims` shows what citeflow.lock says of each cited work, in every format.

The lock is written by `citeflow refresh` against the recorded Crossref and PubMed records
of tests/data/integrity (a real HTTP server on 127.0.0.1, tests/registry_stub.py); the
claims table is then built offline.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from citeflow.cli import main
from registry_stub import refreshed_project, working_copy

HCQ = "10.1016/s0140-6736(20)31324-6"
# Real sentences: the HCQ sentence is from https://omnij.org/Hydroxychloroquine_or_chloroquine_
# with_or_without_a_macrolide_for_treatment_of_COVID-19:_a_multinational_registry_analysis
# (its reference [1] is the Lancet paper); the others are in tests/data/integrity/project/review.md
# (PROVENANCE.md there). Works are cited together only to show every status in one table.
MANUSCRIPT = """---
bibliography: refs.bib
---

A multinational registry analysis assessing the effectiveness of hydroxychloroquine or chloroquine with or without macrolide therapy in treatment of 96,032 hospitalized COVID-19 patients showed significantly increased risk of both in-hospital mortality and de-novo ventricular arrhythmia during hospitalization [@mehra2020hydroxychloroquine; @later2024added].

In 1998, Wakefield and his colleagues published a study in the medical journal The Lancet, claiming to have found a link between the MMR vaccine, bowel disease, and autism in a small group of children [@wakefield1998ileal].

Methylphenidate exposure induces dopamine neuron loss and activation of microglia in the basal ganglia of mice [@sadasivan2012methylphenidate; @twittenhoff2020rna; @osullivan2025optical].
"""
LATER = """
@article{later2024added,
  author = {Smith, Jane},
  title = {A work added to the bibliography after the last refresh},
  journal = {Journal of Examples},
  year = {2024},
  doi = {10.5555/not.yet.refreshed}
}
"""


@pytest.fixture(scope="module")
def locked(tmp_path_factory) -> Path:
    return refreshed_project(tmp_path_factory.mktemp("status") / "project")


@pytest.fixture
def project(locked, tmp_path, monkeypatch) -> Path:
    root = working_copy(locked, tmp_path, monkeypatch)
    (root / "status.md").write_text(MANUSCRIPT, encoding="utf-8")
    with (root / "refs.bib").open("a", encoding="utf-8") as bib:
        bib.write(LATER)
    return root


def claims(*args: str) -> str:
    result = CliRunner().invoke(main, ["claims", "status.md", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def by_key(fmt_csv: str) -> dict[str, str]:
    statuses = {}
    for row in csv.DictReader(io.StringIO(fmt_csv)):
        for key, status in zip(row["Citations"].split("; "), row["Status"].split("\n")):
            statuses[key] = status
    return statuses


def test_csv_gives_each_cited_work_its_status(project):
    statuses = by_key(claims("--format", "csv"))
    assert statuses["mehra2020hydroxychloroquine"].startswith(f"retracted: {HCQ} of 2020-06-05")
    assert statuses["wakefield1998ileal"].startswith("retracted: 10.1016/s0140-6736(10)60175-4 (PMID 20137807)")
    assert statuses["sadasivan2012methylphenidate"] == (
        "corrected: 10.1371/annotation/c76da2c1-ccb8-4797-94c1-359d3ceceeda of 2012-05-08")
    assert statuses["osullivan2025optical"] == "preprint: published version 10.1364/oe.572415"
    assert statuses["later2024added"] == "not checked: not in citeflow.lock"
    assert statuses["twittenhoff2020rna"] == "ok"


def test_a_work_cited_by_its_manubot_key_has_its_title_and_status_once(project):
    # In braces, as Pandoc needs for a DOI holding parentheses.
    path = project / "status.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "[@wakefield1998ileal]", "[@{doi:10.1016/S0140-6736(97)11096-0}]"), encoding="utf-8")
    output = claims("--format", "csv")
    statuses = by_key(output)
    assert statuses["doi:10.1016/S0140-6736(97)11096-0"].startswith("retracted: 10.1016/s0140-6736(10)60175-4")
    assert "not yet resolved" not in output and "not in the bibliography" not in output


def test_markdown_html_and_text_carry_the_status(project):
    markdown = claims()
    assert "| Status |" in markdown.splitlines()[0]
    hcq = next(line for line in markdown.splitlines() if "mehra2020hydroxychloroquine" in line)
    assert hcq.rstrip().endswith(" |") and f"retracted: {HCQ}" in hcq
    page = claims("--format", "html")
    assert "<th>Status</th>" in page
    assert f'<span class="cf-status-retracted">retracted: {HCQ}' in page
    assert '<span class="cf-status-preprint">preprint: published version 10.1364/oe.572415</span>' in page
    text = claims("--format", "text")
    assert "   later2024added: A work added to the bibliography after the last refresh (2024) " \
           "[not checked: not in citeflow.lock]" in text
    assert f"[retracted: {HCQ}" in text


def test_a_lock_checked_long_ago_makes_every_work_not_checked(project):
    lock = json.loads((project / "citeflow.lock").read_text(encoding="utf-8"))
    for work in lock["works"].values():
        for record in work["sources"].values():
            record["asked"] = "2020-01-01"
    (project / "citeflow.lock").write_text(json.dumps(lock, indent=2), encoding="utf-8")
    statuses = by_key(claims("--format", "csv"))
    assert statuses["mehra2020hydroxychloroquine"].startswith("not checked: last checked 2020-01-01, ")
    assert all(s.startswith("not checked") for s in statuses.values())
    (project / "citeflow.toml").write_text((project / "citeflow.toml").read_text(encoding="utf-8")
                                           + "\n[check]\nlock_max_age_days = 100000\n", encoding="utf-8")
    assert by_key(claims("--format", "csv"))["mehra2020hydroxychloroquine"].startswith("retracted")


def test_without_a_lock_the_table_has_no_status_column(project):
    (project / "citeflow.lock").unlink()
    assert "Status" not in claims("--format", "csv").splitlines()[0]
    assert "[" not in claims("--format", "text").split("mehra2020hydroxychloroquine:", 1)[1].splitlines()[0]


def test_a_txt_output_file_gets_the_text_table(project):
    result = CliRunner().invoke(main, ["claims", "status.md", "-o", "claims.txt"])
    assert result.exit_code == 0, result.output
    text = (project / "claims.txt").read_text(encoding="utf-8")
    assert text.startswith("1. line 5: A multinational registry analysis")
    assert "3 of 3 claim sentences cite a reference." in text


def test_the_review_claims_table_carries_the_status(project):
    result = CliRunner().invoke(main, ["render", "status.md", "--review", "--to", "html", "-o", "out"])
    assert result.exit_code == 0, result.output
    page = (project / "out" / "status.review.html").read_text(encoding="utf-8")
    table = page[page.index("Claims table"):]
    assert "Status" in table and f"retracted: {HCQ}" in table
    assert "not checked: not in citeflow.lock" in table



def _hcq(asked: str = "2026-01-01", **changes):
    """The Lancet paper's recorded Crossref record, changed as a registry might show it."""
    from citeflow.references.lock import LockedWork
    from citeflow.sources import crossref
    from registry_stub import DATA

    message = json.loads((DATA / "crossref" / "10.1016_s0140-6736(20)31180-6.json")
                         .read_text(encoding="utf-8"))["message"]
    title = message["title"][0].removeprefix("RETRACTED: ")
    kept = changes.pop("kept", None)
    if kept is not None:  # the record as it stood before the retraction
        message.update({"title": [title], "update-to": [],
                        "updated-by": [u for u in message["updated-by"] if u["type"] in kept]})
    if "prefix" in changes:
        message["title"] = [changes.pop("prefix") + title]
    message.update(changes)
    record = crossref.registry_record(message, asked)
    return LockedWork(f"doi:{record.doi}", record.doi, sources={"crossref": record})


def test_status_names_the_strongest_finding():
    from citeflow.references.integrity import WorkStatus, work_status
    from citeflow.references.reference import Reference

    ref = Reference("mehra2020", doi="10.1016/s0140-6736(20)31180-6")
    always = 10**6  # days: never too old
    concern = work_status(ref, _hcq(kept=("expression_of_concern", "correction")), always)
    assert concern.status is WorkStatus.EXPRESSION_OF_CONCERN
    assert str(concern) == "expression of concern: 10.1016/s0140-6736(20)31290-3 of 2020-06-03"
    assert work_status(ref, _hcq(kept=("correction",)), always).status is WorkStatus.CORRECTED
    assert work_status(ref, _hcq(kept=(), prefix="WITHDRAWN: "), always).status is WorkStatus.WITHDRAWN
    assert work_status(ref, _hcq(kept=()), always).status is WorkStatus.OK
    assert work_status(ref, _hcq(asked="2001-01-01"), 30).status is WorkStatus.NOT_CHECKED
    assert work_status(ref, None).status is WorkStatus.NOT_CHECKED
