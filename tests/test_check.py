"""`citeflow check` end to end: formats, exit codes, input errors, the sample draft."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from citeflow.cli import main

DATA = Path(__file__).parent / "data" / "check"


@pytest.fixture()
def draft(tmp_path, monkeypatch):
    """The sample draft as a manuscript with the verified bibliography next to it."""
    monkeypatch.setenv("CITEFLOW_OFFLINE", "1")
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATA / "dupilumab.bib", tmp_path / "dupilumab.bib")
    body = (DATA / "dupixent-joint-pain.txt").read_text(encoding="utf-8")
    (tmp_path / "draft.md").write_text(
        "---\ntitle: Dupixent and joint pain\nbibliography: dupilumab.bib\n---\n\n" + body,
        encoding="utf-8")
    return tmp_path / "draft.md"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_sample_draft_json_flags_vague_attributions_placeholder_and_no_advice(draft):
    done = run("check", draft, "--format", "json")
    assert done.exit_code == 0, done.output  # warnings only; default fail level is error
    data = json.loads(done.output)
    by_code: dict[str, list] = {}
    for f in data["findings"]:
        by_code.setdefault(f["code"], []).append(f)
    vague = [f["sentence"] for f in by_code["CF302"]]
    assert any("studies on ScienceDirect and other databases often mention joint pain" in s
               for s in vague)
    assert any("emerging research suggests" in s for s in vague)
    claims = [f["sentence"] for f in by_code["CF301"]]
    assert any("has revolutionized the treatment" in s for s in claims)
    (note,) = by_code["CF201"]
    assert "Specific citations would be inserted here" in note["message"]
    flagged = " ".join(f["sentence"] for f in data["findings"])
    for advice in ("Don't discontinue", "Inform your doctor", "Maintain open communication",
                   "Consider lifestyle changes", "Talk to", "Always consult"):
        assert advice not in flagged
    # the ScienceDirect sentence has candidate references from the bibliography
    science = next(f for f in by_code["CF302"] if "ScienceDirect" in f["sentence"])
    assert science["cue"].startswith("attribution")
    # lines point into the file after the four lines of front matter plus a blank line
    text = draft.read_text().splitlines()
    assert "studies on ScienceDirect" in text[science["line"] - 1]
    assert data["summary"]["claims"] >= 15 and data["summary"]["claims_supported"] == 0


def test_fail_on_sets_the_exit_code(draft):
    assert run("check", draft, "--fail-on", "warning").exit_code == 1
    assert run("check", draft, "--fail-on", "error").exit_code == 0
    assert run("check", draft, "--select", "CF106", "--fail-on", "warning").exit_code == 0
    assert run("check", draft, "--select", "CF106", "--fail-on", "info").exit_code == 1


def test_fail_on_from_config(draft):
    (draft.parent / "citeflow.toml").write_text('[check]\nfail_on = "warning"\n')
    assert run("check", draft).exit_code == 1
    assert run("check", draft, "--fail-on", "error").exit_code == 0


def test_severity_override_from_config_raises_a_placeholder_to_error(draft):
    (draft.parent / "citeflow.toml").write_text('[check.severity]\nCF201 = "error"\n')
    done = run("check", draft, "--format", "json")
    assert done.exit_code == 1, done.output
    (note,) = [f for f in json.loads(done.output)["findings"] if f["code"] == "CF201"]
    assert note["severity"] == "error"
    (draft.parent / "citeflow.toml").write_text('[check.severity]\nCF999 = "error"\n')
    unknown = CliRunner().invoke(main, ["check", str(draft)])
    assert unknown.exit_code == 2 and "unknown rule CF999" in unknown.output


def test_placeholder_finding_shows_the_sentence_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "refs.bib").write_text("", encoding="utf-8")
    (tmp_path / "a.md").write_text("---\nbibliography: refs.bib\n---\n\n"
                                   "- Joint pain was reported [citation needed] in trials.\n",
                                   encoding="utf-8")
    done = run("check", tmp_path / "a.md", "--format", "json", "--select", "CF201")
    (finding,) = json.loads(done.output)["findings"]
    assert finding["sentence"] == "Joint pain was reported [citation needed] in trials."
    assert (finding["line"], finding["column"]) == (5, 27)


def test_suppressed_findings_do_not_count_for_the_exit_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "refs.bib").write_text("")
    (tmp_path / "a.md").write_text(textwrap.dedent("""\
        ---
        bibliography: refs.bib
        ---
        <!-- citeflow: ignore CF101 reason="key added by the publisher" -->
        As shown before [@missing2020].
        """))
    done = run("check", tmp_path / "a.md", "--format", "json")
    assert done.exit_code == 0
    (finding,) = json.loads(done.output)["findings"]
    assert finding["code"] == "CF101" and finding["suppressed"]["reason"] == "key added by the publisher"
    (tmp_path / "a.md").write_text("---\nbibliography: refs.bib\n---\nAs shown [@missing2020].\n")
    assert run("check", tmp_path / "a.md").exit_code == 1


def test_malformed_bibtex_is_exit_2_naming_the_file(draft):
    (draft.parent / "dupilumab.bib").write_text("@article{broken,\n  title = {Unclosed\n")
    done = CliRunner().invoke(main, ["check", str(draft)])
    assert done.exit_code == 2
    assert "dupilumab.bib" in done.output and done.output.count("\n") == 1


def test_input_and_usage_errors_are_exit_2(draft):
    missing = CliRunner().invoke(main, ["check", "nope.md"])
    assert missing.exit_code == 2 and "nope.md" in missing.output
    assert CliRunner().invoke(main, ["check", str(draft), "--format", "xml"]).exit_code == 2
    bad_select = CliRunner().invoke(main, ["check", str(draft), "--select", "XX1"])
    assert bad_select.exit_code == 2 and "XX1" in bad_select.output
    (draft.parent / "citeflow.toml").write_text("[check\nfail_on = 1\n")
    bad_toml = CliRunner().invoke(main, ["check", str(draft)])
    assert bad_toml.exit_code == 2 and "citeflow.toml:1" in bad_toml.output


def test_output_file_and_text_format(draft):
    out = draft.parent / "reports" / "check.sarif"
    out.parent.mkdir()
    done = run("check", draft, "--format", "sarif", "-o", out)
    assert done.exit_code == 0 and done.output == ""
    assert json.loads(out.read_text())["version"] == "2.1.0"
    text = run("check", draft, "--select", "CF302").output
    first = text.splitlines()[0]
    assert first.startswith("draft.md:") and ": CF302 warning vague attribution" in first


def test_check_without_arguments_uses_the_manuscripts_folder(draft):
    (draft.parent / "manuscripts").mkdir()
    shutil.move(draft, draft.parent / "manuscripts" / "draft.md")
    (draft.parent / "manuscripts" / "draft.md").write_text(
        (draft.parent / "manuscripts" / "draft.md").read_text().replace(
            "bibliography: dupilumab.bib", "bibliography: ../dupilumab.bib"))
    (draft.parent / "citeflow.toml").write_text('manuscripts = "manuscripts"\n')
    done = run("check", "--select", "CF201")
    assert done.exit_code == 0
    assert done.output.startswith("manuscripts/draft.md:")
    assert run("check", "manuscripts", "--select", "CF201").output == done.output


def test_real_draft_and_its_revision(tmp_path, monkeypatch):
    """A real paper before and after its citation placeholders were filled in."""
    monkeypatch.setenv("CITEFLOW_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATA / "triglav_paper.bib", tmp_path / "paper.bib")
    for name in ("DRAFT", "FINAL"):
        shutil.copy(DATA / f"triglav_paper_{name}.md", tmp_path / f"{name.lower()}.md")
    draft = json.loads(run("check", "draft.md", "--format", "json", "--select", "CF1,CF2,CF3").output)
    final = json.loads(run("check", "final.md", "--format", "json", "--select", "CF1,CF2,CF3").output)
    draft_holes = [f for f in draft["findings"] if f["code"] == "CF201"]
    assert [f["message"].split('"')[1] for f in draft_holes] == ["[@CITATION-NEEDED]"] * 2
    assert not [f for f in final["findings"] if f["code"] in ("CF201", "CF101")]
    assert not [f for f in draft["findings"] if f["code"] == "CF101"]  # a placeholder, not a key
    # the revision cites more of its claims than the draft did
    assert final["summary"]["claims_supported_share"] > draft["summary"]["claims_supported_share"]


def test_a_check_leaves_the_garbage_collector_as_it_found_it(draft):
    import gc

    from citeflow.checks.engine import check_manuscript

    plain = check_manuscript.__wrapped__(draft)  # the collector running throughout
    try:
        for enabled, frozen in ((True, False), (False, False), (True, True)):
            gc.enable() if enabled else gc.disable()
            if frozen:  # objects someone else keeps out of collections stay there
                gc.freeze()
            before = gc.get_freeze_count()
            result = check_manuscript(draft)
            assert gc.isenabled() is enabled
            # Nothing thawed, nothing of the check's left frozen (frozen objects may be freed;
            # Python 3.12 starts with some of its own frozen).
            assert (0 < gc.get_freeze_count() <= before) if frozen else gc.get_freeze_count() == before
            assert [(f.code, f.line, f.message, f.suggestions) for f in result.findings] == \
                [(f.code, f.line, f.message, f.suggestions) for f in plain.findings]
            gc.unfreeze()
    finally:
        gc.enable()
