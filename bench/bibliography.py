"""Benchmark: loading a large BibTeX bibliography, cold and from the parsed-bibliography cache.

A 50,000-entry ``.bib`` is generated (seeded, so every run gets the same file) with the
fields of a medical library: journal articles with 1 to 15 authors (some with LaTeX accents
or an organisation as author), titles with protected acronyms, journal, year, volume,
number, page ranges, DOI, PMID, sometimes an abstract and keywords; some books, chapters,
conference papers and reports; ``@string`` journal macros and a few ``crossref`` fields.

Measured in the same run, in fresh child processes (so no in-process memo helps):

* baseline: Pandoc's own read of the file (``pandoc -f bibtex -t csljson``, no citeproc);
* cold: ``load_bibliography`` with an empty cache (parse, then the record is written);
* warm: ``load_bibliography`` again (the record is read back);

and, against Pandoc's citeproc over the same file (``pandoc paper.md --citeproc``), the
whole ``citeflow check`` of a short manuscript citing 20 of the entries, with an empty
cache and again with the cache it wrote (candidate references are ranked over every entry).

Printed: seconds and the ratios warm/cold, cold/Pandoc and warm/Pandoc, and check/citeproc
with the check's peak memory (the largest of the runs).

Run: ``.venv/bin/python bench/bibliography.py [--entries 50000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

JOURNALS = [
    ("nejm", "New England Journal of Medicine"), ("lancet", "The Lancet"),
    ("jama", "JAMA"), ("bmj", "BMJ"), ("jaad", "Journal of the American Academy of Dermatology"),
    ("jaci", "Journal of Allergy and Clinical Immunology"), ("bjd", "British Journal of Dermatology"),
    ("ard", "Annals of the Rheumatic Diseases"), ("ajrccm", "American Journal of Respiratory and Critical Care Medicine"),
]
FAMILIES = ["Simpson", "Bieber", "Guttman-Yassky", "Beck", "Blauvelt", "Cork", "Silverberg",
            "Deleuran", "Kataoka", "Lacour", "Kingo", "Worm", "Poulin", "Wollenberg", "Soo",
            "Graham", "Pirozzi", "Akinlade", "Staudinger", "Mastey", "Eckert", "Gadkari",
            "Stahl", "Yancopoulos", "Ardeleanu", "M{\\\"u}ller", "Bostr{\\\"o}m", "Kem{\\'e}ny",
            "Garc{\\'\\i}a", "H{\\o}jen-S{\\o}rensen", "de Bruin-Weller", "van der Schaft",
            "Nguyen", "Zhang", "Wang", "Li", "Tanaka", "Kowalski", "O'Brien", "Smith"]
GIVEN = ["Eric L.", "Thomas", "Emma", "Lisa A.", "Andrew", "Michael J.", "Jonathan I.", "Mette",
         "Yoko", "Jean-Philippe", "K{\\\"u}lli", "Margitta", "Yves", "Andreas", "Neil M. H.",
         "Marjolein", "Lajos", "Ramon M.", "Wei", "Hiroshi", "Anna", "J."]
WORDS = ["dupilumab", "efficacy", "safety", "moderate", "severe", "atopic", "dermatitis", "asthma", "arthralgia", "joint", "pain", "interleukin", "inhibition", "randomised", "controlled", "trial", "placebo", "phase", "adults", "adolescents", "long-term", "outcomes", "biologic", "therapy", "inflammation", "cohort", "retrospective", "analysis", "patients", "treatment", "response", "eczema", "psoriatic", "arthritis", "enthesitis", "adverse", "events", "real-world", "evidence", "systematic", "review", "meta-analysis"]
ACRONYMS = ["{LIBERTY AD CHRONOS}", "{IL-4}", "{IL-13}", "{SOLO 1}", "{COVID-19}", "{TNF}"]


def _title(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    if rng.random() < 0.4:
        words.insert(rng.randint(0, len(words)), rng.choice(ACRONYMS))
    if rng.random() < 0.2:
        words.append("(" + rng.choice(ACRONYMS) + "): a 1-year, randomised, double-blinded trial")
    words[0] = words[0].capitalize()
    return " ".join(words)


def _authors(rng: random.Random) -> str:
    count = rng.choice([1, 2, 3, 3, 4, 4, 5, 6, 6, 8, 10, 15])
    names = [f"{rng.choice(FAMILIES)}, {rng.choice(GIVEN)}" for _ in range(count)]
    if rng.random() < 0.05:
        names.append("{SOLO 1 and SOLO 2 Investigators}")
    return " and ".join(names)


def _abstract(rng: random.Random) -> str:
    sentences = []
    for label in ("Background", "Methods", "Results", "Conclusions"):
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20)))
        sentences.append(f"{label}: {body} (P < 0.001; 95\\% CI, 1.2--3.4).")
    return " ".join(sentences)


def _entry(n: int, rng: random.Random) -> str:
    year = rng.randint(1985, 2024)
    kind = rng.choices(["article", "book", "incollection", "inproceedings", "techreport", "misc"],
                       [88, 3, 3, 3, 2, 1])[0]
    family = "".join(c for c in rng.choice(FAMILIES).lower() if c.isalpha())
    key = f"{family[:10]}{year}{n}"
    fields = [("author", "{" + _authors(rng) + "}"), ("title", "{" + _title(rng) + "}")]
    if kind == "article":
        macro, _ = rng.choice(JOURNALS)
        fields.append(("journal", macro))
    elif kind in ("incollection", "inproceedings"):
        if rng.random() < 0.3:
            fields.append(("crossref", "{proc" + str(n % 50) + "}"))
        else:
            fields.append(("booktitle", "{Proceedings of the " + rng.choice(WORDS).title() + " Congress}"))
    elif kind == "book":
        fields.append(("publisher", "{Springer}"))
    elif kind == "techreport":
        fields.append(("institution", "{World Health Organization}"))
    fields.append(("year", str(year) if rng.random() < 0.5 else "{" + str(year) + "}"))
    if kind == "article":
        start = rng.randint(1, 3000)
        fields += [("volume", "{" + str(rng.randint(1, 400)) + "}"),
                   ("number", "{" + str(rng.randint(1, 24)) + "}"),
                   ("pages", "{" + f"{start}--{start + rng.randint(3, 20)}" + "}")]
    if rng.random() < 0.9:
        fields.append(("doi", "{" + f"10.{rng.randint(1000, 9999)}/bench.{year}.{n:06d}" + "}"))
    if rng.random() < 0.7:
        fields.append(("pmid", "{" + str(20000000 + n) + "}"))
    if rng.random() < 0.2:
        fields.append(("abstract", "{" + _abstract(rng) + "}"))
    if rng.random() < 0.5:
        fields.append(("keywords", "{" + ", ".join(rng.sample(WORDS, 4)) + "}"))
    if rng.random() < 0.2:
        fields.append(("url", "{https://pubmed.ncbi.nlm.nih.gov/" + str(20000000 + n) + "/}"))
    body = ",\n".join(f"  {name:<9} = {value}" for name, value in fields)
    return f"@{kind}{{{key},\n{body}\n}}\n"


def generate(path: Path, entries: int, seed: int = 15) -> None:
    """Write a ``.bib`` of ``entries`` entries (plus @string macros and crossref targets)."""
    rng = random.Random(seed)
    parts = ["% generated by bench/bibliography.py\n"]
    parts += [f'@string{{{macro} = "{name}"}}\n' for macro, name in JOURNALS]
    parts.append("\n")
    for n in range(entries):
        parts.append(_entry(n, rng))
        parts.append("\n")
    for n in range(50):
        parts.append(f"@proceedings{{proc{n},\n  title = {{Proceedings of Congress {n}}},\n"
                     f"  publisher = {{Elsevier}},\n  year = {{{2000 + n % 24}}}\n}}\n\n")
    path.write_text("".join(parts), encoding="utf-8")


LOAD = """
import json, sys, time
start = time.perf_counter()
from citeflow.references.bibliography import load_bibliography
bib = load_bibliography(sys.argv[1])
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "entries": len(bib), "warnings": len(bib.warnings)}))
"""


def _load(bib: Path, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", LOAD, str(bib)], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def _pandoc(bib: Path) -> float:
    import pypandoc

    pandoc = pypandoc.get_pandoc_path()
    start = time.perf_counter()
    subprocess.run([pandoc, "-f", "bibtex", "-t", "csljson", str(bib), "-o", os.devnull], check=True)
    return time.perf_counter() - start


CHECK = """
import json, resource, sys, time
start = time.perf_counter()
from citeflow.checks.engine import check_manuscript
result = check_manuscript(sys.argv[1])
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "findings": len(result.findings), "mb": peak}))
"""

SENTENCES = (
    "Treatment with dupilumab reduced the signs of atopic dermatitis compared with placebo",
    "Arthralgia was reported in a minority of patients during the first year of treatment",
    "Studies show that joint pain may follow the start of biologic therapy",
    "The mechanism linking interleukin inhibition and enthesitis remains uncertain",
    "Most adverse events were mild and did not lead to discontinuation",
)


def write_manuscript(folder: Path, bib: Path, citations: int = 20) -> Path:
    """A short manuscript (about 600 words) citing ``citations`` entries of ``bib``, some
    sentences left without a citation: what a writer checks against a large library."""
    from citeflow.references.bibtex import entry_lines

    keys = sorted(entry_lines(bib.read_text(encoding="utf-8")))[::997][:citations]
    rng = random.Random(3)
    paragraphs = []
    for start in range(0, len(keys), 4):
        sentences = [f"{rng.choice(SENTENCES)} [@{key}]." for key in keys[start:start + 4]]
        sentences.append(rng.choice(SENTENCES) + ".")
        paragraphs.append(" ".join(sentences))
    path = folder / "paper.md"
    path.write_text(f"---\ntitle: Large library\nbibliography: {bib.name}\n---\n\n"
                    + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def _check(paper: Path, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", CHECK, str(paper)], env=env, check=True,
                         capture_output=True, text=True, cwd=paper.parent)
    return json.loads(out.stdout)


def _citeproc(paper: Path) -> float:
    import pypandoc

    pandoc = pypandoc.get_pandoc_path()
    start = time.perf_counter()
    subprocess.run([pandoc, paper.name, "--citeproc", "-t", "html", "-o", os.devnull], check=True,
                   cwd=paper.parent)
    return time.perf_counter() - start


def run(entries: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="citeflow-bench-") as tmp:
        folder = Path(tmp)
        bib = folder / "large.bib"
        generate(bib, entries)
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        pandoc = min(_pandoc(bib) for _ in range(repeat))
        colds, warms = [], []
        loaded: dict = {}
        for run_number in range(repeat):
            env["CITEFLOW_CACHE_DIR"] = str(folder / f"cache{run_number}")
            cold = _load(bib, env)
            warm = _load(bib, env)
            if cold["entries"] != warm["entries"] or cold["warnings"] != warm["warnings"]:
                raise SystemExit("the cached load differs from the fresh parse")
            colds.append(cold["seconds"])
            warms.append(warm["seconds"])
            loaded = cold
        # The whole check of a manuscript citing 20 of the entries (candidate references
        # ranked over all of them) against Pandoc's citeproc over the same file.
        paper = write_manuscript(folder, bib)
        citeproc = min(_citeproc(paper) for _ in range(repeat))
        check_colds, check_warms, cold_mb, warm_mb = [], [], [], []
        for run_number in range(repeat):
            env["CITEFLOW_CACHE_DIR"] = str(folder / f"check-cache{run_number}")
            cold_check, warm_check = _check(paper, env), _check(paper, env)
            check_colds.append(cold_check["seconds"])
            check_warms.append(warm_check["seconds"])
            cold_mb.append(cold_check["mb"])
            warm_mb.append(warm_check["mb"])
        figures = {
            "citeproc_s": citeproc,
            "check_cold_s": min(check_colds),
            "check_warm_s": min(check_warms),
            "check_cold_mb": max(cold_mb),
            "check_warm_mb": max(warm_mb),
            "entries": loaded["entries"],
            "megabytes": bib.stat().st_size / 1e6,
            "pandoc_s": pandoc,
            "cold_s": min(colds),
            "warm_s": min(warms),
        }
    figures["warm_to_cold"] = figures["warm_s"] / figures["cold_s"]
    figures["cold_to_pandoc"] = figures["cold_s"] / figures["pandoc_s"]
    figures["warm_to_pandoc"] = figures["warm_s"] / figures["pandoc_s"]
    figures["check_cold_to_citeproc"] = figures["check_cold_s"] / figures["citeproc_s"]
    figures["check_warm_to_citeproc"] = figures["check_warm_s"] / figures["citeproc_s"]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is shown")
    args = parser.parse_args(argv)
    f = run(args.entries, args.repeat)
    print(f"bibliography load: {f['entries']} entries, {f['megabytes']:.1f} MB of BibTeX "
          f"(best of {args.repeat})")
    print(f"  pandoc -f bibtex -t csljson  {f['pandoc_s']:7.2f} s  (baseline)")
    print(f"  cold (parse, cache written)  {f['cold_s']:7.2f} s  = {f['cold_to_pandoc']:.2f} x pandoc")
    print(f"  warm (cached)                {f['warm_s']:7.2f} s  = {f['warm_to_pandoc']:.2f} x pandoc"
          f"  = {f['warm_to_cold']:.3f} x cold")
    print("check of a 600-word manuscript citing 20 entries, candidates ranked over all of them")
    print(f"  pandoc --citeproc -t html     {f['citeproc_s']:7.2f} s  (baseline)")
    print(f"  citeflow check, empty cache   {f['check_cold_s']:7.2f} s  = "
          f"{f['check_cold_to_citeproc']:.2f} x citeproc (goal <= 1.5), peak {f['check_cold_mb']:.0f} MB")
    print(f"  citeflow check, cached        {f['check_warm_s']:7.2f} s  = "
          f"{f['check_warm_to_citeproc']:.2f} x citeproc (goal <= 1.5), peak {f['check_warm_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
