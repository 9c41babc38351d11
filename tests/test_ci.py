"""The GitHub Action's own scripts, run with bash as the runner would run them (a git
repository, the event payload, GITHUB_* variables, a working directory below the root), and
the pins it installs from."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
EXPRESSION = re.compile(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


def run_action(workspace: Path, env: dict[str, str], **inputs: str) -> dict[str, object]:
    """Run the action's `run:` steps (the `uses:` ones need GitHub) as the runner does:
    inputs substituted, each step in its working directory, stopping at the first failure
    unless a step runs `always()`. Returns exit codes by step id and the outputs."""
    values = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    values.update({k.replace("_", "-"): v for k, v in inputs.items()})
    fill = lambda text: EXPRESSION.sub(lambda m: values[m.group(1)], str(text))  # noqa: E731
    codes: dict[str, int] = {}
    failed = False
    bin_dir = str(Path(sys.executable).parent)  # `citeflow` of this environment
    for number, step in enumerate(ACTION["runs"]["steps"]):
        if "run" not in step or "pip install" in step["run"]:
            continue  # set-up-python, caches, and the install (this environment has citeflow)
        if failed and step.get("if") != "${{ always() }}":
            continue
        step_env = {**env, **{k: fill(v) for k, v in step.get("env", {}).items()}}
        step_env["PATH"] = bin_dir + os.pathsep + step_env["PATH"]
        folder = workspace / fill(step.get("working-directory", "."))
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=folder,
                              env=step_env, capture_output=True, text=True)
        codes[step.get("id", str(number))] = done.returncode
        codes[f"{step.get('id', number)}:stdout"] = done.stdout  # type: ignore[assignment]
        failed = failed or done.returncode != 0
    outputs = dict(line.split("=", 1) for line in
                   Path(env["GITHUB_OUTPUT"]).read_text().splitlines() if "=" in line)
    return {"codes": codes, "outputs": outputs}


@pytest.fixture()
def workspace(tmp_path, monkeypatch):
    """A repository whose manuscripts live below the root (working-directory: paper)."""
    repo = tmp_path / "repo"
    paper = repo / "paper"
    (paper / "manuscripts").mkdir(parents=True)
    (paper / "references").mkdir()
    shutil.copy(ROOT / "references" / "dupilumab.bib", paper / "references")
    (paper / "citeflow.toml").write_text('bibliography = ["references/dupilumab.bib"]\n'
                                         'manuscripts = "manuscripts"\n')
    review = (ROOT / "manuscripts" / "dupilumab-arthralgia-review.md").read_text(encoding="utf-8")
    (paper / "manuscripts" / "review.md").write_text(review, encoding="utf-8")
    env = {"GIT_AUTHOR_NAME": "Ed", "GIT_AUTHOR_EMAIL": "ed@example.org",
           "GIT_COMMITTER_NAME": "Ed", "GIT_COMMITTER_EMAIL": "ed@example.org"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    return repo


def github_env(tmp_path: Path, repo: Path, event_name: str, event: dict) -> dict[str, str]:
    (tmp_path / "event.json").write_text(json.dumps(event))
    for name in ("output", "summary", "env"):
        (tmp_path / name).write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CITEFLOW_"))}
    env.update({
        "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(repo),
        "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
        "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_ENV": str(tmp_path / "env"), "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_REPOSITORY": "example/manuscripts", "GITHUB_SHA": git(repo, "rev-parse", "HEAD"),
        "GITHUB_SERVER_URL": "https://github.com", "RUNNER_TEMP": str(tmp_path),
        "CITEFLOW_OFFLINE": "1", "CITEFLOW_CACHE_DIR": str(tmp_path / "cache"),
    })
    return env


def test_a_push_checks_the_sentences_it_changed_with_paths_from_the_repository_root(
        workspace, tmp_path):
    before = git(workspace, "rev-parse", "HEAD")
    review = workspace / "paper" / "manuscripts" / "review.md"
    text = review.read_text(encoding="utf-8")
    # One new uncited claim in the middle of a long paragraph, and a broken key.
    text = text.replace("[@salvati2022therapeutical; @matsunaga2020dupilumab]. The drug",
                        "[@salvati2022therapeutical; @matsunaga2020dupilumab]. It is the most "
                        "prescribed biologic in dermatology. The drug")
    text = text.replace("[@sanofi2017dupixent]. As its use", "[@sanofi2017dupixnet]. As its use")
    review.write_text(text, encoding="utf-8")
    git(workspace, "commit", "-q", "-am", "edit")
    env = github_env(tmp_path, workspace, "push", {"before": before})
    result = run_action(workspace, env, working_directory="paper")
    codes = result["codes"]
    assert codes["check"] == 1  # the unknown key is an error: the step fails
    assert codes["sarif"] == 0  # and the SARIF step still runs, and succeeds
    annotations = codes["check:stdout"].splitlines()
    # Errors first; paths from the repository root although the step ran in paper/.
    assert annotations[0].startswith("::error file=paper/manuscripts/review.md,line=9,")
    assert "title=CF101" in annotations[0]
    assert [a.split(" ", 1)[0] for a in annotations] == ["::error", "::warning"]
    assert "most prescribed biologic" in annotations[1]
    # Only the changed sentences: the paragraph's other sentences are not reported.
    assert len(annotations) == 2
    summary = (tmp_path / "summary").read_text()
    assert "## citeflow check" in summary
    assert "**2 findings**: 1 error, 1 warning, 0 info — **failed**" in summary
    assert "| CF101 | unknown-citation-key | error | 1 |" in summary
    sha = env["GITHUB_SHA"]
    assert (f"[paper/manuscripts/review.md:9](https://github.com/example/manuscripts/blob/{sha}/"
            "paper/manuscripts/review.md#L9)") in summary
    sarif_path = Path(result["outputs"]["path"])
    assert sarif_path == workspace / "paper" / "citeflow.sarif"
    sarif = json.loads(sarif_path.read_text())
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif["runs"][0]["results"]}
    assert uris == {"paper/manuscripts/review.md"}
    assert (tmp_path / "env").read_text().startswith("CITEFLOW_CACHE_DIR=")


def test_a_push_that_opens_a_branch_checks_everything_and_a_pull_request_its_changes(
        workspace, tmp_path):
    env = github_env(tmp_path, workspace, "push", {"before": "0" * 40})
    result = run_action(workspace, env, working_directory="paper",
                        diff_base="origin/")  # what `origin/${{ github.base_ref }}` gives on push
    assert result["codes"]["check"] == 0
    assert "0 findings" in (tmp_path / "summary").read_text()
    base = git(workspace, "rev-parse", "HEAD")
    review = workspace / "paper" / "manuscripts" / "review.md"
    review.write_text(review.read_text(encoding="utf-8") + "\nStudies show it helps.\n",
                      encoding="utf-8")
    env = github_env(tmp_path, workspace, "pull_request",
                     {"pull_request": {"base": {"sha": base}, "head": {"sha": "f" * 40}}})
    result = run_action(workspace, env, working_directory="paper", fail_on="warning")
    assert result["codes"]["check"] == 1
    (annotation,) = result["codes"]["check:stdout"].splitlines()
    assert annotation.startswith("::warning file=paper/manuscripts/review.md,")
    assert "title=CF302" in annotation
    # Links in the summary point at the pull request's head, not the merge commit.
    assert f"/blob/{'f' * 40}/paper/manuscripts/review.md#L" in (tmp_path / "summary").read_text()


def test_the_action_installs_from_pins_covering_every_runtime_dependency():
    install = next(s["run"] for s in ACTION["runs"]["steps"] if "pip install" in s.get("run", ""))
    assert '--constraint "$GITHUB_ACTION_PATH/constraints.txt"' in install
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dependency in project["dependencies"]:
        requirement = Requirement(dependency)
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]}"
    # Third-party actions are pinned by commit, with the version in a comment.
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:
            assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
