"""Benchmark `citeflow build`: parallel speed-up and the cost of an unchanged rebuild.

Generates a project of N manuscripts (default 40) citing the bundled bibliography, each with
a few uncited claims so that every manuscript also gets its review PDF, then times:

1. a full build with ``--jobs 1``;
2. a full build with ``--jobs 2`` (into a fresh output folder);
3. an unchanged rebuild (everything up to date), as a whole ``citeflow build`` process.

Goals: ``--jobs 2`` <= 0.6 x ``--jobs 1``; an unchanged rebuild <= 0.5 s.

    .venv/bin/python bench/build.py [--count 40] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIB = ROOT / "references" / "dupilumab.bib"

KEYS = ["simpson2016two", "blauvelt2017longterm", "castro2018dupilumab", "bachert2019efficacy",
        "gandhi2016targeting", "worm2020efficacy", "jay2022review", "woodbury2023dupilumab"]

CITED = [
    "Dupilumab improved the signs and symptoms of atopic dermatitis in two phase 3 trials",
    "Long-term treatment with dupilumab and topical corticosteroids was well tolerated",
    "Dupilumab reduced severe asthma exacerbations compared with placebo",
    "Dupilumab blocks the shared receptor of interleukin-4 and interleukin-13",
    "Inflammatory arthritis has been reported in patients treated with dupilumab",
]
UNCITED = [
    "Emerging research suggests a link between type 2 inflammation and joint pain.",
    "About 5% of patients report arthralgia during the first months of treatment.",
    "Experts agree that the benefit outweighs the risk for most patients.",
]


def manuscript(number: int, rng: random.Random) -> str:
    paragraphs = []
    for _ in range(6):
        sentences = [f"{rng.choice(CITED)} [@{rng.choice(KEYS)}]." for _ in range(3)]
        if rng.random() < 0.5:
            sentences.append(rng.choice(UNCITED))
        paragraphs.append(" ".join(sentences))
    body = "\n\n".join(paragraphs[:3]) + "\n\n# Discussion\n\n" + "\n\n".join(paragraphs[3:])
    return (f"---\ntitle: 'Benchmark manuscript {number}'\n"
            f"bibliography: ../references/dupilumab.bib\n---\n\n# Introduction\n\n{body}\n")


def make_project(folder: Path, count: int) -> None:
    (folder / "manuscripts").mkdir(parents=True)
    (folder / "references").mkdir()
    shutil.copy(BIB, folder / "references" / BIB.name)
    (folder / "citeflow.toml").write_text(
        'style = "american-medical-association"\nmanuscripts = "manuscripts"\n'
        'output = "build"\n\n[check]\nsuggest = false\n', encoding="utf-8")
    rng = random.Random(6)
    for number in range(1, count + 1):
        (folder / "manuscripts" / f"m{number:02d}.md").write_text(manuscript(number, rng),
                                                                  encoding="utf-8")


def timed_build(folder: Path, *args: str) -> tuple[float, str]:
    """Wall time of one ``citeflow build`` process, and its summary line."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "citeflow", "build", *args], cwd=folder,
                            capture_output=True, text=True, env={**os.environ,
                                                                 "CITEFLOW_OFFLINE": "1"})
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"build failed ({result.returncode}):\n{result.stderr}")
    return elapsed, result.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=40, help="manuscripts (default 40)")
    parser.add_argument("--keep", action="store_true", help="keep the generated project")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="citeflow-bench-"))
    try:
        make_project(folder, args.count)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{args.count} manuscripts in {folder}, {os.cpu_count()} CPUs, load {load}")
        one, summary_one = timed_build(folder, "--jobs", "1", "-o", "out-j1")
        print(f"  --jobs 1: {one:6.2f} s   ({summary_one})")
        two, summary_two = timed_build(folder, "--jobs", "2", "-o", "out-j2")
        print(f"  --jobs 2: {two:6.2f} s   ({summary_two})")
        again, summary_again = timed_build(folder, "--jobs", "2", "-o", "out-j2")
        print(f"  unchanged rebuild: {again:5.2f} s   ({summary_again})")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "citeflow", "--version"], capture_output=True,
                       check=True)
        startup = time.perf_counter() - started
        print(f"  of which interpreter + CLI start-up (citeflow --version): {startup:.2f} s")
        ratio = two / one
        print(f"jobs 2 / jobs 1 = {ratio:.2f} (goal <= 0.60: {'met' if ratio <= 0.6 else 'missed'})")
        print(f"unchanged rebuild = {again:.2f} s (goal <= 0.50 s: "
              f"{'met' if again <= 0.5 else 'missed'})")
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
