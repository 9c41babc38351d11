"""CF304: a claim whose cited work's abstract shares nothing material with it.

The abstracts come from citeflow.lock, written once by `citeflow refresh` against a real HTTP
server on 127.0.0.1 answering with recorded PubMed EFetch records (tests/data/support,
PROVENANCE.md there); the checks then run offline. The claims are real sentences from public
pages and the seed draft's claims (tests/data/support/claims.toml).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from citeflow.claims.support import compare, material_terms, numbers
from citeflow.cli import main
from citeflow.references.bibliography import load_bibliography
from citeflow.references.lock import load_lock
from registry_stub import refreshed_project, working_copy

DATA = Path(__file__).parent / "data" / "support"
CLAIMS = tomllib.loads((DATA / "claims.toml").read_text(encoding="utf-8"))
#: Floors on the figures measured on claims.toml (docs/claim-support.md, "Figures"): no more false
#: hints on supported pairs than measured, and at least this share of hints on mismatched ones.
MAX_FALSE_HINTS = 0
MIN_MISMATCH_HINT_RATE = 0.65


@pytest.fixture(scope="module")
def locked(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("support") / "project"
    return refreshed_project(root, DATA / "project", DATA, "support.md")


@pytest.fixture
def project(locked, tmp_path, monkeypatch) -> Path:
    return working_copy(locked, tmp_path, monkeypatch)


def check(*args: str) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(main, ["check", "support.md", "--format", "json", *args],
                                catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)["findings"]


def cf304(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["code"] == "CF304"]


def test_a_claim_citing_a_work_about_something_else_gets_a_hint(project):
    code, findings = check()
    (hint,) = cf304(findings)
    assert hint["severity"] == "info"
    assert hint["line"] == 16  # the dupilumab sentence citing the semaglutide meta-analysis
    assert "shi2018efficacy (refs.bib:12)" in hint["message"]
    assert "dupilumab" in hint["message"] and "check that the work supports it" in hint["message"]
    assert "supported" not in hint["message"].replace("supports", "")
    assert code == 1  # from CF107 (Wakefield is retracted); an info finding never fails a check
    code, findings = check("--select", "CF304")
    assert code == 0 and len(findings) == 1


def test_a_manubot_key_is_compared_as_the_entry_it_names(project):
    # The same sentence citing the work by its PMID, as a Manubot manuscript would.
    path = project / "support.md"
    path.write_text(path.read_text(encoding="utf-8").replace("[@shi2018efficacy]", "[@pmid:29915538]"),
                    encoding="utf-8")
    _, findings = check("--select", "CF304")
    (hint,) = findings
    assert hint["line"] == 16 and "shi2018efficacy (refs.bib:12)" in hint["message"]


def test_claims_citing_their_supporting_work_get_none(project):
    _, findings = check()
    assert {f["line"] for f in cf304(findings)} == {16}


def test_explain_lists_the_claim_terms_the_abstract_lacks(project):
    result = CliRunner().invoke(main, ["check", "support.md", "--select", "CF304", "--explain"])
    assert "why: compared 6 material terms of the claim with the title and the 351-word abstract" in result.output
    assert "dupilumab (term)" in result.output
    assert "monoclonal antibody (~antibody) (concept)" in result.output


def test_the_usual_rule_selection_turns_it_off(project):
    text = (project / "citeflow.toml").read_text(encoding="utf-8")
    (project / "citeflow.toml").write_text(text + '\n[check]\nignore = ["CF304"]\n', encoding="utf-8")
    _, findings = check()
    assert not cf304(findings)


def test_works_without_an_abstract_in_the_lock_are_not_compared(project):
    lock = json.loads((project / "citeflow.lock").read_text(encoding="utf-8"))
    del lock["works"]["pmid:29915538"]["abstract"]
    (project / "citeflow.lock").write_text(json.dumps(lock, indent=2), encoding="utf-8")
    _, findings = check()
    assert not cf304(findings)


def test_without_a_lock_there_is_nothing_to_compare(project):
    (project / "citeflow.lock").unlink()
    _, findings = check()
    assert not cf304(findings)


def test_numbers_that_name_things_are_not_compared():
    text = "In 1998, COVID-19 and IL-4 aside, 38% of 9,773 subjects lost 0.93 kg in 2 trials."
    assert [value for value, _ in numbers(text)] == ["38", "9773", "0.93"]
    terms = [str(t) for t in material_terms("Joint pain was reported with dupilumab.")]
    assert terms == ["joint pain (~joint-disorder)", "dupilumab"]


def _abstracts(root: Path) -> dict[str, tuple[str, str]]:
    lock = load_lock(root / "citeflow.lock")
    works = {}
    for ref in load_bibliography([root / "refs.bib"]):
        work = lock.find(ref)
        assert work is not None and work.abstract, ref.key
        works[ref.key] = (next(r.title for _, r in work.found() if r.title), work.abstract)
    return works


def test_hint_rates_on_real_claims(locked):
    """Supported pairs (a real sentence and the work whose abstract backs it) get no hint;
    mismatched pairs (a sentence with another work, and the seed's dupilumab claims with
    every work) mostly do. The figures are in docs/claim-support.md."""
    works = _abstracts(locked)
    supported = [(c["text"], c["key"]) for c in CLAIMS["supported"]]
    false_hints = [pair for pair in supported if compare(pair[0], *works[pair[1]]).shares_nothing]
    assert len(false_hints) <= MAX_FALSE_HINTS, false_hints
    mismatched = [(text, key) for text, own in supported for key in works if key != own]
    mismatched += [(c["text"], key) for c in CLAIMS["seed"] for key in works]
    hinted = sum(compare(text, *works[key]).shares_nothing for text, key in mismatched)
    assert len(supported) == 13 and len(mismatched) == 142
    assert hinted / len(mismatched) >= MIN_MISMATCH_HINT_RATE
