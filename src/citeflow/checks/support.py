"""Claim support rule (CF304): a cited work whose abstract shares nothing with the claim.

Reads the abstracts ``citeflow refresh`` wrote into ``citeflow.lock`` and compares each
sentence that cites something with the title and abstract of every work it cites
(:mod:`citeflow.claims.support`).
Offline, like the integrity rules: a project without a lock, or works whose abstract the
registries did not give, get no finding.
"""

from __future__ import annotations

from bisect import bisect_left

from ..claims.detect import masked_text
from ..claims.support import compare
from .base import Finding, Severity, rule
from .integrity import cites_locked_works, locked_work

#: Missing terms listed in a message before "..." (all of them are in the explanation).
SHOWN_TERMS = 6


@rule("CF304", "cited-work-may-not-support-claim", Severity.INFO)
def cited_work_may_not_support_claim(ctx) -> list[Finding]:
    """The cited work may not support this claim: its abstract shares nothing material with it.

    Where citeflow.lock holds the abstract of a cited work (``citeflow refresh`` records it
    from PubMed or Crossref), each sentence citing it is set against the work's title and abstract: the
    numbers it reports, the drugs, diseases, adverse events and outcomes it names (with the
    synonyms of candidate ranking: "joint pain" meets "arthralgia"), and its other key
    terms, leaving out words every study report uses ("patients", "significant"). When
    none of at least three such terms is found, the finding asks a reader to check the
    citation. ``citeflow check --explain`` lists the claim's terms the abstract lacks.

    What it can tell: the abstract is about something else (another drug, disease,
    population or outcome), as with a citation attached to the wrong sentence, a mistyped
    key or a fabricated reference. What it cannot tell: whether a work that shares terms
    with the claim supports it (the same drug named says nothing about the direction of an
    effect), or whether the full text supports what its abstract leaves out. It never says
    that a claim is supported. Works without an abstract in the lock are not compared.
    Turn it off with ``[check] ignore = ["CF304"]``.

    Example:
        Dupilumab reduced the signs of atopic dermatitis in adults [@wakefield1998ileal].
        -> CF304 the title and abstract of wakefield1998ileal (refs.bib:1) share no number,
           drug, disease, outcome or key term with this claim (atopic dermatitis
           (~atopic-dermatitis, ~skin-disease, ~allergy), dupilumab, adults): check that the
           work supports it
    """
    findings: list[Finding] = []
    if not cites_locked_works(ctx):  # no abstract to compare with
        return findings
    citations = sorted(ctx.citations, key=lambda c: c.start)
    starts = [c.start for c in citations]
    for sentence in ctx.sentences:
        # Every sentence that cites something states what the work should back, whether or
        # not the claim detector counts it as a claim.
        here = citations[bisect_left(starts, sentence.start):bisect_left(starts, sentence.end)]
        if not here:
            continue
        text = None
        for key in dict.fromkeys(c.key for c in here):
            work, where = locked_work(ctx, key)
            if work is None or not work.abstract.strip():
                continue
            text = text if text is not None else masked_text(sentence)
            title = next((r.title for _, r in work.found() if r.title), "")
            result = compare(text, title, work.abstract)
            if not result.shares_nothing:
                continue
            shown = ", ".join(str(t) for t in result.missing[:SHOWN_TERMS])
            if len(result.missing) > SHOWN_TERMS:
                shown += ", ..."
            message = (f"the title and abstract of {where} share no number, drug, disease, outcome "
                       f"or key term with this claim ({shown}): check that the work supports it")
            explanation = (f"compared {len(result.terms)} material terms of the claim with the "
                           f"title and the {result.abstract_words}-word abstract in citeflow.lock; "
                           "not found: " + "; ".join(f"{t} ({t.kind})" for t in result.missing))
            citation = next(c for c in here if c.key == key)
            findings.append(ctx.finding(citation.start, citation.end, message, sentence=sentence.text,
                                        explanation=explanation))
    return findings
