"""Benchmark: fetching metadata for DOIs that are missing from the bibliography.

A local HTTP server on 127.0.0.1, started here in a child process, plays Crossref (the
stand-in of ``bench/refresh.py``): every ``/works/{doi}`` and ``/works?filter=doi:...``
answer takes 50 ms and carries real Crossref records (from tests/data/sources) re-labelled
with the DOIs asked for. 300 DOIs absent from a real bibliography are fetched

* cold (empty cache): seconds, against the 15 s floor of asking one after another
  (300 x 50 ms) and against a sequential run measured here on a sample;
* warm (same cache, new fetcher): the number of requests the server sees (goal 0).

Goal: cold <= 0.15 x the sequential floor; warm = 0 requests.

Run: ``.venv/bin/python bench/resolve.py [--dois 300] [--delay 0.05] [--workers 8]``.
If ``bench/resolve_text.py`` exists, its ``main()`` runs afterwards (manuscript timing).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from citeflow.config import Config  # noqa: E402
from citeflow.references.bibliography import load_bibliography  # noqa: E402
from citeflow.references.identifiers import Identifier  # noqa: E402
from citeflow.sources import Fetcher, SourceSettings  # noqa: E402
from refresh import StandIn  # noqa: E402  (the same Crossref stand-in as bench/refresh.py)

TEMPLATE = ROOT / "tests" / "data" / "sources" / "crossref" / "10.7554_elife.01567.json"
BIBLIOGRAPHY = ROOT / "tests" / "data" / "bibtex" / "jabref_complex.bib"


def make_fetcher(url: str, cache_dir: Path, workers: int) -> Fetcher:
    config = Config(root=cache_dir, data={"sources": {"crossref_url": f"{url}/crossref", "doi_url": f"{url}/doi",
                                                      "workers": workers,
                                                      "timeout": 10, "retries": 1, "backoff": 0},
                                          "cache": {"dir": str(cache_dir)}})
    return Fetcher(config, settings=SourceSettings.from_config(config, env={}))


def missing_dois(count: int) -> list[Identifier]:
    """``count`` DOIs that the (real) bibliography does not hold, as a resolver would find."""
    bib = load_bibliography([BIBLIOGRAPHY])
    wanted = [Identifier("doi", f"10.5555/bench.{n:04d}") for n in range(count)]
    return [ident for ident in wanted if bib.find(ident) is None]


def timed_fetch(server: StandIn, identifiers: list[Identifier], cache_dir: Path,
                workers: int) -> tuple[float, int, int]:
    """Seconds, requests seen by the server, and identifiers resolved."""
    server.take()
    fetcher = make_fetcher(f"http://127.0.0.1:{server.port}", cache_dir, workers)
    start = time.perf_counter()
    results = fetcher.fetch_many(identifiers)
    seconds = time.perf_counter() - start
    fetcher.close()
    ok = sum(1 for r in results.values() if r.ok)
    return seconds, server.take()[0], ok


def run(dois: int = 300, delay: float = 0.05, workers: int = 8, sample: int = 20) -> dict[str, float]:
    identifiers = missing_dois(dois)
    floor = len(identifiers) * delay
    with StandIn(delay) as server, tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # baseline in this process: one at a time, on a sample, scaled to the full count
        seq_seconds, _, _ = timed_fetch(server, identifiers[:sample], tmp_path / "sequential", 1)
        sequential = seq_seconds / sample * len(identifiers)
        cold, cold_requests, cold_ok = timed_fetch(server, identifiers, tmp_path / "cache", workers)
        warm, warm_requests, warm_ok = timed_fetch(server, identifiers, tmp_path / "cache", workers)
    figures = {
        "dois": len(identifiers), "delay_ms": delay * 1000, "workers": workers,
        "floor_s": floor, "sequential_measured_s": sequential,
        "cold_s": cold, "cold_ratio_to_floor": cold / floor, "cold_ratio_to_sequential": cold / sequential,
        "cold_requests": cold_requests, "cold_ok": cold_ok,
        "warm_s": warm, "warm_requests": warm_requests, "warm_ok": warm_ok,
    }
    print(f"resolve (fetch): {len(identifiers)} DOIs missing from the bibliography, "
          f"server answers after {delay * 1000:.0f} ms, {workers} workers")
    print(f"  sequential floor          {floor:7.2f} s  ({len(identifiers)} x {delay * 1000:.0f} ms)")
    print(f"  sequential, measured      {sequential:7.2f} s  (sample of {sample}, scaled)")
    print(f"  cold run                  {cold:7.2f} s  = {cold / floor:.3f} x floor "
          f"(goal <= 0.15), {cold / sequential:.3f} x measured sequential; "
          f"{cold_requests} requests, {cold_ok} resolved")
    print(f"  warm run                  {warm:7.2f} s  {warm_requests} requests (goal 0), {warm_ok} resolved")
    return figures


def run_text_part() -> None:
    """The manuscript half of the benchmark, if bench/resolve_text.py is there."""
    path = Path(__file__).with_name("resolve_text.py")
    if not path.exists():
        return
    spec = importlib.util.spec_from_file_location("bench_resolve_text", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    module.main()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dois", type=int, default=300)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--no-text", action="store_true", help="skip bench/resolve_text.py")
    args = parser.parse_args(argv)
    figures = run(args.dois, args.delay, args.workers)
    if not args.no_text:
        run_text_part()
    return 0 if figures["cold_ratio_to_floor"] <= 0.15 and figures["warm_requests"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
