"""Benchmark: `check` and `resolve` on pathological manuscripts against normal prose.

A manuscript written to make citeflow slow (a line of thousands of spaces, a list nested
hundreds deep, thousands of placeholders in one paragraph, ``[doi:10.1/`` repeated without a
closing bracket, unclosed brackets and parentheses, one very long line, sentences dense with
claim cues, abbreviations that never end a sentence) must cost about what a normal
manuscript of the same size costs. The normal manuscript is built, in the same run, by
repeating the paragraphs of ``manuscripts/dupixent-joint-pain.md`` (real prose with claims
and a placeholder) up to the same number of characters.

Each input is timed in a fresh child process (so no cache of an earlier run helps), through
the library functions the CLI uses: :func:`citeflow.checks.engine.check_manuscript` with the
project's settings (candidate ranking included) and :func:`citeflow.fixes.resolve.resolve_manuscript`
offline, without writing (free-text candidates included). The best of ``--repeat`` runs is
kept. Prints, per input, both times and the ratios pathological/normal (goal: every ratio
<= 3).

    .venv/bin/python bench/adversarial.py [--repeat 3] [--only NAME ...] [--src DIR] [--timeout S]

``--src`` runs another copy of the code (a ``src`` folder) for a before/after comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "manuscripts" / "dupixent-joint-pain.md"
BIB = ROOT / "references" / "dupilumab.bib"
FRONT = "---\ntitle: Adversarial input\nbibliography: refs.bib\n---\n\n"
GOAL = 3.0

SENTENCE = "Dupilumab reduces joint pain in adults with atopic dermatitis"


def _repeat(unit: str, count: int, joiner: str = "") -> str:
    return joiner.join([unit] * count)


#: name -> (what it is, the manuscript body)
CORPUS: dict[str, tuple[str, Callable[[], str]]] = {
    "spaces-line": ("a line of 3,000 spaces then a word, after a heading",
                    lambda: "# Joint pain\n" + " " * 3000 + "x\n"),
    "spaces-table": ("3,000 spaces before a table-like line",
                     lambda: "# Joint pain\n" + " " * 3000 + "| a | b\n"),
    "spaces-inline": ("3,000 spaces and tabs inside a sentence",
                      lambda: f"{SENTENCE}" + _repeat(" \t", 1500) + "[doi:10.1/x] e.g. more.\n"),
    "nested-list": ("a list nested 400 deep",
                    lambda: "".join(f"{'  ' * i}- {SENTENCE} item {i}.\n" for i in range(400))),
    "nested-quote": ("a block quote nested 2,000 deep",
                     lambda: _repeat("> ", 2000) + SENTENCE + ".\n"),
    "citation-needed": ("[citation needed] 6,000 times in one paragraph",
                        lambda: SENTENCE + _repeat(" [citation needed]", 6000) + ".\n"),
    "notes": ("'(Note: citations would be inserted here.)' 2,000 times in one paragraph",
              lambda: SENTENCE + ". " + _repeat("(Note: citations would be inserted here.)", 2000, " ")
              + "\n"),
    "placeholders-mixed": ("3,000 sentences with a placeholder each, one paragraph",
                           lambda: _repeat(f"{SENTENCE} [citation needed]. Studies show 50% "
                                           "benefit (ref). TODO: cite this", 1000, " ") + "\n"),
    "doi-unclosed": ("'[doi:10.1/' 10,000 times", lambda: _repeat("[doi:10.1/", 10000) + "\n"),
    "paren-doi-unclosed": ("'(doi: 10.1/' 10,000 times", lambda: _repeat("(doi: 10.1/", 10000) + "\n"),
    "brackets-unclosed": ("40,000 '[' then 40,000 '('",
                          lambda: "x " + "[" * 40000 + "\n\ny " + "(" * 40000 + "\n"),
    "cite-unclosed": ("'[see @a' 10,000 times", lambda: _repeat("[see @a", 10000) + "\n"),
    "brackets-nested": ("'[doi:10.1234/x ' nested 6,000 deep, never a placeholder",
                        lambda: _repeat("[doi:10.1234/x ", 6000) + "; ;" + "]" * 6000 + "\n"),
    "todo-unclosed": ("'[TODO' then 'cite' 20,000 times", lambda: "[TODO " + _repeat("cite ", 20000) + "\n"),
    "note-unclosed": ("'(Note: citations' 5,000 times",
                      lambda: _repeat("(Note: citations ", 5000) + "\n"),
    "long-line": ("one 100,000-character sentence of prose",
                  lambda: _repeat("dupilumab and joint pain in adults with eczema", 2100, " ") + ".\n"),
    "long-word": ("one 100,000-character word", lambda: "a" * 100000 + ".\n"),
    "one-paragraph": ("the sample's prose as one 100,000-character paragraph",
                      lambda: " ".join(line.lstrip("-# ") for line in normal_body(100000).splitlines()
                                       if line.strip()) + "\n"),
    "long-number": ("one 100,000-digit number", lambda: "1" * 100000 + ".\n"),
    "number-spaces": ("a number, 100,000 spaces, then 'times'",
                      lambda: "Studies show that 1" + " " * 100000 + "x times more.\n"),
    "advice-label": ("'Tip: ' and a 100,000-digit label", lambda: "Tip: " + "1" * 100000 + ": talk to a doctor.\n"),
    "dense-cues": ("claim cues in every word, one sentence",
                   lambda: _repeat("studies show more than 50% of patients reported higher risk "
                                   "than placebo and the most effective treatment causes", 800)
                   + ".\n"),
    "abbreviations": ("'see Fig. 2 e.g. A' 10,000 times, one paragraph, with a placeholder",
                      lambda: "TODO: cite " + _repeat("see Fig. 2 e.g. A", 10000, " ") + ".\n"),
    "full-stops": ("'A. ' 30,000 times (initials) with a placeholder",
                   lambda: "[citation needed] " + _repeat("A.", 30000, " ") + "\n"),
    "at-signs": ("'@' and '@a' 20,000 times", lambda: _repeat("@a @", 20000, " ") + "\n"),
    "dois-bare": ("'10.1234/' 10,000 times and doi.org links",
                  lambda: _repeat("10.1234/x https://doi.org/10.1234/", 5000, " ") + "\n"),
    "urls-chained": ("'https://doi.org/10.1/a)' 8,000 times without a space",
                     lambda: _repeat("https://doi.org/10.1/a)", 8000) + "\n"),
    "urls-open": ("'https://pubmed.ncbi.nlm.nih.gov/1/(' 6,000 times without a space",
                  lambda: _repeat("https://pubmed.ncbi.nlm.nih.gov/1/(", 6000) + "\n"),
    "labels-dense": ("'PMID: 1, doi: 10.1/x PMC1234 arXiv:1 PII S' 4,000 times",
                     lambda: _repeat("PMID: 1, doi: 10.1/x PMC1234 arXiv:1 PII S", 4000, " ") + "\n"),
    "doi-label-open": ("'doi: 10.1/(' 10,000 times without a space",
                       lambda: _repeat("doi: 10.1/(", 10000) + "\n"),
    "pmid-list-nested": ("'(PMID 1, ' nested 5,000 deep, then closed",
                         lambda: _repeat("(PMID 1, ", 5000) + "x" + ")" * 5000 + "\n"),
    "id-links": ("'[x](https://pubmed.ncbi.nlm.nih.gov/1/)' 5,000 times",
                 lambda: _repeat("[x](https://pubmed.ncbi.nlm.nih.gov/1/)", 5000, " ") + "\n"),
    "hyphen-names": ("'A-' 50,000 times, then ' et al. (2016)'",
                     lambda: _repeat("A-", 50000) + "A et al. (2016)\n"),
    "author-years": ("'(Simpson et al., 2016)' 5,000 times",
                     lambda: _repeat("Dupilumab helps (Simpson et al., 2016).", 5000, " ") + "\n"),
    "code-ticks": ("40,000 backticks and dollar signs",
                   lambda: "x " + "`" * 20000 + " " + "$ " * 10000 + "\n"),
    "html-open": ("'<a ' and '<!--' 10,000 times",
                  lambda: _repeat("<a x=1 ", 10000) + _repeat(" <!-- ", 5000) + "\n"),
    "link-unclosed": ("'](' and '[x](' 10,000 times",
                      lambda: _repeat("[x](", 10000) + _repeat("](", 10000) + "\n"),
    "table-rows": ("a 3,000-row table", lambda: "| a | b |\n|---|---|\n"
                   + _repeat(f"| {SENTENCE} [citation needed] | 50% |\n", 3000)),
    "crlf-blank": ("50,000 CRLF line breaks and spaces", lambda: _repeat(" \r\n", 50000) + "x\r\n"),
    "fences-unclosed": ("5,000 unclosed code fences", lambda: _repeat("```\n", 5000) + "x\n"),
    "list-markers": ("20,000 list markers on one line", lambda: _repeat("- ", 20000) + "x\n"),
}


def normal_body(size: int) -> str:
    """Paragraphs of the sample manuscript repeated up to ``size`` characters."""
    text = SAMPLE.read_text(encoding="utf-8")
    body = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S).strip() + "\n\n"
    copies = body * (size // len(body) + 1)
    cut = copies.rfind("\n\n", 0, max(size, 1))
    return copies[: cut + 2] if cut > 0 else copies[:size]


CHILD = r"""
import json, sys, time
from pathlib import Path
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
from citeflow.checks.engine import CheckSettings, check_manuscript
from citeflow.config import load_config
from citeflow.fixes.resolve import resolve_manuscript

def run(path):
    path = Path(path)
    config = load_config(path.parent)
    start = time.perf_counter()
    result = check_manuscript(path, config, settings=CheckSettings.from_config(config))
    check = time.perf_counter() - start
    start = time.perf_counter()
    resolved = resolve_manuscript(path, config=config, offline=True, write=False)
    resolve = time.perf_counter() - start
    return {"check": check, "resolve": resolve, "findings": len(result.findings),
            "replacements": len(resolved.replacements), "freetext": len(resolved.freetext)}

run(sys.argv[2])  # warm up: imports, compiled expressions, the bibliography's analysis
print(json.dumps({"normal": run(sys.argv[3]), "adversarial": run(sys.argv[4])}))
"""


def measure(src: str, folder: Path, adversarial: Path, normal: Path, timeout: float) -> dict | None:
    env = dict(os.environ, CITEFLOW_OFFLINE="1", CITEFLOW_CACHE_DIR=str(folder / "cache"))
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, src, str(folder / "warm.md"), str(normal), str(adversarial)],
            capture_output=True, text=True, timeout=timeout, env=env, check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise SystemExit(f"child failed on {adversarial.name}:\n{done.stderr}")
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="names of inputs to run (default: all)")
    parser.add_argument("--src", default="", help="a src folder to import citeflow from")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per child process")
    args = parser.parse_args(argv)
    names = args.only or list(CORPUS)
    unknown = [n for n in names if n not in CORPUS]
    if unknown:
        parser.error(f"unknown input {unknown[0]!r}; known: {', '.join(CORPUS)}")

    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="citeflow-adversarial-") as tmp:
        folder = Path(tmp)
        (folder / "citeflow.toml").write_text("", encoding="utf-8")
        (folder / "refs.bib").write_text(BIB.read_text(encoding="utf-8"), encoding="utf-8")
        (folder / "warm.md").write_text(FRONT + normal_body(3000), encoding="utf-8")
        print(f"{'input':<20} {'chars':>8} {'check s':>9} {'normal':>8} {'ratio':>7} "
              f"{'resolve s':>10} {'normal':>8} {'ratio':>7}  findings")
        for name in names:
            what, build = CORPUS[name]
            body = build()
            adversarial = folder / f"{name}.md"
            normal = folder / f"{name}.normal.md"
            adversarial.write_bytes((FRONT + body).encode("utf-8"))
            normal.write_bytes((FRONT + normal_body(len(body))).encode("utf-8"))
            best: dict[str, dict[str, float]] | None = None
            for _ in range(max(args.repeat, 1)):
                result = measure(args.src, folder, adversarial, normal, args.timeout)
                if result is None:
                    best = None
                    break
                if best is None:
                    best = result
                else:
                    for side in ("normal", "adversarial"):
                        for command in ("check", "resolve"):
                            best[side][command] = min(best[side][command], result[side][command])
            if best is None:
                print(f"{name:<20} {len(body):>8}   more than {args.timeout:.0f} s ({what})")
                worst = float("inf")
                continue
            bad, good = best["adversarial"], best["normal"]
            ratios = [bad[c] / max(good[c], 1e-9) for c in ("check", "resolve")]
            worst = max(worst, *ratios)
            print(f"{name:<20} {len(body):>8} {bad['check']:>9.3f} {good['check']:>8.3f} "
                  f"{ratios[0]:>7.2f} {bad['resolve']:>10.3f} {good['resolve']:>8.3f} "
                  f"{ratios[1]:>7.2f}  {bad['findings']} vs {good['findings']}")
    print(f"worst ratio: {worst:.2f} (goal <= {GOAL:g})")
    return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
