"""Placeholder rules (CF201–CF202): citation holes left in the manuscript."""

from __future__ import annotations

from .base import Finding, Severity, rule


@rule("CF201", "free-text-placeholder", Severity.WARNING)
def free_text_placeholder(ctx) -> list[Finding]:
    """A free-text citation placeholder is still in the text.

    "[citation needed]", "[CITE]", "TODO: cite ...", "(Note: Specific citations would be
    inserted here ...)" and patterns listed under ``[placeholders] extra`` say that a
    citation is missing without naming it. citeflow cannot fill them; the finding lists the
    bibliography entries that best match the sentence the placeholder stands for.

    Example:
        ... often mention joint pain as an adverse event. [citation needed]
        -> CF201 free-text placeholder "[citation needed]"; candidates: sanofi2017dupixent
        Fixed: ... as an adverse event [@sanofi2017dupixent].
    """
    result = []
    for placeholder in ctx.placeholders:
        if placeholder.kind != "freetext":
            continue
        sentence = placeholder.sentence()
        suggestions = ctx.suggestions(sentence, placeholder.paragraph()) if sentence else []
        text = " ".join(placeholder.text.split())
        if len(text) > 60:
            text = text[:57] + "..."
        message = f'free-text placeholder "{text}" left'
        if suggestions:
            message += "; candidates: " + ", ".join(s.key for s in suggestions)
        result.append(ctx.finding(placeholder.start, placeholder.end, message,
                                  sentence=placeholder.written_sentence(),
                                  suggestions=suggestions))
    return result


def unresolved_items(ctx):
    """(placeholder, identifier, cached) for identifier placeholders not in the bibliography."""
    bib = ctx.bibliography
    for placeholder in ctx.placeholders:
        if placeholder.kind != "identifier":
            continue
        for item in placeholder.items:
            if item.identifier is None:
                continue  # ordinary keys are CF101's, malformed ones CF103's
            if bib is not None and bib.find(item.identifier) is not None:
                continue
            if item.literal_key and bib is not None and item.literal_key in bib:
                continue
            yield placeholder, item.identifier, ctx.cached(item.identifier)


@rule("CF202", "unresolved-identifier-placeholder", Severity.WARNING)
def unresolved_identifier_placeholder(ctx) -> list[Finding]:
    """An identifier placeholder names a work that is neither in the bibliography nor cached.

    ``[doi:...]``, ``[@pmid:...]`` and the like become citations with ``citeflow resolve``.
    This one cannot be resolved offline: run ``citeflow resolve`` with network access, or
    check the identifier. (When the work is in the metadata cache the finding is CF102.)

    Example:
        Dupilumab targets IL-4Rα [pmid:99999999].
        -> CF202 pmid:99999999 is not in the bibliography or the cache
    """
    return [
        ctx.finding(p.start, p.end,
                    f"{ident} is not in the bibliography or the cache: run `citeflow resolve`",
                    sentence=p.sentence())
        for p, ident, cached in unresolved_items(ctx) if not cached
    ]
