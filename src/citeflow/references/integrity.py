"""What the registries' records say about a work: retracted, withdrawn, of concern, corrected,
itself a notice, a preprint with a published version, or not what the bibliography says.

Everything here reads a :class:`~citeflow.references.lock.LockedWork` (what ``citeflow
refresh`` recorded) and nothing else, so the checks that use it run offline.

Deciding a retraction from two registries means reading their records with care:

* A notice's update links come in both directions. ``updated-by`` on a work names a notice
  that updates it; ``update-to`` names the work a notice updates. Publishers also deposit
  ``update-to`` links on the retracted article itself (the Lancet's hydroxychloroquine paper
  carries four, typed ``retraction``, one of them pointing at an expression of concern),
  and a notice's own record may carry ``updated-by`` pointing back at the article. A DOI
  linked both ways is therefore a *mirror*: it says the two records belong together, not
  which one is the notice. Only ``updated-by`` links (and links naming the work's own DOI,
  a retraction *in place*) count towards the work's status; ``update-to`` links (not
  mirrored, or asserted by Retraction Watch) say the work is itself a notice.
* The same notice may be typed differently by each source: Retraction Watch calls the Lancet
  notice 10.1016/s0140-6736(20)31324-6 a retraction while the publisher's deposit calls it an
  erratum; Retraction Watch calls Wakefield's 2004 partial retraction a correction while
  PubMed links it as ``RetractionIn``. Each notice is judged by the strongest thing any
  source says of it (retraction, then withdrawal, expression of concern, correction, new
  version), so it is listed once.
* PubMed marks a retracted article with the publication type UI D016441 and a
  ``RetractionIn`` link, and the notice with D016440 and ``RetractionOf``. Publication types
  are matched by UI: NLM renamed D016440 from "Retraction Notice" to "Retraction of
  Publication".

One *authoritative* signal decides a retraction: a Retraction Watch retraction, PubMed's
D016441 or ``RetractionIn``, or a retraction in place (a retraction link naming the work's
own DOI, or a registry title such as "RETRACTED: ..." or "Notice of Retraction: ..." on a
work that is not itself a notice). A publisher's ``updated-by`` retraction alone is a
*possible* retraction, reported with its evidence. An expression of concern or an erratum
never counts as a retraction, and a registry that could not be asked never counts as "not
retracted": the record is then missing from the lock and the checks say so.
"""

from __future__ import annotations

import difflib
import html
import re
import unicodedata
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from citeflow.references.lock import LOCK_NAME, SOURCE_NAMES, LockedWork, Notice, Relation, Source, days_since
from citeflow.references.reference import Reference


class Category(IntEnum):
    """What a notice does to the work, strongest first (a lower value wins)."""

    RETRACTION = 1
    WITHDRAWAL = 2
    EXPRESSION_OF_CONCERN = 3
    CORRECTION = 4
    NEW_VERSION = 5
    OTHER = 6

    @property
    def noun(self) -> str:
        return _NOUNS[self]


_NOUNS = {Category.RETRACTION: "retraction", Category.WITHDRAWAL: "withdrawal",
          Category.EXPRESSION_OF_CONCERN: "expression of concern", Category.CORRECTION: "correction",
          Category.NEW_VERSION: "new version", Category.OTHER: "update"}

#: Crossref update types (Crossmark and Retraction Watch), by category.
CROSSREF_TYPES = {
    "retraction": Category.RETRACTION, "partial_retraction": Category.RETRACTION,
    "withdrawal": Category.WITHDRAWAL, "removal": Category.WITHDRAWAL,
    "expression_of_concern": Category.EXPRESSION_OF_CONCERN,
    "correction": Category.CORRECTION, "erratum": Category.CORRECTION,
    "corrigendum": Category.CORRECTION, "addendum": Category.CORRECTION,
    "clarification": Category.CORRECTION,
    "new_version": Category.NEW_VERSION, "new_edition": Category.NEW_VERSION,
}
#: PubMed CommentsCorrections reference types: category, and whether the link says the
#: record is updated by the notice (True) or is the notice (False).
PUBMED_TYPES = {
    "RetractionIn": (Category.RETRACTION, True), "RetractionOf": (Category.RETRACTION, False),
    "PartialRetractionIn": (Category.RETRACTION, True), "PartialRetractionOf": (Category.RETRACTION, False),
    "ExpressionOfConcernIn": (Category.EXPRESSION_OF_CONCERN, True),
    "ExpressionOfConcernFor": (Category.EXPRESSION_OF_CONCERN, False),
    "ErratumIn": (Category.CORRECTION, True), "ErratumFor": (Category.CORRECTION, False),
    "UpdateIn": (Category.NEW_VERSION, True), "UpdateOf": (Category.NEW_VERSION, False),
    "RepublishedIn": (Category.NEW_VERSION, True), "RepublishedFrom": (Category.NEW_VERSION, False),
}
#: PubMed publication types (MeSH UIs; labels change, UIs do not).
RETRACTED_PUBLICATION = "D016441"
RETRACTION_OF_PUBLICATION = "D016440"
PUBLISHED_ERRATUM = "D016425"
_NOTICE_TYPES = {RETRACTION_OF_PUBLICATION: Category.RETRACTION, PUBLISHED_ERRATUM: Category.CORRECTION}

#: How each source is named in messages.
_SAID_BY = {"retraction-watch": "Retraction Watch", "publisher": "the publisher", "pubmed": "PubMed",
            "biorxiv": "the bioRxiv API"}

_RETRACTED_TITLE = re.compile(
    r"^\s*(?:retracted(?:\s+article)?\s*[:.\-–—]|notice\s+of\s+retraction\b(?!\s+(?:and|of|to|for)\b))", re.I)
_WITHDRAWN_TITLE = re.compile(r"^\s*withdrawn(?:\s+article)?\s*[:.\-–—]", re.I)
_NOTICE_TITLE = re.compile(
    r"^\s*(?:(?:retraction(?:\s+notice|\s+note)?|correction|corrigendum|erratum|errata"
    r"|(?:editorial\s+)?expression\s+of\s+concern)\s*(?:[:.—–]|--|-\s|\bto\b|\bfor\b|$)"
    r"|retraction\s+of\b|notice\s+of\s+retraction\s+(?:and\s+replacement|of|to|for)\b)", re.I)


class Certainty(StrEnum):
    CONFIRMED = "confirmed"
    POSSIBLE = "possible"


@dataclass
class NoticeInfo:
    """One notice, merged across the registries that link it to the work."""

    category: Category
    doi: str | None = None
    pmid: str | None = None
    date: str | None = None
    partial: bool = False
    said: list[tuple[str, str]] = field(default_factory=list)  # (who, their type)
    label: str = ""

    @property
    def identifier(self) -> str:
        """``10.1016/... (PMID 20137807)``, the DOI alone, ``PMID ...``, or where PubMed
        says the notice is printed."""
        if self.doi and self.pmid:
            return f"{self.doi} (PMID {self.pmid})"
        if self.doi or self.pmid:
            return self.doi or f"PMID {self.pmid}"
        return f"[{self.label}]" if self.label else "(no identifier)"

    def describe(self) -> str:
        """``retraction notice 10.1/x (PMID 1) of 2010-02-06 (Retraction Watch: retraction;
        PubMed: RetractionIn)``."""
        kind = ("partial retraction" if self.partial else self.category.noun) + " notice"
        when = f" of {self.date}" if self.date else ""
        said = "; ".join(f"{_SAID_BY.get(who, who)}: {what}" for who, what in _unique(self.said))
        return f"{kind} {self.identifier}{when}" + (f" ({said})" if said else "")

    def as_dict(self) -> dict[str, object]:
        return {"category": self.category.noun, "doi": self.doi, "pmid": self.pmid, "date": self.date,
                "label": self.label or None,
                "partial": self.partial, "sources": [f"{who}: {what}" for who, what in _unique(self.said)]}


@dataclass
class Assessment:
    """What the lock's records say about one work."""

    retraction: Certainty | None = None
    retraction_evidence: list[str] = field(default_factory=list)
    retractions: list[NoticeInfo] = field(default_factory=list)
    withdrawn: bool = False
    withdrawal_evidence: list[str] = field(default_factory=list)
    withdrawals: list[NoticeInfo] = field(default_factory=list)
    concerns: list[NoticeInfo] = field(default_factory=list)
    corrections: list[NoticeInfo] = field(default_factory=list)
    new_versions: list[NoticeInfo] = field(default_factory=list)
    notice_of: Category | None = None
    notice_targets: list[str] = field(default_factory=list)
    notice_evidence: list[str] = field(default_factory=list)
    published_version: Relation | None = None

    def notices(self) -> list[NoticeInfo]:
        return self.retractions + self.withdrawals + self.concerns + self.corrections + self.new_versions


@dataclass
class _Link:
    notice: Notice
    category: Category
    inbound: bool  # the notice updates this work (else: this work updates the linked one)
    self_link: bool


def assess(work: LockedWork) -> Assessment:
    """Judge one work from its records (see the module docstring for the rules)."""
    result = Assessment()
    pubmed = work.record(Source.PUBMED)
    own = {d.lower() for d in [work.doi] + [r.doi for r in work.sources.values()] if d}
    own_pmids = {p for p in [work.pmid] + [r.pmid for r in work.sources.values()] if p}

    links: list[_Link] = []
    mirrored: set[str] = set()
    for name, record in work.found():
        if name == Source.PUBMED:
            continue
        inbound = {n.doi for n in record.notices if n.direction == "updated-by" and n.doi and n.doi not in own}
        outbound = {n.doi for n in record.notices if n.direction == "update-to" and n.doi and n.doi not in own}
        mirrored |= inbound & outbound
        for notice in record.notices:
            category = CROSSREF_TYPES.get(notice.type.lower(), Category.OTHER)
            links.append(_Link(notice, category, notice.direction == "updated-by",
                               bool(notice.doi and notice.doi in own)))
    if pubmed is not None and pubmed.found:
        for notice in pubmed.notices:
            pubmed_category, pubmed_inbound = PUBMED_TYPES.get(notice.type, (Category.OTHER, True))
            links.append(_Link(notice, pubmed_category, pubmed_inbound,
                               bool(notice.pmid and notice.pmid in own_pmids)))

    titles = [r.title for _, r in work.found() if r.title]
    pub_types = {t.get("ui", "") for t in (pubmed.publication_types if pubmed and pubmed.found else [])}

    # -- is the work itself a notice? --------------------------------------------------------
    for link in links:
        n = link.notice
        if link.inbound or link.self_link or link.category in (Category.NEW_VERSION, Category.OTHER):
            continue
        if n.source != "retraction-watch" and n.doi in mirrored:
            continue
        target = n.doi or (f"PMID {n.pmid}" if n.pmid else "")
        _note_notice(result, link.category, target, f"{_SAID_BY.get(n.source, n.source)}: {n.type} "
                     f"{'of ' if n.source != 'pubmed' else ''}{target or n.label or ''}".rstrip())
    for ui in sorted(pub_types & set(_NOTICE_TYPES)):
        label = next((t.get("label", "") for t in pubmed.publication_types if t.get("ui") == ui), "")  # type: ignore[union-attr]
        _note_notice(result, _NOTICE_TYPES[ui], "", f"PubMed publication type {ui} ({label})")
    notice_title = any(_NOTICE_TITLE.match(t) for t in titles)
    if result.notice_of is None and mirrored and notice_title:
        _note_notice(result, Category.OTHER, "", f"its title ({_short(titles[0])}) and links both ways with "
                     + ", ".join(sorted(mirrored)))
    is_notice = result.notice_of is not None

    # -- notices about the work, one entry per notice ------------------------------------------
    merged: dict[str, NoticeInfo] = {}
    weak: list[str] = []
    authoritative: list[str] = []
    for link in links:
        n = link.notice
        if not link.inbound and not link.self_link:
            continue
        if link.category is Category.OTHER:
            continue
        if link.self_link and link.category is Category.NEW_VERSION:
            continue  # a record updated in place: a new version of itself, nothing to report
        if n.doi in mirrored and n.source != "retraction-watch":
            if is_notice:
                continue  # the notice's own links back at the article it updates
            if link.category is Category.RETRACTION and not any(_RETRACTED_TITLE.match(t) for t in titles):
                weak.append(f"Crossref links it and {n.doi} both ways as a retraction, so either may be "
                            "the notice")
        key = n.doi or (f"pmid:{n.pmid}" if n.pmid else f"label:{n.label}")
        info = merged.get(key)
        if info is None:
            info = merged[key] = NoticeInfo(link.category, n.doi, n.pmid, n.date,
                                            label="" if (n.doi or n.pmid) else (n.label or ""))
        info.category = min(info.category, link.category)
        info.pmid = info.pmid or n.pmid
        info.date = min(d for d in (info.date, n.date) if d) if (info.date or n.date) else None
        info.partial = info.partial or "partial" in n.type.lower()
        info.said.append((n.source or "pubmed", n.type))
        if link.self_link:
            info.said.append(("in place", "the notice names the work's own DOI"))
        if link.category is Category.RETRACTION:
            signal = f"{_SAID_BY.get(n.source, n.source)}: {n.type} {info.identifier}"
            if link.self_link:
                authoritative.append(f"retracted in place ({signal})")
            elif n.source in ("retraction-watch", "pubmed"):
                authoritative.append(signal)
            elif n.doi not in mirrored:
                weak.append(f"{signal} (the publisher's deposit alone)")
    # PubMed may name the notice only by PMID and Crossref only by DOI: merge those by PMID.
    _merge_by_pmid(merged)

    for info in sorted(merged.values(), key=lambda i: (i.date or "", i.identifier)):
        {Category.RETRACTION: result.retractions, Category.WITHDRAWAL: result.withdrawals,
         Category.EXPRESSION_OF_CONCERN: result.concerns, Category.CORRECTION: result.corrections,
         Category.NEW_VERSION: result.new_versions}.get(info.category, []).append(info)

    if RETRACTED_PUBLICATION in pub_types:
        label = next((t.get("label", "") for t in pubmed.publication_types  # type: ignore[union-attr]
                      if t.get("ui") == RETRACTED_PUBLICATION), "")
        authoritative.append(f"PubMed publication type {RETRACTED_PUBLICATION} ({label or 'Retracted Publication'})")
    if not is_notice:
        for name, record in work.found():
            if _RETRACTED_TITLE.match(record.title):
                authoritative.append(f"retracted in place: {SOURCE_NAMES.get(Source(name), name)} "
                                     f"title {_short(record.title)}")
            if _WITHDRAWN_TITLE.match(record.title):
                result.withdrawn = True
                result.withdrawal_evidence.append(f"{SOURCE_NAMES.get(Source(name), name)} title "
                                                  f"{_short(record.title)}")
    if authoritative:
        result.retraction = Certainty.CONFIRMED
        result.retraction_evidence = _unique(authoritative + weak)
    elif weak:
        result.retraction = Certainty.CONFIRMED if len(_unique(weak)) > 1 else Certainty.POSSIBLE
        result.retraction_evidence = _unique(weak)
    if result.withdrawals:
        result.withdrawn = True
        result.withdrawal_evidence += [info.describe() for info in result.withdrawals]

    # -- a preprint with a published version -------------------------------------------------
    for _, record in work.found():
        for relation in sorted(record.relations, key=lambda r: (r.source == "biorxiv", r.doi)):
            if relation.type == "is-preprint-of" and relation.doi.lower() not in own:
                result.published_version = result.published_version or relation
    return result


_NOTICE_KIND = {Category.RETRACTION: "a retraction notice", Category.WITHDRAWAL: "a withdrawal notice",
                Category.EXPRESSION_OF_CONCERN: "an expression of concern",
                Category.CORRECTION: "a correction (erratum) notice"}


def notice_kind(category: Category | None) -> str:
    """``a retraction notice``, ``an expression of concern``, ... for a notice's category."""
    return _NOTICE_KIND.get(category, "an update notice") if category is not None else ""


def concern(verdict: Assessment) -> str:
    """What a writer adding the work should hear first, or "": ``is retracted: retraction
    notice ...``, ``was withdrawn``, ``is itself a retraction notice (of ...)``, ``has an
    expression of concern: ...``. Corrections and new versions are not a concern here."""
    if verdict.retraction is Certainty.CONFIRMED:
        primary = max(verdict.retractions, key=lambda n: (not n.partial, n.date or "")) \
            if verdict.retractions else None
        return "is retracted: " + (primary.describe() if primary else verdict.retraction_evidence[0])
    if verdict.withdrawn:
        return "was withdrawn: " + "; ".join(verdict.withdrawal_evidence)
    if verdict.notice_of is not None:
        about = f" (of {', '.join(verdict.notice_targets)})" if verdict.notice_targets else ""
        return f"is itself {notice_kind(verdict.notice_of)}{about}"
    if verdict.retraction is Certainty.POSSIBLE:
        return "may be retracted: " + "; ".join(verdict.retraction_evidence)
    if verdict.concerns:
        return "has an expression of concern: " + "; ".join(n.describe() for n in verdict.concerns)
    return ""


#: A work last asked about more than this many days ago is not known to be sound
#: (``[check] lock_max_age_days``): CF114, and "not checked" in the claims table.
DEFAULT_MAX_AGE_DAYS = 30


def lock_max_age_days(config) -> float:
    """``[check] lock_max_age_days`` of ``config`` (a :class:`~citeflow.config.Config` or
    None), else :data:`DEFAULT_MAX_AGE_DAYS`."""
    if config is None:
        return float(DEFAULT_MAX_AGE_DAYS)
    return float(config.section("check").get("lock_max_age_days", DEFAULT_MAX_AGE_DAYS))


def checkable(ref: Reference) -> bool:
    """A work ``citeflow refresh`` can look up: one with a DOI, PMID or PMCID, or a journal
    article with a title to search for."""
    return bool(ref.doi or ref.pmid or ref.pmcid or (ref.type == "article-journal" and len(ref.title.split()) >= 3))


def unchecked_reason(ref: Reference, work: LockedWork | None) -> str | None:
    """Why the lock cannot vouch for a work (None when it can): missing, or the registry
    that decides for its kind of identifier never answered."""
    if work is None or not work.sources:
        return f"is not in {LOCK_NAME}"
    if ref.doi and work.record(Source.CROSSREF) is None and work.record(Source.DOI) is None:
        return "has no Crossref record in the lock (Crossref could not be asked)"
    if not ref.doi and (ref.pmid or ref.pmcid) and work.record(Source.PUBMED) is None \
            and work.record(Source.CROSSREF) is None:
        return "has no PubMed record in the lock (PubMed could not be asked)"
    return None


class WorkStatus(StrEnum):
    """What the lock says of a cited work, in one word or phrase (the claims table)."""

    RETRACTED = "retracted"
    POSSIBLY_RETRACTED = "possibly retracted"
    WITHDRAWN = "withdrawn"
    NOTICE = "notice"
    EXPRESSION_OF_CONCERN = "expression of concern"
    CORRECTED = "corrected"
    PREPRINT = "preprint"
    UNKNOWN = "not found"
    NOT_CHECKED = "not checked"
    OK = "ok"


@dataclass(frozen=True)
class Status:
    """A work's :class:`WorkStatus` and what it rests on (the notice, the published
    version, why it was not checked)."""

    status: WorkStatus
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.status}: {self.detail}" if self.detail else str(self.status)


def primary_notice(notices: list[NoticeInfo]) -> NoticeInfo | None:
    """The notice to name first: a full retraction confirmed by most sources, latest."""
    if not notices:
        return None
    return max(notices, key=lambda n: (not n.partial, len({who for who, _ in n.said}), n.date or ""))


def _notices(notices: list[NoticeInfo]) -> str:
    """``10.1/x (PMID 1) of 2010-02-06; ...``, the primary notice first."""
    primary = primary_notice(notices)
    ordered = [primary] + [n for n in notices if n is not primary] if primary else []
    return "; ".join(f"{n.identifier}" + (f" of {n.date}" if n.date else "") for n in ordered)


def work_status(ref: Reference, work: LockedWork | None, max_age_days: float = DEFAULT_MAX_AGE_DAYS) -> Status:
    """The status of a cited work from what the lock holds for it (``work``, None when the
    lock lacks it), judged as CF107-CF112 and CF114 judge it: the strongest
    finding first (retracted, withdrawn, itself a notice, possibly retracted, expression of
    concern, corrected, preprint with a published version, unknown to the registries),
    "not checked" when the lock cannot vouch for it or is older than ``max_age_days``."""
    if not checkable(ref):
        return Status(WorkStatus.NOT_CHECKED, "no DOI, PMID or PMCID to look up")
    reason = unchecked_reason(ref, work)
    if reason is not None or work is None:
        return Status(WorkStatus.NOT_CHECKED, reason.removeprefix("is ").removeprefix("has ") if reason else "")
    age = days_since(work.checked)
    if age is not None and age > max_age_days:
        return Status(WorkStatus.NOT_CHECKED, f"last checked {work.checked}, {age} days ago")
    verdict = assess(work)
    if verdict.retraction is Certainty.CONFIRMED:
        return Status(WorkStatus.RETRACTED, _notices(verdict.retractions) or verdict.retraction_evidence[0])
    if verdict.withdrawn:
        return Status(WorkStatus.WITHDRAWN, _notices(verdict.withdrawals) or "; ".join(verdict.withdrawal_evidence))
    if verdict.notice_of is not None:
        about = f" of {', '.join(verdict.notice_targets)}" if verdict.notice_targets else ""
        kind = notice_kind(verdict.notice_of).removeprefix("a ").removeprefix("an ")
        return Status(WorkStatus.NOTICE, kind + about)
    if verdict.retraction is Certainty.POSSIBLE:
        return Status(WorkStatus.POSSIBLY_RETRACTED, "; ".join(verdict.retraction_evidence))
    if verdict.concerns:
        return Status(WorkStatus.EXPRESSION_OF_CONCERN, _notices(verdict.concerns))
    if verdict.corrections or verdict.new_versions:
        return Status(WorkStatus.CORRECTED, _notices(verdict.corrections + verdict.new_versions))
    if verdict.published_version is not None:
        return Status(WorkStatus.PREPRINT, f"published version {verdict.published_version.doi}")
    if work.registries_know is False:
        return Status(WorkStatus.UNKNOWN, "the registries do not know this work")
    return Status(WorkStatus.OK)


def title_says_so(title: str) -> bool:
    """True for a title that marks a work retracted or withdrawn in place, or a notice."""
    return bool(_RETRACTED_TITLE.match(title) or _WITHDRAWN_TITLE.match(title) or _NOTICE_TITLE.match(title))


def _note_notice(result: Assessment, category: Category, target: str, evidence: str) -> None:
    if result.notice_of is None or category < result.notice_of:
        result.notice_of = category
    if target and target not in result.notice_targets:
        result.notice_targets.append(target)
    result.notice_evidence.append(evidence)


def _merge_by_pmid(merged: dict[str, NoticeInfo]) -> None:
    by_pmid = {info.pmid: key for key, info in merged.items() if info.pmid and info.doi}
    for key in [k for k in merged if k.startswith("pmid:")]:
        target = by_pmid.get(key[5:])
        if target is None:
            continue
        lone = merged.pop(key)
        info = merged[target]
        info.category = min(info.category, lone.category)
        info.partial = info.partial or lone.partial
        info.said += lone.said
        info.date = info.date or lone.date


def _unique(items: list) -> list:
    return list(dict.fromkeys(items))


def _short(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return '"' + (text if len(text) <= width else text[: width - 1] + "…") + '"'


# -- the bibliography against the registry ---------------------------------------------------------
#: Titles whose normalised similarity is below this are reported as disagreeing (CF109).
#: Measured by bench/title_similarity.py: of 20,000 random pairs of different works' titles
#: from real bibliographies, 99.9 % score 0.65 or less and 0.06 % reach 0.75; the same work
#: written by two registries, in another markup or in a shortened form scores 0.82 or more
#: in the (few) real examples at hand. 0.75 sits between the two.
TITLE_THRESHOLD = 0.75

_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "κ": "kappa",
          "λ": "lambda", "μ": "mu", "π": "pi", "σ": "sigma", "τ": "tau", "ω": "omega"}
_PREFIX = re.compile(r"^\s*(?:retracted(?:\s+article)?\s*[:.\-–—]\s*|notice\s+of\s+retraction\s*[:.\-–—]?\s*"
                     r"|withdrawn(?:\s+article)?\s*[:.\-–—]\s*)", re.I)
_LATEX = re.compile(r"\\[a-zA-Z]+\*?\s*|[{}$^_]|\\.")
_LATEX_GREEK = re.compile(r"\\(alpha|beta|gamma|delta|epsilon|kappa|lambda|mu|pi|sigma|tau|omega)(?![a-zA-Z])", re.I)
_TAG = re.compile(r"<[^>]+>")


def plain_words(text: str) -> list[str]:
    """Lower-case ASCII words of a title or name: LaTeX commands and braces, HTML tags,
    accents and punctuation dropped, Greek letters spelt out."""
    text = html.unescape(html.unescape(text or ""))
    text = _TAG.sub(" ", text)
    text = _LATEX_GREEK.sub(lambda m: f" {m.group(1).lower()} ", text)  # {$\delta^{13}$C}
    text = _LATEX.sub("", text)
    text = "".join(_GREEK.get(c, c) for c in text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", text.casefold())


def normalise_title(title: str) -> str:
    """A title for comparison: retraction prefixes, a translated title's brackets, case,
    punctuation, LaTeX braces and accents dropped."""
    title = _PREFIX.sub("", title or "")
    title = title.strip()
    if title.startswith("[") and title.rstrip(".").endswith("]"):
        title = title.rstrip(".")[1:-1]
    return " ".join(plain_words(title))


def title_similarity(a: str, b: str) -> float:
    """0..1: how alike two titles are once normalised; 1.0 when one is the other with a
    subtitle left out (the shorter, of four words or more, begins the longer)."""
    x, y = normalise_title(a), normalise_title(b)
    if not x or not y:
        return 0.0
    if x == y:
        return 1.0
    short, long = sorted((x, y), key=len)
    if len(short.split()) >= 4 and (long.startswith(short + " ")):
        return 1.0
    return difflib.SequenceMatcher(None, x, y, autojunk=False).ratio()


#: Words a journal abbreviation leaves out (English, French, German, Italian, Portuguese,
#: Spanish articles and prepositions).
_STOP = frozenset({"the", "of", "and", "in", "for", "on", "a", "an", "de", "del", "della", "degli", "di",
                   "d", "da", "do", "das", "des", "du", "e", "et", "y", "la", "le", "les", "der", "und",
                   "fur", "zur"})


def journal_words(name: str) -> list[str]:
    """A journal name's words: parenthesised places ("Lancet (London, England)") and NLM
    subtitles ("Allergy : European journal of ...") dropped, "&" read as "and"."""
    name = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", name or "")
    name = name.split(" : ")[0]
    return plain_words(name.replace("&", " and "))


def _abbreviates(short: str, word: str) -> bool:
    """``natl`` abbreviates ``national``: same first letter, letters in order."""
    if not short or not word or short[0] != word[0]:
        return False
    position = 0
    for char in short:
        position = word.find(char, position)
        if position < 0:
            return False
        position += 1
    return True


def _abbreviates_two(short: str, first: str, second: str) -> bool:
    """``neuropsiquiatr`` abbreviates ``neuro`` + ``psiquiatria`` (a hyphenated word written
    as one): the first word begins it, and the rest abbreviates the second."""
    return short.startswith(first) and _abbreviates(short[len(first):], second)


def _aligns(short: list[str], full: list[str]) -> bool:
    """Each word of ``short`` abbreviates the next word of ``full`` (or two joined, for
    "Neuro-Psiquiatria" / "Neuropsiquiatr"), ``full``'s stop words may be left out."""
    reached = {(0, 0)}
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if i == len(short) and all(w in _STOP for w in full[j:]):
            return True
        steps = []
        if j < len(full) and full[j] in _STOP:
            steps.append((i, j + 1))
        if i < len(short) and j < len(full):
            if _abbreviates(short[i], full[j]):
                steps.append((i + 1, j + 1))
            if j + 1 < len(full) and _abbreviates_two(short[i], full[j], full[j + 1]):
                steps.append((i + 1, j + 2))
        for step in steps:
            if step not in reached:
                reached.add(step)
                stack.append(step)
    return False


def same_journal(a: str, b: str) -> bool:
    """True when two journal names are the same journal written in full or abbreviated
    (``N Engl J Med`` / ``The New England Journal of Medicine``, ``Lancet`` / ``The
    Lancet``, ``Proc Natl Acad Sci U S A``): word for word, each word of the shorter
    abbreviates the longer's next word, whose articles and prepositions may be left out.
    Case, punctuation, accents and parenthesised places do not count."""
    x, y = journal_words(a), journal_words(b)
    if not x or not y:
        return False
    if x == y or "".join(x) == "".join(y):  # "PLoS ONE" / "PLOSONE"
        return True
    short, full = sorted((x, y), key=lambda words: len("".join(words)))
    short = [w for w in short if w != "the"]
    return _aligns(short, full) or _aligns(full, short)


def _family(name: str) -> str:
    family = name.split(",")[0] if "," in name else (name.split()[-1] if name.split() else "")
    return " ".join(plain_words(family))


def same_first_author(bib: str, registry: str) -> bool | None:
    """Whether two first-author names share a family name; None when either is not a
    person's name written with a family name (an organisation)."""
    if "," not in bib or not registry:
        return None
    x, y = _family(bib), _family(registry)
    if not x or not y:
        return None
    return x == y or x.split()[-1] == y.split()[-1] or x.replace(" ", "") == y.replace(" ", "")


def first_page(pages: str) -> str:
    match = re.match(r"\s*([A-Za-z]*\d+[A-Za-z]*|[A-Za-z]+\d*)", pages or "")
    return match.group(1).lstrip("0").casefold() if match else ""


@dataclass(frozen=True)
class Disagreement:
    """A field where the bibliography and the registries differ."""

    field: str
    bibliography: str
    registry: str
    source: str

    def describe(self) -> str:
        return f"{self.field} {self.bibliography!r} in the bibliography, {self.registry!r} at {self.source}"


def disagreements(ref: Reference, work: LockedWork, threshold: float = TITLE_THRESHOLD) -> list[Disagreement]:
    """Fields of a bibliography entry that no registry record of the work agrees with:
    title (normalised similarity under ``threshold``), first author's family name, year,
    journal (full and abbreviated forms alike), volume and first page. A field either side
    leaves empty is not compared."""
    records = [(SOURCE_NAMES.get(Source(name), name), r) for name, r in work.found()
               if name in (Source.CROSSREF, Source.PUBMED, Source.DOI)]
    if not records:
        return []
    found: list[Disagreement] = []

    def check(name: str, bib_value: str, values: list[tuple[str, str]], agree) -> None:
        values = [(source, v) for source, v in values if v]
        if not bib_value or not values:
            return
        if any(agree(bib_value, v) for _, v in values):
            return
        source, value = values[0]
        found.append(Disagreement(name, bib_value, value, source))

    check("title", ref.title, [(s, r.title) for s, r in records],
          lambda b, v: title_similarity(b, v) >= threshold)
    if ref.authors:
        verdicts = [(s, r.authors[0]) for s, r in records if r.authors]
        if verdicts and all(same_first_author(ref.authors[0], v) is not None for _, v in verdicts):
            check("first author", ref.first_author_family, [(s, _family_display(v)) for s, v in verdicts],
                  lambda b, v: bool(same_first_author(f"{b},", f"{v},")))
    if ref.year:
        years = sorted({y for _, r in records for y in r.all_years})
        if years and ref.year not in years:
            source = next(s for s, r in records if r.all_years)
            found.append(Disagreement("year", str(ref.year), " or ".join(map(str, years)), source))
    if ref.container and ref.type in ("article-journal", "article", "review", ""):
        names = [(s, n) for s, r in records for n in [r.journal, *r.journal_abbreviations]]
        check("journal", ref.container, names, same_journal)
    check("volume", ref.volume.strip(), [(s, r.volume.strip()) for s, r in records],
          lambda b, v: b.lstrip("0").casefold() == v.lstrip("0").casefold())
    check("first page", first_page(ref.pages), [(s, first_page(r.pages)) for s, r in records],
          lambda b, v: b == v)
    return found


def _family_display(name: str) -> str:
    return name.split(",")[0].strip() if "," in name else name


__all__ = [
    "TITLE_THRESHOLD",
    "Assessment",
    "Category",
    "Certainty",
    "Disagreement",
    "NoticeInfo",
    "assess",
    "disagreements",
    "journal_words",
    "normalise_title",
    "same_first_author",
    "same_journal",
    "title_similarity",
]
