"""`citeflow resolve` / `citeflow suggest`: placeholders become citations, nothing else changes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug import Response as WerkzeugResponse

from citeflow.cli import main
from citeflow.fixes.resolve import resolve_manuscript, unified_diff
from citeflow.references.bibliography import load_bibliography
from edits import put_back

DATA = Path(__file__).parent / "data" / "resolve"
FRONT = "---\ntitle: Dupilumab and joint pain\nbibliography: refs.bib\n---\n"


# Never touch the network or a shared cache; no project config from above.
pytestmark = pytest.mark.usefixtures("unreachable_sources")


@pytest.fixture
def project(tmp_path):
    shutil.copy(DATA / "dupilumab.bib", tmp_path / "refs.bib")
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


# --------------------------------------------------------------------------------------
# From the bibliography


def test_identifier_placeholders_become_citations(project):
    body = (
        "# Dupilumab [doi:10.1016/j.jdcr.2021.12.011]\n\n"
        "Dupilumab works in eczema [doi:10.1056/NEJMoa1610020] [pmid:28478972], and in asthma\n"
        "(doi: 10.1056/nejmoa1804092). See https://doi.org/10.1038/NRD4624. Also\n"
        "[see PMID:26471366, p. 3; @simpson2016two] and @pmcid:PMC6990756 showed it.\n\n"
        "- in a list [pmcid:pmc8814740]\n\n"
        "> quoted [@doi:10.1007/s40257-023-00804-5]\n\n"
        "| drug | ref |\n|---|---|\n| dupilumab | [doi:10.3390/biom13040634] |\n\n"
        "Body.[^1]\n\n[^1]: A note [pmid:32007360, ch. 2].\n\n"
        "Code `[doi:10.1056/NEJMoa1610020]` stays, and so does\n\n"
        "```\n[pmid:28478972]\n```\n"
    )
    path = write(project / "paper.md", FRONT + body)
    result = resolve_manuscript(path, write=True, rewrite_manubot=True)
    expected = FRONT + (
        "# Dupilumab [@jay2022review]\n\n"
        "Dupilumab works in eczema [@simpson2016two; @blauvelt2017longterm], and in asthma\n"
        "[@castro2018dupilumab]. See [@gandhi2016targeting]. Also\n"
        "[see @gandhi2016targeting, p. 3; @simpson2016two] and @worm2020efficacy showed it.\n\n"
        "- in a list [@jay2022review]\n\n"
        "> quoted [@woodbury2023dupilumab]\n\n"
        "| drug | ref |\n|---|---|\n| dupilumab | [@olbrich2023dupilumab] |\n\n"
        "Body.[^1]\n\n[^1]: A note [@matsunaga2020dupilumab, ch. 2].\n\n"
        "Code `[doi:10.1056/NEJMoa1610020]` stays, and so does\n\n"
        "```\n[pmid:28478972]\n```\n"
    )
    assert path.read_text(encoding="utf-8") == expected
    assert result.exit_code == 0 and result.unresolved == [] and result.appended == []
    assert (project / "refs.bib").read_bytes() == (DATA / "dupilumab.bib").read_bytes()


def test_bibliography_identifiers_match_whatever_form_the_bib_uses(tmp_path):
    write(
        tmp_path / "refs.bib",
        "@article{a, title={A}, doi={https://doi.org/10.1056/NEJMOA1610020}}\n"
        "@article{b, title={B}, pmid={PMID: 0027690742}}\n"
        "@article{c, title={C}, url={http://dx.doi.org/10.1038/nrd4624}}\n"
        "@article{d, title={D}, pmcid={pmc6990756}}\n",
    )
    path = write(
        tmp_path / "p.md",
        FRONT + "X [doi:10.1056/nejmoa1610020], [pmid:27690742], [doi:10.1038/NRD4624], [pmcid:PMC6990756].\n",
    )
    resolve_manuscript(path, write=True)
    assert path.read_text(encoding="utf-8") == FRONT + "X [@a], [@b], [@c], [@d].\n"


def test_doi_shaped_key_that_the_bibliography_uses_is_left_alone(tmp_path):
    write(tmp_path / "refs.bib", "@article{doi:10.1056/NEJMoa1610020, title={A}, doi={10.1056/NEJMoa1610020}}\n")
    text = FRONT + "Manubot style [@doi:10.1056/NEJMoa1610020] and [doi:10.1056/NEJMoa1610020].\n"
    path = write(tmp_path / "p.md", text)
    result = resolve_manuscript(path, write=True, offline=True)
    assert result.exit_code == 0
    assert path.read_text(encoding="utf-8") == FRONT + (
        "Manubot style [@doi:10.1056/NEJMoa1610020] and [@doi:10.1056/NEJMoa1610020].\n"
    )


def test_running_twice_changes_nothing_the_second_time(project):
    text = FRONT + "Claim [doi:10.1056/NEJMoa1610020; pmid:9999999] and [citation needed].\n"
    path = write(project / "p.md", text)
    first = resolve_manuscript(path, write=True, offline=True)
    after_first = path.read_bytes()
    second = resolve_manuscript(path, write=True, offline=True)
    assert first.changed and not second.changed
    assert path.read_bytes() == after_first
    assert after_first.decode() == FRONT + "Claim [@simpson2016two; pmid:9999999] and [citation needed].\n"
    assert [u.reason for u in second.unresolved] == ["offline"]


def test_crlf_line_endings_and_bom_survive(project):
    text = "\ufeff" + FRONT.replace("\n", "\r\n") + "Line [doi:10.1056/NEJMoa1610020].\r\nNext (pmid: 28478972)\r\n"
    path = write(project / "p.md", text)
    resolve_manuscript(path, write=True)
    assert path.read_bytes() == (
        "\ufeff" + FRONT.replace("\n", "\r\n") + "Line [@simpson2016two].\r\nNext [@blauvelt2017longterm]\r\n"
    ).encode("utf-8")


def test_without_write_the_cli_prints_a_diff_and_changes_nothing(project):
    path = write(project / "p.md", FRONT + "Claim [doi:10.1056/NEJMoa1610020].\n")
    before = path.read_bytes()
    result = run("resolve", str(path))
    assert result.exit_code == 0
    assert "-Claim [doi:10.1056/NEJMoa1610020].\n+Claim [@simpson2016two].\n" in result.stdout
    assert result.stdout.startswith(f"--- {path}\n+++ {path}\n")  # absolute: no a/ b/
    assert path.read_bytes() == before
    assert run("resolve", "--write", str(path)).exit_code == 0
    assert path.read_text(encoding="utf-8").endswith("Claim [@simpson2016two].\n")


def test_free_text_placeholders_are_listed_with_candidates_not_filled(project):
    text = FRONT + "A noticeable side effect reported by some patients is joint pain [citation needed].\n"
    path = write(project / "p.md", text)
    result = run("resolve", "--write", str(path))
    assert result.exit_code == 0  # only identifier placeholders decide the exit status
    assert path.read_text(encoding="utf-8") == text
    assert f"{path}:5:66: free-text placeholder [citation needed]" in result.stderr
    # Candidates as a writer knows them: "Author Year, Title (key)", no internal scores.
    assert re.search(r"\d\. Jay et al\. 2022, Review of dupilumab-associated inflammatory "
                     r"arthritis: .*\(jay2022review\)\n", result.stderr)
    assert "score" not in result.stderr and "(~" not in result.stderr
    verbose = run("--verbose", "resolve", str(path))
    assert "(jay2022review)  [score " in verbose.stderr and "joint pain" in verbose.stderr


def test_picked_reference_fills_a_free_text_placeholder(project):
    text = FRONT + "Joint pain was reported [citation needed]. Also [CITE].\n"
    path = write(project / "p.md", text)
    plan = resolve_manuscript(path)
    first = plan.freetext[0]
    key = first.suggestions[0].key
    assert key in {"jay2022review", "woodbury2023dupilumab"}
    resolve_manuscript(path, write=True, picks={first.placeholder.start: key})
    assert path.read_text(encoding="utf-8") == FRONT + f"Joint pain was reported [@{key}]. Also [CITE].\n"


def test_interactive_needs_a_terminal(project):
    path = write(project / "p.md", FRONT + "Text [CITE].\n")
    result = run("resolve", "--interactive", str(path))
    assert result.exit_code == 2
    assert "terminal" in result.stderr


def test_interactive_pick_fills_the_chosen_reference(project, monkeypatch):
    from citeflow.cli import cmd_resolve

    monkeypatch.setattr(cmd_resolve, "_stdin_is_terminal", lambda: True)
    text = FRONT + "Joint pain was reported [citation needed]. Asthma [CITE]. Eczema [ref].\n"
    path = write(project / "p.md", text)
    result = CliRunner().invoke(main, ["resolve", "--interactive", "--write", str(path)],
                                input="2\nnosuchkey\ncastro2018dupilumab\n\n")
    assert result.exit_code == 0, result.output
    assert "'nosuchkey' is not a key of the bibliography" in result.output
    plan = resolve_manuscript(path)  # what is left: the skipped third placeholder
    assert [f.placeholder.text for f in plan.freetext] == ["[ref]"]
    written = path.read_text(encoding="utf-8")
    assert "Asthma [@castro2018dupilumab]. Eczema [ref]." in written
    assert written.startswith(FRONT + "Joint pain was reported [@")
    assert "[citation needed]" not in written


def test_interactive_without_write_shows_the_picks_and_asks_before_writing(project, monkeypatch):
    from citeflow.cli import cmd_resolve

    monkeypatch.setattr(cmd_resolve, "_stdin_is_terminal", lambda: True)
    text = FRONT + "Asthma exacerbations fell [CITE].\n"
    path = write(project / "p.md", text)
    declined = CliRunner().invoke(main, ["resolve", "-i", str(path)],
                                  input="castro2018dupilumab\nn\n")
    assert declined.exit_code == 0, declined.output
    # The diff shows the pick; declining keeps the file and repeats the pick.
    assert "+Asthma exacerbations fell [@castro2018dupilumab]." in declined.output
    assert path.read_text(encoding="utf-8") == text
    assert "nothing written; your picks: line 5 -> @castro2018dupilumab" in declined.output
    accepted = CliRunner().invoke(main, ["resolve", "-i", str(path)],
                                  input="castro2018dupilumab\ny\n")
    assert accepted.exit_code == 0, accepted.output
    assert path.read_text(encoding="utf-8") == FRONT + "Asthma exacerbations fell [@castro2018dupilumab].\n"


def test_a_bibliography_option_naming_no_file_is_refused(project):
    path = write(project / "p.md", FRONT + "Text [CITE].\n")
    for command in ("resolve", "suggest"):
        result = run(command, "--bib", str(project / "nope.bib"), str(path))
        assert result.exit_code == 2
        assert "nope.bib" in result.stderr and "does not exist" in result.stderr


def test_malformed_and_offline_identifiers_are_named_with_exit_1(project):
    text = FRONT + "Bad [doi:11.1056/x] and unknown [pmid:9999999] and known [pmid:27690741].\n"
    path = write(project / "p.md", text)
    result = run("resolve", "--write", "--offline", str(path))
    assert result.exit_code == 1
    assert f"{path}:5:5: unresolved doi:11.1056/x: malformed" in result.stderr
    assert f"{path}:5:33: unresolved pmid:9999999: offline" in result.stderr
    assert path.read_text(encoding="utf-8") == FRONT + (
        "Bad [doi:11.1056/x] and unknown [pmid:9999999] and known [@simpson2016two].\n"
    )


def test_bad_input_is_exit_2_naming_file_and_line(tmp_path):
    path = write(tmp_path / "p.md", "---\ntitle: [unclosed\n---\nText [CITE].\n")
    result = run("resolve", str(path))
    assert result.exit_code == 2
    assert f"{path}:" in result.stderr and "front matter" in result.stderr
    broken_bib = write(tmp_path / "refs.bib", "@article{x, title={A}\n\n@article{y,, }\n")
    path = write(tmp_path / "q.md", FRONT + "Text [doi:10.1056/NEJMoa1610020].\n")
    result = run("resolve", str(path))
    assert result.exit_code == 2
    assert str(broken_bib) in result.stderr


# --------------------------------------------------------------------------------------
# From the sources (a real HTTP server on 127.0.0.1 serving recorded answers)


@pytest.fixture
def registry(httpserver, monkeypatch):
    crossref = (DATA / "crossref" / "10.1371_journal.pone.0033693.json").read_text(encoding="utf-8")
    not_found = (DATA / "crossref" / "10.1371_notarealdoi.404.txt").read_text(encoding="utf-8")
    httpserver.expect_request("/crossref/works/10.1371/journal.pone.0033693").respond_with_data(
        crossref, content_type="application/json"
    )
    httpserver.expect_request("/crossref/works/10.1371/notarealdoi").respond_with_data(
        not_found, status=404, content_type="text/plain"
    )
    httpserver.expect_request("/doi/10.1371/notarealdoi").respond_with_data("Not found", status=404)

    def efetch(request):
        pmid = parse_qs(request.query_string.decode())["id"][0]
        record = DATA / "pubmed" / f"{pmid}.efetch.xml"
        if not record.exists():
            return WerkzeugResponse("<eFetchResult><ERROR>not found</ERROR></eFetchResult>", 400)
        return WerkzeugResponse(record.read_text(encoding="utf-8"), 200, content_type="text/xml")

    httpserver.expect_request("/eutils/efetch.fcgi").respond_with_handler(efetch)
    monkeypatch.setenv("CITEFLOW_CROSSREF_URL", httpserver.url_for("/crossref"))
    monkeypatch.setenv("CITEFLOW_DOI_URL", httpserver.url_for("/doi"))
    monkeypatch.setenv("CITEFLOW_EUTILS_URL", httpserver.url_for("/eutils"))
    return httpserver


def test_fetched_entries_go_into_a_bibliography_that_does_not_exist_yet(tmp_path, registry):
    front = "---\ntitle: T\nbibliography: refs/new.bib\n---\n"
    path = write(tmp_path / "p.md", front + "Ants [doi:10.1371/journal.pone.0033693] and diabetes [pmid:29915538].\n")
    result = run("resolve", "--write", str(path))
    assert result.exit_code == 0, result.stderr
    bib = load_bibliography([tmp_path / "refs" / "new.bib"])
    by_doi = bib.by_doi("10.1371/journal.pone.0033693")
    by_pmid = bib.by_pmid("29915538")
    assert by_doi is not None and by_pmid is not None
    assert by_pmid.abstract  # fetched PubMed entries carry their abstract (better suggestions)
    assert path.read_text(encoding="utf-8") == front + (
        f"Ants [@{by_doi.key}] and diabetes [@{by_pmid.key}].\n"
    )
    assert "added 2 entries" in result.stderr
    # Nothing left to do the second time, and no second request is needed.
    requests = len(registry.log)
    assert run("resolve", "--write", str(path)).exit_code == 0
    assert len(registry.log) == requests


def test_fetched_entries_are_appended_and_existing_bytes_kept(project, registry):
    original = (project / "refs.bib").read_bytes()
    path = write(project / "p.md", FRONT + "Known [pmid:27690741] and new [pmid:35649368].\n")
    preview = resolve_manuscript(path)
    assert (project / "refs.bib").read_bytes() == original  # a preview writes nothing
    assert "+@article{" in preview.diff
    result = resolve_manuscript(path, write=True)
    after = (project / "refs.bib").read_bytes()
    assert after.startswith(original) and len(after) > len(original)
    (new,) = result.appended
    assert new.pmid == "35649368"
    assert path.read_text(encoding="utf-8") == FRONT + f"Known [@simpson2016two] and new [@{new.key}].\n"
    assert load_bibliography([project / "refs.bib"]).get(new.key).pmid == "35649368"


def test_the_preview_shows_exactly_what_the_write_appends(project, registry):
    # a bibliography saved on Windows, without a final newline: kept as it is
    crlf = (project / "refs.bib").read_bytes().replace(b"\n", b"\r\n").rstrip(b"\r\n")
    (project / "refs.bib").write_bytes(crlf)
    path = write(project / "p.md", FRONT + "New [pmid:35649368] and [doi:10.1371/journal.pone.0033693].\n")
    preview = resolve_manuscript(path)
    assert (project / "refs.bib").read_bytes() == crlf
    resolve_manuscript(path, write=True)
    after = (project / "refs.bib").read_bytes()
    assert after.startswith(crlf + b"\r\n\r\n@article{") and b"\n" not in after.replace(b"\r\n", b"")
    expected = unified_diff(crlf.decode("utf-8"), after.decode("utf-8"), str(project / "refs.bib"))
    assert preview.bibliography_diff == expected != ""


def test_nothing_to_resolve_leaves_the_bibliography_unread(project):
    path = write(project / "p.md", FRONT + "Dupilumab is cited already [@simpson2016two].\n")
    result = run("resolve", str(path))
    assert result.exit_code == 0 and "would resolve 0 placeholder(s)" in result.stderr
    assert not (project / "cache" / "bibliographies").exists()  # nothing parsed, nothing cached
    path.write_text(FRONT + "Now with one [pmid:27690741].\n", encoding="utf-8")
    assert run("resolve", str(path)).exit_code == 0
    assert len(list((project / "cache" / "bibliographies").iterdir())) == 1


def test_offline_setting_sends_no_request(project, registry, monkeypatch):
    monkeypatch.setenv("CITEFLOW_OFFLINE", "1")
    path = write(project / "p.md", FRONT + "New [pmid:35649368].\n")
    result = run("resolve", "--write", str(path))
    assert result.exit_code == 1
    assert "unresolved pmid:35649368: offline" in result.stderr
    assert registry.log == []
    assert path.read_text(encoding="utf-8") == FRONT + "New [pmid:35649368].\n"


def test_identifier_unknown_to_the_registries_is_not_found(project, registry):
    path = write(project / "p.md", FRONT + "X [doi:10.1371/notarealdoi].\n")
    result = run("resolve", "--write", str(path))
    assert result.exit_code == 1
    assert "unresolved doi:10.1371/notarealdoi: not found" in result.stderr
    assert path.read_text(encoding="utf-8") == FRONT + "X [doi:10.1371/notarealdoi].\n"


def test_unreachable_service_names_identifier_and_url_and_keeps_the_file(project):
    # The autouse fixture points every source at a closed port on 127.0.0.1.
    text = FRONT + "X [doi:10.1371/journal.pone.0033693] and [@simpson2016two].\n"
    path = write(project / "p.md", text)
    result = run("resolve", "--write", str(path))
    assert result.exit_code == 1
    line = next(l for l in result.stderr.splitlines() if "unresolved" in l)
    assert line.startswith(f"{path}:5:3: unresolved doi:10.1371/journal.pone.0033693: error")
    assert "http://127.0.0.1:9/unreachable/works/10.1371/journal.pone.0033693" in line
    assert path.read_text(encoding="utf-8") == text


# --------------------------------------------------------------------------------------
# Property: replacements touch only their own spans


KNOWN = ["[doi:10.1056/NEJMoa1610020]", "[pmid:28478972]", "(doi: 10.1038/nrd4624)",
         "https://doi.org/10.1016/j.jdcr.2021.12.011", "[@pmcid:PMC6990756, p. 3]",
         "[see doi:10.1056/NEJMoa1804092; @smith2020]",
         # identifiers as writers paste them in running text and links
         "doi: 10.1056/NEJMoa1610020", "DOI 10.1038/nrd4624", "PMID: 28478972",
         "(PMID 28478972, PMID 99999999)", "https://pubmed.ncbi.nlm.nih.gov/28478972/",
         "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC6990756/", "PMC6990756",
         "https://www.nejm.org/doi/full/10.1056/NEJMoa1610020", "(https://doi.org/10.1038/nrd4624)",
         "[Gandhi et al. 2016](https://doi.org/10.1038/nrd4624)",
         "[doi: 10.1038/nrd4624](https://doi.org/10.1038/nrd4624)",
         "(Simpson et al., 2016)", "Simpson et al. (2016)", "(Baker & Singh, 2015)",
         # Manubot keys: kept as written, or written as bibliography keys when asked
         "[@doi:10.1056/NEJMoa1610020]", "[@pmid:28478972; @pmcid:PMC6990756]",
         "[see -@doi:10.1038/nrd4624, p. 3; @simpson2016two]", "[@doi:10/c6ggfs]"]
OTHER = ["[pmid:9999999]", "[doi:11.1/bad]", "[citation needed]", "[CITE]", "(ref)", "TODO: cite this",
         "`[doi:10.1056/NEJMoa1610020]`", "[link](https://doi.org/10.1038/nrd4624)",
         "PMID: 99999999", "doi: 10.1056", "arXiv:1706.03762", "[@url:https://example.org/x]",
         "https://www.sciencedirect.com/science/article/pii/S0140673610613505", "www.example.org/a"]
WORDS = ["Dupilumab", "joint", "pain", "e.g.", "50%", "*eczema*", "@simpson2016two", "x@y.org",
         "[@castro2018dupilumab]", "[", "]", "(", ")", ";", "ünïcode", "\t", "\\", "p.", "3",
         "(doi: ", "[see ", "https://doi.org/", "10.1056/NEJMoa1610020", ", p. 3", "](", "`",
         "@doi:10.1038/nrd4624", "<https://doi.org/10.1038/nrd4624>", "**", "[^1]"]
PREFIXES = ["", "- ", "> ", "# ", "1. ", "| a | ", "[^1]: ", "    "]
#: A Manubot key standing on its own (not the tail of a URL it is glued to).
MANUBOT_KEY = re.compile(r"(?<![\w/.])-?@(?:doi|pmid|pmcid):")
NEWLINES = ["\n", "\r\n"]
#: Numeric markers, and the items of real reference lists (tests/data/forms) they point into.
MARKERS = ["[1]", "[2]", "[2-3]", "[1, 3]", "[1–2]", "^2^", "¹", "⁴", "[9]"]
LIST_ITEMS = [line.split(" ", 1)[1].strip() for name in ("mmr.md", "reflist.md")
              for line in (DATA.parent / "forms" / name).read_text(encoding="utf-8").splitlines()
              if re.match(r"\d\.\s", line)]
LIST_HEADINGS = ["## References", "References", "## Sources", "### Bibliography"]


@st.composite
def manuscripts(draw):
    newline = draw(st.sampled_from(NEWLINES))
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        tokens = draw(st.lists(st.sampled_from(WORDS + KNOWN + OTHER + MARKERS), min_size=1, max_size=8))
        separators = draw(st.lists(st.sampled_from([" ", "", "  ", ", "]), min_size=len(tokens), max_size=len(tokens)))
        line = draw(st.sampled_from(PREFIXES)) + "".join(t + s for t, s in zip(tokens, separators))
        lines.append(line)
        if draw(st.booleans()):
            lines.append("")
    if draw(st.booleans()):  # the draft's own reference list, numbered or bulleted
        items = draw(st.lists(st.sampled_from(LIST_ITEMS), min_size=1, max_size=4, unique=True))
        bullet = draw(st.sampled_from(["{n}. ", "[{n}] ", "- "]))
        if draw(st.booleans()):  # a sentence citing every item: the list can go
            lines += ["", f"As reviewed [1-{len(items)}]."]
        lines += ["", draw(st.sampled_from(LIST_HEADINGS)), ""]
        lines += [bullet.format(n=n) + item for n, item in enumerate(items, start=1)]
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + FRONT.replace("\n", newline) + newline.join(lines) + draw(st.sampled_from(["", newline]))


@pytest.mark.parametrize("rewrite_manubot", [False, True])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=manuscripts())
def test_undoing_the_replacements_gives_back_the_input(project, text, rewrite_manubot):
    path = write(project / "prop.md", text)
    # accept_parsed: items of a reference list the bibliography lacks are added as written
    result = resolve_manuscript(path, write=True, offline=True, suggest=False, accept_parsed=True,
                                rewrite_manubot=rewrite_manubot)
    written = path.read_bytes().decode("utf-8")
    assert written == result.text
    for rep in result.replacements:
        assert text[rep.start : rep.end] == rep.old
        link = re.match(r"\[(.*)\]\(", rep.old)
        kept = f"(?:{re.escape(link.group(1))} )?" if link else ""  # a link keeps its text
        if rep.new == "":  # a footnote that held only a reference goes; its marker is cited
            # ... and so does a reference list whose every item is in the bibliography
            assert rep.old.startswith("[^1]:") or rep.old.lstrip("#\ufeff ").startswith(
                tuple(h.lstrip("# ") for h in LIST_HEADINGS)), rep.old
            continue
        assert re.fullmatch(kept + r"\[[^\[\]]*@[^\[\]]*\]|-?@\S+", rep.new), rep.new
    assert put_back(written, result.replacements) == text
    again = resolve_manuscript(path, write=True, offline=True, suggest=False, accept_parsed=True,
                               rewrite_manubot=rewrite_manubot)
    assert not again.changed and not again.appended
    if not rewrite_manubot:  # Manubot keys render as written: none is rewritten
        for rep in result.replacements:
            assert len(MANUBOT_KEY.findall(rep.new)) == len(MANUBOT_KEY.findall(rep.old)), rep


# --------------------------------------------------------------------------------------
# citeflow suggest


def test_suggest_lists_placeholders_and_uncited_claims(tmp_path):
    shutil.copy(DATA / "dupilumab.bib", tmp_path / "refs.bib")
    text = FRONT + (
        "Dupilumab targets type 2 inflammation in atopic dermatitis and asthma.\n\n"
        "Some patients report joint pain on dupilumab (ref).\n\n"
        "Known claim about eczema [@simpson2016two].\n"
    )
    path = write(tmp_path / "p.md", text)
    result = run("suggest", str(path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"{path}:7:46: placeholder (ref)" in lines
    assert any("jay2022review" in line for line in lines)
    assert any(line.startswith(f"{path}:5:1: uncited claim") for line in lines)
    assert any("gandhi2016targeting" in line and "*" in line for line in lines)
    assert not any(line.startswith(f"{path}:9:") for line in lines)  # the cited claim is not listed
