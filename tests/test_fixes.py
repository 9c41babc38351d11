"""Findings carry fixes: `check --fix` applies the safe ones, resolve uses the same edits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import citeflow
from citeflow.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = Path(__file__).parent / "data" / "check" / "sarif-schema-2.1.0.json"

# Sentences from the sample review (manuscripts/dupilumab-arthralgia-review.md) with their
# citations written the way drafts paste them: identifiers instead of keys.
DRAFT = (
    "---\ntitle: Draft\nbibliography: dupilumab.bib\n---\n\n"
    "In two phase 3 trials in adults with moderate-to-severe atopic dermatitis, SOLO 1 and "
    "SOLO 2, dupilumab improved signs and symptoms, including itch, more than placebo over "
    "16 weeks [see doi:10.1056/NEJMoa1610020, p. 2338]. The one-year CHRONOS trial showed "
    "that the benefit was maintained when dupilumab was combined with topical corticosteroids "
    "(doi: 10.1016/S0140-6736(17)31191-1) [pmid:99999999].\n\n"
    "In uncontrolled moderate-to-severe asthma, the QUEST trial found fewer severe "
    "exacerbations with dupilumab than with placebo [@castro2018dupilumb].\n"
)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "references" / "dupilumab.bib", tmp_path / "dupilumab.bib")
    path = tmp_path / "draft.md"
    path.write_bytes(DRAFT.replace("\n", "\r\n").encode())
    return path


def test_identifier_placeholders_in_the_bibliography_are_findings_with_safe_fixes(draft):
    result = citeflow.check(draft, select="CF2")
    fixable = [f for f in result.findings if f.code == "CF203"]
    assert len(fixable) == 2
    assert all(f.fix is not None and f.fix.safe for f in fixable)
    assert fixable[0].fix.edits[0].new == "[see @simpson2016two, p. 2338]"
    # the made-up PMID is not in the bibliography: no fix, a CF202 finding instead
    assert [f.code for f in result.findings if f.fix is None] == ["CF202"]


def test_check_fix_rewrites_only_the_placeholders_and_keeps_crlf(draft):
    before = draft.read_bytes()
    done = run("check", str(draft), "--fix")
    after = draft.read_bytes()
    assert "fixed 2 findings" in done.stderr
    assert b"[see @simpson2016two, p. 2338]" in after
    assert b"(doi:" not in after and b"[@blauvelt2017longterm] [pmid:99999999]" in after
    assert after.count(b"\r\n") == before.count(b"\r\n")
    # nothing else moved: undoing the two edits gives the original bytes back
    undone = (after.replace(b"[see @simpson2016two, p. 2338]",
                            b"[see doi:10.1056/NEJMoa1610020, p. 2338]")
              .replace(b"[@blauvelt2017longterm]", b"(doi: 10.1016/S0140-6736(17)31191-1)"))
    assert undone == before
    # what is left is reported, and a second run changes nothing
    assert "CF202" in done.stdout and "CF203" not in done.stdout
    run("check", str(draft), "--fix")
    assert draft.read_bytes() == after


def test_unsafe_fixes_only_when_asked(draft):
    run("check", str(draft), "--fix")
    assert b"@castro2018dupilumb]" in draft.read_bytes()
    done = run("check", str(draft), "--fix", "--unsafe-fixes")
    assert "fixed 1 finding" in done.stderr
    assert b"[@castro2018dupilumab]" in draft.read_bytes()
    assert run("check", str(draft), "--unsafe-fixes").exit_code == 2


def test_check_fix_and_resolve_write_the_same_citations(draft, tmp_path):
    other = tmp_path / "copy.md"
    shutil.copy(draft, other)
    citeflow.fix(draft)
    resolved = citeflow.resolve(other, offline=True)
    assert resolved.text == draft.read_bytes().decode()


def test_suppressed_findings_are_not_fixed(draft):
    text = draft.read_bytes().decode().replace(
        "In two phase", "<!-- citeflow: ignore CF203 reason=\"kept for the editor\" -->\r\n\r\nIn two phase")
    draft.write_bytes(text.encode())
    fixed = citeflow.fix(draft)
    assert len(fixed.applied) == 0
    assert draft.read_bytes().decode() == text


def test_fix_on_text_returns_the_new_text_and_writes_nothing(draft):
    project = citeflow.Project.find(draft)
    text = draft.read_bytes().decode()
    fixed = project.fix(text.replace("bibliography: dupilumab.bib",
                                     f"bibliography: {draft.parent / 'dupilumab.bib'}"))
    assert "[see @simpson2016two, p. 2338]" in fixed.text
    assert fixed.written is False and draft.read_bytes().decode() == text
    assert [f.code for f in fixed.remaining.active() if f.code.startswith("CF2")] == ["CF202"]


def test_fixes_are_in_json_and_valid_sarif(draft):
    data = json.loads(run("check", str(draft), "--format", "json").stdout)
    fixes = [f["fix"] for f in data["findings"] if "fix" in f]
    assert [f["applicability"] for f in fixes] == ["safe", "safe", "unsafe"]
    edit = fixes[0]["edits"][0]
    assert (edit["line"], edit["new"]) == (6, "[see @simpson2016two, p. 2338]")
    sarif = json.loads(run("check", str(draft), "--format", "sarif").stdout)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(sarif)
    with_fix = [r for r in sarif["runs"][0]["results"] if "fixes" in r]
    assert len(with_fix) == 3
    region = with_fix[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"]
    assert region["startLine"] == 6 and region["endLine"] == 6
