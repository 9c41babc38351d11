"""Benchmark: `citeflow check` against Pandoc's own parse of the same manuscript to JSON.

A generated manuscript of about 100,000 words with 5,000 citations (headings, paragraphs,
lists, footnotes; claims with and without citations, statistics, advice) and a generated
BibTeX file of 400 references is

* checked by :func:`citeflow.checks.engine.check_manuscript` (every rule, suggestions on),
* parsed by Pandoc to its JSON AST (``pandoc -f markdown -t json``, through pypandoc),

each in its own child process so that peak memory can be read from ``ru_maxrss``. The
check also runs once without ranking candidate references (``[check] suggest = false``), to
show what the ranking costs. Runs
alternate and the best of ``--repeat`` is kept. Prints both times, the ratio check/pandoc
(goal: <= 1.0), the same ratio in CPU time (Pandoc's process included, and the check's
second process where the claims of a long manuscript are judged in two, see
:mod:`citeflow.checks.parallel`; steadier than wall time when other work shares the machine)
and the peak memory of the check (goal: < 400 MB). ``CITEFLOW_ANALYSIS_PROCESSES=1`` in the
environment of this script keeps the check in one process.

    .venv/bin/python bench/check.py [--repeat 3] [--words 100000] [--citations 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

TOPICS = ("dupilumab", "interleukin-13 signalling", "eosinophilic asthma", "atopic dermatitis",
          "nasal polyps", "arthralgia", "enthesitis", "type 2 inflammation", "IL-4 receptor",
          "conjunctivitis", "biologic therapy", "itch", "sleep loss", "eczema flares")
JOURNALS = ("New England Journal of Medicine", "The Lancet", "JAMA Dermatology",
            "Journal of Allergy and Clinical Immunology", "British Journal of Dermatology")
SURNAMES = ("Simpson", "Blauvelt", "Castro", "Bachert", "Gandhi", "Worm", "Deleuran", "Beck",
            "Olbrich", "Woodbury", "Jay", "Thaci", "Guttman-Yassky", "Silverberg", "Paller")

TEMPLATES = (
    "Treatment with {a} reduced {b} compared with placebo over the first sixteen weeks of the study",
    "In the pooled analysis {p}% of patients reported {b} while on {a} (n = {n})",
    "Studies show that {a} is associated with {b} in adults with moderate disease",
    "The mechanism linking {a} and {b} remains uncertain and is the subject of ongoing work",
    "Patients receiving {a} were followed for {w} weeks with regular assessments of {b}",
    "Talk to your doctor about {b} before changing the dose of {a}",
    "Emerging research suggests that {a} may influence {b} through several pathways",
    "Clinicians described {b} after {a} in a small series of referred patients",
    "The safety profile of {a} was consistent with earlier reports on {b}",
    "Rates of {b} were higher with {a} than with standard care, e.g. in Fig. 2 of the trial",
)


def _citation(rng: random.Random, n_refs: int) -> str:
    keys = [f"@ref{rng.randrange(n_refs)}" for _ in range(rng.choice((1, 1, 1, 2)))]
    return " [" + "; ".join(keys) + "]"


def make_manuscript(words: int, citations: int, n_refs: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    parts = ["---\ntitle: Generated review\nbibliography: refs.bib\n---\n"]
    total = cited = 0
    paragraph = 0
    while total < words:
        paragraph += 1
        if paragraph % 12 == 1:
            parts.append(f"# {rng.choice(TOPICS).capitalize()} and {rng.choice(TOPICS)}\n")
        sentences = []
        for _ in range(rng.randint(4, 7)):
            text = rng.choice(TEMPLATES).format(
                a=rng.choice(TOPICS), b=rng.choice(TOPICS), p=f"{rng.uniform(1, 40):.1f}",
                n=f"{rng.randint(100, 200000):,}", w=rng.randint(4, 52))
            if cited < citations and rng.random() < 0.75:
                cite = _citation(rng, n_refs)
                cited += cite.count("@")
                text += cite
            sentences.append(text + ".")
            total += len(text.split())
        if paragraph % 9 == 0:
            parts.append("\n".join(f"- {s}" for s in sentences) + "\n")
        elif paragraph % 17 == 0:
            parts.append(" ".join(sentences) + f"[^f{paragraph}]\n\n[^f{paragraph}]: "
                         f"{rng.choice(TEMPLATES).format(a='dupilumab', b='itch', p='3.1', n='512', w=16)}.\n")
        else:
            parts.append(" ".join(sentences) + "\n")
    return "\n".join(parts)


def make_bibliography(n_refs: int, seed: int = 11) -> str:
    rng = random.Random(seed)
    entries = []
    for i in range(n_refs):
        a, b = rng.sample(TOPICS, 2)
        entries.append(
            f"@article{{ref{i},\n  author = {{{rng.choice(SURNAMES)}, A. and {rng.choice(SURNAMES)}, B.}},\n"
            f"  title = {{Effect of {a} on {b}: a randomised trial}},\n"
            f"  journal = {{{rng.choice(JOURNALS)}}},\n  year = {{{rng.randint(2005, 2024)}}},\n"
            f"  doi = {{10.5555/bench.{i}}}\n}}\n")
    return "\n".join(entries)


CHILD = r"""
import json, resource, sys, time
mode, path = sys.argv[1], sys.argv[2]
# timed from after the imports (citeflow's, pypandoc's) to the result
if mode.startswith("check"):
    imported = time.perf_counter()
    from citeflow.checks.engine import CheckSettings, check_manuscript
    imported = time.perf_counter() - imported
    settings = CheckSettings(suggest=(mode == "check"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start, cpu = time.perf_counter(), time.process_time()
    result = check_manuscript(path, settings=settings)
    extra = {"findings": len(result.findings), "claims": len(result.claims), "import": imported}
else:
    import pypandoc
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start, cpu = time.perf_counter(), time.process_time()
    out = pypandoc.convert_file(path, "json", format="markdown")
    extra = {"ast_bytes": len(out)}
# CPU time of this process and of its children (Pandoc's process; the check's second process)
after = resource.getrusage(resource.RUSAGE_CHILDREN)
elapsed = time.perf_counter() - start
cpu = (time.process_time() - cpu + after.ru_utime + after.ru_stime
       - before.ru_utime - before.ru_stime)
self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": elapsed, "cpu": cpu, "self_mb": self_kb / 1024,
                  "child_mb": child_kb / 1024, **extra}))
"""


ENVIRONMENT = {"CITEFLOW_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
if "CITEFLOW_ANALYSIS_PROCESSES" in os.environ:
    ENVIRONMENT["CITEFLOW_ANALYSIS_PROCESSES"] = os.environ["CITEFLOW_ANALYSIS_PROCESSES"]


def run_child(mode: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], capture_output=True,
                          text=True, check=True, env=ENVIRONMENT)
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--citations", type=int, default=5_000)
    parser.add_argument("--references", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citeflow-bench-") as tmp:
        folder = Path(tmp)
        text = make_manuscript(args.words, args.citations, args.references)
        (folder / "paper.md").write_text(text, encoding="utf-8")
        (folder / "refs.bib").write_text(make_bibliography(args.references), encoding="utf-8")
        n_words = len(text.split())
        n_cites = text.count("@ref")
        print(f"manuscript: {n_words:,} words, {n_cites:,} citations, {args.references} references")
        best: dict[str, dict] = {}
        runs: dict[str, list[dict]] = {}
        for _ in range(args.repeat):
            for mode in ("pandoc", "check", "check-nosuggest"):
                result = run_child(mode, folder / "paper.md")
                runs.setdefault(mode, []).append(result)
                if mode not in best or result["seconds"] < best[mode]["seconds"]:
                    best[mode] = result
        check, bare, pandoc = best["check"], best["check-nosuggest"], best["pandoc"]
        print(f"pandoc -t json: {pandoc['seconds']:.2f} s (pandoc peak {pandoc['child_mb']:.0f} MB)")
        print(f"citeflow check: {check['seconds']:.2f} s, {check['findings']:,} findings, "
              f"{check['claims']:,} claim sentences (importing citeflow before it: "
              f"{check['import']:.2f} s, not counted; Pandoc's start is in its time)")
        print(f"citeflow check without candidate ranking ([check] suggest = false): "
              f"{bare['seconds']:.2f} s")
        print(f"ratio check/pandoc: {check['seconds'] / pandoc['seconds']:.2f} (goal <= 1.0); "
              f"without ranking: {bare['seconds'] / pandoc['seconds']:.2f}")
        # CPU time (Pandoc's own process included) is steadier than wall time on a busy
        # machine; each figure is the best of the runs.
        cpu = {mode: min(r["cpu"] for r in runs[mode]) for mode in runs}
        print(f"CPU time: pandoc {cpu['pandoc']:.2f} s, check {cpu['check']:.2f} s, without "
              f"ranking {cpu['check-nosuggest']:.2f} s; ratio check/pandoc "
              f"{cpu['check'] / cpu['pandoc']:.2f}, without ranking "
              f"{cpu['check-nosuggest'] / cpu['pandoc']:.2f}")
        second = (f"; its second process {check['child_mb']:.0f} MB"
                  if check["child_mb"] else "")
        print(f"peak memory of check: {check['self_mb']:.0f} MB (goal < 400 MB){second}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
