"""Bounded network and trusted records: `citeflow cite` and `citeflow resolve` against servers
on 127.0.0.1 that misbehave on purpose.

Each fault is one a hostile or broken server can cause: a trickle of bytes, a huge body, a
redirect to another host, a huge Retry-After, a registry that is down, records with broken
text, null names or string dates, valid JSON under the wrong Content-Type, and forged or
tampered cache records. Limits are set small (deadline 1 s, answers of 100 kB) so that no
test waits for a real timeout.
"""

from __future__ import annotations

import json
import re
import socket
import socketserver
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Response as WResponse

from citeflow.cli import main
from citeflow.config import Config
from citeflow.references.bibliography import load_bibliography
from citeflow.sources import Fetcher, SourceSettings
from citeflow.sources.cache import Cache, request_key
from citeflow.sources.crossref import works_url
from citeflow.sources.http import Response, redirect_refusal

DATA = Path(__file__).parent / "data" / "sources"
ELIFE = "10.7554/elife.01567"
ELIFE_JSON = (DATA / "crossref" / "10.7554_elife.01567.json").read_bytes()
CSL_ACCEPT = "application/vnd.citationstyles.csl+json"


# -- a socket server that misbehaves below HTTP ---------------------------------------------------------
@dataclass
class Conversation:
    """What a :class:`RawServer` did on one connection."""

    sent: int = 0
    hung_up: bool = False  # the client closed the connection before the server was done
    finished: threading.Event = field(default_factory=threading.Event)


@dataclass
class RawServer:
    """A threaded TCP server on 127.0.0.1 that reads a request head and then runs
    ``script(send)``, where ``send(bytes)`` writes to the client and returns False once
    the client has hung up."""

    script: Callable[[Callable[[bytes], bool]], None]
    conversations: list[Conversation] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                talk = Conversation()
                outer.conversations.append(talk)
                try:
                    self.converse(talk)
                finally:
                    talk.finished.set()

            def converse(self, talk: Conversation) -> None:
                head = b""
                while b"\r\n\r\n" not in head:
                    data = self.request.recv(4096)
                    if not data:
                        return
                    head += data

                def send(data: bytes) -> bool:
                    try:
                        self.request.sendall(data)
                    except OSError:
                        talk.hung_up = True
                        return False
                    talk.sent += len(data)
                    return True

                outer.script(send)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def trickle(data: bytes, pause: float = 0.05) -> Callable[[Callable[[bytes], bool]], None]:
    """A script that sends ``data`` one byte at a time (far quicker than any per-read
    timeout, far slower than a whole answer should take)."""

    def script(send: Callable[[bytes], bool]) -> None:
        for byte in data:
            if not send(bytes([byte])):
                return
            time.sleep(pause)

    return script


@pytest.fixture
def raw_servers():
    started: list[RawServer] = []

    def start(script) -> RawServer:
        server = RawServer(script)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


# -- a project whose sources point at the test servers ---------------------------------------------------
@pytest.fixture
def project(httpserver: HTTPServer, tmp_path, monkeypatch):
    """A project with small limits; every source on the local server, a private cache."""
    (tmp_path / "citeflow.toml").write_text(
        'mailto = "editor@example.org"\n'
        "[sources]\ntimeout = 1\nretries = 1\nbackoff = 0\nmax_retry_after = 0.5\nretry_budget = 2\n"
        "breaker_failures = 3\nworkers = 2\nmax_response_mb = 0.1\n", encoding="utf-8")
    base = httpserver.url_for("").rstrip("/")
    for name, value in {"CITEFLOW_CROSSREF_URL": f"{base}/crossref", "CITEFLOW_DOI_URL": f"{base}/doi",
                        "CITEFLOW_EUTILS_URL": f"{base}/eutils", "CITEFLOW_IDCONV_URL": f"{base}/idconv/",
                        "CITEFLOW_CACHE_DIR": str(tmp_path / "cache")}.items():
        monkeypatch.setenv(name, value)
    for name in ("CITEFLOW_OFFLINE", "NCBI_API_KEY", "CITEFLOW_MAILTO", "CITEFLOW_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def crossref_record(**changes) -> bytes:
    """The recorded eLife answer with ``message`` fields replaced."""
    envelope = json.loads(ELIFE_JSON)
    envelope["message"].update(changes)
    return json.dumps(envelope).encode("utf-8")


def serve(httpserver: HTTPServer, doi: str, body: bytes, content_type: str = "application/json", **kw) -> None:
    httpserver.expect_request(f"/crossref/works/{doi}").respond_with_data(body, content_type=content_type, **kw)


# -- an overall deadline per request ---------------------------------------------------------------------
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"


def test_a_trickled_body_is_abandoned_at_the_deadline(project, raw_servers, monkeypatch):
    body = ELIFE_JSON[:400]
    server = raw_servers(lambda send: send(HEAD % len(body)) and trickle(body)(send))
    monkeypatch.setenv("CITEFLOW_CROSSREF_URL", server.url)
    result = run("cite", f"doi:{ELIFE}")
    assert result.exit_code == 1
    assert f"doi:{ELIFE}: Crossref: no complete answer within 1 s" in result.stderr
    assert f"{server.url}/works/{ELIFE}" in result.stderr
    assert len(server.conversations) == 2  # the first try and one retry, each cut off
    for talk in server.conversations:
        talk.finished.wait(10)
        assert talk.hung_up and talk.sent < len(HEAD) + len(body)


def test_trickled_headers_are_abandoned_too_and_the_deadline_comes_from_the_environment(
        project, raw_servers, monkeypatch):
    server = raw_servers(trickle(HEAD % 2 + b"{}"))
    monkeypatch.setenv("CITEFLOW_CROSSREF_URL", server.url)
    monkeypatch.setenv("CITEFLOW_TIMEOUT", "0.5")
    monkeypatch.setenv("CITEFLOW_RETRIES", "0")
    result = run("cite", f"doi:{ELIFE}")
    assert result.exit_code == 1
    assert "Crossref: no complete answer within 0.5 s" in result.stderr
    [talk] = server.conversations
    talk.finished.wait(10)
    assert talk.hung_up and talk.sent < len(HEAD)


# -- a maximum answer size, read as a stream ---------------------------------------------------------------
def test_a_huge_body_is_abandoned_without_being_read(project, httpserver):
    produced = []

    def endless():  # 50 MB if read to the end
        for _ in range(800):
            produced.append(1)
            yield b" " * 65536

    httpserver.expect_request(f"/crossref/works/{ELIFE}").respond_with_response(
        WResponse(endless(), content_type="application/json"))
    result = run("cite", f"doi:{ELIFE}")
    assert result.exit_code == 1
    assert f"doi:{ELIFE}: Crossref: the answer is larger than 100 kB; abandoned" in result.stderr
    assert f"/crossref/works/{ELIFE}" in result.stderr
    assert len(produced) < 400  # the server was cut off long before the end


def test_an_announced_length_above_the_limit_is_refused_before_the_body(project, raw_servers, monkeypatch):
    server = raw_servers(lambda send: send(HEAD % 200_000_000) and trickle(b"{" * 100)(send))
    monkeypatch.setenv("CITEFLOW_CROSSREF_URL", server.url)
    result = run("cite", f"doi:{ELIFE}")
    assert result.exit_code == 1
    assert "the answer is larger than 100 kB (200 MB announced); abandoned" in result.stderr
    assert len(server.conversations) == 1  # not retried: the same answer would come again


def test_memory_stays_bounded_while_a_large_answer_streams_in(raw_servers, tmp_path):
    chunk = b"0," * 32768

    def twenty_megabytes(send):  # valid JSON, no Content-Length: only reading tells the size
        if send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n["):
            for _ in range(320):
                if not send(chunk):
                    return
            send(b"0]")

    server = raw_servers(twenty_megabytes)
    config = Config(root=tmp_path, data={"sources": {
        "crossref_url": server.url, "timeout": 30, "retries": 0, "max_response_mb": 1},
        "cache": {"dir": str(tmp_path / "cache")}})
    fetcher = Fetcher(config, settings=SourceSettings.from_config(config, env={}))
    tracemalloc.start()
    try:
        result = fetcher.fetch(f"doi:{ELIFE}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        fetcher.close()
    assert result.status == "error" and "the answer is larger than 1 MB; abandoned" in result.message
    assert peak < 4_000_000  # the 20 MB answer was never held
    server.conversations[0].finished.wait(10)
    assert server.conversations[0].hung_up


# -- Retry-After capped and paid from a budget --------------------------------------------------------------
def test_a_huge_retry_after_is_not_waited_for(project, httpserver):
    httpserver.expect_request(f"/crossref/works/{ELIFE}").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "100000"})
    result = run("cite", f"doi:{ELIFE}")
    assert result.exit_code == 1
    assert ("Crossref: server answered HTTP 429 and asks to wait 100000 s (Retry-After), "
            "longer than the 0.5 s citeflow waits") in result.stderr
    assert len(httpserver.log) == 1


def test_retry_waits_are_paid_from_the_lookup_budget(project, httpserver, monkeypatch):
    httpserver.expect_request(f"/crossref/works/{ELIFE}").respond_with_data(
        "slow down", status=503, headers={"Retry-After": "0.4"})
    monkeypatch.setenv("CITEFLOW_RETRIES", "10")
    monkeypatch.setenv("CITEFLOW_RETRY_BUDGET", "1")
    monkeypatch.setenv("CITEFLOW_BREAKER_FAILURES", "0")
    result = run("cite", f"doi:{ELIFE}")
    assert result.exit_code == 1
    assert "server answered HTTP 503; no retry left in the lookup's budget of 1 s" in result.stderr
    assert len(httpserver.log) == 3  # two waits of 0.4 s fit in the budget, a third does not


# -- redirects ----------------------------------------------------------------------------------------------
@pytest.fixture
def elsewhere():
    """A second server on another port: it must not be asked anything it is not allowed."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_a_redirect_to_another_host_or_port_is_not_followed(project, httpserver, elsewhere):
    target = elsewhere.url_for(f"/works/{ELIFE}")
    elsewhere.expect_request(f"/works/{ELIFE}").respond_with_data(ELIFE_JSON, content_type="application/json")
    httpserver.expect_request(f"/crossref/works/{ELIFE}").respond_with_response(
        WResponse(status=302, headers={"Location": target}))
    result = run("cite", f"doi:{ELIFE}")
    assert result.exit_code == 1
    assert f"doi:{ELIFE}: Crossref: redirected to another host ({target}); not followed" in result.stderr
    assert elsewhere.log == []


def test_doi_org_hands_over_only_to_the_registration_agencies_allowed(project, httpserver, elsewhere):
    doi = "10.5281/zenodo.1472044"
    agency = elsewhere.url_for(f"/agency/{doi}")
    elsewhere.expect_request(f"/agency/{doi}").respond_with_data(
        (DATA / "cslj" / "10.5281_zenodo.1472044.csl.json").read_bytes(), content_type=CSL_ACCEPT)
    httpserver.expect_request(f"/crossref/works/{doi}").respond_with_data("Resource not found.", status=404)
    httpserver.expect_request(f"/doi/{doi}").respond_with_response(WResponse(status=302, headers={"Location": agency}))
    refused = run("cite", f"doi:{doi}")
    assert refused.exit_code == 1 and f"doi.org: redirected to another host ({agency})" in refused.stderr
    assert elsewhere.log == []
    host = agency.split("/")[2]
    with open(project / "citeflow.toml", "a", encoding="utf-8") as handle:
        handle.write(f'redirect_hosts = ["{host}"]\n')
    followed = run("cite", f"doi:{doi}")
    assert followed.exit_code == 0, followed.stderr
    assert "Tennant" in followed.stdout and len(elsewhere.log) == 1


@pytest.mark.parametrize("old, new, message", [
    ("workers = 2", 'workers = 2\nredirect_hosts = "doi.org"',
     ":10: [sources] redirect_hosts must be a list of strings, not 'doi.org'"),
    ("timeout = 1", "timeout = 0", ": [sources] timeout must be more than 0"),
    ("max_response_mb = 0.1", 'max_response_mb = "lots"',
     ":10: [sources] max_response_mb must be a number, not 'lots'"),
    ("retries = 1", "retires = 1", ":4: unknown key 'retires' in [sources] (did you mean retries?)"),
])
def test_bad_limits_in_the_config_are_named(project, httpserver, old, new, message):
    config = project / "citeflow.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    result = run("cite", f"doi:{ELIFE}")
    assert result.exit_code == 2
    assert result.stderr == f"citeflow: error: {project / 'citeflow.toml'}{message}\n"
    assert httpserver.log == []


def test_redirect_policy():
    allowed = frozenset({"api.datacite.org"})
    assert redirect_refusal("https://doi.org/10.1/x", "https://doi.org/10.1/y", allowed) is None
    assert redirect_refusal("http://doi.org/10.1/x", "https://doi.org/10.1/x", allowed) is None
    assert redirect_refusal("https://doi.org/10.1/x", "https://api.datacite.org/dois/10.1/x", allowed) is None
    assert "https to http" in redirect_refusal("https://doi.org/x", "http://api.datacite.org/x", allowed)
    assert "another host" in redirect_refusal("https://doi.org/x", "https://evil.example/x", allowed)
    assert "another host" in redirect_refusal("http://127.0.0.1:80/x", "http://127.0.0.1:8080/x", allowed)
    assert redirect_refusal("http://doi.org:80/x", "http://doi.org/y", allowed) is None
    assert "file URL" in redirect_refusal("https://doi.org/x", "file:///etc/passwd", allowed)
    assert "malformed URL" in redirect_refusal("https://doi.org/x", "https://doi.org:99999/x", allowed)


# -- a circuit breaker per service ----------------------------------------------------------------------------
def test_a_registry_that_is_down_is_given_up_on_after_a_few_failures(project, httpserver):
    for n in range(40):
        httpserver.expect_request(f"/crossref/works/10.5555/down.{n}").respond_with_data("down", status=503)
    httpserver.expect_request("/eutils/efetch.fcgi").respond_with_data(
        (DATA / "pubmed" / "35649368.efetch.xml").read_bytes(), content_type="text/xml")
    dois = [f"doi:10.5555/down.{n}" for n in range(40)]
    result = run("cite", *dois, "pmid:35649368")
    assert result.exit_code == 1, result.output
    crossref_requests = [r for r, _ in httpserver.log if r.path.startswith("/crossref/")]
    # breaker_failures = 3 in a row; two workers may each have one more in flight
    assert len(crossref_requests) <= 3 + 2, [r.path for r in crossref_requests]
    for ident in dois:
        assert f"citeflow: {ident}: Crossref: " in result.stderr, result.stderr[-3000:]
    # Two workers count failures at once: the breaker trips at 3, and the message gives the
    # count it had then (3, or one or two more that were in flight).
    tripped = re.findall(r"Crossref: service unavailable \((\d+) failed attempts in a row, the last: "
                         r"server answered HTTP 503", result.stderr)
    assert len(tripped) >= 35 and all(3 <= int(n) <= 3 + 2 for n in tripped)
    # PubMed has a breaker of its own, and answered
    assert "li2022fatty" in result.stdout


def test_resolve_with_the_registry_refusing_connections_fails_fast(project, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    monkeypatch.setenv("CITEFLOW_CROSSREF_URL", f"http://127.0.0.1:{closed}")
    text = "---\nbibliography: refs.bib\n---\n\n" + "".join(
        f"Claim {n} [doi:10.5555/refused.{n}].\n\n" for n in range(30))
    (project / "paper.md").write_text(text, encoding="utf-8")
    (project / "refs.bib").write_text("", encoding="utf-8")
    result = run("resolve", "--write", "paper.md")
    assert result.exit_code == 1
    assert result.stderr.count("service unavailable") >= 25
    assert "connection refused" in result.stderr
    assert "30 identifier(s) left" in result.stderr
    assert (project / "paper.md").read_text(encoding="utf-8") == text
    assert (project / "refs.bib").read_text(encoding="utf-8") == ""


# -- records are checked before anything is written ----------------------------------------------------------
BAD_RECORDS = {
    "invalid-utf8": (ELIFE_JSON.replace(b"Automated", b"Auto\xffmated"), "the answer is not valid UTF-8 text"),
    "replacement-char": (crossref_record(title=["Automated \ufffd\ufffd histology"]),
                         "U+FFFD replacement characters (text lost to a broken encoding) in the title"),
    "null-names": (crossref_record(author=[{"given": None, "family": None, "sequence": "first"},
                                           {"given": "Ann", "family": "Smith"}]),
                   "empty author name (1 of 2)"),
    "string-date": (crossref_record(issued={"date-parts": "2021"}),
                    "the 'issued' date is not a date"),
    "impossible-year": (crossref_record(issued={"date-parts": [[2]]}, created={"date-parts": [[2]]}),
                        "an impossible year (2)"),
}


@pytest.mark.parametrize("name", sorted(BAD_RECORDS))
def test_a_bad_record_is_reported_and_never_written_by_cite(project, httpserver, name):
    body, reason = BAD_RECORDS[name]
    serve(httpserver, ELIFE, body)
    bib = project / "refs.bib"
    bib.write_bytes(b"@article{mine,\n  title = {Mine}\n}\n")
    result = run("cite", "--bib", "refs.bib", f"doi:{ELIFE}")
    assert result.exit_code == 1
    assert f"citeflow: doi:{ELIFE}: " in result.stderr and reason in result.stderr
    assert bib.read_bytes() == b"@article{mine,\n  title = {Mine}\n}\n"
    assert not list((project / "cache").rglob("*.json"))  # nor cached


def test_a_bad_record_leaves_the_placeholder_in_resolve(project, httpserver):
    body, reason = BAD_RECORDS["null-names"]
    serve(httpserver, ELIFE, body)
    text = f"---\nbibliography: refs.bib\n---\n\nA claim [doi:{ELIFE}].\n"
    (project / "paper.md").write_text(text, encoding="utf-8")
    (project / "refs.bib").write_text("", encoding="utf-8")
    result = run("resolve", "--write", "paper.md")
    assert result.exit_code == 1
    assert f"paper.md:5:9: unresolved doi:{ELIFE}" in result.stderr and reason in result.stderr
    assert (project / "paper.md").read_text(encoding="utf-8") == text
    assert (project / "refs.bib").read_text(encoding="utf-8") == ""


def test_json_sent_as_html_is_read(project, httpserver):
    serve(httpserver, ELIFE, ELIFE_JSON, content_type="text/html; charset=utf-8")
    result = run("cite", "--bib", "refs.bib", f"doi:{ELIFE}")
    assert result.exit_code == 0, result.stderr
    assert load_bibliography([project / "refs.bib"]).by_doi(ELIFE) is not None


def test_a_real_html_page_is_still_named_as_one(project, httpserver):
    serve(httpserver, ELIFE, b"<!DOCTYPE html><html><body>Service Unavailable</body></html>",
          content_type="application/json")
    result = run("cite", f"doi:{ELIFE}")
    assert result.exit_code == 1 and "Crossref sent an HTML page instead of JSON" in result.stderr


# -- the cache ------------------------------------------------------------------------------------------------
def _elife_key(httpserver: HTTPServer) -> str:
    return request_key(works_url(httpserver.url_for("/crossref"), ELIFE))


def _plant(project: Path, key: str, body: bytes, fetched_at: float) -> Path:
    """Write a cache record as a forger would (with a correct checksum)."""
    cache = Cache(project / "cache")
    cache.put(key, Response(url="https://api.crossref.org/works/x", status=200, text=body.decode("utf-8"),
                            content_type="application/json", fetched_at=fetched_at))
    return next((project / "cache").rglob(f"{key}.json"))


FORGED = crossref_record(title=["A forged title"])


def test_a_record_dated_in_the_future_is_fetched_again(project, httpserver):
    _plant(project, _elife_key(httpserver), FORGED, time.time() + 10 * 365 * 86400)
    serve(httpserver, ELIFE, ELIFE_JSON)
    result = run("cite", f"doi:{ELIFE}")
    assert result.exit_code == 0
    assert "forged" not in result.stdout and "Automated" in result.stdout
    assert len(httpserver.log) == 1
    # ... also offline, where the age of a record does not matter otherwise
    _plant(project, _elife_key(httpserver), FORGED, time.time() + 10 * 365 * 86400)
    offline = run("cite", "--offline", f"doi:{ELIFE}")
    assert offline.exit_code == 1 and "offline and not in the cache" in offline.stderr


def test_a_tampered_record_is_fetched_again(project, httpserver):
    path = _plant(project, _elife_key(httpserver), ELIFE_JSON, time.time())
    record = json.loads(path.read_text(encoding="utf-8"))
    record["body"] = record["body"].replace("Automated", "Forged")
    path.write_text(json.dumps(record), encoding="utf-8")
    serve(httpserver, ELIFE, ELIFE_JSON)
    result = run("cite", f"doi:{ELIFE}")
    assert result.exit_code == 0 and "Forged" not in result.stdout and "Automated" in result.stdout
    assert len(httpserver.log) == 1


def test_a_cached_record_that_fails_the_checks_is_fetched_again(project, httpserver):
    bad, reason = BAD_RECORDS["null-names"]
    _plant(project, _elife_key(httpserver), bad, time.time())
    offline = run("cite", "--offline", f"doi:{ELIFE}")
    assert offline.exit_code == 1 and reason in offline.stderr  # offline: named, not written
    serve(httpserver, ELIFE, ELIFE_JSON)
    result = run("cite", "--bib", "refs.bib", f"doi:{ELIFE}")
    assert result.exit_code == 0, result.stderr
    assert len(httpserver.log) == 1
    assert load_bibliography([project / "refs.bib"]).by_doi(ELIFE).authors[0] == "Sankar, Martial"
    # the good answer replaced the bad record
    assert run("cite", "--offline", f"doi:{ELIFE}").exit_code == 0


def test_the_default_cache_is_outside_the_project(project, httpserver, monkeypatch, tmp_path_factory):
    user_cache = tmp_path_factory.mktemp("home-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_cache))
    monkeypatch.delenv("CITEFLOW_CACHE_DIR")
    serve(httpserver, ELIFE, ELIFE_JSON)
    assert run("cite", f"doi:{ELIFE}").exit_code == 0
    assert not (project / ".citeflow").exists() and not (project / "cache").exists()
    assert list((user_cache / "citeflow").rglob("*.json"))
    # [cache] dir in citeflow.toml still chooses the folder
    with open(project / "citeflow.toml", "a", encoding="utf-8") as handle:
        handle.write('[cache]\ndir = "my-cache"\n')
    assert run("cite", f"doi:{ELIFE}").exit_code == 0
    assert list((project / "my-cache").rglob("*.json"))
