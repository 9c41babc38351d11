"""The draft's own reference list, beyond the bibliography: items found at Crossref (accepted
only when title, first author and year agree) or, offline, taken as written when the writer
accepts that; the free-text reader behind both.

mmr.md is real public text (tests/data/forms/PROVENANCE.md); Crossref is pytest-httpserver on
127.0.0.1 answering ``query.bibliographic`` with list answers made of real Crossref records.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug import Request
from werkzeug import Response as WResponse

from citeflow import api
from citeflow.cli import main
from citeflow.document.manuscript import read_manuscript
from citeflow.document.reflist import find_reference_list
from citeflow.fixes.resolve import resolve_manuscript
from citeflow.references.bibliography import load_bibliography
from citeflow.references.freetext import parse_reference_text
from crossref_lists import list_answer
from edits import put_back

DATA = Path(__file__).parent / "data"
FORMS = DATA / "forms"
RECORDS = DATA / "sources" / "crossref"
WAKEFIELD_DOI = "10.1016/s0140-6736(97)11096-0"

pytestmark = pytest.mark.usefixtures("unreachable_sources")


def record(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))["message"]


WAKEFIELD = record(FORMS / "crossref-10.1016_s0140-6736(97)11096-0.json")
NOTICES = json.loads((RECORDS / "updates_10.1016_s0140-6736(97)11096-0.worklist.json")
                     .read_text(encoding="utf-8"))["message"]["items"]
RETRACTION = next(i for i in NOTICES if i["DOI"] == "10.1016/s0140-6736(10)60175-4")
UNRELATED = [record(RECORDS / "10.1371_journal.pone.0033693.json"), record(RECORDS / "10.3892_ijo_00000353.json")]


# --------------------------------------------------------------------------------------
# Reading a free-text reference


@pytest.mark.parametrize("name", ["mmr.md", "reflist.md"])
def test_every_item_of_the_real_lists_is_read_into_author_title_and_year(name):
    reflist = find_reference_list(read_manuscript(FORMS / name))
    for item in reflist.items:
        parsed = parse_reference_text(item.text)
        assert parsed is not None and parsed.complete, item.text
        assert parsed.title in item.text and str(parsed.year) in item.text
        assert parsed.first_author_family and item.text.startswith(parsed.first_author_family)


def test_vancouver_and_author_year_items_give_their_parts():
    reflist = find_reference_list(read_manuscript(FORMS / "mmr.md"))
    wakefield = parse_reference_text(reflist.items[1].text)
    assert wakefield.authors == ("Wakefield, A. J.", "Murch, S. H.", "Anthony, A.") and wakefield.et_al
    assert wakefield.title == ("Ileal-lymphoid-nodular hyperplasia, non-specific colitis, and pervasive "
                               "developmental disorder in children")
    assert (wakefield.container, wakefield.year, wakefield.volume, wakefield.issue, wakefield.pages) == \
        ("Lancet", 1998, "351", "9103", "637-641")
    other = find_reference_list(read_manuscript(FORMS / "reflist.md"))
    edger = parse_reference_text(other.items[1].text)
    assert edger.title.startswith("edgeR: a Bioconductor package") and edger.year == 2010
    assert (edger.container, edger.volume, edger.issue, edger.pages) == ("Bioinformatics", "26", "1", "139-140")
    assert parse_reference_text(other.items[0].text).authors == ("R Core Team",)


@pytest.mark.parametrize("text", ["Available from the authors.", "Personal communication, 2019",
                                  "Smith J. Unpublished."])
def test_text_without_author_title_and_year_is_not_read(text):
    assert parse_reference_text(text) is None


# --------------------------------------------------------------------------------------
# Online: Crossref's query.bibliographic, with a validation step


@pytest.fixture
def mmr(tmp_path):
    for name in ("mmr.md", "mmr.bib"):
        shutil.copy(FORMS / name, tmp_path / name)
    return tmp_path


def without_zhang(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    text = text.replace("The paper was retracted in 2010[3]", "The paper was retracted in 2010")
    text = "\n".join(line for line in text.split("\n") if not line.startswith("3. Zhang L"))
    path.write_text(text, encoding="utf-8")


def serve(server, monkeypatch, answers: dict[str, list[dict]]):
    """Crossref's ``/works?query.bibliographic=...``: the works listed under the first
    surname of ``answers`` the query names, an empty list otherwise; every query is kept."""
    asked: list[str] = []

    def answer(request: Request) -> WResponse:
        query = request.args.get("query.bibliographic", "")
        asked.append(query)
        items = next((works for name, works in answers.items() if query.startswith(name)), [])
        body = list_answer(items, int(request.args.get("rows", 20)))
        return WResponse(json.dumps(body), content_type="application/json")

    server.expect_request("/crossref/works").respond_with_handler(answer)
    monkeypatch.setenv("CITEFLOW_CROSSREF_URL", server.url_for("/crossref"))
    return asked


def test_an_item_crossref_confirms_is_written_and_cited_and_a_fabricated_one_stays(mmr, httpserver, monkeypatch):
    asked = serve(httpserver, monkeypatch, {"Wakefield": [WAKEFIELD] + NOTICES, "Zhang": UNRELATED})
    path = mmr / "mmr.md"
    original = path.read_text(encoding="utf-8")
    result = resolve_manuscript(path, write=True, suggest=False)
    text = path.read_text(encoding="utf-8")
    (added,) = result.appended
    # keyed by the existing key maker from Crossref's title ("RETRACTED: Ileal-...")
    assert added.doi == WAKEFIELD_DOI and added.key == "wakefield1998retracted"
    assert "autism spectrum disorders.[@wakefield1998retracted]" in text
    assert "false.[@watson1953molecular]" in text and "activists.[@fisher1925correlation]" in text
    # the fabricated reference: not accepted, named with Crossref's answers, the list stays
    assert "retracted in 2010[3]" in text and "## References" in text
    (left,) = [u for u in result.unmatched if u.text.startswith("Zhang")]
    assert "Crossref's answers do not agree" in left.reason and "title" in left.reason
    assert left.candidates[0].startswith("Sadasivan 2012, Methylphenidate Exposure Induces Dopamine Neuron Loss")
    assert left.candidates[0].endswith("(10.1371/journal.pone.0033693)")
    assert result.exit_code == 1
    assert put_back(text, result.replacements) == original
    # only the two items without a bibliography entry were looked up
    assert sorted(q.split()[0] for q in asked) == ["Wakefield", "Zhang"]
    bib = load_bibliography([mmr / "mmr.bib"])
    assert bib.get("wakefield1998retracted").doi == WAKEFIELD_DOI
    assert any("wakefield1998retracted" in w and "retracted" in w for w in result.warnings)


def test_the_list_goes_when_every_item_is_in_the_bibliography_and_a_second_run_changes_nothing(
        mmr, httpserver, monkeypatch):
    serve(httpserver, monkeypatch, {"Wakefield": [WAKEFIELD]})
    path = mmr / "mmr.md"
    without_zhang(path)
    before = path.read_text(encoding="utf-8")
    result = resolve_manuscript(path, write=True, suggest=False)
    text = path.read_text(encoding="utf-8")
    assert result.exit_code == 0, [u.describe() for u in result.unmatched]
    assert "## References" not in text and "Wakefield AJ" not in text
    assert "disorders.[@wakefield1998retracted]" in text
    assert put_back(text, result.replacements) == before
    bib_bytes = (mmr / "mmr.bib").read_bytes()
    again = resolve_manuscript(path, write=True, suggest=False)
    assert not again.changed and not again.appended and again.exit_code == 0
    assert (mmr / "mmr.bib").read_bytes() == bib_bytes


def test_an_answer_that_disagrees_on_author_and_year_is_not_taken_and_is_shown(mmr, httpserver, monkeypatch):
    # Crossref's best answer is the 2010 retraction notice, whose title repeats the article's.
    serve(httpserver, monkeypatch, {"Wakefield": [RETRACTION, NOTICES[0]]})
    path = mmr / "mmr.md"
    without_zhang(path)
    before = path.read_text(encoding="utf-8")
    bib_before = (mmr / "mmr.bib").read_bytes()
    done = CliRunner().invoke(main, ["resolve", "--write", str(path)])
    assert done.exit_code == 1, done.output
    (line,) = [l for l in done.stderr.splitlines() if " unmatched Wakefield AJ" in l]
    assert "differs in first author and year" in line
    assert ("candidates: The Editors of The Lancet 2010, Retraction—Ileal-lymphoid-nodular hyperplasia, "
            "non-specific colitis, and pervasive deve... (10.1016/s0140-6736(10)60175-4); "
            "Murch 2004, Retraction of an interpretation (10.1016/s0140-6736(04)15715-2)") in line
    assert (mmr / "mmr.bib").read_bytes() == bib_before
    text = path.read_text(encoding="utf-8")
    assert "## References" in text and "disorders.[2]" in text
    assert "false.[@watson1953molecular]" in text  # the items the bibliography has are cited
    assert text != before


def test_check_and_render_never_ask_crossref(mmr, httpserver, monkeypatch):
    serve(httpserver, monkeypatch, {"Wakefield": [WAKEFIELD]})
    path = mmr / "mmr.md"
    done = CliRunner().invoke(main, ["check", str(path), "--format", "json"])
    assert done.exit_code in (0, 1), done.output
    findings = json.loads(done.output)
    findings = findings["findings"] if isinstance(findings, dict) else findings
    first_item = path.read_text(encoding="utf-8").splitlines().index("## References") + 1
    assert not [f for f in findings if f["line"] >= first_item and f["code"].startswith(("CF2", "CF3"))]
    api.render(path, formats="html", output_dir=mmr / "out", allow_missing=True)
    assert not httpserver.log
    offline = resolve_manuscript(path, write=False, offline=True, suggest=False)
    assert offline.exit_code == 1 and not httpserver.log


# --------------------------------------------------------------------------------------
# Offline: the parsed fields, only when the writer accepts them


def test_offline_items_stay_unless_the_writer_accepts_the_parsed_fields(mmr):
    path = mmr / "mmr.md"
    bib_before = (mmr / "mmr.bib").read_bytes()
    done = CliRunner().invoke(main, ["resolve", "--offline", "--write", str(path)])
    assert done.exit_code == 1
    assert "unmatched Wakefield AJ, Murch SH" in done.stderr and "unmatched Zhang L, Smith JR" in done.stderr
    assert (mmr / "mmr.bib").read_bytes() == bib_before

    done = CliRunner().invoke(main, ["resolve", "--offline", "--accept-parsed", "--write", str(path)])
    assert done.exit_code == 0, done.output
    text = path.read_text(encoding="utf-8")
    assert "## References" not in text
    assert "disorders.[@wakefield1998ileal]" in text and "in 2010[@zhang2021quantum]" in text
    bib = load_bibliography([mmr / "mmr.bib"])
    zhang = bib.get("zhang2021quantum")
    assert zhang.title == "Quantum entanglement effects on photosynthetic efficiency in mammalian cortical neurons"
    assert zhang.authors[0] == "Zhang, L." and zhang.year == 2021 and zhang.container.startswith("Journal of Adv")
    assert "unverified" in (mmr / "mmr.bib").read_text(encoding="utf-8")
    assert (mmr / "mmr.bib").read_bytes().startswith(bib_before)
    again = CliRunner().invoke(main, ["resolve", "--offline", "--accept-parsed", "--write", str(path)])
    assert again.exit_code == 0 and path.read_text(encoding="utf-8") == text


def test_the_api_takes_accept_parsed_and_shows_the_entries_before_writing(mmr):
    path = mmr / "mmr.md"
    result = api.resolve(path, offline=True, accept_parsed=True)
    assert not result.written and path.read_text(encoding="utf-8") == (FORMS / "mmr.md").read_text(encoding="utf-8")
    assert [r.key for r in result.appended] == ["wakefield1998ileal", "zhang2021quantum"]
    assert "+@article{wakefield1998ileal," in result.diff and "-## References" in result.diff


# --------------------------------------------------------------------------------------
# Markers side by side, and "[n]" items on the lines of one paragraph


def test_adjacent_markers_and_a_bracketed_list_in_one_paragraph(mmr):
    path = mmr / "mmr.md"
    text = path.read_text(encoding="utf-8")
    head, _, items = text.partition("## References\n\n")
    # "Physicians, medical journals, and editors[15][16][17][18][19] have described ..." (the
    # article's lead), renumbered into the list; the list written "[n] ..." line after line
    head = head.replace("found to be false.[1]", "found to be false.[1] Physicians, medical journals, "
                        "and editors[1][4] have described Wakefield's actions as fraudulent.")
    items = "".join("[" + line.split(". ", 1)[0] + "] " + line.split(". ", 1)[1] + "\n"
                    for line in items.splitlines() if line)
    path.write_text(head + "## References\n\n" + items, encoding="utf-8")
    reflist = find_reference_list(read_manuscript(path))
    assert [i.number for i in reflist.items] == [1, 2, 3, 4]
    assert reflist.items[3].text.startswith("Fisher RA. The correlation")
    result = resolve_manuscript(path, write=True, offline=True, suggest=False, accept_parsed=True)
    written = path.read_text(encoding="utf-8")
    assert "editors[@watson1953molecular][@fisher1925correlation] have described" in written
    assert "## References" not in written and result.exit_code == 0


def test_a_marker_beside_an_identifier_placeholder_is_a_marker_on_the_first_run(mmr):
    # "[1][doi:...]" is read as "[1][@key]" is after the placeholder is resolved, so one run
    # does what two would: a second run changes nothing.
    path = mmr / "mmr.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("found to be false.[1]", "found to be false.[1][doi:10.1016/S0140-6736(97)11096-0]"),
                    encoding="utf-8")
    first = resolve_manuscript(path, write=True, offline=True, suggest=False, accept_parsed=True)
    written = path.read_text(encoding="utf-8")
    assert "found to be false.[@watson1953molecular][doi:10.1016/S0140-6736(97)11096-0]" in written
    # the DOI is neither in the bibliography nor in the cache: named, left as written
    assert [u.reason for u in first.unresolved] == ["offline"] and first.exit_code == 1
    again = resolve_manuscript(path, write=True, offline=True, suggest=False, accept_parsed=True)
    assert not again.changed


#: Real references the reader was not written against (tests/data/forms/PROVENANCE.md):
#: (text, first author, title start, year, journal).
HELD_OUT = [
    ("Abikoff H, Hechtman L, Klein RG, Weiss G, Fleiss K, Etcovitch J, Cousins L, Greenfield B, Martin D, "
     "Pollack S. Symptomatic improvement in children with ADHD treated with long-term methylphenidate and "
     "multimodal psychosocial treatment. J Am Acad Child Adolesc Psychiatry. 2004;43:802–11.",
     "Abikoff, H.", "Symptomatic improvement in children", 2004, "J Am Acad Child Adolesc Psychiatry"),
    ("Abrous DN, Koehl M, LeMoal M. Adult neurogenesis: from precursors to network and physiology. "
     "Physiol Rev. 2005;85:523–69.", "Abrous, D. N.", "Adult neurogenesis: from precursors", 2005, "Physiol Rev"),
    ("Adams SJ, Burton N, Cutress A, et al. Development of double blind gluten and casein free test foods "
     "for use in an autism dietary trial. J Hum Nutr Diet. 2008;21:374.",
     "Adams, S. J.", "Development of double blind gluten", 2008, "J Hum Nutr Diet"),
    ("Kuhn TS. The structure of scientific revolutions. University of Chicago Press; 1962.",
     "Kuhn, T. S.", "The structure of scientific revolutions", 1962, "University of Chicago Press"),
    ("Mehra MR, Desai SS, Ruschitzka F, Patel AN. Hydroxychloroquine or chloroquine with or without a "
     "macrolide for treatment of COVID-19. Lancet. 2020.", "Mehra, M. R.", "Hydroxychloroquine or chloroquine",
     2020, "Lancet"),
    ("Open Science Collaboration. Estimating the reproducibility of psychological science. "
     "Science. 2015;349(6251):aac4716.", "Open Science Collaboration", "Estimating the reproducibility", 2015,
     "Science"),
]


@pytest.mark.parametrize("text, author, title, year, journal", HELD_OUT)
def test_references_the_reader_was_not_written_against(text, author, title, year, journal):
    parsed = parse_reference_text(text)
    assert parsed is not None
    assert (parsed.authors[0], parsed.year, parsed.container) == (author, year, journal)
    assert parsed.title.startswith(title)
