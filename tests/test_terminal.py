"""What a person at a terminal meets: colour, quiet and verbose, statistics, "did you mean",
rule explanations without markup, candidates named as a writer knows them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from citeflow.cli import main
from progress_recorder import Recorder

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "check"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture()
def project(tmp_path, monkeypatch):
    """The sample draft (real web text) with its bibliography, offline."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITEFLOW_OFFLINE", "1")
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "manuscripts").mkdir()
    (tmp_path / "references").mkdir()
    shutil.copy(ROOT / "references" / "dupilumab.bib", tmp_path / "references")
    shutil.copy(ROOT / "manuscripts" / "dupixent-joint-pain.md", tmp_path / "manuscripts")
    (tmp_path / "citeflow.toml").write_text('bibliography = ["references/dupilumab.bib"]\n')
    return tmp_path


def run(*args: str, **env: str):
    return CliRunner().invoke(main, list(args), env=env or None)


def test_colour_only_when_asked_for_and_never_with_no_color(project):
    plain = run("check", "manuscripts/dupixent-joint-pain.md", "--output-format", "concise")
    assert not ANSI.search(plain.output)  # not a terminal: plain text
    forced = run("check", "manuscripts/dupixent-joint-pain.md", "--output-format", "concise",
                 FORCE_COLOR="1")
    assert ANSI.search(forced.stdout)
    assert ANSI.sub("", forced.stdout) == plain.stdout  # the same text, only styled
    refused = run("check", "manuscripts/dupixent-joint-pain.md", FORCE_COLOR="1", NO_COLOR="1")
    assert not ANSI.search(refused.output)


def test_statistics_count_findings_per_rule_like_ruff(project):
    done = run("check", "manuscripts/dupixent-joint-pain.md", "--statistics")
    lines = done.stdout.splitlines()
    reported = json.loads(run("check", "manuscripts/dupixent-joint-pain.md", "--format",
                              "json").stdout)["findings"]
    by_rule = {code: sum(1 for f in reported if f["code"] == code) for code in
               {f["code"] for f in reported}}
    expected = sorted(((n, code) for code, n in by_rule.items()), key=lambda row: (-row[0], row[1]))
    assert [(int(line.split("\t")[0]), line.split("\t")[1]) for line in lines[:-1]] == expected
    assert lines[0].split("\t")[2] == "[ ] claim-without-citation"
    warnings = sum(1 for f in reported if f["severity"] == "warning")
    assert lines[-1] == f"{len(reported)} findings (0 errors, {warnings} warnings, 14 info)"


def test_quiet_keeps_results_and_drops_chatter(project):
    path = project / "manuscripts" / "dupixent-joint-pain.md"
    loud = run("resolve", str(path))
    assert "would resolve 0 placeholder(s)" in loud.stderr
    quiet = run("--quiet", "resolve", str(path))
    assert quiet.exit_code == loud.exit_code == 0
    assert quiet.stderr == ""
    assert run("--quiet", "--verbose", "check").exit_code == 2


def test_a_mistyped_command_gets_the_closest_names(project):
    done = run("chek")
    assert done.exit_code == 2
    assert "No such command 'chek'. Did you mean 'check'?" in done.output
    done = run("rule", "CF999")
    assert "Did you mean 'rules'?" in done.output
    done = run("rules", "CF31")
    assert done.exit_code == 2 and "did you mean CF301" in done.output


def test_rule_explanations_carry_no_documentation_markup(project):
    done = run("rules", "CF203")
    assert "``" not in done.output
    assert "Pandoc prints [doi:...] exactly as written" in done.output
    assert "Example:\n    Dupilumab improved eczema [doi:10.1056/NEJMoa1610020]." in done.output
    for line in run("rules").output.splitlines():
        assert "``" not in line and line.startswith("CF")
    sarif = json.loads(run("check", "manuscripts/dupixent-joint-pain.md", "--format",
                           "sarif").stdout)
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]:
        texts = [rule["shortDescription"]["text"], rule["fullDescription"]["text"],
                 rule["help"]["text"], rule["help"]["markdown"].replace("```", "")]
        assert not any("``" in text for text in texts)
        assert "```text\n" in rule["help"]["markdown"]  # the example as a code block


def test_candidates_are_named_by_author_year_and_title(project):
    done = run("suggest", "manuscripts/dupixent-joint-pain.md")
    assert "score" not in done.output and "(~" not in done.output
    assert re.search(r"\d\. Jay et al\. 2022, Review of dupilumab-associated inflammatory "
                     r"arthritis.*\(jay2022review\)", done.output)
    full = run("check", "manuscripts/dupixent-joint-pain.md", "--select", "CF201").stdout
    assert "= help: candidate: Jay et al. 2022, Review of dupilumab-associated" in full


def test_cite_knows_the_projects_bibliography_when_writing_to_another(project):
    done = run("cite", "10.1056/NEJMoa1610020", "--bib", "references/new.bib")
    assert done.exit_code == 0, done.output
    assert "already in" in done.stderr and "dupilumab.bib as @simpson2016two" in done.stderr
    assert not (project / "references" / "new.bib").exists()


def test_resolve_reports_its_fetching_to_a_progress_hook(project):
    import citeflow

    shutil.copy(ROOT / "manuscripts" / "dupilumab-arthralgia-draft.md", project / "manuscripts")

    recorder = Recorder()
    result = citeflow.Project.find(project).resolve(
        project / "manuscripts" / "dupilumab-arthralgia-draft.md", offline=True,
        progress=recorder)
    assert result.resolved == 6 and len(result.unresolved) == 2
    assert recorder.calls[0] == ("start", 2, "Fetching metadata")
    assert sorted(recorder.calls[1:]) == [
        ("advance", "doi:10.1007/978-3-662-46370-3_13", "offline"),
        ("advance", "pmid:29915538", "offline")]
    # On a terminal the command line draws it as a bar on stderr (never with --quiet).
    shown = run("resolve", "--offline", "manuscripts/dupilumab-arthralgia-draft.md",
                FORCE_COLOR="1")
    assert shown.exit_code == 1 and "Fetching metadata" in shown.stderr
    assert "Fetching metadata" not in run("--quiet", "resolve", "--offline",
                                          "manuscripts/dupilumab-arthralgia-draft.md",
                                          FORCE_COLOR="1").stderr
