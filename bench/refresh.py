"""Benchmark: batched, polite fetching for resolve and refresh, and linear bookkeeping.

A local HTTP server on 127.0.0.1, started here in a child process, plays Crossref: every
answer takes 50 ms (``--delay``), single works (``/works/{doi}``) and lists
(``/works?filter=doi:A,doi:B,...``) alike, each work a real Crossref record (from
tests/data/sources) re-labelled with the DOI asked for; it announces a budget of 50 requests
a second (``X-Rate-Limit-*``) as Crossref does, counts the requests and the most in flight at
once. PubMed ESearch (finding nothing) and doi.org are played too, for ``refresh``.

Figures, each measured in this run:

* ``resolve`` of a manuscript with 3,000 DOI placeholders, cold (empty cache): seconds
  against the 150 s floor of asking one DOI after another; requests; most in flight.
  Goals: <= 0.03 x the floor, <= 150 requests, never more than 3 in flight.
* the same resolve warm (the cache filled): requests (goal 0), and its time against a warm
  resolve of 300 placeholders (goal <= 12 x: linear).
* ``refresh`` of a project citing 300 works: requests to Crossref (goal <= 10).

Run: ``.venv/bin/python bench/refresh.py [--dois 3000] [--small 300] [--delay 0.05]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from citeflow.api import Project  # noqa: E402
from citeflow.config import load_config  # noqa: E402
from citeflow.fixes.resolve import resolve_manuscript  # noqa: E402

TEMPLATE = ROOT / "tests" / "data" / "sources" / "crossref" / "10.7554_elife.01567.json"


def _serve(delay: float, counters, ready) -> None:
    """The server process: Crossref single works and lists, PubMed ESearch, doi.org."""
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))["message"]
    lock = threading.Lock()
    now = [0]

    def work(doi: str) -> dict:
        return dict(template, DOI=doi, title=[f"Benchmark work {doi}"])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            crossref = parts.path.startswith("/crossref/")
            with lock:
                if crossref:
                    now[0] += 1
                    counters[0] += 1
                    counters[1] = max(counters[1], now[0])
                else:
                    counters[2] += 1
            try:
                time.sleep(delay)
                status, body = self._answer(parts.path, query)
            finally:
                if crossref:
                    with lock:
                        now[0] -= 1
            data = json.dumps(body).encode("utf-8") if not isinstance(body, bytes) else body
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if crossref:
                self.send_header("X-Rate-Limit-Limit", "50")
                self.send_header("X-Rate-Limit-Interval", "1s")
            self.end_headers()
            self.wfile.write(data)

        def _answer(self, path: str, query: dict) -> tuple[int, object]:
            if path.startswith("/crossref/works/"):
                return 200, {"status": "ok", "message-type": "work", "message": work(unquote(path[16:]))}
            if path == "/crossref/works":
                dois = [p[4:] for p in query.get("filter", [""])[0].split(",") if p.startswith("doi:")]
                items = [work(d) for d in dois]
                return 200, {"status": "ok", "message-type": "work-list",
                             "message": {"total-results": len(items), "items": items}}
            if path.endswith("/esearch.fcgi"):
                return 200, {"esearchresult": {"count": "0", "idlist": []}}
            return 404, b"Not found"

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ready.put(server.server_address[1])
    server.serve_forever()


class StandIn:
    """The registries in their own process, as real servers would be."""

    def __init__(self, delay: float):
        context = multiprocessing.get_context("spawn")
        self._counters = context.Array("i", 3)  # Crossref requests, most in flight, other requests
        self._ready = context.Queue()
        self._process = context.Process(target=_serve, args=(delay, self._counters, self._ready), daemon=True)
        self.port = 0

    def take(self) -> tuple[int, int, int]:
        """Crossref requests, most in flight and other requests since the last call."""
        with self._counters.get_lock():
            values = tuple(self._counters)
            for n in range(3):
                self._counters[n] = 0
        return values  # type: ignore[return-value]

    def __enter__(self) -> StandIn:
        self._process.start()
        self.port = self._ready.get(timeout=30)
        return self

    def __exit__(self, *exc) -> None:
        self._process.terminate()
        self._process.join(timeout=5)


def make_project(folder: Path, port: int, count: int, cache: Path, cite: bool = False) -> Path:
    """A project whose manuscript holds ``count`` DOI placeholders (or, with ``cite``,
    citations of ``count`` bibliography entries that carry DOIs)."""
    folder.mkdir(parents=True)
    base = f"http://127.0.0.1:{port}"
    (folder / "citeflow.toml").write_text(
        'manuscripts = "."\nbibliography = ["refs.bib"]\n[sources]\n'
        f'crossref_url = "{base}/crossref"\ndoi_url = "{base}/doi"\neutils_url = "{base}/eutils"\n'
        f'biorxiv_url = "{base}/biorxiv"\ntimeout = 20\nretries = 1\nbackoff = 0\n'
        f'[cache]\ndir = "{cache}"\nttl_days = 30\n', encoding="utf-8")
    dois = [f"10.5555/bench.{n:05d}" for n in range(count)]
    if cite:
        entries = [f"@article{{w{n},\n  title = {{Benchmark work {d}}},\n  year = {{2014}},\n  doi = {{{d}}}\n}}\n"
                   for n, d in enumerate(dois)]
        (folder / "refs.bib").write_text("\n".join(entries), encoding="utf-8")
        body = "\n\n".join(f"Claim number {n} is supported [@w{n}]." for n in range(count))
    else:
        (folder / "refs.bib").write_text("", encoding="utf-8")
        body = "\n\n".join(f"Claim number {n} is supported [doi:{d}]." for n, d in enumerate(dois))
    (folder / "draft.md").write_text("---\nbibliography: refs.bib\n---\n\n" + body + "\n", encoding="utf-8")
    return folder / "draft.md"


def timed_resolve(path: Path) -> tuple[float, int]:
    config = load_config(path)
    start = time.perf_counter()
    result = resolve_manuscript(path, config, suggest=False)
    return time.perf_counter() - start, result.resolved


def run(dois: int, small: int, delay: float, works: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with StandIn(delay) as server, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        floor = dois * delay
        # cold: the best of two runs, each with an empty cache of its own (the machine may be busy)
        colds = []
        for run_number in range(2):
            big = make_project(folder / f"big{run_number}", server.port, dois, folder / f"cache{run_number}")
            server.take()
            cold, resolved = timed_resolve(big)
            requests, in_flight, _ = server.take()
            colds.append((cold, resolved, requests, in_flight))
        cold, resolved, requests, in_flight = min(colds)
        in_flight = max(c[3] for c in colds)
        little = make_project(folder / "little", server.port, small, folder / "cache0")
        timed_resolve(little)  # fills the cache for the small manuscript
        server.take()
        # warm: small and large alternately, the best of three each
        warm_small = warm_big = float("inf")
        for _ in range(3):
            warm_small = min(warm_small, timed_resolve(little)[0])
            warm_big = min(warm_big, timed_resolve(big)[0])
        warm_requests, _, _ = server.take()
        cited = make_project(folder / "cited", server.port, works, folder / "cache-refresh", cite=True)
        server.take()
        result = Project.find(cited).refresh()
        refresh_crossref, refresh_in_flight, refresh_other = server.take()
    figures.update(dois=dois, resolved=resolved, floor_s=floor, cold_s=cold, cold_ratio=cold / floor,
                   cold_requests=requests, cold_in_flight=in_flight, warm_requests=warm_requests,
                   warm_big_s=warm_big, warm_small_s=warm_small, warm_ratio=warm_big / warm_small,
                   refresh_works=works, refresh_crossref=refresh_crossref,
                   refresh_in_flight=refresh_in_flight, refresh_other=refresh_other,
                   refresh_unchecked=len(result.unchecked))
    print(f"refresh/resolve: stand-in answering after {delay * 1000:.0f} ms, announcing 50 requests/s")
    print(f"  resolve, {dois} DOIs cold   {cold:7.2f} s (best of 2) = {cold / floor:.4f} x the {floor:.0f} s sequential floor "
          f"(goal <= 0.03); {requests} requests (goal <= 150), at most {in_flight} in flight (goal <= 3); "
          f"{resolved} placeholders resolved")
    print(f"  resolve, {dois} DOIs warm   {warm_big:7.2f} s; the warm runs sent {warm_requests} requests (goal 0)")
    print(f"  resolve, {small} DOIs warm    {warm_small:7.2f} s; {dois} / {small} = {warm_big / warm_small:.1f} x "
          f"(goal <= 12 x: linear; {dois // small} x is proportional)")
    print(f"  refresh, {works} cited works   {refresh_crossref} requests to Crossref (goal <= 10), at most "
          f"{refresh_in_flight} in flight; {refresh_other} to PubMed/doi.org; {len(result.unchecked)} not checked")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dois", type=int, default=3000)
    parser.add_argument("--small", type=int, default=300)
    parser.add_argument("--works", type=int, default=300)
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args(argv)
    f = run(args.dois, args.small, args.delay, args.works)
    ok = (f["cold_ratio"] <= 0.03 and f["cold_requests"] <= 150 and f["cold_in_flight"] <= 3
          and f["warm_requests"] == 0 and f["warm_ratio"] <= 12 and f["refresh_crossref"] <= 10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
