"""Benchmark: `citeflow render --to html,pdf` against the raw Pandoc + Typst sequence.

A manuscript of 1,000 paragraphs with 5,000 citations against 500 generated BibTeX
references is rendered to HTML and PDF

* by citeflow (:func:`citeflow.output.render.render`): one Pandoc parse with citeproc to a JSON AST,
  then the HTML and Typst writers from that AST and the typst wheel for the PDF;
* by the raw sequence a writer would type by hand: ``pandoc --citeproc -t html``,
  ``pandoc --citeproc -t typst`` and a Typst compile (the same typst wheel), one after the other.

Each variant runs in its own child process, so that its peak memory can be measured:
``ru_maxrss`` of the process itself plus the largest Pandoc it started
(``RUSAGE_CHILDREN``). Runs alternate between the variants and the best of ``--repeat`` runs
is kept. Prints wall and CPU times (CPU = user + system of the process and its Pandoc
children), the ratio citeflow/raw (goal: <= 0.8 in wall time) and peak memory.

    .venv/bin/python bench/render.py [--repeat 3] [--paragraphs 1000] [--citations 5000] [--references 500]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ["dupilumab", "interleukin", "receptor", "inflammation", "eosinophil", "asthma", "dermatitis", "trial", "placebo", "efficacy", "safety", "arthralgia", "enthesitis", "cohort", "response", "dose", "week", "patients", "signalling", "randomised", "outcome", "adverse", "event", "biologic", "therapy", "pathway", "cytokine"]
JOURNALS = ("New England Journal of Medicine", "The Lancet", "JAMA Dermatology",
            "Journal of Allergy and Clinical Immunology", "American Journal of Clinical Dermatology")
SURNAMES = ("Simpson", "Blauvelt", "Castro", "Bachert", "Gandhi", "Worm", "Deleuran", "Beck",
            "Olbrich", "Woodbury", "Jay", "Thaçi", "Guttman-Yassky", "Silverberg", "Paller")


def make_bibliography(count: int, rng: random.Random) -> str:
    entries = []
    for i in range(count):
        authors = " and ".join(
            f"{rng.choice(SURNAMES)}, {chr(65 + rng.randrange(26))}." for _ in range(rng.randint(1, 8)))
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize()
        year = rng.randint(1995, 2024)
        first = rng.randint(1, 2000)
        entries.append(
            f"@article{{ref{i:04d},\n  author = {{{authors}}},\n  title = {{{title}}},\n"
            f"  journal = {{{rng.choice(JOURNALS)}}},\n  year = {{{year}}},\n"
            f"  volume = {{{rng.randint(1, 400)}}},\n  number = {{{rng.randint(1, 12)}}},\n"
            f"  pages = {{{first}--{first + rng.randint(3, 20)}}},\n"
            f"  doi = {{10.{1000 + i % 9000}/bench.{year}.{i:05d}}}\n}}\n")
    return "\n".join(entries)


def make_manuscript(paragraphs: int, citations: int, references: int, rng: random.Random) -> str:
    per_paragraph = citations // paragraphs
    out = ["---", "title: Benchmark manuscript", "bibliography: refs.bib",
           "csl: american-medical-association", "---", ""]
    for p in range(paragraphs):
        if p % 50 == 0:
            out.append(f"# Section {p // 50 + 1}\n")
        sentences = []
        for _ in range(per_paragraph):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 22)))
            sentences.append(f"{words.capitalize()} [@ref{rng.randrange(references):04d}].")
        out.append(" ".join(sentences) + "\n")
    return "\n".join(out)


def pandoc() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def run_citeflow(folder: Path) -> None:
    from citeflow.output.render import render

    render(folder / "bench.md", ["html", "pdf"], outdir=folder / "citeflow-out")


def run_raw(folder: Path) -> None:
    import typst

    out = folder / "raw-out"
    out.mkdir(exist_ok=True)
    common = ["bench.md", "--citeproc", "--bibliography", "refs.bib", "--csl", "style.csl",
              "-M", "link-citations=true", "-M", "reference-section-title=References", "-s"]
    subprocess.run([pandoc(), *common, "-t", "html5", "-o", "raw-out/bench.html"],
                   cwd=folder, check=True)
    # "-citations": Pandoc's citeproc already formatted the citations; Typst must not redo them.
    subprocess.run([pandoc(), *common, "-t", "typst-citations", "-o", "raw-out/bench.typ"],
                   cwd=folder, check=True)
    (out / "bench.pdf").write_bytes(typst.compile(str(out / "bench.typ"), root=str(folder)))


def worker(variant: str, folder: Path) -> None:
    """Run one variant once and print its time and peak memory as JSON."""
    import typst

    compile_seconds = [0.0]
    real_compile = typst.compile

    def timed_compile(*args, **kwargs):
        began = time.perf_counter()
        try:
            return real_compile(*args, **kwargs)
        finally:
            compile_seconds[0] += time.perf_counter() - began

    typst.compile = timed_compile
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    start = time.perf_counter()
    (run_citeflow if variant == "citeflow" else run_raw)(folder)
    seconds = time.perf_counter() - start
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime - cpu_before
    print(json.dumps({"seconds": seconds, "cpu": cpu, "typst": compile_seconds[0], "self_mb": me.ru_maxrss / 1024,
                      "children_mb": kids.ru_maxrss / 1024}))


def measure(variant: str, folder: Path) -> dict:
    result = subprocess.run([sys.executable, __file__, "--worker", variant, str(folder)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--paragraphs", type=int, default=1000)
    parser.add_argument("--citations", type=int, default=5000)
    parser.add_argument("--references", type=int, default=500)
    parser.add_argument("--worker", nargs=2, metavar=("VARIANT", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return

    from citeflow.output.styles import resolve_style

    rng = random.Random(20241211)
    with tempfile.TemporaryDirectory(prefix="citeflow-bench-") as tmp:
        folder = Path(tmp)
        (folder / "refs.bib").write_text(make_bibliography(args.references, rng), encoding="utf-8")
        (folder / "bench.md").write_text(
            make_manuscript(args.paragraphs, args.citations, args.references, rng), encoding="utf-8")
        shutil.copy(resolve_style("american-medical-association"), folder / "style.csl")
        print(f"manuscript: {args.paragraphs} paragraphs, {args.citations} citations, "
              f"{args.references} references ({(folder / 'bench.md').stat().st_size // 1024} KiB)")
        results: dict[str, list[dict]] = {"citeflow": [], "raw": []}
        for _ in range(args.repeat):
            for variant in ("raw", "citeflow"):
                results[variant].append(measure(variant, folder))
        best = {v: min(r["seconds"] for r in rs) for v, rs in results.items()}
        best_cpu = {v: min(r["cpu"] for r in rs) for v, rs in results.items()}
        for variant, runs in results.items():
            peak_self = max(r["self_mb"] for r in runs)
            peak_child = max(r["children_mb"] for r in runs)
            times = ", ".join(f"{r['seconds']:.2f}" for r in runs)
            print(f"{variant:>8}: best {best[variant]:.2f} s wall (runs: {times}), "
                  f"{best_cpu[variant]:.2f} s CPU; peak RSS "
                  f"self {peak_self:.0f} MiB + largest Pandoc {peak_child:.0f} MiB "
                  f"= {peak_self + peak_child:.0f} MiB")
        ratio = best["citeflow"] / best["raw"]
        # The Typst compile is the same work in both; without it the Pandoc side shows.
        rest = {v: min(r["seconds"] - r["typst"] for r in rs) for v, rs in results.items()}
        typst_time = {v: min(r["typst"] for r in rs) for v, rs in results.items()}
        print(f"Typst compile: citeflow {typst_time['citeflow']:.2f} s, raw {typst_time['raw']:.2f} s; "
              f"everything else: citeflow {rest['citeflow']:.2f} s, raw {rest['raw']:.2f} s "
              f"(ratio {rest['citeflow'] / rest['raw']:.2f})")
        print(f"ratio citeflow/raw: {ratio:.2f} wall (goal <= 0.80: {'met' if ratio <= 0.8 else 'NOT met'}), "
              f"{best_cpu['citeflow'] / best_cpu['raw']:.2f} CPU")


if __name__ == "__main__":
    main()
