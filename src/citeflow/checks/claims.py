"""Claim rules (CF301–CF303): claims in the manuscript that no citation supports.

A claim sentence (see :mod:`citeflow.claims.detect` and the claim model,
:mod:`citeflow.claims.model`) is supported when it holds a Pandoc citation
or an identifier placeholder. Each unsupported claim gives exactly one finding, chosen by the
cue that made it a claim: a vague attribution gives CF302, a number or statistic CF303,
anything else CF301. The finding names the cue and, when the bibliography has relevant
entries, lists candidate references ranked for the sentence.
"""

from __future__ import annotations

from ..claims.detect import Claim
from .base import Finding, Severity, rule

_CODE_FOR_KIND = {"attribution": "CF302", "statistic": "CF303"}


def code_for(claim: Claim) -> str:
    """The rule an unsupported claim falls under."""
    return _CODE_FOR_KIND.get(claim.cue.kind, "CF301")


def _findings(ctx, code: str) -> list[Finding]:
    result = []
    claims = [claim for claim in ctx.claims if not claim.supported and code_for(claim) == code]
    ctx.rank_candidates(claim.candidate_query for claim in claims)
    for claim in claims:
        cue = claim.cue
        if code == "CF302":
            message = f'vague attribution "{cue.text}" without a citation: name and cite the source'
        elif code == "CF303":
            message = f'statistic "{cue.text}" without a citation'
        elif cue.kind == "assertion":
            message = (f"claim without a citation (a statement of fact, model confidence "
                       f"{claim.probability:.2f})")
        else:
            message = f'claim without a citation ({cue.kind} cue "{cue.text}")'
        suggestions = ctx.suggestions(*claim.candidate_query)
        if suggestions:
            message += "; candidates: " + "; ".join(str(s) for s in suggestions)
        result.append(ctx.finding(claim.start, claim.end, message, sentence=claim.text,
                                  cue=str(cue), suggestions=suggestions,
                                  explanation=claim.explanation()))
    return result


@rule("CF301", "claim-without-citation", Severity.WARNING)
def claim_without_citation(ctx) -> list[Finding]:
    """A sentence asserts something checkable but cites nothing.

    The sentence makes a comparative, causal or superlative assertion ("reduces",
    "revolutionized", "most widely prescribed"), a statement about efficacy or safety, or a
    plain statement of fact the claim model is confident needs a source ("is typically
    prescribed first-line"), and has neither a citation nor an identifier placeholder.
    ``citeflow check --explain`` shows the cue, the model's confidence and the features that
    weighed most; ``[check] claim_threshold`` sets how confident the model must be. Cite the work that supports it,
    soften it, or silence the block with ``<!-- citeflow: ignore CF301 reason="..." -->``.
    Sentences that are questions, headings, advice or about the article itself are never
    claims.

    Example:
        By blocking these pathways, dupilumab reduces inflammation and improves symptoms.
        -> CF301 claim without a citation (causal cue "reduces")
        Fixed: ... reduces inflammation and improves symptoms [@simpson2016two].
    """
    return _findings(ctx, "CF301")


@rule("CF302", "vague-attribution", Severity.WARNING)
def vague_attribution(ctx) -> list[Finding]:
    """A sentence leans on unnamed evidence or authority and cites nothing.

    Phrases such as "studies show", "research suggests", "experts say", "according to many
    online sources" or "studies on ScienceDirect" promise evidence without saying which.
    Name the studies and cite them. Extra phrases can be added under ``[check.cues]
    attribution = [...]``.

    Example:
        Emerging research suggests its involvement in musculoskeletal conditions.
        -> CF302 vague attribution "Emerging research suggests" without a citation
        Fixed: A case series described enthesitis after dupilumab [@jay2022review].
    """
    return _findings(ctx, "CF302")


@rule("CF303", "statistic-without-citation", Severity.WARNING)
def statistic_without_citation(ctx) -> list[Finding]:
    """A sentence gives a number, percentage or statistic and cites nothing.

    Percentages, p-values, confidence intervals, sample sizes, ratios and counts need a
    source. Numbers that are part of a name (IL-4, type 2, phase 3, Figure 2) do not count.

    Example:
        Arthralgia was reported in 3.2% of patients.
        -> CF303 statistic "3.2%" without a citation
        Fixed: Arthralgia was reported in 3.2% of patients [@sanofi2017dupixent].
    """
    return _findings(ctx, "CF303")
