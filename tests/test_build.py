"""`citeflow build`: parallel builds, up-to-date skipping, exit codes; the CI files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from citeflow.cli import main
from citeflow.output.build import STAMP_NAME

DATA = Path(__file__).parent / "data" / "review"
ROOT = Path(__file__).parent.parent


def _entry(key: str) -> str:
    """One BibTeX entry of the test bibliography."""
    text = (DATA / "dupilumab.bib").read_text(encoding="utf-8")
    match = re.search(rf"@\w+\{{{key},.*?\n\}}\n", text, re.S)
    assert match, key
    return match.group(0)


ALPHA = """---
title: Alpha
bibliography: ../references/alpha.bib
---

Dupilumab is a monoclonal antibody that targets type 2 inflammation [@gandhi2016targeting].
"""

BETA = """---
title: Beta
bibliography: ../references/beta.bib
---

Two phase 3 trials showed that dupilumab improved atopic dermatitis [@simpson2016two].
Emerging research suggests a link with musculoskeletal conditions.
"""


@pytest.fixture()
def project(tmp_path, monkeypatch):
    (tmp_path / "manuscripts").mkdir()
    (tmp_path / "references").mkdir()
    (tmp_path / "citeflow.toml").write_text(
        'style = "american-medical-association"\nmanuscripts = "manuscripts"\n'
        'output = "build"\n', encoding="utf-8")
    (tmp_path / "references" / "alpha.bib").write_text(_entry("gandhi2016targeting"),
                                                       encoding="utf-8")
    (tmp_path / "references" / "beta.bib").write_text(
        _entry("simpson2016two") + "\n" + _entry("woodbury2023dupilumab"), encoding="utf-8")
    (tmp_path / "manuscripts" / "alpha.md").write_text(ALPHA, encoding="utf-8")
    (tmp_path / "manuscripts" / "beta.md").write_text(BETA, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITEFLOW_OFFLINE", "1")  # also for the worker processes
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def _build(*args: str):
    result = CliRunner().invoke(main, ["build", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _status(output: str) -> dict[str, str]:
    """Manuscript name -> "built" or "up to date", from the build's report lines."""
    found = {}
    for line in output.splitlines():
        match = re.match(r"manuscripts/(\w+)\.md: (built|up to date)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if not p.name.startswith(".")}


def test_build_renders_everything_then_skips_what_did_not_change(project):
    first = _build("--jobs", "2")
    assert first.exit_code == 0, first.output
    assert _status(first.output) == {"alpha": "built", "beta": "built"}
    out = project / "build"
    # Alpha has no finding, so no review; beta has one (an uncited claim) and gets it.
    assert sorted(p.name for p in out.iterdir()) == [
        STAMP_NAME, "alpha.html", "alpha.pdf", "beta.html", "beta.pdf",
        "beta.review.html", "beta.review.pdf"]
    assert (out / "beta.pdf").read_bytes().startswith(b"%PDF")
    assert "CF302" in (out / "beta.review.html").read_text(encoding="utf-8")
    before = _mtimes(out)

    second = _build("--jobs", "2")
    assert second.exit_code == 0
    assert _status(second.output) == {"alpha": "up to date", "beta": "up to date"}
    assert "0 built, 2 up to date, 0 failed" in second.output
    assert _mtimes(out) == before  # nothing rewritten

    # A changed bibliography rebuilds only the manuscript that uses it.
    bib = project / "references" / "beta.bib"
    bib.write_text(bib.read_text(encoding="utf-8").replace("Two Phase 3 Trials",
                                                           "Two Phase III Trials"),
                   encoding="utf-8")
    third = _build("--jobs", "2")
    assert _status(third.output) == {"alpha": "up to date", "beta": "built"}
    after = _mtimes(out)
    assert after["alpha.pdf"] == before["alpha.pdf"]
    assert after["beta.html"] != before["beta.html"]
    assert "Two phase III trials" in (out / "beta.html").read_text(encoding="utf-8")

    # An output that went missing is rebuilt; --force rebuilds everything.
    (out / "alpha.pdf").unlink()
    assert _status(_build("--jobs", "1").output) == {"alpha": "built", "beta": "up to date"}
    assert (out / "alpha.pdf").is_file()
    assert _status(_build("--force").output) == {"alpha": "built", "beta": "built"}


def test_review_disappears_once_the_findings_are_fixed(project):
    _build()
    assert (project / "build" / "beta.review.pdf").is_file()
    beta = project / "manuscripts" / "beta.md"
    beta.write_text(BETA.replace("conditions.", "conditions [@woodbury2023dupilumab]."),
                    encoding="utf-8")
    result = _build()
    assert _status(result.output) == {"alpha": "up to date", "beta": "built"}
    assert not (project / "build" / "beta.review.pdf").exists()
    assert not (project / "build" / "beta.review.html").exists()


def test_exit_code_follows_fail_on_also_for_up_to_date_manuscripts(project):
    assert _build("--fail-on", "error").exit_code == 0
    warned = _build("--fail-on", "warning")
    assert warned.exit_code == 1
    assert _status(warned.output) == {"alpha": "up to date", "beta": "up to date"}
    assert _build("--fail-on", "info").exit_code == 1
    # The project's own fail level applies without the option; changing citeflow.toml is a
    # change of input, so both manuscripts are rebuilt.
    config = project / "citeflow.toml"
    config.write_text(config.read_text() + '\n[check]\nfail_on = "warning"\n')
    result = _build()
    assert result.exit_code == 1
    assert _status(result.output) == {"alpha": "built", "beta": "built"}


def test_named_manuscript_builds_alone(project):
    result = _build("manuscripts/alpha.md", "-o", "site")
    assert result.exit_code == 0
    assert _status(result.output) == {"alpha": "built"}
    assert sorted(p.name for p in (project / "site").iterdir()) == [
        STAMP_NAME, "alpha.html", "alpha.pdf"]
    stamp = json.loads((project / "site" / STAMP_NAME).read_text())
    assert list(stamp["manuscripts"]) == [str((project / "manuscripts" / "alpha.md").resolve())]


def test_broken_manuscript_exits_2_naming_file_and_line_and_others_still_build(project):
    (project / "manuscripts" / "gamma.md").write_text(
        "---\ntitle: Gamma\nbibliography: [unclosed\n---\n\nText.\n", encoding="utf-8")
    result = _build("--jobs", "2")
    assert result.exit_code == 2
    assert re.search(r"citeflow: error: manuscripts/gamma\.md:\d+: malformed YAML", result.output)
    assert _status(result.output) == {"alpha": "built", "beta": "built"}
    assert not list((project / "build").glob("gamma*"))
    assert "1 failed" in result.output


def test_unknown_manuscript_named_is_an_error(project):
    result = _build("manuscripts/nope.md")
    assert result.exit_code == 2
    assert "manuscripts/nope.md: manuscript not found" in result.output


def test_an_output_rewritten_since_the_build_is_built_again(project):
    assert _status(_build().output) == {"alpha": "built", "beta": "built"}
    html = project / "build" / "alpha.html"
    ama = html.read_text(encoding="utf-8")
    # `render --csl vancouver` writes into the same folder: build must not call that current.
    done = CliRunner().invoke(main, ["render", "manuscripts/alpha.md", "--to", "html",
                                     "--csl", "vancouver"])
    assert done.exit_code == 0, done.output
    assert html.read_text(encoding="utf-8") != ama
    again = _build()
    assert _status(again.output) == {"alpha": "built", "beta": "up to date"}
    assert html.read_text(encoding="utf-8") == ama
    # A different style asked of the build is a different build, recorded as such.
    assert _status(_build("--csl", "vancouver").output) == {"alpha": "built", "beta": "built"}
    assert _status(_build("--csl", "vancouver").output) == {"alpha": "up to date",
                                                            "beta": "up to date"}


def test_outputs_of_a_deleted_manuscript_are_removed(project):
    _build()
    out = project / "build"
    (project / "manuscripts" / "beta.md").unlink()
    keep = out / "notes.txt"  # a file the build did not write stays
    keep.write_text("mine")
    result = _build()
    assert result.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        STAMP_NAME, "alpha.html", "alpha.pdf", "notes.txt"]
    assert f"removed {out.resolve() / 'beta.html'} (its manuscript no longer exists)" in result.output
    stamp = json.loads((out / STAMP_NAME).read_text())
    assert [Path(k).name for k in stamp["manuscripts"]] == ["alpha.md"]


# --------------------------------------------------------------------------------------
# Pull-request integration files


def _steps(path: Path) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data["runs"]["steps"] if "runs" in data else data["jobs"]["check"]["steps"]


def test_action_installs_citeflow_and_runs_check_for_annotations_and_sarif():
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {"manuscripts", "fail-on", "diff-base"}
    steps = _steps(ROOT / "action.yml")
    assert steps[0]["uses"].startswith("actions/setup-python@")
    runs = [s.get("run", "") for s in steps]
    assert any("pip install" in r and "$GITHUB_ACTION_PATH" in r for r in runs)
    annotate = next(r for r in runs if "--format github" in r)
    sarif = next(r for r in runs if "--format sarif" in r)
    for script in (annotate, sarif):
        assert "--diff" in script and "citeflow check" in script
    assert "-o " in sarif
    sarif_step = next(s for s in steps if "--format sarif" in s.get("run", ""))
    assert sarif_step["if"] == "${{ always() }}"  # SARIF is written even when check fails
    assert all(s.get("shell") == "bash" for s in steps if "run" in s)


def test_example_workflow_uses_the_action_on_pull_requests_and_uploads_sarif():
    workflow = yaml.safe_load((ROOT / ".github/workflows/citeflow.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads "on"
    assert "pull_request" in triggers
    assert workflow["permissions"]["security-events"] == "write"
    steps = _steps(ROOT / ".github/workflows/citeflow.yml")
    checkout, check, upload = steps
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0  # --diff needs the base revision
    assert "push" in triggers  # code scanning needs results from the default branch
    assert check["uses"] == "./"
    assert check["with"]["diff-base"] == "auto"  # pull requests and pushes alike
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ steps." + check["id"] + ".outputs.sarif-file }}"
    assert "head.repo.full_name == github.repository" in upload["if"]  # forks cannot upload


def test_pre_commit_hook_checks_markdown_manuscripts():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "citeflow-check"
    assert hook["entry"] == "citeflow check"
    assert hook["language"] == "python"
    assert hook["types"] == ["markdown"]
