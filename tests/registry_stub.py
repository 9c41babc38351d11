"""Crossref, doi.org, PubMed, the PMC ID converter and the bioRxiv API on one pytest-httpserver.

Every answer comes from the recorded records in tests/data/integrity (see PROVENANCE.md there):

* ``/crossref/works/{doi}``: the recorded ``/works/{doi}`` answer (a notice known only as an
  item of the recorded ``filter=updates:`` list is wrapped in the single-work envelope), or
  Crossref's recorded 404 body;
* ``/crossref/works?filter=doi:...``: the list answer assembled from those works
  (tests/crossref_lists.py); ``?query.bibliographic=...``: every known work sharing a word
  with the query, most shared words first;
* ``/doi/{doi}``: doi.org's "DOI Not Found" 404 (no registration agency record is recorded);
* ``/eutils/efetch.fcgi?id=A,B``: the recorded ``<PubmedArticle>`` elements of those PMIDs in
  one ``<PubmedArticleSet>``; ``/eutils/esearch.fcgi?term="DOI"[AID] OR ...``: the PMIDs of
  the recorded records whose ``ArticleIdList`` holds one of the DOIs, in ESearch's JSON layout;
* ``/biorxiv/pubs/{server}/{doi}/na/json``: the assembled answer for the recorded bioRxiv
  preprint, an empty collection for any other DOI;
* ``/idconv/?ids=A,B``: the recorded PMC ID converter answer, holding the records of the IDs
  asked for that it knows.

``down`` names services (``crossref``, ``pubmed``, ``biorxiv``, ``doi``) that answer 503;
``requests`` counts requests per service and ``peak`` the most in flight at once.
"""

from __future__ import annotations

import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

from werkzeug import Request
from werkzeug import Response as WResponse

from crossref_lists import filter_dois, list_answer

DATA = Path(__file__).parent / "data" / "integrity"
NOT_FOUND = (DATA / "crossref" / "10.1371_notarealdoi.404.txt").read_bytes()


def _pubmed_doi(article: str) -> str | None:
    element = ET.fromstring(article)
    for item in element.findall("PubmedData/ArticleIdList/ArticleId"):
        if item.get("IdType") == "doi" and item.text:
            return item.text.strip().lower()
    return None


class Registries:
    def __init__(self, server, data: Path = DATA, delay: float = 0.0):
        self.server = server
        self.delay = delay
        self.crossref: dict[str, dict] = {}
        self.crossref_bytes: dict[str, bytes] = {}
        self.pubmed: dict[str, str] = {}
        self.biorxiv: dict[str, bytes] = {}
        self.down: set[str] = set()
        self.requests: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self._now: dict[str, int] = {}
        self._lock = threading.Lock()
        for path in sorted((data / "crossref").glob("*.json")):
            body = json.loads(path.read_text(encoding="utf-8"))
            if path.name.startswith("updates_"):
                for item in body["message"]["items"]:
                    self.crossref.setdefault(item["DOI"].lower(), item)
                continue
            doi = body["message"]["DOI"].lower()
            self.crossref[doi] = body["message"]
            self.crossref_bytes[doi] = path.read_bytes()
        for path in sorted((data / "pubmed").glob("*.xml")):
            text = path.read_text(encoding="utf-8")
            if "<PubmedArticleSet>" in text:  # a whole recorded EFetch answer: its article
                text = text[text.index("<PubmedArticle>"):text.rindex("</PubmedArticle>") + len("</PubmedArticle>")]
            pmid = re.search(r"<PMID[^>]*>(\d+)</PMID>", text).group(1)
            self.pubmed[pmid] = text
        self.idconv: dict[str, dict] = {}
        self.idconv_envelope: dict = {}
        for path in sorted((data / "idconv").glob("*.json")):
            body = json.loads(path.read_text(encoding="utf-8"))
            self.idconv_envelope = {k: v for k, v in body.items() if k != "records"}
            for record in body["records"]:
                self.idconv[record["pmcid"]] = record
        for path in sorted((data / "biorxiv").glob("*.pubs.json")):
            doi = path.name[: -len(".pubs.json")].replace("_", "/", 1)
            self.biorxiv[doi] = path.read_bytes()
        self.register()

    # -- plumbing -----------------------------------------------------------------------------
    def register(self) -> None:
        s = self.server
        s.expect_request(re.compile(r"^/crossref/works/.+")).respond_with_handler(self._wrap("crossref", self._work))
        s.expect_request("/crossref/works").respond_with_handler(self._wrap("crossref", self._works))
        s.expect_request(re.compile(r"^/doi/.+")).respond_with_handler(self._wrap("doi", self._doi))
        s.expect_request("/eutils/efetch.fcgi").respond_with_handler(self._wrap("pubmed", self._efetch))
        s.expect_request("/eutils/esearch.fcgi").respond_with_handler(self._wrap("pubmed", self._esearch))
        s.expect_request(re.compile(r"^/biorxiv/pubs/.+")).respond_with_handler(self._wrap("biorxiv", self._pubs))
        s.expect_request("/idconv/").respond_with_handler(self._wrap("idconv", self._idconv))

    def sources(self) -> dict[str, object]:
        base = self.server.url_for("").rstrip("/")
        return {"crossref_url": f"{base}/crossref", "doi_url": f"{base}/doi", "eutils_url": f"{base}/eutils",
                "idconv_url": f"{base}/idconv/", "biorxiv_url": f"{base}/biorxiv",
                "timeout": 5, "retries": 0, "backoff": 0, "breaker_failures": 0}

    def toml(self) -> str:
        lines = ["[sources]"] + [f"{k} = {json.dumps(v)}" for k, v in self.sources().items()]
        return "\n".join(lines) + "\n"

    def _wrap(self, service: str, handler):
        def answer(request: Request) -> WResponse:
            with self._lock:
                self.requests[service] = self.requests.get(service, 0) + 1
                self._now[service] = self._now.get(service, 0) + 1
                self.peak[service] = max(self.peak.get(service, 0), self._now[service])
            try:
                if self.delay:
                    time.sleep(self.delay)
                if service in self.down:
                    return WResponse("Service Unavailable", status=503)
                return handler(request)
            finally:
                with self._lock:
                    self._now[service] -= 1
        return answer

    # -- services -------------------------------------------------------------------------------
    def _work(self, request: Request) -> WResponse:
        doi = unquote(request.path.split("/works/", 1)[1]).lower()
        if doi in self.crossref_bytes:
            return WResponse(self.crossref_bytes[doi], content_type="application/json")
        if doi in self.crossref:
            body = {"status": "ok", "message-type": "work", "message-version": "1.0.0", "message": self.crossref[doi]}
            return WResponse(json.dumps(body), content_type="application/json")
        return WResponse(NOT_FOUND, status=404, content_type="text/plain")

    def _works(self, request: Request) -> WResponse:
        rows = int(request.args.get("rows", 20))
        if "filter" in request.args:
            items = [self.crossref[d] for d in filter_dois(request) if d in self.crossref]
        else:
            words = set(re.findall(r"\w+", request.args.get("query.bibliographic", "").lower()))
            scored = []
            for item in self.crossref.values():
                title = " ".join(item.get("title") or [])
                shared = len(words & set(re.findall(r"\w+", title.lower())))
                if shared:
                    scored.append((-shared, item["DOI"], item))
            items = [item for _, _, item in sorted(scored, key=lambda t: t[:2])][:rows]
        return WResponse(json.dumps(list_answer(items, rows)), content_type="application/json")

    def _doi(self, request: Request) -> WResponse:
        return WResponse("DOI Not Found", status=404, content_type="text/plain")

    def _efetch(self, request: Request) -> WResponse:
        ids = request.args.get("id", "").split(",")
        articles = [self.pubmed[i] for i in ids if i in self.pubmed]
        body = '<?xml version="1.0" ?>\n<PubmedArticleSet>\n' + "\n".join(articles) + "\n</PubmedArticleSet>\n"
        return WResponse(body, content_type="text/xml")

    def _esearch(self, request: Request) -> WResponse:
        dois = {d.lower() for d in re.findall(r'"([^"]+)"\[AID\]', request.args.get("term", ""))}
        pmids = sorted(p for p, text in self.pubmed.items() if _pubmed_doi(text) in dois)
        body = {"header": {"type": "esearch", "version": "0.3"},
                "esearchresult": {"count": str(len(pmids)), "retmax": str(len(pmids)), "retstart": "0",
                                  "idlist": pmids, "translationset": [], "querytranslation": ""}}
        return WResponse(json.dumps(body), content_type="application/json")

    def _idconv(self, request: Request) -> WResponse:
        ids = request.args.get("ids", "").split(",")
        body = dict(self.idconv_envelope, records=[self.idconv[i] for i in ids if i in self.idconv])
        return WResponse(json.dumps(body), content_type="application/json")

    def _pubs(self, request: Request) -> WResponse:
        match = re.match(r"^/biorxiv/pubs/(\w+)/(.+)/na/json$", request.path)
        doi = unquote(match.group(2)).lower() if match else ""
        if doi in self.biorxiv:
            return WResponse(self.biorxiv[doi], content_type="application/json")
        return WResponse(json.dumps({"messages": [{"status": "no posts found"}], "collection": []}),
                         content_type="application/json")


def refreshed_project(root: Path, project: Path = DATA / "project", data: Path = DATA,
                      manuscript: str = "review.md") -> Path:
    """A copy of ``project`` at ``root`` whose citeflow.lock `citeflow refresh` wrote from the
    registries answering with the records in ``data``; the server is stopped afterwards."""
    import shutil

    from click.testing import CliRunner
    from pytest_httpserver import HTTPServer

    from citeflow.cli import main

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        registries = Registries(server, data)
        shutil.copytree(project, root)
        (root / "citeflow.toml").write_text('manuscripts = "."\nmailto = "editor@example.org"\n'
                                            + registries.toml(), encoding="utf-8")
        result = CliRunner().invoke(main, ["refresh", str(root / manuscript)], catch_exceptions=False,
                                    env={"CITEFLOW_CACHE_DIR": str(root.parent / "cache")})
        assert result.exit_code == 0, result.output
    finally:
        server.stop()
    return root


def working_copy(locked: Path, tmp_path: Path, monkeypatch) -> Path:
    """A copy of a refreshed project to change in one test, as the working folder, with a
    private metadata cache."""
    import shutil

    root = tmp_path / "project"
    shutil.copytree(locked, root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    return root
