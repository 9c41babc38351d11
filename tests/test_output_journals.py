"""AMA and Vancouver as journals print them: NLM journal abbreviations, name particles,
superscripts after punctuation."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from citeflow.cli import main
from citeflow.output.citeproc_input import abbreviation_table
from citeflow.output.journals import abbreviation, normalise_title

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "manuscripts" / "dupilumab-arthralgia-review.md"
BIB = Path(__file__).parent / "data" / "render" / "dupilumab.bib"


# The titles of the coverage check in the journal lists' provenance note (written by hand
# the way authors write them), with the NLM abbreviations (MedlineTA) PubMed prints.
NLM = {
    "New England Journal of Medicine": "N Engl J Med",
    "The Lancet": "Lancet",
    "Journal of the American Academy of Dermatology": "J Am Acad Dermatol",
    "American Journal of Clinical Dermatology": "Am J Clin Dermatol",
    "JAMA Dermatology": "JAMA Dermatol",
    "Allergology International": "Allergol Int",
    "Biomedicines": "Biomedicines",
    "JAAD Case Reports": "JAAD Case Rep",
    "Journal of Clinical Endocrinology and Metabolism": "J Clin Endocrinol Metab",
    "BMJ": "BMJ",
    "Archives of Internal Medicine": "Arch Intern Med",
    "Diabetes Care": "Diabetes Care",
    "Nature Medicine": "Nat Med",
    "Annals of Internal Medicine": "Ann Intern Med",
    "European Heart Journal": "Eur Heart J",
    "Journal of Allergy and Clinical Immunology": "J Allergy Clin Immunol",
}


@pytest.mark.parametrize("title", sorted(NLM))
def test_journal_titles_get_their_nlm_abbreviation(title):
    assert abbreviation(title) == NLM[title]


@pytest.mark.parametrize("written, expected", [
    ("THE NEW ENGLAND JOURNAL OF MEDICINE", "N Engl J Med"),   # case, a leading "The"
    ("The Journal of Allergy & Clinical Immunology", "J Allergy Clin Immunol"),  # "&"
    ("Journal of Allergy and Clinical Immunology.", "J Allergy Clin Immunol"),   # punctuation
    ("Lancet (London, England)", "Lancet"),                    # the NLM Catalog's own form
    ("Revue médicale suisse", "Rev Med Suisse"),               # accents
])
def test_lookup_ignores_case_the_ampersand_punctuation_and_qualifiers(written, expected):
    assert abbreviation(written) == expected


def test_titles_it_cannot_tell_apart_or_does_not_know_are_left_alone():
    assert abbreviation("Acta medica") is None  # several journals, different abbreviations
    assert abbreviation("Journal of Things Nobody Publishes") is None
    assert abbreviation("N Engl J Med") is None  # already abbreviated: printed as it is
    assert normalise_title("The") == "the"


def test_the_abbreviations_file_holds_only_titles_it_shortens():
    table = abbreviation_table(["The Lancet", "The Lancet", "N Engl J Med", "Unknown Journal"])
    assert table == {"The Lancet": "Lancet"}


# -- in the rendered reference list ----------------------------------------------------------------


def render_html(tmp_path: Path, manuscript: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["render", str(manuscript), "--to", "html", "-o",
                                       str(tmp_path), *args])
    assert result.exit_code == 0, result.output
    html = (tmp_path / f"{manuscript.stem}.html").read_text(encoding="utf-8")
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


@pytest.mark.parametrize("style", ["american-medical-association", "vancouver"])
def test_ama_and_vancouver_print_nlm_abbreviations_and_particles(tmp_path, style):
    text = render_html(tmp_path, SAMPLE, "--csl", style)
    references = text[text.index("References"):]
    for full, short in (("New England Journal of Medicine", "N Engl J Med"),
                        ("Journal of the American Academy of Dermatology", "J Am Acad Dermatol"),
                        ("American Journal of Clinical Dermatology", "Am J Clin Dermatol"),
                        ("Nature Reviews Drug Discovery", "Nat Rev Drug Discov")):
        assert short in references and full not in references, (style, full)
    assert "The Lancet" not in references and "Lancet. 2017;389(10086):2287" in references
    # "de Bruin-Weller, Marjolein" in the .bib: NLM and AMA print "de Bruin-Weller M".
    assert "Blauvelt A, de Bruin-Weller M, Gooderham M" in references
    assert "Bruin-Weller M de" not in references


def _project(tmp_path: Path, bib_text: str, body: str, front: str = "") -> Path:
    (tmp_path / "refs.bib").write_text(bib_text, encoding="utf-8")
    manuscript = tmp_path / "m.md"
    manuscript.write_text(f"---\ntitle: T\nbibliography: refs.bib\n{front}---\n\n{body}\n",
                          encoding="utf-8")
    return manuscript


def test_shortjournal_and_journalabbrev_in_the_bibliography_win(tmp_path):
    bib = BIB.read_text(encoding="utf-8")
    # The same real entries, one with BibLaTeX's shortjournal, one with a journalabbrev field.
    bib = bib.replace("@article{blauvelt2017longterm,",
                      "@article{blauvelt2017longterm,\n  shortjournal = {Lancet (Lond)},", 1)
    bib = bib.replace("@article{castro2018dupilumab,",
                      "@article{castro2018dupilumab,\n  journalabbrev = {NEJM},", 1)
    manuscript = _project(tmp_path, bib, "Trials [@blauvelt2017longterm; @castro2018dupilumab; "
                                         "@simpson2016two; @bachert2019efficacy].")
    text = render_html(tmp_path / "out", manuscript)
    assert "Lancet (Lond). 2017;389(10086)" in text  # shortjournal
    assert "NEJM. 2018;378(26)" in text              # journalabbrev, for that entry only
    assert "N Engl J Med. 2016;375(24)" in text      # no abbreviation given: NLM's
    assert "Lancet. 2019;394(10209)" in text


def test_a_csl_json_bibliography_is_abbreviated_too(tmp_path):
    (tmp_path / "refs.json").write_text(
        '[{"id": "castro2018", "type": "article-journal", "title": "Dupilumab efficacy and '
        'safety in moderate-to-severe uncontrolled asthma", "container-title": "The New England '
        'journal of medicine", "author": [{"family": "Castro", "given": "Mario"}], "issued": '
        '{"date-parts": [[2018]]}, "volume": "378", "page": "2486-2496"}, {"id": "own", "type": '
        '"article-journal", "title": "A trial", "container-title": "The Lancet", '
        '"container-title-short": "Lancet Own", "author": [{"family": "Doe", "given": "Jane"}], '
        '"issued": {"date-parts": [[2020]]}}]', encoding="utf-8")
    manuscript = tmp_path / "m.md"
    manuscript.write_text("---\ntitle: T\nbibliography: refs.json\n---\n\nText [@castro2018; @own].\n",
                          encoding="utf-8")
    text = render_html(tmp_path / "out", manuscript)
    assert "N Engl J Med. 2018;378" in text
    assert "Lancet Own. Published online 2020" in text


def test_superscript_numbers_follow_full_stops_and_commas(tmp_path):
    text = render_html(tmp_path, SAMPLE)
    # AMA 11th ed.: superscripts outside periods and commas.
    assert "the centre of type 2 inflammation.1,2 Type 2" in text
    assert "inflammation1,2." not in text
    vancouver = render_html(tmp_path / "v", SAMPLE, "--csl", "vancouver")
    assert "type 2 inflammation (1,2)." in vancouver  # numbers in parentheses: before the stop


def test_front_matter_can_keep_superscripts_before_punctuation(tmp_path):
    shutil.copy(BIB, tmp_path / "refs.bib")
    manuscript = tmp_path / "m.md"
    manuscript.write_text("---\ntitle: T\nbibliography: refs.bib\nnotes-after-punctuation: false\n"
                          "---\n\nDupilumab improved atopic dermatitis [@simpson2016two].\n",
                          encoding="utf-8")
    text = render_html(tmp_path / "out", manuscript)
    assert "atopic dermatitis1." in text
