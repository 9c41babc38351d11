"""Reference rules (CF101–CF106, CF113): citations and the bibliography agree with each other.

CF107–CF109 (retractions, corrections, registry disagreements) belong to this family too and
are added by a later module using the same registry.
"""

from __future__ import annotations

import bisect
import difflib
import re
from pathlib import Path

from ..document.manubot import bibliography_entry, manubot_key
from ..references.bibliography import WarningKind
from ..references.identifiers import InvalidIdentifier, normalize_doi, normalize_pmid, parse_identifier
from .base import Finding, Severity, rule
from .fixes import Applicability
from .placeholders import unresolved_items

# Keys that name an identifier or a Manubot source rather than a bibliography entry.
_IDENTIFIER_KEY = re.compile(r"^(?:doi|pmid|pmcid|pmc|pubmed|arxiv|isbn|url|wikidata)\s*:", re.I)

# Required fields by CSL type: (label, test on the Reference).
_AUTHOR = ("author", lambda r: bool(r.authors))
_AUTHOR_OR_EDITOR = ("author or editor", lambda r: bool(r.authors or r.editors))
_TITLE = ("title", lambda r: bool(r.title.strip()))
_YEAR = ("year", lambda r: r.year is not None)
_JOURNAL = ("journal", lambda r: bool(r.container.strip()))
_CONTAINER = ("booktitle", lambda r: bool(r.container.strip()))
_PUBLISHER = ("publisher", lambda r: bool(r.publisher.strip()))
_INSTITUTION = ("institution or school", lambda r: bool(r.publisher.strip()))
_URL = ("url", lambda r: bool(r.url.strip() or r.doi))

REQUIRED = {
    "article-journal": (_AUTHOR, _TITLE, _JOURNAL, _YEAR),
    "article": (_AUTHOR, _TITLE, _YEAR),
    "book": (_AUTHOR_OR_EDITOR, _TITLE, _PUBLISHER, _YEAR),
    "chapter": (_AUTHOR, _TITLE, _CONTAINER, _PUBLISHER, _YEAR),
    "paper-conference": (_AUTHOR, _TITLE, _CONTAINER, _YEAR),
    "thesis": (_AUTHOR, _TITLE, _INSTITUTION, _YEAR),
    "report": (_AUTHOR_OR_EDITOR, _TITLE, _INSTITUTION, _YEAR),
    "webpage": (_TITLE, _URL),
}
_DEFAULT_REQUIRED = (_TITLE,)


def _is_placeholder_key(spans: list[tuple[int, int]], citation) -> bool:
    """True for citations inside a placeholder (``[@doi:...]``, ``[@?]``); spans sorted."""
    index = bisect.bisect_right(spans, (citation.start, float("inf"))) - 1
    return index >= 0 and spans[index][0] <= citation.start < spans[index][1]


@rule("CF101", "unknown-citation-key", Severity.ERROR)
def unknown_citation_key(ctx) -> list[Finding]:
    """A citation uses a key that no bibliography entry has.

    Pandoc would print the key in bold with a "?" instead of a reference. The message
    suggests the closest existing keys; the closest becomes an unsafe fix (a typo is likely,
    but only the writer knows), applied by ``citeflow check --fix --unsafe-fixes``. Identifier keys (``@doi:...``, ``@pmid:...``) are
    placeholders, handled by CF102/CF202; a Manubot ``@url:`` key is this finding when no
    entry has that URL.

    Example:
        Dupilumab improved symptoms [@simpson2061two].
        -> CF101 unknown citation key "simpson2061two" (did you mean simpson2016two?)
    """
    bib = ctx.bibliography
    keys = bib.keys() if bib is not None else []
    spans = sorted((p.start, p.end) for p in ctx.placeholders)
    messages: dict[str, tuple[str, str | None]] = {}  # per key, however often it is cited
    result = []
    for citation in ctx.citations:
        if bib is not None and citation.key in bib:
            continue
        manubot = manubot_key(citation.key)
        if manubot is not None and manubot.kind == "url":
            if bibliography_entry(bib, manubot) is None:  # a URL is never fetched
                result.append(ctx.finding(citation.start, citation.end,
                                          f'unknown citation key "{citation.key}" (no bibliography '
                                          f'entry has this URL)'))
            continue
        if _IDENTIFIER_KEY.match(citation.key) or _is_placeholder_key(spans, citation):
            continue
        known = messages.get(citation.key)
        if known is None:
            message = f'unknown citation key "{citation.key}"'
            close = difflib.get_close_matches(citation.key, keys, n=2, cutoff=0.75)
            if close:
                message += f" (did you mean {' or '.join(close)}?)"
            elif bib is None or not len(bib):
                message += " (no bibliography is configured)"
            known = messages[citation.key] = (message, close[0] if close else None)
        message, closest = known
        fix = None
        if closest is not None:
            written = ctx.manuscript.text[citation.start:citation.end]
            if written.count(citation.key) == 1:
                fix = ctx.fix(f"cite @{closest} instead",
                              [(citation.start, citation.end, written.replace(citation.key, closest))],
                              Applicability.UNSAFE)
        result.append(ctx.finding(citation.start, citation.end, message, fix=fix))
    return result


@rule("CF102", "identifier-not-in-bibliography", Severity.WARNING)
def identifier_not_in_bibliography(ctx) -> list[Finding]:
    """An identifier placeholder names a work that is not in the bibliography yet.

    The metadata cache already holds the work, so ``citeflow resolve`` can add the entry
    and turn the placeholder into a citation without network access. (When the cache does
    not have it either, the finding is CF202.)

    Example:
        Dupilumab targets IL-4Rα [doi:10.1080/1744666X.2016.1193021].
        -> CF102 doi:10.1080/1744666x.2016.1193021 is not in the bibliography
    """
    return [
        ctx.finding(p.start, p.end,
                    f"{ident} is not in the bibliography (cached: `citeflow resolve` adds it)",
                    sentence=p.sentence())
        for p, ident, cached in unresolved_items(ctx) if cached
    ]


@rule("CF103", "malformed-identifier", Severity.ERROR)
def malformed_identifier(ctx) -> list[Finding]:
    """A DOI or PMID cannot be read, in the bibliography or in a placeholder.

    DOIs start with ``10.`` followed by a registrant code, a slash and a suffix; PMIDs are
    numbers of up to nine digits. The message says what is wrong.

    Example:
        doi = {10.1056NEJMoa1610020}   (in a .bib entry)
        -> CF103 malformed DOI "10.1056NEJMoa1610020" in simpson2016two: ...
    """
    result = []
    for placeholder in ctx.placeholders:
        for item in placeholder.items:
            if item.malformed:
                result.append(ctx.finding(placeholder.start, placeholder.end,
                                          f'malformed identifier "{item.raw}": {item.malformed}'))
    bib = ctx.bibliography
    for ref in bib or ():
        for field_name, normalize in (("doi", normalize_doi), ("pmid", normalize_pmid)):
            raw = (ref.fields or {}).get(field_name)
            if raw is None or not str(raw).strip() or normalize(raw) is not None:
                continue
            try:
                parse_identifier(str(raw), field_name)
                reason = "cannot be read"
            except InvalidIdentifier as exc:
                reason = getattr(exc, "reason", None) or str(exc)
            result.append(ctx.bib_finding(
                ref, f'malformed {field_name.upper()} "{raw}" in {ref.key}: {reason}'))
    return result


@rule("CF104", "duplicate-reference", Severity.WARNING)
def duplicate_reference(ctx) -> list[Finding]:
    """The same work is in the bibliography under two keys (same DOI).

    Citing both keys would list the work twice. Keep one key and cite it everywhere.

    Example:
        @article{simpson2016two, doi = {10.1056/NEJMoa1610020}, ...}
        @article{solo2016,       doi = {10.1056/nejmoa1610020}, ...}
        -> CF104 duplicate reference: solo2016 has the DOI of simpson2016two
    """
    bib = ctx.bibliography
    result = []
    for doi, refs in (bib.duplicates() if bib is not None else []):
        first = refs[0]
        for ref in refs[1:]:
            where = f" ({first.file.name}:{first.line})" if first.file and first.line else ""
            result.append(ctx.bib_finding(
                ref, f"duplicate reference: {ref.key} has DOI {doi}, like {first.key}{where}"))
    return result


@rule("CF105", "missing-required-field", Severity.WARNING)
def missing_required_field(ctx) -> list[Finding]:
    """A bibliography entry lacks a field its type needs for a complete reference.

    Journal articles need author, title, journal and year; books author or editor, title,
    publisher and year; chapters also the book title; theses the school; web pages a URL.

    Example:
        @article{jay2022review, title = {...}, year = {2022}}
        -> CF105 jay2022review (article-journal) is missing author, journal
    """
    result = []
    for ref in ctx.bibliography or ():
        required = REQUIRED.get(ref.type, _DEFAULT_REQUIRED)
        missing = [label for label, present in required if not present(ref)]
        if missing:
            result.append(ctx.bib_finding(
                ref, f"{ref.key} ({ref.type}) is missing {', '.join(missing)}"))
    return result


@rule("CF106", "unused-reference", Severity.INFO)
def unused_reference(ctx) -> list[Finding]:
    """A bibliography entry is never cited in the manuscript.

    Harmless for Pandoc (it lists only cited works) but often a sign of a citation that was
    lost in editing. Entries matched by an identifier placeholder count as used.

    Example:
        @book{worm2020efficacy, ...}  and no [@worm2020efficacy] in the text
        -> CF106 worm2020efficacy is not cited
    """
    bib = ctx.bibliography
    if bib is None:
        return []
    used = set()
    for citation in ctx.citations:
        ref = ctx.cited_entry(citation.key)
        if ref is not None:
            used.add(id(ref))
    for placeholder in ctx.placeholders:
        for item in placeholder.items:
            ref = None
            if item.identifier is not None:
                ref = bib.find(item.identifier)
            elif item.key:
                ref = bib.get(item.key.lstrip("@"))
            if ref is not None:
                used.add(id(ref))
    nocite = ctx.manuscript.front_matter.get("nocite")
    if nocite:
        if "@*" in str(nocite):
            return []
        for key in re.findall(r"@([\w:.#$%&\-+?<>~/]+)", str(nocite)):
            ref = bib.get(key)
            if ref is not None:
                used.add(id(ref))
    return [ctx.bib_finding(ref, f"{ref.key} is not cited")
            for ref in bib if id(ref) not in used]


@rule("CF113", "duplicate-key", Severity.ERROR)
def duplicate_key(ctx) -> list[Finding]:
    """Two bibliography entries have the same key (compared without case, as BibTeX does).

    citeflow checks the first entry while Pandoc renders the last one spelled exactly like
    the citation, so a citation of the key may show a different work from the one checked. The finding is on the repeated
    entry and names the line of the other; rename one key, or delete the copy.

    Example:
        @article{simpson2016two, ...}    (refs.bib line 1)
        @article{Simpson2016two, ...}    (refs.bib line 40)
        -> CF113 duplicate key "Simpson2016two" (also at line 1): citeflow checks that
           entry, Pandoc may render another
    """
    bib = ctx.bibliography
    result = []
    for warning in (bib.warnings if bib is not None else []):
        if warning.kind != WarningKind.DUPLICATE_KEY:
            continue
        first_file = Path(warning.first_file or warning.file)
        place = f"line {warning.first_line}" if warning.first_line else "an earlier line"
        if first_file != Path(warning.file):
            place = f"{first_file.name}:{warning.first_line}" if warning.first_line else first_file.name
        # the warning has the file and line of the repeated entry, all a bib finding needs
        result.append(ctx.bib_finding(
            warning, f'duplicate key "{warning.key}" (also at {place}): citeflow checks that '
                     "entry, Pandoc may render another"))
    return result
