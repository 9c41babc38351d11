"""Every way a real draft points at a source: identifiers in running text and links.

The manuscripts here are snippets of public text (tests/data/forms/PROVENANCE.md says where
each comes from); the bibliography holds the works they cite.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from citeflow.cli import main
from citeflow.document.manuscript import parse_manuscript
from citeflow.document.placeholders import find_placeholders
from citeflow.fixes.resolve import resolve_manuscript
from citeflow.references.identifiers import Identifier, find_identifiers
from edits import put_back

DATA = Path(__file__).parent / "data" / "forms"
FRONT = "---\ntitle: Forms\nbibliography: refs.bib\n---\n"


# Never touch the network or a shared cache; no project config from above.
pytestmark = pytest.mark.usefixtures("unreachable_sources")


@pytest.fixture
def project(tmp_path):
    shutil.copy(DATA / "forms.bib", tmp_path / "refs.bib")
    return tmp_path


def resolved(project: Path, body: str, **options) -> tuple[str, object]:
    path = project / "draft.md"
    path.write_text(FRONT + body, encoding="utf-8")
    result = resolve_manuscript(path, write=True, offline=True, suggest=False, **options)
    return path.read_text(encoding="utf-8")[len(FRONT):], result


def check_json(path: Path) -> list[dict]:
    done = CliRunner().invoke(main, ["check", str(path), "--format", "json"])
    assert done.exit_code in (0, 1), done.output
    data = json.loads(done.output)
    return data["findings"] if isinstance(data, dict) else data


# --------------------------------------------------------------------------------------
# The recogniser


@pytest.mark.parametrize(
    "snippet, expected",
    [
        ("efficacy of the closely related combination in rhabdomyosarcoma (PMID 22633624, PMID 12115359).",
         ["pmid:22633624", "pmid:12115359"]),
        ("J Neurosci. 2017 Jun 7;37(23):5594-5607. doi: 10.1523/JNEUROSCI.0067-17.2017. Epub 2017 Apr 27. "
         "PMID: 28450543; PMCID: PMC5469300.",
         ["doi:10.1523/jneurosci.0067-17.2017", "pmid:28450543", "pmcid:PMC5469300"]),
        ("% https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5469300/", ["pmcid:PMC5469300"]),
        ("Risk reduction of statin intake is 20% per mmol/L of LDL reduction. "
         "https://www.sciencedirect.com/science/article/pii/S0140673612603675?via%3Dihub",
         ["pii:S0140673612603675"]),
        ("(ref. https://www.thelancet.com/journals/lancet/article/PIIS0140-6736(20)30419-0/fulltext ).",
         ["pii:S0140673620304190"]),
        ("**Identifier:** doi:10.1098/rsif.2012.0558 · arXiv:1203.4942\n"
         "- **URL seen:** https://pmc.ncbi.nlm.nih.gov/articles/PMC3565782/ (also\n"
         "  https://arxiv.org/abs/1203.4942)",
         ["doi:10.1098/rsif.2012.0558", "arxiv:1203.4942", "pmcid:PMC3565782", "arxiv:1203.4942"]),
        ("Karkowski 2025 https://www.biorxiv.org/content/10.1101/2025.10.21.682935v1",
         ["doi:10.1101/2025.10.21.682935"]),
        ("- [Article](https://www.biorxiv.org/content/10.1101/647545v3.article-info): Emmott",
         ["doi:10.1101/647545"]),
        ("[28] https://journals.plos.org/plosone/article?id=10.1371%2Fjournal.pone.0264551",
         ["doi:10.1371/journal.pone.0264551"]),
        ("* HTML Full Text: http://www.nejm.org/doi/full/10.1056/NEJMoa042957\n"
         " * PDF Full Text: http://www.nejm.org/doi/pdf/10.1056/NEJMoa042957",
         ["doi:10.1056/nejmoa042957", "doi:10.1056/nejmoa042957"]),
        ("doi:10.1093/bioinformatics/btq614 [<a href =\"http://www.ncbi.nlm.nih.gov/pubmed/21088025/\">",
         ["doi:10.1093/bioinformatics/btq614", "pmid:21088025"]),
        ("Lancet 2017;389:505-518. PMID 28017403. DOI 10.1016/S0140-6736(16)32621-6. PACTR201503001057193.",
         ["pmid:28017403", "doi:10.1016/s0140-6736(16)32621-6"]),
    ],
)
def test_identifiers_are_found_wherever_real_text_puts_them(snippet, expected):
    assert [str(m.identifier) for m in find_identifiers(snippet)] == expected


def test_a_link_stops_at_a_closing_parenthesis_it_did_not_open():
    text = "(see https://www.thelancet.com/journals/lancet/article/PIIS0140-6736(20)31142-9/fulltext)."
    (mention,) = find_identifiers(text)
    assert mention.raw.endswith("/fulltext")
    assert mention.identifier == Identifier("pii", "S0140673620311429")


@pytest.mark.parametrize("written, reason", [
    ("doi: 10.1056", "'/'"),
    ("doi: 10.1056/", "no suffix"),
    ("PMID: 1234567890", "PMID"),
])
def test_truncated_identifiers_are_kept_with_the_reason(written, reason):
    (mention,) = find_identifiers(f"As reported ({written}).")
    assert mention.identifier is None and reason in mention.reason


# --------------------------------------------------------------------------------------
# resolve


def test_a_list_of_pmids_in_parentheses_becomes_one_citation(project):
    body = ("Vinorelbine is supported by demonstrated efficacy of the closely related combination in "
            "rhabdomyosarcoma (PMID 22633624, PMID 12115359).\n")
    text, result = resolved(project, body)
    assert text.endswith("rhabdomyosarcoma [@casanova2012vinorelbine; @casanova2002vinorelbine].\n")
    assert result.exit_code == 0


def test_labels_in_running_text_become_citations(project):
    body = ("J Neurosci. 2017 Jun 7;37(23):5594-5607. doi: 10.1523/JNEUROSCI.0067-17.2017. Epub 2017 Apr 27. "
            "PMID: 28450543; PMCID: PMC5469300.\n")
    text, result = resolved(project, body)
    assert text == ("J Neurosci. 2017 Jun 7;37(23):5594-5607. [@park2013hubs]. Epub 2017 Apr 27. "
                    "[@park2013hubs]; [@park2013hubs].\n")
    assert result.exit_code == 0


def test_a_link_keeps_its_text_and_gains_the_citation(project):
    body = ("Isolates from [(The CRyPTIC Consortium and the 100, 2018)](https://www.nejm.org/doi/full/10.1056/"
            "NEJMoa1800474) were used, with reference to [Gibson et al. 2015]"
            "(https://journals.plos.org/plosone/article?id=10.1371/journal.pone.0138432).\n")
    text, _ = resolved(project, body)
    assert text == ("Isolates from (The CRyPTIC Consortium and the 100, 2018) [@cryptic2018prediction] were used, "
                    "with reference to Gibson et al. 2015 [@gibson2015amplicon].\n")


def test_a_link_whose_text_is_only_the_identifier_becomes_the_citation(project):
    body = "*bioRxiv*. 2019. p. 610741. [doi: 10.1101/610741](https://www.biorxiv.org/content/10.1101/610741v1).\n"
    text, _ = resolved(project, body)
    assert text == "*bioRxiv*. 2019. p. 610741. [@ewels2019nfcore].\n"


def test_a_link_whose_text_is_a_citation_becomes_that_citation_once(project):
    # A Manubot key with a locator as the text of a link to the same work: kept as written
    # by default (Manubot keys render as they are); rewritten, the citation and its locator
    # stay and the link goes. Either way a second run changes nothing.
    body = ("Hub regions were mapped [@pmcid:PMC5469300, p. 3]"
            "(https://doi.org/10.1523/JNEUROSCI.0067-17.2017).\n")
    kept, result = resolved(project, body)
    assert kept == body and not result.replacements
    text, _ = resolved(project, body, rewrite_manubot=True)
    assert text == "Hub regions were mapped [@park2013hubs, p. 3].\n"
    again, result = resolved(project, text, rewrite_manubot=True)
    assert again == text and not result.replacements


def test_a_url_in_parentheses_does_not_leave_the_parentheses(project):
    body = ("In this workshop we use data from Baizabal et al. "
            "(https://pmc.ncbi.nlm.nih.gov/articles/PMC6667181/).\n")
    text, _ = resolved(project, body)
    assert text.endswith("Baizabal et al. [@baizabal2018chip].\n")


def test_a_lancet_landing_page_matches_the_entry_whose_doi_is_its_pii(project):
    body = ("With face masks `alpha` is reduced by a 65% ([reference](https://www.thelancet.com/journals/"
            "lancet/article/PIIS0140-6736(20)31142-9/fulltext)).\n")
    text, result = resolved(project, body)
    assert text.endswith("reduced by a 65% (reference [@chu2020distancing]).\n")
    assert result.exit_code == 0


def test_a_sciencedirect_pii_matches_the_entry_with_that_pii_field(project):
    body = ("Risk reduction of statin intake is 20% per mmol/L of LDL reduction. "
            "https://www.sciencedirect.com/science/article/pii/S0140673612603675?via%3Dihub\n")
    text, _ = resolved(project, body)
    assert text.endswith("LDL reduction. [@lancet2012statins]\n")


def test_offline_leftovers_are_named_and_the_exit_code_is_1(project):
    body = ("Though the methodology used for the analysis was referenced (PMID: 25968644), "
            "the assumptions made were not discussed. See also doi: 10.1056 and "
            "https://www.sciencedirect.com/science/article/pii/S0140673616005572.\n")
    text, result = resolved(project, body)
    assert text == body
    assert result.exit_code == 1
    left = {u.item.raw: u.reason for u in result.unresolved}
    assert left == {"PMID: 25968644": "offline", "doi: 10.1056": "malformed",
                    "https://www.sciencedirect.com/science/article/pii/S0140673616005572": "offline"}


def test_second_run_changes_nothing(project):
    body = ("Efficacy (PMID 22633624, PMID 12115359); PMID: 28450543 and "
            "[Gibson et al. 2015](https://journals.plos.org/plosone/article?id=10.1371/journal.pone.0138432) "
            "and https://pmc.ncbi.nlm.nih.gov/articles/PMC6667181/.\n")
    first, _ = resolved(project, body)
    second, again = resolved(project, first)
    assert second == first and not again.changed


# --------------------------------------------------------------------------------------
# check


def test_a_made_up_pmid_is_an_unresolved_identifier_not_a_statistic(project):
    path = project / "draft.md"
    path.write_text(FRONT + "Dupilumab targets the IL-4 receptor alpha subunit (PMID: 99999999).\n",
                    encoding="utf-8")
    codes = [f["code"] for f in check_json(path)]
    assert "CF202" in codes and "CF303" not in codes


def test_a_truncated_doi_is_reported_as_malformed(project):
    path = project / "draft.md"
    path.write_text(FRONT + "Masks reduce transmission (doi: 10.1016/).\n", encoding="utf-8")
    findings = [f for f in check_json(path) if f["code"] == "CF103"]
    assert findings and "doi: 10.1016/" in findings[0]["message"]


def test_manubot_keys_are_valid_citations(project):
    path = project / "draft.md"
    path.write_text(FRONT + "Plasticity was shown analytically "
                    "[@doi:10.1098/rsif.2012.0558; @url:https://arxiv.org/abs/1203.4942] "
                    "and in a short DOI [@doi:10/c6ggfs] and a preprint [@arxiv:1203.4942].\n",
                    encoding="utf-8")
    findings = check_json(path)
    assert "CF103" not in [f["code"] for f in findings]
    # A URL is never fetched: a @url: key no bibliography entry has is an unknown key.
    assert [f["message"] for f in findings if f["code"] == "CF101"] == [
        'unknown citation key "url:https://arxiv.org/abs/1203.4942" (no bibliography entry has this URL)']


def test_check_fix_and_resolve_agree_on_new_forms(project):
    body = "Efficacy in rhabdomyosarcoma (PMID 22633624, PMID 12115359) and PMID: 28450543.\n"
    path = project / "draft.md"
    path.write_text(FRONT + body, encoding="utf-8")
    done = CliRunner().invoke(main, ["check", str(path), "--fix"])
    assert done.exit_code in (0, 1), done.output
    fixed = path.read_text(encoding="utf-8")
    text, _ = resolved(project, body)
    assert fixed == FRONT + text


def test_placeholders_report_their_forms():
    text = "See https://pubmed.ncbi.nlm.nih.gov/27690741/ and PMID: 28478972.\n"
    forms = [p.form for p in find_placeholders(parse_manuscript(text))]
    assert forms == ["url", "label"]


# --------------------------------------------------------------------------------------
# Free-text markers


@pytest.mark.parametrize("snippet, marker", [
    ("however it should be noted that such methods are successfully used in topology optimization "
     "[citation required]. Additionally, runing a 3d-generating model", "[citation required]"),
    ("In this approach, a controller was employed to simultaneously regulate the voltage and the "
     "current [xx].", "[xx]"),
    ("Cite any sources informally (Author, Year).", "(Author, Year)"),
    ("PostgreSQL's shared buffer management performance peaks at 8-32GB. [Citation Required]",
     "[Citation Required]"),
])
def test_free_text_markers_from_real_drafts_are_placeholders(snippet, marker):
    (placeholder,) = find_placeholders(parse_manuscript(snippet + "\n"))
    assert placeholder.kind == "freetext" and placeholder.text == marker


# --------------------------------------------------------------------------------------
# The draft's own reference list


@pytest.fixture
def reflist_project(tmp_path):
    for name in ("reflist.md", "reflist.bib"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def test_numeric_markers_become_citations_and_the_matched_list_goes(reflist_project):
    path = reflist_project / "reflist.md"
    original = path.read_text(encoding="utf-8")
    result = resolve_manuscript(path, write=True, offline=True, suggest=False)
    text = path.read_text(encoding="utf-8")
    assert "using the R [@rcore2021r] package edgeR [@robinson2010edger]," in text
    assert "SEMgraph [@palluzzi2021semgraph]." in text and "huge [@zhao2012huge]." in text
    assert "(RFCs) [@liaw2002classification]," in text and "Brier scores [@brier1950verification]." in text
    assert "## References" not in text and "Robinson MD" not in text
    assert result.exit_code == 0 and put_back(text, result.replacements) == original
    again = resolve_manuscript(path, write=True, offline=True, suggest=False)
    assert not again.changed


def test_a_list_with_an_unknown_item_stays_and_the_item_is_named(reflist_project):
    bib = reflist_project / "reflist.bib"
    bib.write_text(bib.read_text(encoding="utf-8").split("@article{liaw2002classification")[0], encoding="utf-8")
    path = reflist_project / "reflist.md"
    result = resolve_manuscript(path, write=True, offline=True, suggest=False)
    text = path.read_text(encoding="utf-8")
    assert "## References" in text and "(RFCs) [5]," in text
    assert "edgeR [@robinson2010edger]" in text
    assert result.exit_code == 1
    named = [u.describe() for u in result.unmatched]
    assert any(d.startswith("Liaw A and Wiener M.") for d in named)
    assert any(d.startswith("[5]") for d in named)


def test_reference_list_items_are_not_claims_or_placeholders(reflist_project):
    path = reflist_project / "reflist.md"
    findings = check_json(path)
    lines = {f["line"] for f in findings if f["code"].startswith(("CF2", "CF3"))}
    first_item = path.read_text(encoding="utf-8").splitlines().index("## References") + 1
    assert not [line for line in lines if line >= first_item]


# --------------------------------------------------------------------------------------
# Online: a PII through Crossref's alternative-id filter


@pytest.fixture
def crossref(httpserver, monkeypatch):
    work = json.loads((DATA / "crossref-10.1016_s0140-6736(97)11096-0.json").read_text(encoding="utf-8"))
    listing = {"status": "ok", "message-type": "work-list",
               "message": {"total-results": 1, "items": [work["message"]]}}
    httpserver.expect_request("/crossref/works", query_string={
        "filter": "alternative-id:S0140673697110960", "rows": "5"}).respond_with_json(listing)
    httpserver.expect_request("/crossref/works", query_string={
        "filter": "alternative-id:S0140673616005572", "rows": "5"}).respond_with_json(
        {"status": "ok", "message-type": "work-list", "message": {"total-results": 0, "items": []}})
    httpserver.expect_request("/crossref/works/10.1016/s0140-6736(97)11096-0").respond_with_json(work)
    monkeypatch.setenv("CITEFLOW_CROSSREF_URL", httpserver.url_for("/crossref"))
    monkeypatch.setenv("CITEFLOW_DOI_URL", httpserver.url_for("/doi"))
    return httpserver


def test_a_pii_is_found_through_crossref_and_an_unknown_one_is_named(project, crossref):
    path = project / "draft.md"
    body = ("The retracted paper http://www.sciencedirect.com/science/article/pii/S0140673697110960 "
            "and http://www.sciencedirect.com/science/article/pii/S0140673616005572 were cited.\n")
    path.write_text(FRONT + body, encoding="utf-8")
    result = resolve_manuscript(path, write=True, suggest=False)
    text = path.read_text(encoding="utf-8")
    (added,) = result.appended
    assert added.doi == "10.1016/s0140-6736(97)11096-0"
    assert f"The retracted paper [@{added.key}] and http://www.sciencedirect.com" in text
    (left,) = result.unresolved
    assert left.reason == "not found" and "S0140673616005572" in left.message
    assert result.exit_code == 1


def test_the_cli_names_each_unmatched_item_and_exits_1(reflist_project):
    bib = reflist_project / "reflist.bib"
    bib.write_text(bib.read_text(encoding="utf-8").split("@article{liaw2002classification")[0], encoding="utf-8")
    done = CliRunner().invoke(main, ["resolve", "--offline", str(reflist_project / "reflist.md")])
    assert done.exit_code == 1
    assert "unmatched Liaw A and Wiener M. Classification and Regression by randomForest." in done.stderr
    assert "unmatched [5]: reference 5 of the list is not in the bibliography" in done.stderr


def test_a_list_whose_items_the_text_never_cites_stays(reflist_project):
    path = reflist_project / "reflist.md"
    text = path.read_text(encoding="utf-8").replace(" [6]", "")
    path.write_text(text, encoding="utf-8")
    resolve_manuscript(path, write=True, offline=True, suggest=False)
    written = path.read_text(encoding="utf-8")
    assert "## References" in written and "Brier GW." in written
    assert "edgeR [@robinson2010edger]" in written


# --------------------------------------------------------------------------------------
# Footnotes holding only a reference


FOOTNOTE = ("The most commonly used case for this is with [[Hydrogel]]s; however, it's been used for "
            "modelling steak cooking[^3] and more.\n\n"
            "[^3]: https://doi.org/10.1140/epjp/s13360-020-00311-0\n")


def test_a_footnote_holding_only_a_reference_becomes_a_citation_at_its_marker(project):
    text, result = resolved(project, FOOTNOTE)
    assert text == ("The most commonly used case for this is with [[Hydrogel]]s; however, it's been used for "
                    "modelling steak cooking[@epjp2020steak] and more.\n\n")
    assert result.exit_code == 0
    again, rerun = resolved(project, text)
    assert again == text and not rerun.changed


def test_check_fix_moves_the_footnote_as_resolve_does(project):
    path = project / "draft.md"
    path.write_text(FRONT + FOOTNOTE, encoding="utf-8")
    done = CliRunner().invoke(main, ["check", str(path), "--fix"])
    assert done.exit_code in (0, 1), done.output
    fixed = path.read_text(encoding="utf-8")
    text, _ = resolved(project, FOOTNOTE)
    assert fixed == FRONT + text


# --------------------------------------------------------------------------------------
# Author-year citations (matched against tests/data/resolve/dupilumab.bib: one Simpson 2016)


@pytest.fixture
def dupilumab(tmp_path):
    shutil.copy(Path(__file__).parent / "data" / "resolve" / "dupilumab.bib", tmp_path / "refs.bib")
    return tmp_path


def test_author_year_citations_with_one_match_become_keys_the_others_are_named(dupilumab):
    body = ("Coevolutionary principles (e.g., mutual communication (Baker & Singh, 2015), knowledge sharing "
            "(Simpson et al., 2016), and modular design (Nassim & Robert, 2010)) have been introduced.\n")
    text, result = resolved(dupilumab, body)
    assert "knowledge sharing [@simpson2016two], and" in text
    assert "(Baker & Singh, 2015)" in text and "(Nassim & Robert, 2010)" in text
    assert result.exit_code == 1
    messages = [u.describe() for u in result.unresolved]
    assert any("no bibliography entry by Baker from 2015" in m for m in messages)


def test_a_narrative_author_year_citation_stays_narrative(dupilumab):
    body = "The method in Simpson et al. (2016) defines the expected number of events.\n"
    text, _ = resolved(dupilumab, body)
    assert text == "The method in @simpson2016two defines the expected number of events.\n"


def test_dates_and_table_references_are_not_author_year_citations():
    text = "Enrolment closed (January 2016) as shown (Table 1, 2016) and in (Phase 3 2019).\n"
    assert find_placeholders(parse_manuscript(text)) == []
