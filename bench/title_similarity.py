"""Where the title threshold of CF109 comes from: how alike titles of the same work and of
different works are, once normalised (citeflow.references.integrity.title_similarity).

* Different works: random pairs of distinct titles from the real bibliographies under
  tests/data (JabRef, Zotero/Better BibTeX, plume-bib, a thesis, the sample project): the
  share of pairs at or above the threshold is the share of made-up or swapped references
  that CF109 would let through on the title alone.
* The same work written twice: Crossref against PubMed for the records under
  tests/data/integrity, and the registry title against titles as writers and tools wrote
  them (a bibliography, a shortened title in a real reference list, LaTeX markup), each
  with where it comes from.

Run: ``.venv/bin/python bench/title_similarity.py [--pairs 20000]``.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from citeflow.references.bibliography import load_bibliography  # noqa: E402
from citeflow.references.integrity import TITLE_THRESHOLD, normalise_title, title_similarity  # noqa: E402

WAKEFIELD = ("RETRACTED: Ileal-lymphoid-nodular hyperplasia, non-specific colitis, and pervasive "
             "developmental disorder in children")
#: (registry title, title as written elsewhere, where the second comes from)
SAME_WORK = [
    (WAKEFIELD, "Ileal-lymphoid-nodular hyperplasia, non-specific colitis, and pervasive developmental "
                "disorder in children.", "PubMed 9500320 ArticleTitle (tests/data/integrity/pubmed)"),
    ("Retraction—Ileal-lymphoid-nodular hyperplasia, non-specific colitis, and pervasive developmental "
     "disorder in children", "Retraction--Ileal-lymphoid-nodular hyperplasia, non-specific colitis, and "
     "pervasive developmental disorder in children.", "PubMed 20137807 ArticleTitle"),
    (WAKEFIELD, "Ileal-lymphoid-nodular hyperplasia and developmental disorder in children",
     "a shortened title in a real reference list (a citation checker's test document, found in public code)"),
    ("Identification of a novel cationic glycolipid in\n <i>Streptococcus agalactiae</i>\n that contributes "
     "to brain entry and meningitis", "Identification of a novel cationic glycolipid in \\emph{Streptococcus "
     "agalactiae} that contributes to brain entry and meningitis", "bioRxiv's Crossref title vs BibTeX markup"),
    ("The Atmospheric Bridge Communicated the δ&amp;lt;sup&amp;gt;13&amp;lt;/sup&amp;gt;C Decline during the "
     "Last Deglaciation to the Global Upper Ocean", "The atmospheric bridge communicated the {$\\delta^{13}$C} "
     "decline during the last deglaciation to the global upper ocean",
     "Copernicus' double-escaped Crossref title vs a LaTeX title"),
    ("Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of Microglia in the Basal Ganglia "
     "of Mice", "Methylphenidate exposure induces dopamine neuron loss and activation of microglia in the basal "
     "ganglia of mice", "title case vs sentence case"),
]


def bibliography_titles() -> list[str]:
    titles: set[str] = set()
    for path in sorted((ROOT / "tests" / "data").rglob("*.bib")):
        try:
            bib = load_bibliography([path], cache=False)
        except Exception:  # a test file meant to be broken
            continue
        titles.update(r.title for r in bib if len(normalise_title(r.title).split()) >= 3)
    return sorted(titles)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20000)
    args = parser.parse_args(argv)
    titles = bibliography_titles()
    rng = random.Random(7)
    scores = []
    while len(scores) < args.pairs:
        a, b = rng.sample(titles, 2)
        if normalise_title(a) != normalise_title(b):
            scores.append(title_similarity(a, b))
    scores.sort()
    above = sum(s >= TITLE_THRESHOLD for s in scores) / len(scores)
    print(f"different works: {len(scores)} random pairs of {len(titles)} real bibliography titles")
    for q in (0.5, 0.99, 0.999):
        print(f"  {q:.1%} of pairs score at most {scores[int(q * len(scores)) - 1]:.2f}")
    print(f"  highest {scores[-1]:.2f}; at or above the threshold {TITLE_THRESHOLD}: {above:.3%}")
    print("same work, written twice:")
    same = []
    for registry, written, where in SAME_WORK:
        score = title_similarity(written, registry)
        same.append(score)
        print(f"  {score:.2f}  {where}")
    print(f"  lowest {min(same):.2f} (threshold {TITLE_THRESHOLD})")
    return 0 if min(same) >= TITLE_THRESHOLD else 1


if __name__ == "__main__":
    sys.exit(main())
