"""The claims table: every claim sentence with its citations and their titles, or
"unsupported"."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from citeflow.cli import main
from citeflow.output.claimtable import UNSUPPORTED, claim_table, rows_to_markdown
from citeflow.pandoc import pandoc_path

DATA = Path(__file__).parent / "data" / "review"


@pytest.fixture()
def project(tmp_path):
    for name in ("structures.md", "dupilumab.bib"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_lists_claims_with_cited_titles_or_unsupported(project):
    result = CliRunner().invoke(main, ["claims", str(project / "structures.md"),
                                       "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = _csv_rows(result.output)
    by_start = {r["Claim"][:30]: r for r in rows}
    cited = by_start["Dupilumab is a monoclonal anti"]
    assert cited["Citations"] == "gandhi2016targeting"
    assert cited["Cited references"] == (
        "Targeting key proximal drivers of type 2 inflammation in disease (2016)")
    assert cited["Line"] == "8"
    label = next(r for r in rows if r["Claim"].startswith("The label lists arthralgia"))
    assert label["Cited references"].startswith("DUPIXENT (dupilumab) injection")
    vague = by_start["Emerging research suggests its"]
    assert vague["Citations"] == "" and vague["Cited references"] == UNSUPPORTED
    unknown = next(r for r in rows if "nosuchkey2020" in r["Claim"])
    assert unknown["Cited references"] == "(not in the bibliography)"
    # Emphasis markers are gone, the sentence reads as text; advice and headings are no claims.
    assert "Joint pain is a common side effect of dupilumab in clinical practice." in {
        r["Claim"] for r in rows}
    assert not any(r["Claim"].startswith("Dupilumab has revolutionized") for r in rows)
    assert [r["#"] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]


def test_markdown_table_renders_every_row_as_literal_text(project):
    rows = claim_table(project / "structures.md")
    rows[0].sentence = "A *starred* claim | with a pipe [@key] and <b>tag</b> $x$."
    out = subprocess.run([pandoc_path(), "-f", "markdown", "-t", "json"],
                         input=rows_to_markdown(rows).encode(), capture_output=True,
                         check=True).stdout
    ast = json.loads(out)
    (table,) = [b for b in ast["blocks"] if b["t"] == "Table"]
    body_rows = table["c"][4][0][3]
    assert len(body_rows) == len(rows)
    first = json.dumps(body_rows[0])
    assert '"Cite"' not in first and '"Emph"' not in first and '"Math"' not in first
    assert "*starred*" in first.replace('"}, {"t": "Str", "c": "', "")
    assert "Strong" in json.dumps(body_rows[1])  # "unsupported" stands out


def test_html_output_escapes_text_and_marks_unsupported_rows(project):
    out = project / "claims.html"
    result = CliRunner().invoke(main, ["claims", str(project / "structures.md"), "-o", str(out)])
    assert result.exit_code == 0 and result.output == ""
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # 11 claims: the sentence the writer marked "[citation needed]" is one, without support
    assert "3 of 11 claim sentences cite a reference." in page
    assert page.count('<tr class="cf-unsupported-row">') == 8
    assert "[@gandhi2016targeting]" in page
    assert "Targeting key proximal drivers of type 2 inflammation in disease (2016)" in page


def test_missing_manuscript_exits_2_naming_it(tmp_path):
    result = CliRunner().invoke(main, ["claims", str(tmp_path / "nope.md")])
    assert result.exit_code == 2
    assert "nope.md" in result.output and "manuscript not found" in result.output


def test_missing_bibliography_exits_2_and_writes_no_table(project):
    text = (project / "structures.md").read_text(encoding="utf-8")
    (project / "structures.md").write_text(text.replace("dupilumab.bib", "gone.bib"),
                                           encoding="utf-8")
    out = project / "claims.csv"
    result = CliRunner().invoke(main, ["claims", str(project / "structures.md"), "-o", str(out)])
    assert result.exit_code == 2
    assert "gone.bib" in result.output
    assert not out.exists()
