"""`citeflow init`: a working project in an empty folder, and nothing overwritten."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from citeflow.cli import main


def run(*args: str, cwd: Path):
    return subprocess.run([sys.executable, "-m", "citeflow", *args], cwd=cwd,
                          capture_output=True, text=True, env=None)


def test_init_makes_a_project_that_checks_and_builds(tmp_path, monkeypatch):
    monkeypatch.setenv("CITEFLOW_OFFLINE", "1")
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    done = CliRunner().invoke(main, ["init", str(tmp_path / "article"),
                                     "--action", "example/citeflow@" + "a" * 40])
    assert done.exit_code == 0, done.output
    article = tmp_path / "article"
    assert sorted(str(p.relative_to(article)) for p in article.rglob("*") if p.is_file()) == [
        ".github/workflows/citeflow.yml", ".gitignore", ".pre-commit-config.yaml",
        "citeflow.toml", "manuscripts/manuscript.md", "references/references.bib"]
    assert {"build/", ".*.lock"} <= set((article / ".gitignore").read_text().splitlines())
    workflow = yaml.safe_load((article / ".github/workflows/citeflow.yml").read_text())
    steps = workflow["jobs"]["check"]["steps"]
    assert steps[1]["uses"] == "example/citeflow@" + "a" * 40
    assert steps[1]["with"]["diff-base"] == "auto"
    hooks = yaml.safe_load((article / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert hooks[0]["entry"].startswith("citeflow check")
    # The new project works as it is: a clean check, and a build of its manuscript.
    checked = run("check", cwd=article)
    assert checked.returncode == 0, checked.stderr
    assert "0 findings" in checked.stdout
    built = run("build", cwd=article)
    assert built.returncode == 0, built.stderr
    assert (article / "build" / "manuscript.pdf").read_bytes().startswith(b"%PDF")


def test_init_never_overwrites_and_only_adds_missing_gitignore_lines(tmp_path, monkeypatch):
    from citeflow.cli import cmd_init

    monkeypatch.setattr(cmd_init, "installed_action", lambda: None)  # an install of unknown origin
    folder = tmp_path / "existing"
    (folder / "manuscripts").mkdir(parents=True)
    (folder / "citeflow.toml").write_text("# mine\n")
    done = CliRunner().invoke(main, ["init", str(folder)])
    assert done.exit_code == 2
    assert "citeflow.toml" in done.output and "nothing written" in done.output
    assert (folder / "citeflow.toml").read_text() == "# mine\n"
    assert sorted(p.name for p in folder.rglob("*")) == ["citeflow.toml", "manuscripts"]
    (folder / "citeflow.toml").unlink()
    (folder / ".gitignore").write_text("*.pyc\nbuild/")
    done = CliRunner().invoke(main, ["init", str(folder)])
    assert done.exit_code == 0, done.output
    assert (folder / ".gitignore").read_text() == "*.pyc\nbuild/\n.citeflow/\n.*.lock\n"
    assert "replace OWNER/citeflow@COMMIT_SHA" in done.output  # no pin known: say so
