"""Report formats: text, json, sarif (schema-valid), github annotations, junit."""

from __future__ import annotations

import io
import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from citeflow.checks.base import Finding, Severity, Suggestion
from citeflow.checks.engine import check_manuscript
from citeflow.report import FORMATS, write_report
from citeflow.report.github import escape_property, format_finding

DATA = Path(__file__).parent / "data" / "check"

TEXT = textwrap.dedent("""\
    ---
    title: Report test
    bibliography: refs.bib
    ---

    <!-- citeflow: ignore CF302 reason="quoted from the sponsor, cited below" -->
    Studies show dupilumab helps.

    - First item. Dupilumab reduces itch by 30%.

    Note text.[^n]

    [^n]: Experts say it is the most widely prescribed biologic.
    """)

BIB = textwrap.dedent("""\
    @article{simpson2016two,
      author = {Simpson, Eric L.},
      title = {Two Phase 3 Trials of Dupilumab versus Placebo in Atopic Dermatitis},
      journal = {New England Journal of Medicine},
      year = {2016},
      doi = {10.1056/NEJMoa1610020}
    }
    """)


@pytest.fixture()
def result(tmp_path, monkeypatch):
    monkeypatch.setenv("CITEFLOW_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "refs.bib").write_text(BIB)
    (tmp_path / "paper.md").write_text(TEXT)
    return check_manuscript(tmp_path / "paper.md")


def _render(fmt, result):
    stream = io.StringIO()
    write_report(fmt, result.findings, stream, summary=result.summary())
    return stream.getvalue()


def test_text_lines_name_path_line_column_code_severity_and_the_source_with_a_caret(result):
    out = _render("text", result)
    lines = out.splitlines()
    head = lines.index("paper.md:9:15: CF303 warning statistic \"30%\" without a citation")
    # The source line, and "^" under the statistic ("30%"), "-" under the rest of the sentence.
    assert lines[head + 1:head + 5] == [
        "   |",
        " 9 | - First item. Dupilumab reduces itch by 30%.",
        "   |               --------------------------^^^- CF303",
        "   |"]
    assert "refs.bib:1:1: CF106 info simpson2016two is not cited" in out
    assert " 1 | @article{simpson2016two," in out
    assert "Studies show dupilumab helps" not in out  # suppressed findings are not listed
    assert lines[-1].startswith("3 findings (0 errors, 2 warnings, 1 info), 1 suppressed")
    concise = io.StringIO()
    write_report("text", result.findings, concise, summary=result.summary(),
                 output_format="concise")
    assert concise.getvalue().splitlines()[:3] == [
        "paper.md:9:15: CF303 warning statistic \"30%\" without a citation",
        "paper.md:13:7: CF302 warning vague attribution \"Experts say\" without a citation: "
        "name and cite the source",
        "refs.bib:1:1: CF106 info simpson2016two is not cited"]


def test_json_has_positions_in_lists_footnotes_and_after_front_matter(result):
    data = json.loads(_render("json", result))
    assert data["version"] == 1
    by_code = {f["code"]: f for f in data["findings"]}
    stat = by_code["CF303"]
    assert (stat["file"], stat["line"], stat["column"], stat["end_line"], stat["end_column"]) == \
        ("paper.md", 9, 15, 9, 45)
    assert stat["severity"] == "warning" and stat["sentence"] == "Dupilumab reduces itch by 30%."
    assert isinstance(stat["suggestions"], list)
    for suggestion in stat["suggestions"]:
        assert set(suggestion) == {"key", "score"}
    footnote = next(f for f in data["findings"] if f["sentence"].startswith("Experts say"))
    assert (footnote["line"], footnote["column"]) == (13, 7)
    vague = next(f for f in data["findings"] if f["sentence"] == "Studies show dupilumab helps.")
    assert vague["suppressed"] == {"reason": "quoted from the sponsor, cited below"}
    assert (vague["line"], vague["column"]) == (7, 1)
    assert data["summary"]["suppressed"] == 1 and data["summary"]["warning"] == 2


def test_json_positions_slice_the_source(result):
    text = (Path.cwd() / "paper.md").read_text()
    lines = text.splitlines(keepends=True)
    for f in json.loads(_render("json", result))["findings"]:
        if f["file"] != "paper.md":
            continue
        start = sum(len(l) for l in lines[: f["line"] - 1]) + f["column"] - 1
        end = sum(len(l) for l in lines[: f["end_line"] - 1]) + f["end_column"] - 1
        assert " ".join(text[start:end].split()) == f["sentence"]


def test_sarif_is_valid_and_carries_rules_and_suppressions(result):
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    data = json.loads(_render("sarif", result))
    jsonschema.Draft4Validator(schema).validate(data)
    run = data["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert {"CF101", "CF201", "CF301", "CF302", "CF303"} <= set(ids)
    for res in run["results"]:
        assert ids[res["ruleIndex"]] == res["ruleId"]
    suppressed = [r for r in run["results"] if r.get("suppressions")]
    assert [(r["ruleId"], r["suppressions"][0]["kind"], r["suppressions"][0]["justification"])
            for r in suppressed] == [("CF302", "inSource", "quoted from the sponsor, cited below")]
    stat = next(r for r in run["results"] if r["ruleId"] == "CF303")
    region = stat["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["endColumn"]) == (9, 15, 45)
    assert stat["level"] == "warning"
    assert next(r for r in run["results"] if r["ruleId"] == "CF106")["level"] == "note"


def test_github_annotations_and_escaping(result):
    out = _render("github", result).splitlines()
    assert ("::warning file=paper.md,line=9,col=15,endLine=9,endColumn=45,title=CF303::"
            "statistic \"30%25\" without a citation%0ADupilumab reduces itch by 30%25.") in out
    assert any(line.startswith("::notice file=refs.bib,line=1,col=1,title=CF106::") for line in out)
    assert all("Studies show dupilumab" not in line for line in out)
    assert len(out) == 3  # one line per unsuppressed finding, newlines escaped
    odd = Finding(Path("a,b:c.md"), 1, 2, 1, 5, "CF301", Severity.ERROR,
                  "100% sure\r\nreally", "")
    assert format_finding(odd, base=Path.cwd()) == (
        "::error file=a%2Cb%3Ac.md,line=1,col=2,endLine=1,endColumn=5,title=CF301::"
        "100%25 sure%0D%0Areally")
    assert escape_property("x:y,z%") == "x%3Ay%2Cz%25"


def test_junit_fails_on_warnings_and_errors_notes_info_and_skips_suppressed(result):
    root = ET.fromstring(_render("junit", result))
    suite = root.find("testsuite")
    assert suite.get("failures") == "2" and suite.get("skipped") == "1"
    assert root.get("failures") == "2" and suite.get("tests") == "4"
    failures = [case.find("failure") for case in suite.iter("testcase") if case.find("failure") is not None]
    assert sorted(f.get("type") for f in failures) == ["CF302", "CF303"]
    # An info notice (an unused entry) is a passing test case that still says what it found.
    notice = next(case for case in suite.iter("testcase") if case.get("name").startswith("CF106"))
    assert notice.find("failure") is None
    assert "CF106 info simpson2016two is not cited" in notice.find("system-out").text
    skipped = [case for case in suite.iter("testcase") if case.find("skipped") is not None]
    assert skipped[0].find("skipped").get("message") == "quoted from the sponsor, cited below"


def test_empty_reports_are_well_formed():
    for fmt in FORMATS:
        stream = io.StringIO()
        write_report(fmt, [], stream)
        out = stream.getvalue()
        if fmt in ("json", "sarif"):
            json.loads(out)
        if fmt == "junit":
            assert ET.fromstring(out).find("testsuite").get("failures") == "0"
        if fmt == "github":
            assert out == ""
        if fmt == "text":
            assert out.startswith("0 findings")


def test_suggestions_appear_in_json_with_scores(tmp_path):
    finding = Finding(tmp_path / "x.md", 1, 1, 1, 4, "CF301", Severity.WARNING, "m", "S.",
                      "causal", [Suggestion("simpson2016two", 3.14159, ("dupilumab",))])
    stream = io.StringIO()
    write_report("json", [finding], stream, base=tmp_path)
    data = json.loads(stream.getvalue())
    assert data["findings"][0]["suggestions"] == [{"key": "simpson2016two", "score": 3.1416}]
    assert data["findings"][0]["file"] == "x.md"
