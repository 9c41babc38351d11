"""Placeholder rules (CF201–CF202): citation holes left in the manuscript."""

from __future__ import annotations

from ..document.manubot import keep_manubot_keys
from ..document.placeholders import AUTHOR_YEAR, author_year_message, lookup_reference
from .base import Finding, Severity, rule
from .fixes import citation_edits


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
            if bib is not None and lookup_reference(bib, item.identifier) is not None:
                continue
            if item.literal_key and bib is not None and item.literal_key in bib:
                continue
            if item.literal_key and _in_bibliography_by_cache(ctx, item.identifier):
                continue  # a Manubot short DOI (or PMID) of a work the bibliography has
            yield placeholder, item.identifier, ctx.cached(item.identifier)


def _in_bibliography_by_cache(ctx, identifier) -> bool:
    """True when the cached record of ``identifier`` carries an identifier of a bibliography
    entry (``doi:10/98p`` whose long form the bibliography has): render finds it there."""
    record = ctx.cached_reference(identifier)
    bib = ctx.bibliography
    return record is not None and bib is not None and any(
        bib.find(ident) is not None for ident in record.identifiers())


def _manubot_keys_kept(ctx) -> bool:
    """Whether Manubot keys (``[@doi:...]``) are citations as written (``[resolve]
    rewrite_manubot`` off): then CF203 does not offer to rewrite them."""
    return ctx.config is None or not ctx.config.rewrite_manubot


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
                    author_year_message(ctx.bibliography, ident) if ident.kind == AUTHOR_YEAR else
                    f"{ident} is not in the bibliography or the cache: run `citeflow resolve`",
                    sentence=p.sentence())
        for p, ident, cached in unresolved_items(ctx) if not cached
    ]


@rule("CF203", "identifier-placeholder-in-bibliography", Severity.WARNING)
def identifier_placeholder_in_bibliography(ctx) -> list[Finding]:
    """An identifier placeholder names a work that the bibliography already holds.

    Pandoc prints ``[doi:...]`` exactly as written: it is not a citation until it reads
    ``[@key]``. The finding carries a safe fix that writes it so, with prefixes and
    locators kept and neighbouring placeholders joined into one bracket;
    ``citeflow check --fix`` applies it (as ``citeflow resolve --write`` does).

    Example:
        Dupilumab improved eczema [doi:10.1056/NEJMoa1610020].
        -> CF203 doi:10.1056/nejmoa1610020 is @simpson2016two in the bibliography
        Fixed: Dupilumab improved eczema [@simpson2016two].
    """
    bib = ctx.bibliography
    if bib is None or not len(bib):
        return []
    keys = {}
    kept = _manubot_keys_kept(ctx)
    placeholders = keep_manubot_keys(ctx.placeholders) if kept else ctx.placeholders
    for placeholder in placeholders:
        if placeholder.kind != "identifier":
            continue
        for item in placeholder.items:
            if item.identifier is None or item.key is not None:
                continue
            if item.literal_key and item.literal_key in bib:
                continue
            ref = lookup_reference(bib, item.identifier)
            if ref is not None:
                keys[item.identifier] = ref.key
    if not keys:
        return []
    planned = citation_edits(ctx.manuscript.text, placeholders, keys, bib)
    edits_of: dict[int, list] = {}
    for planned_edit in planned:
        for p in planned_edit.placeholders:
            edits_of.setdefault(id(p), []).append(planned_edit.edit)
    result = []
    for placeholder in placeholders:
        edits = edits_of.get(id(placeholder))
        if not edits:
            continue  # written as part of the bracket of a placeholder before it
        found = [f"{item.identifier} is @{keys[item.identifier]}" for item in placeholder.items
                 if item.identifier in keys]
        shown = next((e.new for e in edits if e.new), "")
        fix = ctx.fix(f"write {shown}", [(e.start, e.end, e.new) for e in edits])
        result.append(ctx.finding(placeholder.start, placeholder.end,
                                  "; ".join(found) + " in the bibliography",
                                  sentence=placeholder.sentence(), fix=fix))
    return result
