"""Benchmark: `citeflow resolve` on a long manuscript against Pandoc parsing it to JSON.

A generated manuscript of about 100,000 words holds 1,000 identifier placeholders in the
forms writers use (``[doi:...]``, ``[pmid:...]``, ``(doi: ...)``, pasted doi.org links, several
in one bracket, with locators, ``doi:``/``PMID:`` labels in running text, PubMed, PMC and
publisher links, ``(PMID n, PMID m)`` lists, Markdown links to a DOI), in paragraphs, list items, block quotes and footnotes, all of
them for entries of a generated BibTeX bibliography of 1,000 references, so no network is
involved. In the same run it is

* resolved by :func:`citeflow.fixes.resolve.resolve_manuscript` (read, find placeholders, load the
  bibliography, look every identifier up, build the new text and the diff; writing the file
  included),
* parsed by Pandoc to its JSON AST (``pandoc -f markdown -t json`` through pypandoc).

Runs alternate and the best of ``--repeat`` is kept. Prints both times and the ratio
resolve/pandoc (goal: <= 1.0).

    .venv/bin/python bench/resolve_text.py [--repeat 3] [--words 100000] [--placeholders 1000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import pypandoc  # noqa: E402

from citeflow.fixes.resolve import resolve_manuscript  # noqa: E402

WORDS = ["dupilumab", "reduced", "itch", "and", "eczema", "severity", "in", "adults", "with", "moderate", "disease", "while", "joint", "pain", "was", "reported", "by", "a", "minority", "of", "patients", "during", "the", "first", "year", "of", "treatment", "and", "most", "events", "resolved", "without", "stopping", "the", "drug", "although", "some", "required", "rheumatology", "review", "and", "imaging", "type", "two", "inflammation", "drives", "barrier", "dysfunction", "in", "the", "skin", "and", "airways", "of", "atopic", "patients"]
SURNAMES = ("Simpson", "Blauvelt", "Castro", "Bachert", "Gandhi", "Worm", "Deleuran", "Beck",
            "Olbrich", "Woodbury", "Jay", "Thaci", "Silverberg", "Paller", "Guttman-Yassky")


def make_bibliography(count: int) -> str:
    """BibTeX for ``count`` references, each with a DOI and a PMID (every 3rd with a PMCID)."""
    entries = []
    for n in range(count):
        pmcid = f"  pmcid = {{PMC{700000 + n}}},\n" if n % 3 == 0 else ""
        entries.append(
            f"@article{{ref{n:04d},\n"
            f"  author = {{{SURNAMES[n % len(SURNAMES)]}, A. and Other, B.}},\n"
            f"  title = {{Study {n} of dupilumab and {WORDS[n % len(WORDS)]} in atopic dermatitis}},\n"
            f"  journal = {{Journal of Benchmarks}},\n  year = {{{1990 + n % 35}}},\n"
            f"  volume = {{{n % 90 + 1}}},\n  pages = {{{n}--{n + 9}}},\n"
            f"  doi = {{10.5555/Bench.{n:04d}}},\n  pmid = {{{30000000 + n}}},\n{pmcid}}}\n"
        )
    return "\n".join(entries)


def _placeholder(rng: random.Random, references: int) -> tuple[str, int]:
    """One placeholder in a random form, and how many identifiers it holds."""
    n = rng.randrange(references)
    form = rng.randrange(14)
    if form == 0:
        return f"[doi:10.5555/bench.{n:04d}]", 1
    if form == 1:
        return f"[pmid:{30000000 + n}]", 1
    if form == 2:
        return f"(doi: 10.5555/BENCH.{n:04d})", 1
    if form == 3:
        return f"https://doi.org/10.5555/bench.{n:04d}", 1
    if form == 4:
        return f"[see doi:10.5555/bench.{n:04d}, p. {n % 40 + 1}]", 1
    if form == 5:
        m = (n + 1) % references
        return f"[doi:10.5555/bench.{n:04d}; pmid:{30000000 + m}]", 2
    k = n - n % 3
    if form == 6:
        return f"[@pmcid:PMC{700000 + k}]", 1
    if form == 7:
        return f"doi: 10.5555/bench.{n:04d}", 1
    if form == 8:
        return f"PMID: {30000000 + n}", 1
    if form == 9:
        return f"https://pubmed.ncbi.nlm.nih.gov/{30000000 + n}/", 1
    if form == 10:
        return f"(https://pmc.ncbi.nlm.nih.gov/articles/PMC{700000 + k}/)", 1
    if form == 11:
        return f"https://onlinelibrary.wiley.com/doi/full/10.5555/bench.{n:04d}", 1
    if form == 12:
        m = (n + 1) % references
        return f"(PMID {30000000 + n}, PMID {30000000 + m})", 2
    return f"[{SURNAMES[n % len(SURNAMES)]} et al.](https://doi.org/10.5555/bench.{n:04d})", 1


def make_manuscript(words: int, placeholders: int, references: int, seed: int = 7) -> str:
    """A Markdown manuscript of about ``words`` words with ``placeholders`` identifiers."""
    rng = random.Random(seed)
    lines = ["---", "title: Benchmark manuscript", "bibliography: refs.bib", "---", ""]
    per_block = 60
    blocks = max(words // per_block, 1)
    # Spread the identifiers over the blocks at random.
    rng = random.Random(seed)
    pending: list[list[str]] = [[] for _ in range(blocks)]
    placed = 0
    while placed < placeholders:
        text, held = _placeholder(rng, references)
        if placed + held > placeholders:
            text, held = f"[doi:10.5555/bench.{rng.randrange(references):04d}]", 1
        pending[rng.randrange(blocks)].append(text)
        placed += held
    footnotes = []
    for b in range(blocks):
        body = [rng.choice(WORDS) for _ in range(per_block)]
        for text in pending[b]:
            body.insert(rng.randrange(1, len(body)), text)
        sentence = " ".join(body)
        sentence = sentence[0].upper() + sentence[1:] + "."
        kind = b % 10
        if kind == 0:
            lines += [f"## Section {b // 10 + 1}", ""]
        if kind == 3:  # a list: the text split over two items at a word boundary
            half = len(body) // 2
            lines += [f"- {' '.join(body[:half])}.", f"- {' '.join(body[half:])}.", ""]
        elif kind == 6:
            lines += [f"> {sentence}", ""]
        elif kind == 8:  # a short paragraph whose footnote holds the rest
            lines += [f"{' '.join(body[:6]).capitalize()}.[^n{b}]", ""]
            footnotes.append(f"[^n{b}]: {' '.join(body[6:])}.")
        else:
            lines += [sentence, ""]
    lines += footnotes
    return "\n".join(lines) + "\n"


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--placeholders", type=int, default=1000)
    parser.add_argument("--references", type=int, default=1000)
    args = parser.parse_args(argv if argv is not None else [])

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "citeflow.toml").write_text("", encoding="utf-8")
        (folder / "refs.bib").write_text(make_bibliography(args.references), encoding="utf-8")
        text = make_manuscript(args.words, args.placeholders, args.references)
        path = folder / "paper.md"
        words = len(text.split())

        def resolve_once() -> None:
            path.write_text(text, encoding="utf-8")
            result = resolve_manuscript(path, write=True, offline=True)
            if result.unresolved or result.freetext:
                raise SystemExit(f"benchmark manuscript not fully resolved: {result.unresolved[:3]}")
            resolve_once.identifiers = sum(rep.new.count("@") for rep in result.replacements)

        def pandoc_once() -> None:
            pypandoc.convert_text(text, "json", format="markdown")

        pandoc_once()  # warm up (Pandoc binary and page cache)
        resolve_times, pandoc_times = [], []
        for _ in range(max(args.repeat, 1)):
            resolve_times.append(_time(resolve_once))
            pandoc_times.append(_time(pandoc_once))
        best_resolve, best_pandoc = min(resolve_times), min(pandoc_times)
    ratio = best_resolve / best_pandoc
    print(f"resolve (text): {words} words, {args.placeholders} identifiers in placeholders "
          f"({resolve_once.identifiers} citations written), {args.references} references; "
          f"best of {args.repeat}")
    print(f"  citeflow resolve          {best_resolve:7.2f} s")
    print(f"  pandoc -t json            {best_pandoc:7.2f} s")
    print(f"  ratio resolve/pandoc      {ratio:7.2f}   (goal <= 1.0)")
    return 0 if ratio <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
