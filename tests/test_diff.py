"""`citeflow check --diff BASE` against a real temporary git repository."""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest
from click.testing import CliRunner

from citeflow.cli import main
from citeflow.document.gitdiff import changed_lines, parse_hunks

ORIGINAL = textwrap.dedent("""\
    ---
    bibliography: refs.bib
    ---

    Studies show dupilumab helps.

    Arthralgia occurred in 3.2% of patients.

    Dupilumab reduces itch [@known2016].
    """)


def git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)


@pytest.fixture()
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITEFLOW_OFFLINE", "1")
    for name, value in (("GIT_AUTHOR_NAME", "Ed"), ("GIT_AUTHOR_EMAIL", "ed@example.org"),
                        ("GIT_COMMITTER_NAME", "Ed"), ("GIT_COMMITTER_EMAIL", "ed@example.org")):
        monkeypatch.setenv(name, value)
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "refs.bib").write_text(
        "@article{known2016,\n  author = {Doe, J.},\n  title = {Itch},\n"
        "  journal = {Allergy},\n  year = {2016}\n}\n")
    (tmp_path / "paper.md").write_text(ORIGINAL)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def findings(*args):
    done = CliRunner().invoke(main, ["check", *map(str, args), "--format", "json"])
    assert done.exit_code in (0, 1), done.output
    return json.loads(done.output)["findings"]


def test_only_findings_on_changed_lines_are_reported(repo):
    assert {f["code"] for f in findings("paper.md")} == {"CF302", "CF303"}
    assert findings("paper.md", "--diff", "HEAD") == []
    text = ORIGINAL.replace("3.2% of patients.", "3.4% of adults.") + \
        "\nExperts say it is the most widely prescribed biologic.\nAs noted [@unknown2020].\n"
    (repo / "paper.md").write_text(text)
    reported = findings("paper.md", "--diff", "HEAD")
    assert sorted((f["code"], f["line"]) for f in reported) == [
        ("CF101", 12), ("CF302", 11), ("CF303", 7)]
    git(repo, "commit", "-q", "-am", "second")
    assert findings("paper.md", "--diff", "HEAD") == []
    assert len(findings("paper.md", "--diff", "HEAD~1")) == 3


def test_untracked_manuscript_counts_as_all_changed(repo):
    (repo / "new.md").write_text(ORIGINAL)
    assert {f["code"] for f in findings("new.md", "--diff", "HEAD")} == {"CF302", "CF303"}
    assert changed_lines(repo / "new.md", "HEAD") is None


def test_bibliography_findings_follow_the_bib_diff(repo):
    with (repo / "refs.bib").open("a") as handle:
        handle.write("\n@article{extra2020,\n  title = {Unused},\n  year = {2020}\n}\n")
    reported = findings("paper.md", "--diff", "HEAD")
    assert sorted((f["code"], f["file"], f["line"]) for f in reported) == [
        ("CF105", "refs.bib", 8), ("CF106", "refs.bib", 8)]


def test_bad_revision_and_no_repository_are_exit_2(repo, tmp_path_factory):
    done = CliRunner().invoke(main, ["check", "paper.md", "--diff", "nosuchrev"])
    assert done.exit_code == 2 and "nosuchrev" in done.output
    outside = tmp_path_factory.mktemp("plain")
    (outside / "x.md").write_text("Studies show x.\n")
    done = CliRunner().invoke(main, ["check", str(outside / "x.md"), "--diff", "HEAD"])
    assert done.exit_code == 2 and "not inside a git repository" in done.output


def test_hunk_parsing():
    diff = "@@ -3 +3 @@\n-a\n+b\n@@ -10,0 +11,2 @@\n+c\n+d\n@@ -20,2 +22,0 @@\n-e\n-f\n"
    assert parse_hunks(diff) == {3, 11, 12}
