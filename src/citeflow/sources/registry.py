"""Ask every registry about a set of works, in batches, for ``citeflow refresh``.

For each work (a DOI, PMID or PMCID, or only a title) the answer is a
:class:`~citeflow.references.lock.LockedWork` holding one record per registry that answered:

1. PMCIDs: the PMC ID converter, up to 200 at once, gives their DOIs and PMIDs;
2. PMIDs: PubMed EFetch, up to 200 at once (a record names the work's DOI);
3. DOIs: Crossref, up to ``crossref_batch`` at once (``/works?filter=doi:...``, at most
   ``crossref_concurrency`` requests in flight), then doi.org for DOIs Crossref does not hold;
   at the same time PubMed ESearch finds the PMIDs of works known only by DOI, which EFetch
   then fetches;
4. bioRxiv and medRxiv preprints: the servers' API names their published version;
5. works without an identifier: a Crossref bibliographic search by title and first author.

The cache is not read (the registries are asked afresh) but is filled, so that ``resolve``
and ``cite`` profit. A registry that cannot be asked leaves its record out of the answer and
says why in :attr:`WorkAnswer.problems`: the caller keeps what the lock held before.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..references.identifiers import Identifier
from ..references.integrity import Assessment, assess, concern, title_similarity
from ..references.lock import LockedWork, Relation, Source, SourceRecord, today
from . import Fetcher, FetchResult, FetchStatus, biorxiv, crossref, doi, pubmed, telling
from .crossref import Malformed

#: A title search counts as a match from this similarity on (see integrity.TITLE_THRESHOLD).
SEARCH_THRESHOLD = 0.9


@dataclass
class WorkQuery:
    """One work to ask about: its lock id and what is known of it."""

    id: str
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    title: str = ""
    first_author: str = ""

    @property
    def searchable(self) -> bool:
        return not (self.doi or self.pmid or self.pmcid) and len(self.title.split()) >= 3


@dataclass
class WorkAnswer:
    """What the registries said about one work this time, and what could not be asked."""

    work: LockedWork
    problems: list[str] = field(default_factory=list)


class _Answers:
    """The answers being gathered, shared by the threads of one refresh."""

    def __init__(self, queries: list[WorkQuery]):
        self.by_id = {q.id: WorkAnswer(LockedWork(q.id, q.doi, q.pmid, q.pmcid, q.title if q.searchable else ""))
                      for q in queries}
        self.servers: dict[str, str] = {}  # preprint server of a bioRxiv/medRxiv DOI
        self._lock = threading.Lock()

    def record(self, work_id: str, source: Source, record: SourceRecord, abstract: str = "") -> None:
        with self._lock:
            answer = self.by_id[work_id]
            answer.work.sources[str(source)] = record
            if abstract and (source is Source.PUBMED or not answer.work.abstract):
                answer.work.abstract = abstract
            for name in ("doi", "pmid", "pmcid"):
                value = getattr(record, name)
                if value and not getattr(answer.work, name) and not (name == "doi" and source is Source.PUBMED
                                                                      and answer.work.doi):
                    setattr(answer.work, name, value)

    def problem(self, work_id: str, message: str) -> None:
        with self._lock:
            problems = self.by_id[work_id].problems
            if message not in problems:
                problems.append(message)


def ask_registries(fetcher: Fetcher, queries: Iterable[WorkQuery], *, asked: str | None = None,
                   search: bool = True, on_progress: Callable[[str], None] | None = None) -> dict[str, WorkAnswer]:
    """Ask every registry about ``queries``; one :class:`WorkAnswer` per query id."""
    queries = list(queries)
    asked = asked or today()
    answers = _Answers(queries)
    say = on_progress or (lambda _text: None)

    # 1. PMCIDs to DOIs and PMIDs
    needing = [q for q in queries if q.pmcid and not (q.doi and q.pmid)]
    if needing:
        say(f"PMC ID converter: {len(needing)} PMCIDs")
        known, failed = fetcher.pmc_ids(q.pmcid for q in needing if q.pmcid)
        for query in needing:
            ids = known.get(query.pmcid or "", {})
            query.doi = query.doi or ids.get("doi")
            query.pmid = query.pmid or ids.get("pmid")
            if query.pmcid in failed and not (query.doi or query.pmid):
                answers.problem(query.id, failed[query.pmcid])
            answers.by_id[query.id].work.doi = answers.by_id[query.id].work.doi or query.doi
            answers.by_id[query.id].work.pmid = answers.by_id[query.id].work.pmid or query.pmid

    # 2. PubMed records of the PMIDs known; they name the DOIs of PMID-only works
    with_pmid = [q for q in queries if q.pmid]
    if with_pmid:
        say(f"PubMed: {len(with_pmid)} PMIDs")
        _pubmed_by_pmid(fetcher, with_pmid, answers, asked)
        for query in with_pmid:
            query.doi = query.doi or answers.by_id[query.id].work.doi

    # 3. Crossref (and doi.org) for every DOI, PubMed ESearch for works known only by DOI
    with_doi = [q for q in queries if q.doi]
    doi_only = [q for q in with_doi if not q.pmid]
    pubmed_thread = threading.Thread(target=_pubmed_by_doi, args=(fetcher, doi_only, answers, asked),
                                     name="citeflow-refresh-pubmed", daemon=True)
    if doi_only:
        say(f"PubMed: looking up {len(doi_only)} DOIs")
        pubmed_thread.start()
    if with_doi:
        say(f"Crossref: {len(with_doi)} DOIs")
        _crossref(fetcher, with_doi, answers, asked)
    if doi_only:
        pubmed_thread.join()

    # 4. bioRxiv / medRxiv: the published version of a preprint
    for query in with_doi:
        work = answers.by_id[query.id].work
        if not biorxiv.is_rxiv_doi(work.doi):
            continue
        published, problem = fetcher.published_version(work.doi or "", answers.servers.get(query.id, "biorxiv"))
        if problem:
            answers.problem(query.id, problem)
            continue
        relations = [Relation("is-preprint-of", published["doi"], "biorxiv", published.get("journal", ""),
                              published.get("date"))] if published else []
        answers.record(query.id, Source.BIORXIV, SourceRecord(asked, relations=relations))

    # 5. works without identifiers: a bibliographic search
    if search:
        for query in (q for q in queries if q.searchable):
            _search(fetcher, query, answers, asked)
    return answers.by_id


def _crossref(fetcher: Fetcher, queries: list[WorkQuery], answers: _Answers, asked: str) -> None:
    idents = {q.id: Identifier("doi", q.doi) for q in queries if q.doi}
    results = fetcher.fetch_many(idents.values())
    for query in queries:
        ident = idents.get(query.id)
        result = results.get(ident) if ident is not None else None
        if result is None:
            continue
        _record_doi_result(query, result, answers, asked)


def _record_doi_result(query: WorkQuery, result: FetchResult, answers: _Answers, asked: str) -> None:
    if result.status is FetchStatus.NOT_FOUND:
        answers.record(query.id, Source.CROSSREF, SourceRecord(asked, found=False))
        answers.record(query.id, Source.DOI, SourceRecord(asked, found=False))
        return
    if not result.ok or not isinstance(result.raw, dict):
        answers.problem(query.id, result.message or str(result.status))
        return
    try:
        if result.source == "crossref":
            answers.record(query.id, Source.CROSSREF, crossref.registry_record(result.raw, asked),
                           crossref.abstract_of(result.raw))
            institution = crossref.institution_of(result.raw)
            if institution:
                answers.servers[query.id] = biorxiv.server_of(institution)
        else:
            answers.record(query.id, Source.CROSSREF, SourceRecord(asked, found=False))
            answers.record(query.id, Source.DOI, doi.registry_record(result.raw, query.doi or "", asked),
                           result.reference.abstract if result.reference else "")
    except (Malformed, ValueError, TypeError) as exc:
        answers.problem(query.id, f"{result.source}: a record that cannot be read ({exc})")


def _pubmed_records(fetcher: Fetcher, pmids: Iterable[str]) -> tuple[dict[str, tuple[SourceRecord, str]],
                                                                        dict[str, str], set[str]]:
    """PubMed records by PMID (with their abstracts), problems by PMID, and PMIDs PubMed
    does not know."""
    records: dict[str, tuple[SourceRecord, str]] = {}
    problems: dict[str, str] = {}
    unknown: set[str] = set()
    results = fetcher.fetch_many(Identifier("pmid", p) for p in sorted(set(pmids)))
    for ident, result in results.items():
        if result.status is FetchStatus.NOT_FOUND:
            unknown.add(ident.value)
        elif result.ok and isinstance(result.raw, str):
            try:
                record = pubmed.registry_record(pubmed.article_element(result.raw), "")
            except (Malformed, ET.ParseError) as exc:
                problems[ident.value] = f"PubMed: a record that cannot be read ({exc})"
                continue
            records[ident.value] = (record, result.reference.abstract if result.reference else "")
        else:
            problems[ident.value] = result.message or str(result.status)
    return records, problems, unknown


def _pubmed_by_pmid(fetcher: Fetcher, queries: list[WorkQuery], answers: _Answers, asked: str) -> None:
    records, problems, unknown = _pubmed_records(fetcher, (q.pmid for q in queries if q.pmid))
    for query in queries:
        pmid = query.pmid or ""
        if pmid in records:
            record, abstract = records[pmid]
            record.asked = asked
            answers.record(query.id, Source.PUBMED, record, abstract)
        elif pmid in unknown:
            answers.record(query.id, Source.PUBMED, SourceRecord(asked, found=False))
        elif pmid in problems:
            answers.problem(query.id, problems[pmid])


def _pubmed_by_doi(fetcher: Fetcher, queries: list[WorkQuery], answers: _Answers, asked: str) -> None:
    try:
        pmids, failed = fetcher.pmids_for_dois(q.doi for q in queries if q.doi)
        records, problems, _ = _pubmed_records(fetcher, pmids)
    except Exception as exc:  # a bug in one registry's lookup must not lose the others
        for query in queries:
            answers.problem(query.id, f"PubMed: unexpected problem ({exc.__class__.__name__}: {exc})")
        return
    by_doi = {(record.doi or "").lower(): (record, abstract) for record, abstract in records.values()}
    for query in queries:
        key = (query.doi or "").lower()
        if key in failed:
            answers.problem(query.id, failed[key])
        elif key in by_doi:
            record, abstract = by_doi[key]
            record.asked = asked
            answers.record(query.id, Source.PUBMED, record, abstract)
        elif problems:
            answers.problem(query.id, next(iter(problems.values())))
        else:
            answers.record(query.id, Source.PUBMED, SourceRecord(asked, found=False))


def _search(fetcher: Fetcher, query: WorkQuery, answers: _Answers, asked: str) -> None:
    items, problem = fetcher.search_works(query.title, query.first_author)
    if items is None:
        answers.problem(query.id, problem or "Crossref could not be asked")
        return
    scored = sorted(((title_similarity(query.title, crossref.registry_record(item, asked).title), item)
                     for item in items), key=lambda pair: -pair[0])
    if scored and scored[0][0] >= SEARCH_THRESHOLD:
        score, item = scored[0]
        record = crossref.registry_record(item, asked)
        record.match_score = round(score, 3)
        answers.record(query.id, Source.CROSSREF, record)
    else:
        best = round(scored[0][0], 3) if scored else None
        answers.record(query.id, Source.CROSSREF, SourceRecord(asked, found=False, match_score=best))


def assess_result(result: FetchResult) -> Assessment | None:
    """What the record a lookup found says about the work (retracted, itself a notice, ...),
    judged as ``check`` judges a lock entry; None when the lookup found no record."""
    raw = getattr(result, "raw", None)
    if not getattr(result, "ok", False) or raw is None or not telling(raw):
        return None
    asked = today()
    try:
        if result.source == "crossref" and isinstance(raw, dict):
            name, record = Source.CROSSREF, crossref.registry_record(raw, asked)
        elif result.source == "doi.org" and isinstance(raw, dict):
            name, record = Source.DOI, doi.registry_record(raw, result.identifier.value, asked)
        elif result.source == "pubmed" and isinstance(raw, str):
            name, record = Source.PUBMED, pubmed.registry_record(pubmed.article_element(raw), asked)
        else:
            return None
    except (Malformed, ValueError, TypeError, ET.ParseError):
        return None
    return assess(LockedWork("", record.doi, record.pmid, record.pmcid, sources={str(name): record}))


def integrity_warning(result: FetchResult) -> str:
    """A warning for a writer about to add the work a lookup found (``is retracted: ...``,
    ``is itself a retraction notice (of ...)``), or ""."""
    verdict = assess_result(result)
    return concern(verdict) if verdict is not None else ""


__all__ = ["SEARCH_THRESHOLD", "WorkAnswer", "WorkQuery", "ask_registries", "assess_result",
           "integrity_warning"]
