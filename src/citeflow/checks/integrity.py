"""Reference-integrity rules (CF107–CF112, CF114): what the registries say about cited works.

Every rule here reads ``citeflow.lock`` at the project root (written by ``citeflow
refresh``) and opens no connection. A finding sits on each place the work is cited, names
the bibliography key and the line of its entry, and carries the notices it rests on
(``Finding.notices``, shown in JSON and SARIF reports). How records are judged is in
:mod:`citeflow.references.integrity`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..document.citations import Citation
from ..references.integrity import (
    DEFAULT_MAX_AGE_DAYS,
    Assessment,
    Certainty,
    NoticeInfo,
    assess,
    checkable,
    disagreements,
    lock_max_age_days,
    notice_kind,
    primary_notice,
    unchecked_reason,
)
from ..references.lock import LOCK_NAME, Lock, LockedWork, Source, days_since, load_lock
from ..references.reference import Reference
from .base import RULES, Finding, Severity, rule
from .fixes import Applicability, citation_key_text

#: A work last checked more than this many days ago is reported by CF114
#: (``[check] lock_max_age_days``).
MAX_AGE_DAYS = DEFAULT_MAX_AGE_DAYS


@dataclass
class _Cited:
    """A bibliography entry cited in the manuscript, where, and what the lock says."""

    reference: Reference
    citations: list[Citation] = field(default_factory=list)
    work: LockedWork | None = None
    assessment: Assessment | None = None


@dataclass
class _State:
    root: Path
    lock: Lock | None
    cited: list[_Cited]
    by_reference: dict[int, _Cited] | None = None


def _state(ctx) -> _State:
    """The lock and the cited works, worked out once per manuscript check."""
    state = getattr(ctx, "_integrity_state", None)
    if state is not None:
        return state
    from ..paths import project_root

    config = ctx.config
    if ctx.manuscript.path is not None and config is not None:
        root = project_root(ctx.manuscript.path, config)
    elif config is not None and config.path is not None:
        root = Path(config.root)
    else:
        root = ctx.manuscript.folder
    lock = load_lock(Path(root) / LOCK_NAME)
    by_key: dict[int, _Cited] = {}
    bib = ctx.bibliography
    for citation in ctx.citations:
        ref = ctx.cited_entry(citation.key) if bib is not None else None
        if ref is None:
            continue
        by_key.setdefault(id(ref), _Cited(ref)).citations.append(citation)
    cited = list(by_key.values())
    if lock is not None:
        for item in cited:
            item.work = lock.find(item.reference)
            if item.work is not None:
                item.assessment = assess(item.work)
    state = _State(Path(root), lock, cited)
    ctx._integrity_state = state
    return state


def _where(state: _State, ref: Reference) -> str:
    """``simpson2016two (references/dupilumab.bib:12)``."""
    if ref.file is None:
        return ref.key
    path = Path(ref.file)
    try:
        shown = path.resolve().relative_to(state.root.resolve()).as_posix()
    except ValueError:
        shown = path.name
    return f"{ref.key} ({shown}:{ref.line})" if ref.line else f"{ref.key} ({shown})"


def _severity(ctx, code: str, default: Severity) -> Severity:
    """The configured severity of ``code`` if ``[check.severity]`` sets one, else ``default``."""
    return ctx.settings.severity.get(code, default)


def _at_citations(ctx, item: _Cited, code: str, message: str, severity: Severity,
                  notices: Sequence[NoticeInfo] = (), fix_for=None) -> list[Finding]:
    """One finding per place the work is cited."""
    findings = []
    for citation in item.citations:
        fix = fix_for(citation) if fix_for is not None else None
        finding = ctx.finding(citation.start, citation.end, message, code=code, fix=fix)
        finding.severity = severity
        finding.notices = [n.as_dict() for n in notices]
        findings.append(finding)
    return findings


def _identifiers(ref: Reference) -> str:
    parts = [f"doi:{ref.doi}" if ref.doi else "", f"pmid:{ref.pmid}" if ref.pmid else "",
             f"pmcid:{ref.pmcid}" if ref.pmcid else ""]
    return ", ".join(p for p in parts if p)


def _others(notices: list[NoticeInfo], primary: NoticeInfo | None) -> str:
    rest = [n for n in notices if n is not primary]
    return "; also " + "; ".join(n.describe() for n in rest) if rest else ""


# --------------------------------------------------------------------------------------


@rule("CF107", "retracted-work-cited", Severity.ERROR)
def retracted_work_cited(ctx) -> list[Finding]:
    """A cited work has been retracted.

    Decided from citeflow.lock (``citeflow refresh``) with both registries: one authoritative
    signal suffices (a Retraction Watch retraction in Crossref, PubMed's "Retracted
    Publication" type D016441 or a RetractionIn link, or a retraction in place), while a
    single weaker one (a publisher's retraction link alone) is reported as a possible
    retraction, at warning level, with its evidence. Expressions of concern and errata are
    never called retractions (CF108). The message names the notice and its date.

    Example:
        MMR vaccination was linked to autism [@wakefield1998ileal].
        -> CF107 wakefield1998ileal (refs.bib:3) is retracted: retraction notice
           10.1016/s0140-6736(10)60175-4 (PMID 20137807) of 2010-02-06 (Retraction Watch:
           retraction; PubMed: RetractionIn)
    """
    state = _state(ctx)
    findings = []
    for item in state.cited:
        verdict = item.assessment
        if verdict is None or verdict.retraction is None:
            continue
        primary = primary_notice(verdict.retractions)
        if verdict.retraction is Certainty.CONFIRMED:
            what = primary.describe() if primary else verdict.retraction_evidence[0]
            message = f"{_where(state, item.reference)} is retracted: {what}"
            if primary is None and len(verdict.retraction_evidence) > 1:
                message += "; also " + "; ".join(verdict.retraction_evidence[1:])
            message += _others(verdict.retractions, primary)
            severity = _severity(ctx, "CF107", Severity.ERROR)
        else:
            message = (f"{_where(state, item.reference)} is possibly retracted: "
                       + "; ".join(verdict.retraction_evidence)
                       + " (no Retraction Watch or PubMed record confirms it)")
            severity = _severity(ctx, "CF107", Severity.WARNING)
        findings += _at_citations(ctx, item, "CF107", message, severity, verdict.retractions)
    return findings


@rule("CF108", "work-updated-by-notice", Severity.WARNING)
def work_updated_by_notice(ctx) -> list[Finding]:
    """A cited work was withdrawn (error), has an expression of concern (warning), or has a
    correction, erratum or new version (info).

    The message names each notice, its date and which source says so. A retracted work is
    reported by CF107 alone.

    Example:
        Methylphenidate caused neuron loss in mice [@sadasivan2012methylphenidate].
        -> CF108 sadasivan2012methylphenidate (refs.bib:9) has a correction: correction notice
           10.1371/annotation/c76da2c1-ccb8-4797-94c1-359d3ceceeda of 2012-05-08
    """
    state = _state(ctx)
    findings = []
    for item in state.cited:
        verdict = item.assessment
        if verdict is None or verdict.retraction is Certainty.CONFIRMED:
            continue
        where = _where(state, item.reference)
        if verdict.withdrawn:
            notices = verdict.withdrawals
            what = "; ".join(verdict.withdrawal_evidence) or "withdrawn"
            findings += _at_citations(ctx, item, "CF108", f"{where} was withdrawn: {what}",
                                      _severity(ctx, "CF108", Severity.ERROR), notices)
            continue
        if verdict.concerns:
            message = f"{where} has an expression of concern: " + "; ".join(n.describe() for n in verdict.concerns)
            rest = verdict.corrections + verdict.new_versions
            if rest:
                message += "; also " + "; ".join(n.describe() for n in rest)
            findings += _at_citations(ctx, item, "CF108", message, _severity(ctx, "CF108", Severity.WARNING),
                                      verdict.concerns + rest)
            continue
        if verdict.corrections or verdict.new_versions:
            parts = []
            if verdict.corrections:
                noun = "a correction" if len(verdict.corrections) == 1 else f"{len(verdict.corrections)} corrections"
                parts.append(f"has {noun}: " + "; ".join(n.describe() for n in verdict.corrections))
            if verdict.new_versions:
                parts.append("has a new version: " + "; ".join(n.describe() for n in verdict.new_versions))
            findings += _at_citations(ctx, item, "CF108", f"{where} " + "; ".join(parts),
                                      _severity(ctx, "CF108", Severity.INFO),
                                      verdict.corrections + verdict.new_versions)
    return findings


@rule("CF109", "bibliography-disagrees-with-registry", Severity.WARNING)
def bibliography_disagrees_with_registry(ctx) -> list[Finding]:
    """A bibliography entry disagrees with what the registries record for its identifier.

    Compared: the title (after dropping case, punctuation, LaTeX braces, accents and
    "RETRACTED:" prefixes, a similarity under 0.75 counts, and a title that leaves out the
    registry's subtitle agrees), the first author's family name, the year (any of print,
    online or issue), the journal (full and abbreviated names are the same journal:
    "N Engl J Med" = "The New England Journal of Medicine"), the volume and the first page.
    A field either side leaves empty is not compared. This catches mistyped references and
    references made up around a real identifier. The message shows both values.

    Example:
        @article{wakefield1998, doi = {10.1016/S0140-6736(97)11096-0}, year = {1997}, ...}
        -> CF109 wakefield1998 (refs.bib:1) disagrees with the registries: year '1997' in
           the bibliography, '1998' at Crossref
    """
    state = _state(ctx)
    findings = []
    for item in state.cited:
        if item.work is None:
            continue
        found = disagreements(item.reference, item.work)
        if not found:
            continue
        message = (f"{_where(state, item.reference)} disagrees with the registries: "
                   + "; ".join(d.describe() for d in found))
        findings += _at_citations(ctx, item, "CF109", message, _severity(ctx, "CF109", Severity.WARNING))
    return findings


@rule("CF110", "preprint-has-published-version", Severity.WARNING)
def preprint_has_published_version(ctx) -> list[Finding]:
    """A preprint is cited although a published version exists.

    The link comes from Crossref (``is-preprint-of``) or, for bioRxiv and medRxiv, from
    the servers' own API. The fix cites the published version instead: its key when the
    bibliography holds it, else ``@doi:...``, which ``citeflow resolve`` turns into a key
    with a new entry. The fix is unsafe (``check --fix --unsafe-fixes``): peer review may
    have changed what the article reports, so the citing sentence needs a reader's eye.

    Example:
        Gain switching widened the comb [@sullivan2025optical].
        -> CF110 sullivan2025optical (refs.bib:4) is a preprint; its published version is
           10.1364/oe.572415
    """
    state = _state(ctx)
    bib = ctx.bibliography
    findings = []
    for item in state.cited:
        verdict = item.assessment
        if verdict is None or verdict.published_version is None:
            continue
        relation = verdict.published_version
        published = bib.by_doi(relation.doi) if bib is not None else None
        journal = f" in {relation.journal}" if relation.journal else ""
        said = "the bioRxiv API" if relation.source == "biorxiv" else "Crossref"
        message = (f"{_where(state, item.reference)} is a preprint; its published version is "
                   f"{relation.doi}{journal} (according to {said})")
        if published is not None:
            message += f", in the bibliography as {published.key}"
            new_text = citation_key_text(published.key)
            fix_message = f"cite the published version {published.key} instead"
        else:
            new_text = f"@doi:{relation.doi}"
            fix_message = (f"cite the published version doi:{relation.doi} instead "
                           "(then `citeflow resolve` adds its entry)")
        text = ctx.manuscript.text

        def fix_for(citation: Citation, new_text=new_text, fix_message=fix_message, text=text):
            written = text[citation.start:citation.end]
            at = written.find("@")
            if at < 0:
                return None
            return ctx.fix(fix_message, [(citation.start + at, citation.end, new_text)], Applicability.UNSAFE)

        findings += _at_citations(ctx, item, "CF110", message, _severity(ctx, "CF110", Severity.WARNING),
                                  fix_for=fix_for)
    return findings


@rule("CF111", "cited-work-is-a-notice", Severity.WARNING)
def cited_work_is_a_notice(ctx) -> list[Finding]:
    """The cited work is itself a notice: a retraction notice, an erratum or correction, or
    an expression of concern.

    Usually the identifier was resolved to the notice rather than to the article it is
    about (the two share a title). The message names the work the notice is about.

    Example:
        MMR vaccination was studied [@editors2010retraction].
        -> CF111 editors2010retraction (refs.bib:7) is itself a retraction notice (of
           10.1016/s0140-6736(97)11096-0): cite the article, or cite the notice on purpose
    """
    state = _state(ctx)
    findings = []
    for item in state.cited:
        verdict = item.assessment
        if verdict is None or verdict.notice_of is None:
            continue
        kind = notice_kind(verdict.notice_of)
        about = f" (of {', '.join(verdict.notice_targets)})" if verdict.notice_targets else ""
        message = (f"{_where(state, item.reference)} is itself {kind}{about}: the identifier may point "
                   f"at the notice instead of the article ({'; '.join(verdict.notice_evidence)})")
        findings += _at_citations(ctx, item, "CF111", message, _severity(ctx, "CF111", Severity.WARNING))
    return findings


@rule("CF112", "work-unknown-to-registries", Severity.WARNING)
def work_unknown_to_registries(ctx) -> list[Finding]:
    """The registries do not know a cited work: could not verify that it exists.

    A DOI that both Crossref and doi.org answer "not found" for, a PMID that PubMed does
    not know, or, for an entry without identifiers, no Crossref record whose title matches.
    A fabricated reference looks like this; so does a mistyped identifier.

    Example:
        @article{smith2021made, doi = {10.1371/notarealdoi}, ...}
        -> CF112 smith2021made (refs.bib:12): could not verify that this work exists
           (Crossref and doi.org do not know doi:10.1371/notarealdoi)
    """
    state = _state(ctx)
    findings = []
    for item in state.cited:
        work = item.work
        if work is None:
            continue
        ref = item.reference
        crossref, doi_org, pubmed = (work.record(s) for s in (Source.CROSSREF, Source.DOI, Source.PUBMED))
        if any(r is not None and r.found for r in (crossref, doi_org, pubmed)):
            continue
        if ref.doi:
            if crossref is None or doi_org is None:
                continue  # not both asked: nothing to conclude
            why = f"Crossref and doi.org do not know doi:{ref.doi}"
        elif ref.pmid or ref.pmcid:
            if pubmed is None:
                continue
            why = f"PubMed does not know {_identifiers(ref)}"
        else:
            if crossref is None:
                continue
            best = f" (the closest title scores {crossref.match_score:.2f})" if crossref.match_score else ""
            why = f"no Crossref record matches its title{best}"
        findings += _at_citations(ctx, item, "CF112",
                                  f"{_where(state, ref)}: could not verify that this work exists ({why})",
                                  _severity(ctx, "CF112", Severity.WARNING))
    return findings


@rule("CF114", "work-not-checked-against-registries", Severity.INFO)
def work_not_checked(ctx) -> list[Finding]:
    """A cited work has not been checked against the registries, or was checked long ago.

    Retractions, corrections and registry mismatches (CF107–CF112) are judged from
    citeflow.lock, which ``citeflow refresh`` writes. A work missing from it (new, or not
    reachable at the last refresh), or last asked about more than ``[check]
    lock_max_age_days`` (30) ago, is not known to be sound: run ``citeflow refresh``.
    A project without citeflow.lock has not asked for these checks, and gets no finding;
    the first ``citeflow refresh`` writes the lock.

    Example:
        ... [@simpson2016two].
        -> CF114 simpson2016two (refs.bib:1) is not in citeflow.lock: not checked for
           retractions or corrections; run `citeflow refresh`
    """
    state = _state(ctx)
    to_check = [item for item in state.cited if checkable(item.reference)]
    if not to_check:
        return []
    if state.lock is None:
        return []  # the project has not opted in: `citeflow refresh` writes the first lock
    limit = _max_age(ctx)
    findings = []
    for item in to_check:
        citation = item.citations[0]
        where = _where(state, item.reference)
        missing = unchecked_reason(item.reference, item.work)
        if missing is not None:
            message = f"{where} {missing}: not checked for retractions or corrections; run `citeflow refresh`"
        else:
            assert item.work is not None
            age = days_since(item.work.checked)
            if age is None or age <= limit:
                continue
            message = (f"{where} was last checked against the registries {age} days ago "
                       f"({item.work.checked}); run `citeflow refresh`")
        findings.append(ctx.finding(citation.start, citation.end, message, code="CF114"))
    return findings


def _max_age(ctx) -> float:
    return lock_max_age_days(ctx.config)


def cites_locked_works(ctx) -> bool:
    """Whether the project has a lock that holds any of the works the manuscript cites."""
    state = _state(ctx)
    return state.lock is not None and any(item.work is not None for item in state.cited)


def locked_work(ctx, key: str) -> tuple[LockedWork | None, str]:
    """What citeflow.lock holds for the work cited as ``key`` (None when the project has no
    lock, the key is not in the bibliography or the work is not in the lock), and how
    messages name it (``key (refs.bib:12)``). For rule families that read the lock too."""
    state = _state(ctx)
    ref = ctx.cited_entry(key)
    if state.lock is None or ref is None:
        return None, key
    by_reference = state.by_reference
    if by_reference is None:
        by_reference = state.by_reference = {id(item.reference): item for item in state.cited}
    item = by_reference.get(id(ref))
    return (item.work, _where(state, item.reference)) if item is not None else (None, key)


assert all(code in RULES for code in ("CF107", "CF108", "CF109", "CF110", "CF111", "CF112", "CF114"))
