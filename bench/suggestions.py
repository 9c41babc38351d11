"""Held-out check of candidate confidence: real cited sentences ranked against their own bibliography.

For each sentence of a real manuscript that cites entries of its own .bib, the citations are
removed and the bibliography is ranked for the sentence (with its paragraph, as
``citeflow check`` does). Prints how often a cited work is in the top three, how many
candidates are confident and how many of those are a cited work, and, with the cited works
taken out of the bibliography, for how many sentences a confident candidate is offered
anyway (each one is then a false lead). The defaults are the real manuscripts with
bibliographies in ../shared/corpus/manuscripts (not used to choose the confidence rule).

    .venv/bin/python bench/suggestions.py [MANUSCRIPT BIB]...
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

from citeflow.claims import suggest
from citeflow.claims.detect import paragraph_context, sentences
from citeflow.document.citations import find_citations
from citeflow.document.manuscript import read_manuscript
from citeflow.references.bibliography import load_bibliography

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "manuscripts"
DEFAULT = [("triglav_paper_DRAFT.md", "triglav_paper.bib"),
           ("pandoc-scholar_article.md", "pandoc-scholar_bibliography.bib"),
           ("quarto-elsevier_template.qmd", "quarto-elsevier_bibliography.bib")]
CITATION = re.compile(r"\s*\[[^\[\]]*@[^\[\]]*\]|(?<![\w@])@[\w:.-]+")


def main(argv: list[str]) -> int:
    pairs = ([(Path(a), Path(b)) for a, b in zip(argv[::2], argv[1::2])] if argv
             else [(CORPUS / a, CORPUS / b) for a, b in DEFAULT])
    n = top3 = confident = confident_cited = absent = 0
    for manuscript_path, bib_path in pairs:
        with tempfile.TemporaryDirectory() as tmp:  # read without the front matter's .bib
            copy = Path(tmp) / "paper.md"
            shutil.copy(manuscript_path, copy)
            manuscript = read_manuscript(copy)
        references = list(load_bibliography([bib_path]))
        keys = {r.key for r in references}
        citations = find_citations(manuscript)
        ranker = suggest.Suggester(references)
        for sentence in sentences(manuscript):
            cited = {c.key for c in citations if sentence.start <= c.start < sentence.end} & keys
            if not cited:
                continue
            text = CITATION.sub("", sentence.text).strip()
            paragraph = CITATION.sub("", paragraph_context(sentence))
            ranked = ranker.rank(text, paragraph, k=3)
            n += 1
            top3 += any(s.key in cited for s in ranked)
            sure = [s for s in ranked if ranker.is_confident(s, text)]
            confident += len(sure)
            confident_cited += sum(s.key in cited for s in sure)
            rest = suggest.Suggester([r for r in references if r.key not in cited])
            absent += any(rest.is_confident(s, text) for s in rest.rank(text, paragraph, k=3))
    print(f"{n} cited sentences: a cited work in the top three for {top3}; {confident} confident "
          f"candidates, {confident_cited} of them cited; cited works removed: a confident "
          f"candidate anyway for {absent}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
