"""Each rule on a small real manuscript and bibliography; settings, selection, suppression."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from citeflow.checks.base import Severity
from citeflow.checks.engine import check_manuscript, load_rules
from citeflow.cli import main
from citeflow.config import load_config

DATA = Path(__file__).parent / "data" / "check"

BIB = textwrap.dedent("""\
    @article{simpson2016two,
      author  = {Simpson, Eric L. and Bieber, Thomas},
      title   = {Two Phase 3 Trials of Dupilumab versus Placebo in Atopic Dermatitis},
      journal = {New England Journal of Medicine},
      year    = {2016},
      doi     = {10.1056/NEJMoa1610020},
      pmid    = {27690741}
    }

    @article{solo2016,
      author  = {Simpson, Eric L.},
      title   = {Two trials of dupilumab},
      journal = {N Engl J Med},
      year    = {2016},
      doi     = {https://doi.org/10.1056/nejmoa1610020}
    }

    @article{nojournal2020,
      author  = {Doe, Jane},
      title   = {Joint pain after dupilumab},
      year    = {2020}
    }

    @article{baddoi2019,
      author  = {Roe, Richard},
      title   = {Sleep and itch},
      journal = {Allergy},
      year    = {2019},
      doi     = {10.1056NEJMoa},
      pmid    = {12x45}
    }
    """)

TEXT = textwrap.dedent("""\
    ---
    title: Rules test
    bibliography: refs.bib
    ---

    Dupilumab reduces itch in adults [@simpson2016two]. It improves sleep [@simpsn2016two].

    Arthralgia occurred in 3.2% of patients. Studies show it helps.

    Dupilumab has revolutionized the treatment of atopic dermatitis. [citation needed]

    The mechanism was described [doi:10.1038/nnano.2014.279]. Another work [pmid:99999999].

    A typo in an identifier [doi:10.1056NEJM]. Cited by identifier [@doi:10.1056/NEJMoa1610020].
    """)


@pytest.fixture()
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CITEFLOW_OFFLINE", "1")
    (tmp_path / "refs.bib").write_text(BIB, encoding="utf-8")
    (tmp_path / "paper.md").write_text(TEXT, encoding="utf-8")
    return tmp_path


def _by_code(result):
    found = {}
    for f in result.findings:
        found.setdefault(f.code, []).append(f)
    return found


def test_every_rule_has_code_severity_and_an_explanation_with_example():
    rules = load_rules()
    for code in ["CF101", "CF102", "CF103", "CF104", "CF105", "CF106", "CF201", "CF202",
                 "CF301", "CF302", "CF303"]:
        rule = rules[code]
        assert isinstance(rule.severity, Severity)
        assert len(rule.doc) > 80 and "Example:" in rule.doc, code
    assert rules["CF101"].severity is Severity.ERROR
    assert rules["CF106"].severity is Severity.INFO


def test_reference_placeholder_and_claim_rules_fire_where_they_should(project):
    result = check_manuscript(project / "paper.md")
    found = _by_code(result)
    text = (project / "paper.md").read_text()

    (unknown,) = found["CF101"]
    assert "simpsn2016two" in unknown.message and "simpson2016two" in unknown.message
    assert text[unknown.start:unknown.end] == "@simpsn2016two"
    assert (unknown.line, unknown.column) == (6, text.splitlines()[5].index("@simpsn") + 1)

    bib_lines = BIB.splitlines()
    dup = found["CF104"]
    assert [f.message.split(":")[0] for f in dup] == ["duplicate reference"]
    assert "solo2016" in dup[0].message and "simpson2016two" in dup[0].message
    assert Path(dup[0].file).name == "refs.bib"
    assert bib_lines[dup[0].line - 1].startswith("@article{solo2016")

    (missing,) = found["CF105"]
    assert "nojournal2020" in missing.message and "journal" in missing.message

    malformed = found["CF103"]
    in_text = [m for m in malformed if Path(m.file).name == "paper.md"]
    assert [text[m.start:m.end] for m in in_text] == ["[doi:10.1056NEJM]"]
    assert "'/'" in in_text[0].message
    in_bib = [m for m in malformed if Path(m.file).name == "refs.bib"]
    assert {m.message.split()[1] for m in in_bib} == {"DOI", "PMID"}
    assert all(bib_lines[m.line - 1].startswith("@article{baddoi2019") for m in in_bib)

    unused = {f.message.split()[0] for f in found["CF106"]}
    assert unused == {"solo2016", "nojournal2020", "baddoi2019"}
    assert all(f.severity is Severity.INFO for f in found["CF106"])

    (free,) = found["CF201"]
    assert text[free.start:free.end] == "[citation needed]"

    # both identifiers are missing from the bibliography and the (empty) cache
    unresolved = found["CF202"]
    assert [text[f.start:f.end] for f in unresolved] == [
        "[doi:10.1038/nnano.2014.279]", "[pmid:99999999]"]
    assert "CF102" not in found

    (stat,) = found["CF303"]
    assert stat.sentence == "Arthralgia occurred in 3.2% of patients." and '"3.2%"' in stat.message
    (vague,) = found["CF302"]
    assert vague.sentence == "Studies show it helps." and "Studies show" in vague.message
    (claim,) = found["CF301"]
    assert claim.sentence.startswith("Dupilumab has revolutionized the treatment") and "revolutionized" in claim.cue
    # sentences with a citation or an identifier placeholder are supported
    supported = {c.text for c in result.claims if c.supported}
    assert "Dupilumab reduces itch in adults [@simpson2016two]." in supported


def test_claim_findings_carry_candidate_references(project):
    result = check_manuscript(project / "paper.md", select="CF3")
    stat = next(f for f in result.findings if f.code == "CF301")
    assert {f.code for f in result.findings} <= {"CF301", "CF302", "CF303"}
    # the bibliography has dupilumab trials; the candidates are real keys with scores
    for suggestion in stat.suggestions:
        assert suggestion.key in {"simpson2016two", "solo2016", "nojournal2020", "baddoi2019"}
        assert suggestion.score > 0


def test_cached_identifier_is_cf102_not_cf202(project, monkeypatch, httpserver):
    body = (DATA / "crossref_10.1038_nnano.2014.279.json").read_text(encoding="utf-8")
    httpserver.expect_request(re.compile(r"^/works/10\.1038/nnano\.2014\.279$")) \
        .respond_with_data(body, content_type="application/json")
    monkeypatch.setenv("CITEFLOW_CROSSREF_URL", httpserver.url_for("/"))
    from citeflow.references.identifiers import parse_identifier
    from citeflow.sources import Fetcher

    with Fetcher(load_config(project), offline=False) as fetcher:  # what resolve did earlier
        assert fetcher.fetch(parse_identifier("10.1038/nnano.2014.279")).status == "ok"
    result = check_manuscript(project / "paper.md", select="CF102,CF202")
    assert [(f.code, f.message.split()[0]) for f in result.findings] == [
        ("CF102", "doi:10.1038/nnano.2014.279"), ("CF202", "pmid:99999999")]


def test_config_turns_rules_off_changes_severity_and_adds_cues(project):
    (project / "citeflow.toml").write_text(textwrap.dedent("""\
        [check]
        ignore = ["CF10"]
        [check.severity]
        CF303 = "error"
        [check.cues]
        attribution = ["word on the street"]
        """), encoding="utf-8")
    with (project / "paper.md").open("a") as handle:
        handle.write("\nWord on the street is that dupilumab helps.\n")
    result = check_manuscript(project / "paper.md")
    codes = {f.code for f in result.findings}
    assert not any(c.startswith("CF10") for c in codes)
    assert next(f for f in result.findings if f.code == "CF303").severity is Severity.ERROR
    street = [f for f in result.findings if "Word on the street" in f.sentence]
    assert [f.code for f in street] == ["CF302"]


def test_pyproject_tool_citeflow_check_section_is_read(project):
    (project / "pyproject.toml").write_text(
        '[tool.citeflow.check]\nselect = ["CF101"]\n', encoding="utf-8")
    result = check_manuscript(project / "paper.md")
    assert {f.code for f in result.findings} == {"CF101"}


def test_select_and_ignore_arguments_take_codes_and_prefixes(project):
    result = check_manuscript(project / "paper.md", select=["CF3"], ignore="CF303")
    assert {f.code for f in result.findings} == {"CF301", "CF302"}


def test_ignore_comment_silences_next_block_with_reason(project):
    text = (project / "paper.md").read_text()
    text = text.replace(
        "Arthralgia occurred",
        '<!-- citeflow: ignore CF303 reason="figure from the sponsor\'s label" -->\n\nArthralgia occurred',
    )
    (project / "paper.md").write_text(text)
    result = check_manuscript(project / "paper.md")
    stat = next(f for f in result.findings if f.code == "CF303")
    assert stat.suppressed == "figure from the sponsor's label"
    vague = next(f for f in result.findings if f.code == "CF302")
    assert vague.suppressed is None  # only the named code is silenced
    assert result.summary()["suppressed"] == 1


def test_ignore_comment_without_codes_silences_everything_in_the_block(project):
    text = (project / "paper.md").read_text()
    text = text.replace("Arthralgia occurred", "<!-- citeflow: ignore -->\nArthralgia occurred")
    (project / "paper.md").write_text(text)
    result = check_manuscript(project / "paper.md")
    in_block = [f for f in result.findings if f.code in ("CF302", "CF303")]
    assert in_block and all(f.suppressed == "ignored in the manuscript" for f in in_block)


def test_rules_command_lists_and_explains():
    runner = CliRunner()
    listing = runner.invoke(main, ["rules"])
    assert listing.exit_code == 0
    for code in ("CF101", "CF106", "CF201", "CF202", "CF301", "CF302", "CF303"):
        assert re.search(rf"^{code}\s+(error|warning|info)\s+\S+", listing.output, re.M), code
    explained = runner.invoke(main, ["rules", "cf301"])
    assert explained.exit_code == 0
    assert "CF301 claim-without-citation" in explained.output
    assert "Example:" in explained.output and "[@simpson2016two]" in explained.output
    unknown = runner.invoke(main, ["rules", "CF999"])
    assert unknown.exit_code == 2 and "unknown rule" in unknown.output


def test_bad_config_values_are_input_errors(project):
    from citeflow.errors import CiteflowError

    (project / "citeflow.toml").write_text('[check.severity]\nCF301 = "loud"\n')
    with pytest.raises(CiteflowError, match="CF301") as info:
        check_manuscript(project / "paper.md")
    assert Path(info.value.file).name == "citeflow.toml"



def test_extra_placeholder_patterns_from_config(project):
    (project / "citeflow.toml").write_text(
        '[placeholders]\nextra = ["\\\\?\\\\?\\\\?"]\n[check]\nplaceholders = ["<<ref>>"]\n')
    with (project / "paper.md").open("a") as handle:
        handle.write("\nDupilumab helps adults ???. It also helps children <<ref>>.\n")
    result = check_manuscript(project / "paper.md", select="CF201")
    text = (project / "paper.md").read_text()
    assert [text[f.start:f.end] for f in result.findings] == ["[citation needed]", "???", "<<ref>>"]


def test_per_file_config_silences_codes_in_matching_files(project):
    (project / "citeflow.toml").write_text(
        '[check.per_file]\n"paper.md" = ["CF3"]\n"*.bib" = ["CF106"]\n"other/*.md" = ["CF1"]\n')
    result = check_manuscript(project / "paper.md")
    reasons = {(f.code, f.suppressed) for f in result.findings}
    assert ("CF303", "per_file in citeflow.toml") in reasons
    assert ("CF106", "per_file in citeflow.toml") in reasons
    assert ("CF101", None) in reasons  # "other/*.md" does not match paper.md
    assert all(f.suppressed for f in result.findings if f.code.startswith("CF3"))
