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


# A paragraph of the sample draft (tests/data/seed: real text from a public web page): one
# line, three sentences, each a finding.
PARAGRAPH = (
    "While type 2 inflammation is primarily associated with allergic and atopic diseases, "
    "emerging research suggests its involvement in various musculoskeletal conditions. While "
    "not a direct cause-and-effect, inflammation, in general, can contribute to joint pain and "
    "discomfort. The body's inflammatory response, while crucial for healing, can sometimes "
    "overshoot, leading to pain and stiffness in joints.")


def test_editing_one_sentence_of_a_paragraph_reports_that_sentence_only(repo):
    (repo / "paper.md").write_text(ORIGINAL + "\n" + PARAGRAPH + "\n")
    git(repo, "commit", "-q", "-am", "paragraph")
    everything = {(f["code"], f["column"]) for f in findings("paper.md") if f["line"] == 11}
    assert len(everything) >= 2  # several sentences of the paragraph are findings
    edited = PARAGRAPH.replace("stiffness in joints", "stiffness in the joints")
    (repo / "paper.md").write_text(ORIGINAL + "\n" + edited + "\n")
    reported = findings("paper.md", "--diff", "HEAD")
    assert [(f["line"], f["sentence"][:28]) for f in reported] == [
        (11, "The body's inflammatory resp")]
    # Rewrapping the paragraph (one sentence a line) changes lines, not sentences.
    rewrapped = PARAGRAPH.replace("conditions. While", "conditions.\nWhile").replace(
        "discomfort. The", "discomfort.\nThe")
    (repo / "paper.md").write_text(ORIGINAL + "\n" + rewrapped + "\n")
    assert findings("paper.md", "--diff", "HEAD") == []


def _event(tmp_path, monkeypatch, name, payload):
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    monkeypatch.setenv("GITHUB_EVENT_NAME", name)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))


def test_diff_auto_takes_the_base_from_the_github_event(repo, monkeypatch, tmp_path_factory):
    first = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                           text=True, check=True).stdout.strip()
    (repo / "paper.md").write_text(ORIGINAL.replace("3.2% of patients.", "3.4% of adults."))
    git(repo, "commit", "-q", "-am", "second")
    events = tmp_path_factory.mktemp("events")
    # A push compares with the commit before it.
    _event(events, monkeypatch, "push", {"before": first, "after": "unused"})
    assert [(f["code"], f["line"]) for f in findings("paper.md", "--diff", "auto")] == [("CF303", 7)]
    # A pull request with its base commit.
    _event(events, monkeypatch, "pull_request", {"pull_request": {"base": {"sha": first}}})
    assert [(f["code"], f["line"]) for f in findings("paper.md", "--diff", "auto")] == [("CF303", 7)]
    # A new branch (no commit before it) is checked whole, and says so.
    _event(events, monkeypatch, "push", {"before": "0" * 40})
    done = CliRunner().invoke(main, ["check", "paper.md", "--diff", "auto", "--format", "json"])
    assert {f["code"] for f in json.loads(done.stdout)["findings"]} == {"CF302", "CF303"}
    assert "checking every line" in done.stderr
    # Outside Actions, `auto` has nothing to go on: a usage error naming what is missing.
    monkeypatch.delenv("GITHUB_EVENT_PATH")
    done = CliRunner().invoke(main, ["check", "paper.md", "--diff", "auto"])
    assert done.exit_code == 2 and "GITHUB_EVENT_PATH" in done.output
