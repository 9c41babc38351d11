"""Metadata sources against a real HTTP server on 127.0.0.1 serving recorded real answers.

The answers in tests/data/sources are real Crossref, doi.org (CSL-JSON) and NCBI responses
(see PROVENANCE.md there); faults (429, 500, slow answers, HTML pages, cut-off JSON, a closed
port) are injected around them.
"""

from __future__ import annotations

import html
import json
import os
import re
import socket
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response as WResponse

from citeflow.config import Config
from citeflow.references.csl import strip_markup
from citeflow.references.identifiers import Identifier, parse_identifier
from citeflow.sources import Fetcher, FetchResult, FetchStatus, SourceSettings
from citeflow.sources.crossref import reference_from_crossref
from citeflow.sources.http import RateLimiter
from citeflow.sources.pubmed import expand_pages, reference_from_esummary
from crossref_lists import serve_crossref_lists

DATA = Path(__file__).parent / "data" / "sources"
CROSSREF = DATA / "crossref"
CSLJ = DATA / "cslj"
PUBMED = DATA / "pubmed"
CSL_ACCEPT = "application/vnd.citationstyles.csl+json"
ENVELOPES = sorted(p for p in CROSSREF.glob("*.json") if not p.name.endswith(("item.json", "worklist.json")))


@pytest.fixture(scope="module")
def _server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def server(_server):
    _server.clear()
    _server.crossref_works = serve_crossref_lists(_server)
    yield _server
    _server.clear()


def _message(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))["message"]


def make_fetcher(server: HTTPServer, tmp_path: Path, offline: bool | None = None, env: dict | None = None,
                 **sources) -> Fetcher:
    base = server.url_for("").rstrip("/")
    data = {
        "mailto": "editor@example.org",
        "sources": {"crossref_url": f"{base}/crossref", "doi_url": f"{base}/doi",
                    "eutils_url": f"{base}/eutils", "idconv_url": f"{base}/idconv/",
                    "timeout": 0.5, "retries": 1, "backoff": 0, "max_retry_after": 2, **sources},
        "cache": {"dir": str(tmp_path / "cache")},
    }
    config = Config(root=tmp_path, data=data)
    settings = SourceSettings.from_config(config, env=env or {})
    return Fetcher(config, offline=offline, settings=settings)


def serve_crossref(server: HTTPServer, path: Path) -> str:
    doi = _message(path)["DOI"].lower()
    server.crossref_works[doi] = _message(path)
    server.expect_request(f"/crossref/works/{doi}").respond_with_data(
        path.read_bytes(), content_type="application/json")
    return doi


def serve_crossref_404(server: HTTPServer, doi: str) -> None:
    server.expect_request(f"/crossref/works/{doi}").respond_with_data(
        (CROSSREF / "10.1371_notarealdoi.404.txt").read_bytes(), status=404, content_type="text/plain")


def serve_efetch(server: HTTPServer, pmid: str, name: str | None = None) -> None:
    server.expect_request("/eutils/efetch.fcgi", query_string={"db": "pubmed", "id": pmid, "retmode": "xml",
                                                             "tool": "citeflow", "email": "editor@example.org"}
                          ).respond_with_data((PUBMED / (name or f"{pmid}.efetch.xml")).read_bytes(),
                                              content_type="text/xml")


def serve_efetch_batch(server: HTTPServer, pmids: list[str], status: int = 200) -> None:
    """One EFetch answer for several PMIDs, as PubMed sends it: the recorded single-record
    answers' <PubmedArticle> elements side by side in one <PubmedArticleSet>."""
    articles = []
    for pmid in pmids:
        text = (PUBMED / f"{pmid}.efetch.xml").read_text(encoding="utf-8")
        articles.append(text[text.index("<PubmedArticle>"): text.rindex("</PubmedArticleSet>")])
    body = '<?xml version="1.0" ?>\n<PubmedArticleSet>\n' + "".join(articles) + "</PubmedArticleSet>\n"
    server.expect_request("/eutils/efetch.fcgi", query_string={
        "db": "pubmed", "id": ",".join(pmids), "retmode": "xml", "tool": "citeflow",
        "email": "editor@example.org"}).respond_with_data(body, status=status, content_type="text/xml")


# -- Crossref mapping, field by field -----------------------------------------------------------------
@pytest.mark.parametrize("path", ENVELOPES, ids=lambda p: p.stem)
def test_crossref_record_maps_field_by_field(server, tmp_path, path):
    doi = serve_crossref(server, path)
    message = _message(path)
    result = make_fetcher(server, tmp_path).fetch(Identifier("doi", doi))
    assert result.status == "ok", result.describe()
    ref = result.reference
    assert ref.doi == doi
    titles = [t for t in message.get("title", []) if t] or message.get("original-title", [])
    if titles:
        raw_title = re.sub(r"<[^>]+>", "", html.unescape(html.unescape(titles[0])))
        assert ref.title and all(word in raw_title for word in re.findall(r"\w+", ref.title))
        assert "<" not in ref.title and "&lt;" not in ref.title and "\n" not in ref.title
    else:
        assert ref.title == ""
    assert len(ref.authors) == len(message.get("author", []))
    for author, shown in zip(message.get("author", []), ref.authors):
        if "family" in author:
            assert shown.startswith(author["family"])
            assert author.get("given", "") in shown
        else:
            assert shown == author["name"]
    containers = message.get("container-title") or [""]
    assert ref.container == " ".join(containers[0].split())
    assert ref.volume == message.get("volume", "")
    assert ref.issue == message.get("issue", "")
    assert ref.pages == message.get("page", "")
    issued = message["issued"]["date-parts"][0][0]
    assert ref.year == (issued or message["created"]["date-parts"][0][0])
    if message.get("abstract"):
        assert ref.abstract and "<jats:" not in ref.abstract and "jats" not in ref.abstract
        assert ref.abstract.split()[-1] in message["abstract"]


def test_crossref_types_and_special_authors(server, tmp_path):
    dois = {p.stem: serve_crossref(server, p) for p in ENVELOPES}
    fetcher = make_fetcher(server, tmp_path)
    got = {stem: fetcher.fetch(Identifier("doi", doi)).reference for stem, doi in dois.items()}
    assert got["10.1186_s13742-015-0103-4"].authors[1] == "The Genome Denmark Consortium"
    assert got["10.1186_s13742-015-0103-4"].authors[0] == "Liu, Siyang"
    assert got["10.1007_978-3-662-46370-3_13"].type == "chapter"
    assert got["10.1109_icdcsw.2003.1203662"].type == "paper-conference"
    assert got["10.1101_2020.12.01.406702"].type == "article"  # posted-content = preprint
    assert got["10.1038_nnano.2014.279"].type == "article-journal"
    assert got["10.2973_odp.proc.ir.180.2000"].authors == []
    assert len(got["10.2973_odp.proc.ir.180.2000"].editors) == 4
    assert got["10.7600_jspfsm.56.60"].title  # only an original-title (Japanese)
    assert got["10.1371_journal.pmed.0030277.g001"].authors == []
    assert "\n" not in got["10.1101_2020.12.01.406702"].title
    assert got["10.1007_978-3-0348-8720-5_13"].isbn is not None
    abstract = got["10.32396_usurj.v1i1.55"].abstract
    assert abstract.startswith("In the international community, human dependence on plastic")


def test_retraction_correction_and_version_links(server, tmp_path):
    stems = ["10.1016_s0140-6736(97)11096-0", "10.1371_journal.pone.0033693", "10.1371_journal.ppat.1008184",
             "10.5194_cp-2020-95"]
    dois = {s: serve_crossref(server, CROSSREF / f"{s}.json") for s in stems}
    fetcher = make_fetcher(server, tmp_path)
    wakefield = fetcher.fetch(Identifier("doi", dois[stems[0]])).reference
    assert wakefield.title.startswith("RETRACTED: Ileal-lymphoid-nodular hyperplasia")
    retraction = [u for u in wakefield.updates if u["type"] == "retraction"]
    assert retraction == [{"type": "retraction", "doi": "10.1016/s0140-6736(10)60175-4",
                           "direction": "updated-by", "label": "Retraction", "date": "2010-02-06",
                           "source": "retraction-watch"}]
    assert [u["doi"] for u in wakefield.updates if u["type"] == "correction"] == ["10.1016/s0140-6736(04)15715-2"]
    pone = fetcher.fetch(Identifier("doi", dois[stems[1]])).reference
    assert any(u["type"] == "correction" and u["direction"] == "updated-by" for u in pone.updates)
    ppat = fetcher.fetch(Identifier("doi", dois[stems[2]])).reference
    assert {u["direction"] for u in ppat.updates} == {"updated-by", "update-to", "new_version"}
    preprint = fetcher.fetch(Identifier("doi", dois[stems[3]])).reference
    assert any(u["direction"] == "is-preprint-of" and u["doi"] for u in preprint.updates)


def test_notices_that_carry_update_to():
    item = json.loads((CROSSREF / "10.1371_annotation_5a4ac42e-a148-4a89-b148-e47de0d72d16.item.json")
                      .read_text(encoding="utf-8"))
    notice = reference_from_crossref(item)
    assert notice.updates[0] == {"type": "correction", "doi": "10.1371/journal.pone.0081791",
                                 "direction": "update-to", "label": "Correction", "date": "2014-01-03",
                                 "source": None}
    assert "β" in notice.title
    items = json.loads((CROSSREF / "updates_10.1016_s0140-6736(97)11096-0.worklist.json")
                       .read_text(encoding="utf-8"))["message"]["items"]
    notices = [reference_from_crossref(i) for i in items]
    targets = {(u["type"], u["doi"]) for n in notices for u in n.updates if u["direction"] == "update-to"}
    assert ("retraction", "10.1016/s0140-6736(97)11096-0") in targets
    assert any(a == "The Editors of The Lancet" for n in notices for a in n.authors)


# -- doi.org content negotiation -------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(CSLJ.glob("*.json")), ids=lambda p: p.stem)
def test_doi_org_content_negotiation_when_crossref_has_no_record(server, tmp_path, path):
    item = json.loads(path.read_text(encoding="utf-8"))
    doi = item["DOI"].lower()
    serve_crossref_404(server, doi)
    server.expect_request(f"/doi/{doi}", headers={"Accept": CSL_ACCEPT}).respond_with_data(
        path.read_bytes(), content_type=CSL_ACCEPT)
    result = make_fetcher(server, tmp_path).fetch(Identifier("doi", doi))
    assert result.status == "ok", result.describe()
    assert result.source == "doi.org"
    ref = result.reference
    assert ref.doi == doi
    assert ref.title == " ".join(strip_markup(item["title"]).split()) or ref.title in item["title"]
    assert len(ref.authors) == len(item.get("author", []))
    literal = [a.get("literal") for a in item.get("author", []) if a.get("literal")]
    assert all(name in ref.authors for name in literal)
    assert ref.year == item["issued"]["date-parts"][0][0]
    assert ref.type not in ("journal-article", "posted-content")  # Crossref names mapped to CSL
    assert [r.path for r, _ in server.log] == [f"/crossref/works/{doi}", f"/doi/{doi}"]


def test_doi_org_redirect_to_the_registration_agency_is_followed(server, tmp_path):
    path = CSLJ / "10.5060_d2251g48.csl.json"
    serve_crossref_404(server, "10.5060/d2251g48")
    server.expect_request("/doi/10.5060/d2251g48").respond_with_response(
        WResponse(status=302, headers={"Location": server.url_for("/crosscite/10.5060%2FD2251G48")}))
    server.expect_request("/crosscite/10.5060/D2251G48").respond_with_data(path.read_bytes(), content_type=CSL_ACCEPT)
    result = make_fetcher(server, tmp_path).fetch(parse_identifier("https://doi.org/10.5060/D2251G48"))
    assert result.ok and result.reference.doi == "10.5060/d2251g48"


def test_csl_json_without_a_charset_is_read_as_utf8(server, tmp_path):
    serve_crossref_404(server, "10.5281/zenodo.1472044")
    server.expect_request("/doi/10.5281/zenodo.1472044").respond_with_response(WResponse(
        (CSLJ / "10.5281_zenodo.1472044.csl.json").read_bytes(), headers={"Content-Type": CSL_ACCEPT}))
    result = make_fetcher(server, tmp_path).fetch("doi:10.5281/zenodo.1472044")
    assert server.log[-1][1].headers["Content-Type"] == CSL_ACCEPT
    assert result.reference.authors == ["Tennant, Jonathan", "Brembs, Björn"]


def test_unknown_doi_is_not_found_naming_the_url(server, tmp_path):
    serve_crossref_404(server, "10.1371/notarealdoi")
    server.expect_request("/doi/10.1371/notarealdoi").respond_with_data("DOI Not Found", status=404)
    result = make_fetcher(server, tmp_path).fetch("doi:10.1371/notarealdoi")
    assert result.status == "not_found" and result.status is FetchStatus.NOT_FOUND
    assert "not found" in result.message and result.url.endswith("/doi/10.1371/notarealdoi")
    assert "doi:10.1371/notarealdoi" in result.describe()


def test_a_status_reads_as_its_text_in_messages_and_json():
    ident = Identifier("doi", "10.1371/notarealdoi")
    given_as_text = FetchResult(ident, "offline")
    assert given_as_text.status is FetchStatus.OFFLINE and not given_as_text.ok
    assert given_as_text.describe() == "doi:10.1371/notarealdoi: offline"
    assert json.dumps({"status": FetchResult(ident, FetchStatus.NOT_FOUND).status}) == '{"status": "not_found"}'
    assert [str(s) for s in FetchStatus] == ["ok", "not_found", "error", "offline", "malformed"]
    with pytest.raises(ValueError):
        FetchResult(ident, "lost")


# -- PubMed and PMC -------------------------------------------------------------------------------------
PMIDS = ["35649368", "34843274", "38833988", "36176722", "38914053", "36987902", "11636720", "1234567",
         "29915538"]


def test_pubmed_records_map_field_by_field(server, tmp_path):
    serve_efetch_batch(server, PMIDS)
    fetcher = make_fetcher(server, tmp_path)
    results = fetcher.fetch_many([Identifier("pmid", p) for p in PMIDS])
    assert len(server.log) == 1  # one EFetch call for all nine PMIDs
    assert all(r.ok for r in results.values()), [r.describe() for r in results.values() if not r.ok]
    ref = results[Identifier("pmid", "35649368")].reference
    assert ref.title == ("Fatty acid oxidation protects cancer cells from apoptosis by increasing "
                         "mitochondrial membrane lipids")
    assert ref.authors[:2] == ["Li, Yi-Jia", "Fahrmann, Johannes Francois"] and len(ref.authors) == 10
    assert (ref.container, ref.volume, ref.issue, ref.pages, ref.year) == ("Cell reports", "39", "9", "110870", 2022)
    assert ref.doi == "10.1016/j.celrep.2022.110870"
    assert ref.abstract.startswith("Overcoming resistance to chemotherapies") and "β-oxidation" in ref.abstract
    assert "Apoptosis" in ref.keywords and "chemoresistance" in ref.keywords
    assert ref.updates == [{"type": "correction", "doi": "10.1016/j.celrep.2022.111044", "pmid": "35767954",
                            "direction": "updated-by",
                            "label": "Cell Rep. 2022 Jun 28;39(13):111044. doi: 10.1016/j.celrep.2022.111044.",
                            "date": None, "source": "pubmed"}]
    erratum = results[Identifier("pmid", "38833988")].reference
    assert erratum.updates[0]["direction"] == "update-to" and erratum.updates[0]["pmid"] == "33279609"
    assert erratum.authors[0] == "Pascucci, Franco Andrés"
    group = results[Identifier("pmid", "34843274")].reference
    assert group.authors == ["Guideline Development Panel for the Treatment of Depressive Disorders"]
    assert group.pages == "770-780"
    assert "<" not in results[Identifier("pmid", "38914053")].reference.title
    assert "SnO2" in results[Identifier("pmid", "38914053")].reference.title
    old = results[Identifier("pmid", "11636720")].reference
    assert (old.year, old.authors, old.doi) == (1973, ["Kember, O"], "10.1163/156852873x00014")
    rich = results[Identifier("pmid", "29915538")].reference
    assert rich.pmcid and rich.pmcid.startswith("PMC")


def test_batched_pmids_are_cached_one_by_one(server, tmp_path):
    serve_efetch_batch(server, ["35649368", "1234567"])
    ids = [Identifier("pmid", "35649368"), Identifier("pmid", "1234567")]
    first = make_fetcher(server, tmp_path).fetch_many(ids)
    assert [r.status for r in first.values()] == ["ok", "ok"] and len(server.log) == 1
    fetcher = make_fetcher(server, tmp_path)
    assert fetcher.fetch("pmid:1234567").reference.title.startswith("The effect of castration")
    assert fetcher.requests_sent == 0


def test_failed_batch_falls_back_to_single_pmids(server, tmp_path):
    serve_efetch_batch(server, ["35649368", "1234567"], status=503)
    serve_efetch(server, "35649368")
    serve_efetch(server, "1234567")
    results = make_fetcher(server, tmp_path, retries=0).fetch_many(
        [Identifier("pmid", "35649368"), Identifier("pmid", "1234567")])
    assert [r.status for r in results.values()] == ["ok", "ok"]
    assert len(server.log) == 3


def test_empty_pubmed_answer_is_not_found(server, tmp_path):
    serve_efetch(server, "37909814")
    result = make_fetcher(server, tmp_path).fetch(Identifier("pmid", "37909814"))
    assert result.status == "not_found" and "37909814" in result.url


def test_esummary_json_and_page_ranges():
    data = json.loads((PUBMED / "27933103.esummary.json").read_text(encoding="utf-8"))
    ref = reference_from_esummary(data, "27933103")
    assert ref.title == "Programmatic conversion of crystal structures into 3D printable files using Jmol"
    assert ref.authors[0] == "Scalfani, VF" and len(ref.authors) == 8
    assert (ref.doi, ref.pmcid, ref.year, ref.volume, ref.pages) == \
        ("10.1186/s13321-016-0181-z", "PMC5122160", 2016, "8", "66")
    assert reference_from_esummary(data, "1") is None
    assert expand_pages("637-41") == "637-641"
    assert expand_pages("e1002-9") == "e1002-e1009"


def test_pmcid_goes_through_the_id_converter(server, tmp_path):
    server.expect_request("/idconv/", query_string={"ids": "PMC2883744", "format": "json", "tool": "citeflow",
                                                    "email": "editor@example.org"}).respond_with_data(
        (PUBMED / "10.1038_ng.590.idconv.json").read_bytes(), content_type="application/json")
    serve_crossref_404(server, "10.1038/ng.590")
    server.expect_request("/doi/10.1038/ng.590").respond_with_data("DOI Not Found", status=404)
    serve_efetch(server, "20495566", "37909814.efetch.xml")
    result = make_fetcher(server, tmp_path).fetch("pmcid:PMC2883744")
    # the converter's DOI and PMID were both tried, in that order
    assert [r.path for r, _ in server.log] == ["/idconv/", "/crossref/works/10.1038/ng.590", "/doi/10.1038/ng.590",
                                               "/eutils/efetch.fcgi"]
    assert result.status == "not_found" and result.identifier == Identifier("pmcid", "PMC2883744")


def test_pmcid_unknown_to_the_converter(server, tmp_path):
    server.expect_request("/idconv/").respond_with_data(
        (PUBMED / "28371833.idconv.error404.json").read_bytes(), status=404, content_type="application/json")
    result = make_fetcher(server, tmp_path).fetch("PMC28371833")
    assert result.status == "not_found" and "PMC ID converter" in result.message


def test_ncbi_api_key_and_polite_user_agent_are_sent(server, tmp_path):
    server.expect_request("/eutils/efetch.fcgi").respond_with_data(
        (PUBMED / "1234567.efetch.xml").read_bytes(), content_type="text/xml")
    fetcher = make_fetcher(server, tmp_path, env={"NCBI_API_KEY": "k123"})
    assert fetcher.fetch("pmid:1234567").ok
    request = server.log[0][0]
    assert request.args["api_key"] == "k123"
    assert request.headers["User-Agent"].startswith("citeflow/")
    assert "mailto:editor@example.org" in request.headers["User-Agent"]
    assert fetcher.settings.rate_limits["eutils.ncbi.nlm.nih.gov"] == 10.0
    assert make_fetcher(server, tmp_path).settings.rate_limits["eutils.ncbi.nlm.nih.gov"] == 3.0


# -- faults -----------------------------------------------------------------------------------------------
def _wakefield(server):
    return serve_crossref(server, CROSSREF / "10.1016_s0140-6736(97)11096-0.json")


def test_429_with_retry_after_then_success(server, tmp_path):
    path = CROSSREF / "10.7554_elife.01567.json"
    server.expect_oneshot_request("/crossref/works/10.7554/elife.01567").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"})
    serve_crossref(server, path)
    result = make_fetcher(server, tmp_path).fetch("doi:10.7554/eLife.01567")
    assert result.ok and len(server.log) == 2
    assert [resp.status_code for _, resp in server.log] == [429, 200]


def test_500_then_success(server, tmp_path):
    server.expect_oneshot_request("/crossref/works/10.7554/elife.01567").respond_with_data("oops", status=500)
    serve_crossref(server, CROSSREF / "10.7554_elife.01567.json")
    assert make_fetcher(server, tmp_path).fetch("doi:10.7554/eLife.01567").ok
    assert [resp.status_code for _, resp in server.log] == [500, 200]


def test_persistent_server_error_names_identifier_and_url(server, tmp_path):
    server.expect_request("/crossref/works/10.7554/elife.01567").respond_with_data("down", status=503)
    result = make_fetcher(server, tmp_path).fetch("doi:10.7554/eLife.01567")
    assert result.status == "error"
    assert "503" in result.message and "Crossref" in result.message
    assert result.url.endswith("/crossref/works/10.7554/elife.01567")
    assert len(server.log) == 2  # one retry, as configured


def test_faults_are_reported_per_identifier_and_the_others_still_resolve(server, tmp_path):
    wakefield = _wakefield(server)

    def slow(request):
        time.sleep(1.2)
        return WResponse("late", status=200)

    server.expect_request("/crossref/works/10.1000/slow").respond_with_handler(slow)
    server.expect_request("/crossref/works/10.1000/html").respond_with_data(
        "<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>", content_type="text/html")
    whole = (CROSSREF / "10.7554_elife.01567.json").read_bytes()
    server.expect_request("/crossref/works/10.1000/cut").respond_with_data(whole[: len(whole) // 2],
                                                                          content_type="application/json")
    serve_efetch(server, "1234567")
    fetcher = make_fetcher(server, tmp_path, timeout=0.3, retries=0)
    ids = [parse_identifier(t) for t in ["doi:10.1000/slow", "doi:10.1000/html", "doi:10.1000/cut",
                                         f"doi:{wakefield}", "pmid:1234567"]]
    results = fetcher.fetch_many(ids)
    assert list(results) == ids  # the caller's order
    slow_result, page, cut, good, pmid = results.values()
    assert slow_result.status == "error" and "no complete answer within 0.3 s" in slow_result.message
    assert slow_result.url.endswith("/crossref/works/10.1000/slow")
    assert page.status == "malformed" and "HTML page" in page.message and page.url.endswith("/10.1000/html")
    assert cut.status == "malformed" and "cut off" in cut.message
    assert "doi:10.1000/cut" in cut.describe() and "/crossref/works/10.1000/cut" in cut.describe()
    assert good.ok and pmid.ok


def test_connection_refused_is_reported_and_pubmed_still_answers(server, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    serve_efetch(server, "1234567")
    fetcher = make_fetcher(server, tmp_path, crossref_url=f"http://127.0.0.1:{closed_port}", retries=1)
    results = fetcher.fetch_many([parse_identifier("doi:10.7554/eLife.01567"), parse_identifier("pmid:1234567")])
    doi_result, pmid_result = results.values()
    assert doi_result.status == "error" and "connection refused" in doi_result.message
    assert f"127.0.0.1:{closed_port}/works/10.7554/elife.01567" in doi_result.url
    assert pmid_result.ok


def test_malformed_identifier_is_never_sent(server, tmp_path):
    fetcher = make_fetcher(server, tmp_path)
    results = fetcher.fetch_many([Identifier("doi", "not-a-doi"), Identifier("pmid", "12ab"), "pmid:abc"])
    assert [r.status for r in results.values()] == ["malformed"] * 3
    assert server.log == []


# -- cache and offline --------------------------------------------------------------------------------------
def _serve_mix(server):
    dois = [serve_crossref(server, CROSSREF / n) for n in
            ("10.7554_elife.01567.json", "10.1038_nnano.2014.279.json")]
    serve_crossref_404(server, "10.5281/zenodo.1472044")
    server.expect_request("/doi/10.5281/zenodo.1472044").respond_with_data(
        (CSLJ / "10.5281_zenodo.1472044.csl.json").read_bytes(), content_type=CSL_ACCEPT)
    serve_crossref_404(server, "10.1371/notarealdoi")
    server.expect_request("/doi/10.1371/notarealdoi").respond_with_data("DOI Not Found", status=404)
    serve_efetch(server, "35649368")
    return [parse_identifier(t) for t in
            [f"doi:{dois[0]}", f"doi:{dois[1]}", "doi:10.5281/zenodo.1472044", "doi:10.1371/notarealdoi",
             "pmid:35649368"]]


def test_warm_run_sends_no_request(server, tmp_path):
    ids = _serve_mix(server)
    cold = make_fetcher(server, tmp_path).fetch_many(ids)
    sent = len(server.log)
    # one Crossref list request for the four DOIs, each DOI it lacks asked alone, then doi.org
    assert sorted(r.path for r, _ in server.log) == sorted([
        "/crossref/works", "/crossref/works/10.5281/zenodo.1472044", "/crossref/works/10.1371/notarealdoi",
        "/doi/10.5281/zenodo.1472044", "/doi/10.1371/notarealdoi", "/eutils/efetch.fcgi"])
    assert [r.status for r in cold.values()] == ["ok", "ok", "ok", "not_found", "ok"]
    fetcher = make_fetcher(server, tmp_path)
    warm = fetcher.fetch_many(ids)
    assert len(server.log) == sent and fetcher.requests_sent == 0
    assert [r.status for r in warm.values()] == [r.status for r in cold.values()]
    assert [r.reference.title for r in warm.values() if r.ok] == [r.reference.title for r in cold.values() if r.ok]
    assert all(r.from_cache for r in warm.values() if r.ok)
    record = json.loads(next((tmp_path / "cache").rglob("*.json")).read_text(encoding="utf-8"))
    assert {"url", "status", "fetched", "body"} <= set(record)


def test_not_found_answers_expire_sooner(server, tmp_path):
    ids = _serve_mix(server)
    make_fetcher(server, tmp_path).fetch_many(ids)
    sent = len(server.log)
    base = server.url_for("").rstrip("/")
    config = Config(root=tmp_path, data={"mailto": "editor@example.org", "sources": {
        "crossref_url": f"{base}/crossref", "doi_url": f"{base}/doi", "eutils_url": f"{base}/eutils",
        "timeout": 0.5, "retries": 0}, "cache": {"dir": str(tmp_path / "cache"), "notfound_ttl_days": 0}})
    fetcher = Fetcher(config, settings=SourceSettings.from_config(config, env={}))
    fetcher.fetch_many(ids)
    again = [r.path for r, _ in server.log[sent:]]
    # the unknown DOI and the Crossref 404 before the DataCite DOI are asked again; nothing else
    assert sorted(again) == sorted(["/crossref/works", "/crossref/works/10.1371/notarealdoi",
                                    "/doi/10.1371/notarealdoi", "/crossref/works/10.5281/zenodo.1472044"])


def test_corrupt_cache_files_are_ignored_and_refetched(server, tmp_path):
    ids = _serve_mix(server)
    make_fetcher(server, tmp_path).fetch_many(ids)
    sent = len(server.log)
    files = list((tmp_path / "cache").rglob("*.json"))
    assert files
    for number, path in enumerate(files):
        path.write_text(["{not json", "", '{"status": "x"}', "[1, 2"][number % 4], encoding="utf-8")
    results = make_fetcher(server, tmp_path).fetch_many(ids)
    assert len(server.log) == 2 * sent
    assert [r.status for r in results.values()] == ["ok", "ok", "ok", "not_found", "ok"]


def test_offline_uses_only_the_cache(server, tmp_path):
    ids = _serve_mix(server)
    offline = make_fetcher(server, tmp_path, offline=True).fetch_many(ids)
    assert server.log == []
    assert {r.status for r in offline.values()} == {"offline"}
    assert "offline" in offline[ids[0]].message
    make_fetcher(server, tmp_path).fetch_many(ids[:2])
    sent = len(server.log)
    env_offline = make_fetcher(server, tmp_path, env={"CITEFLOW_OFFLINE": "1"})
    assert env_offline.offline
    results = env_offline.fetch_many(ids)
    assert len(server.log) == sent
    assert [r.status for r in results.values()] == ["ok", "ok", "offline", "offline", "offline"]


def test_bad_cache_folder_does_not_stop_lookups(server, tmp_path):
    serve_crossref(server, CROSSREF / "10.7554_elife.01567.json")
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    assert make_fetcher(server, tmp_path).fetch("doi:10.7554/elife.01567").ok


# -- configuration and rate limits ---------------------------------------------------------------------------
def test_environment_overrides_config_urls(tmp_path):
    config = Config(root=tmp_path, data={"sources": {"crossref_url": "http://a", "workers": 3, "timeout": 2},
                                         "cache": {"dir": "c"}})
    settings = SourceSettings.from_config(config, env={"CITEFLOW_CROSSREF_URL": "http://b",
                                                       "CITEFLOW_CACHE_DIR": str(tmp_path / "env-cache")})
    assert settings.crossref_url == "http://b" and settings.workers == 3 and settings.timeout == 2
    assert settings.cache_dir == tmp_path / "env-cache"
    assert SourceSettings.from_config(config, env={}).cache_dir == tmp_path / "c"
    defaults = SourceSettings.from_config(Config(root=tmp_path), env={})
    # the user cache directory (the test's own, see conftest.py), never inside the project
    assert defaults.cache_dir == Path(os.environ["XDG_CACHE_HOME"]) / "citeflow"
    assert tmp_path not in defaults.cache_dir.parents
    assert defaults.idconv_url == "https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles/"
    assert (defaults.workers, defaults.offline) == (8, False)


def test_bad_config_value_is_a_clear_error(tmp_path):
    from citeflow.errors import CiteflowError

    config = Config(root=tmp_path, path=tmp_path / "citeflow.toml", data={"sources": {"timeout": "soon"}})
    with pytest.raises(CiteflowError, match="timeout must be a number"):
        SourceSettings.from_config(config, env={})


def test_rate_limiter_spaces_requests_per_host():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        now[0] += seconds

    limiter = RateLimiter({"eutils.ncbi.nlm.nih.gov": 3}, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        limiter.wait("eutils.ncbi.nlm.nih.gov")
    limiter.wait("api.crossref.org")  # no limit set: never waits
    assert slept == [0.333333, 0.333333, 0.333333]
    limiter.set_limit("api.crossref.org", 50)
    limiter.wait("api.crossref.org")
    limiter.wait("api.crossref.org")
    assert slept[-1] == 0.02


def test_announced_crossref_rate_limit_is_adopted(server, tmp_path):
    path = CROSSREF / "10.7554_elife.01567.json"
    server.expect_request("/crossref/works/10.7554/elife.01567").respond_with_data(
        path.read_bytes(), content_type="application/json",
        headers={"X-Rate-Limit-Limit": "50", "X-Rate-Limit-Interval": "1s"})
    fetcher = make_fetcher(server, tmp_path)
    host = server.url_for("").split("//")[1].rstrip("/")
    assert fetcher.http.limiter.limit(host) is None
    assert fetcher.fetch("doi:10.7554/elife.01567").ok
    assert fetcher.http.limiter.limit(host) == 50.0


def test_arxiv_ids_go_to_their_datacite_doi_and_isbns_are_not_looked_up(server, tmp_path):
    server.expect_request("/doi/10.48550/arxiv.1706.03762").respond_with_data("DOI Not Found", status=404)
    fetcher = make_fetcher(server, tmp_path)
    arxiv = fetcher.fetch("arXiv:1706.03762v5")
    assert [r.path for r, _ in server.log] == ["/doi/10.48550/arxiv.1706.03762"]
    assert arxiv.status == "not_found" and "doi.org" in arxiv.message
    book = fetcher.fetch("isbn:978-0-306-40615-7")
    assert book.status == "not_found" and "by hand" in book.message
    assert len(server.log) == 1
