"""Metadata sources behind one interface: give identifiers, get references.

>>> fetcher = Fetcher(config)                      # doctest: +SKIP
>>> results = fetcher.fetch_many([parse_identifier("doi:10.7554/eLife.01567")])
>>> results[ident].status, results[ident].reference.title

Where each kind of identifier is looked up:

* DOI: Crossref ``/works/{doi}``; if Crossref says 404, doi.org content negotiation
  (DataCite, mEDRA and other agencies). Several DOIs are asked for together, up to
  ``crossref_batch`` (50) in one ``/works?filter=doi:A,doi:B,...`` request, never more than
  ``crossref_concurrency`` (3) requests to Crossref at once; a DOI the list answer lacks is
  asked for on its own.
* PMID: PubMed EFetch, up to 200 in one request.
* PMCID: the PMC ID converter, then the DOI (or PMID) it names.
* arXiv ID: its DataCite DOI ``10.48550/arXiv.<id>`` through doi.org.
* ISBN: no open source is queried; the result says so.

Every answer goes through the on-disk cache (:mod:`.cache`); in offline mode only the cache
is used. Network and server trouble never raises: the :class:`FetchResult` says what went
wrong, with the identifier and the URL, and the other identifiers are still fetched. Every
record is checked (:func:`citeflow.references.bibliography.reference_problems`) before it is handed
out: one with broken text, empty names or an impossible year is ``malformed``, never
``ok``; a cached answer that fails that check is fetched again.

Network limits (:mod:`.http`): an overall deadline per request, a maximum answer size, a
capped ``Retry-After`` paid from a per-lookup retry budget, a circuit breaker per service
(Crossref, doi.org, PubMed, the PMC ID converter) and redirects only within a host, or
from doi.org to the registration agencies of ``redirect_hosts``.

Settings (environment first, then ``[sources]`` / ``[cache]`` of citeflow.toml):
``CITEFLOW_CROSSREF_URL``/``crossref_url``, ``CITEFLOW_DOI_URL``/``doi_url``,
``CITEFLOW_EUTILS_URL``/``eutils_url``, ``CITEFLOW_IDCONV_URL``/``idconv_url``,
``CITEFLOW_BIORXIV_URL``/``biorxiv_url``, ``CITEFLOW_CROSSREF_BATCH``/``crossref_batch`` (50),
``CITEFLOW_CROSSREF_CONCURRENCY``/``crossref_concurrency`` (3), ``workers`` (8), ``CITEFLOW_TIMEOUT``/``timeout`` (20 s per request, all included),
``CITEFLOW_MAX_RESPONSE_MB``/``max_response_mb`` (10), ``CITEFLOW_RETRIES``/``retries`` (3),
``CITEFLOW_BACKOFF``/``backoff`` (0.5 s), ``CITEFLOW_MAX_RETRY_AFTER``/``max_retry_after``
(30 s), ``CITEFLOW_RETRY_BUDGET``/``retry_budget`` (60 s of waiting per lookup),
``CITEFLOW_BREAKER_FAILURES``/``breaker_failures`` (5; 0 never gives up on a service),
``redirect_hosts`` (the list in :data:`.doi.REDIRECT_HOSTS`), ``rate_limits``
(``{host = requests per second}``), ``NCBI_API_KEY``/``ncbi_api_key``,
``CITEFLOW_MAILTO``/``mailto``, ``CITEFLOW_OFFLINE=1``, ``CITEFLOW_CACHE_DIR``/``[cache] dir``
(default: the user cache directory), ``[cache] ttl_days`` (30) and ``notfound_ttl_days`` (1).
"""

from __future__ import annotations

import json
import os
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from ..config import Config
from ..errors import CiteflowError
from ..references.bibcache import user_cache_dir
from ..references.bibliography import make_key
from ..references.csl import date_problems
from ..references.identifiers import Identifier, InvalidIdentifier, parse_identifier
from ..references.integrity import title_says_so
from ..references.reference import Reference, reference_problems
from . import biorxiv, crossref, doi, pubmed
from .cache import DAY, Cache, request_key
from .crossref import Malformed
from .http import MB, HttpClient, HttpProblem, HttpSettings, ProblemKind, Response, RetryBudget

NCBI_HOSTS = ("eutils.ncbi.nlm.nih.gov", "pmc.ncbi.nlm.nih.gov", "www.ncbi.nlm.nih.gov")
ARXIV_DOI_PREFIX = "10.48550/arxiv."
#: PMIDs per EFetch request when many are fetched at once.
PUBMED_BATCH = 200


class FetchStatus(StrEnum):
    """How a lookup ended (the value is how messages and JSON spell it)."""

    OK = "ok"                #: found; the result carries the reference
    NOT_FOUND = "not_found"  #: the registry does not know the identifier
    ERROR = "error"          #: network or server trouble
    OFFLINE = "offline"      #: not in the cache, and not allowed to ask
    MALFORMED = "malformed"  #: the identifier, or the server's answer, is garbage


#: Every status, in the order above.
STATUSES = tuple(FetchStatus)


class Service(StrEnum):
    """The services asked, each with its own circuit breaker; the value is how messages
    name it."""

    CROSSREF = "Crossref"
    DOI = "doi.org"
    PUBMED = "PubMed"
    IDCONV = "PMC ID converter"
    BIORXIV = "bioRxiv API"


#: For a record found at each service: the result's message and ``source``.
_FOUND = {Service.CROSSREF: ("found at Crossref", "crossref"),
          Service.DOI: ("found through doi.org", "doi.org"),
          Service.PUBMED: ("found in PubMed", "pubmed")}


@dataclass
class FetchResult:
    """The outcome for one identifier.

    ``status`` is a :class:`FetchStatus` (a string as well: ``"ok"``, ``"not_found"``, ...;
    ``reference`` is set for ``ok``). ``message`` says what happened in words; ``url`` is
    the last URL involved.
    """

    identifier: Identifier
    status: FetchStatus
    reference: Reference | None = None
    message: str = ""
    url: str | None = None
    source: str | None = None
    from_cache: bool = False
    #: The record as the registry wrote it: the Crossref work or CSL-JSON item (a dict), or
    #: the PubMed ``<PubmedArticle>`` element as XML text. Kept when the fetcher is asked to
    #: keep records (``keep_records``), and always for a record that links update notices or
    #: whose title marks a retraction or a notice; None otherwise, to keep memory small.
    raw: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.status = FetchStatus(self.status)  # a status given as text becomes the member

    @property
    def ok(self) -> bool:
        return self.status is FetchStatus.OK

    def describe(self) -> str:
        """One line for a writer: ``doi:10.1/x: not found at Crossref or doi.org (URL)``."""
        text = f"{self.identifier}: {self.message or self.status}"
        return f"{text} ({self.url})" if self.url and self.url not in text else text


@dataclass
class SourceSettings:
    """Where and how to ask; see the module docstring for the names to set them by."""

    crossref_url: str = crossref.DEFAULT_URL
    doi_url: str = doi.DEFAULT_URL
    eutils_url: str = pubmed.DEFAULT_EUTILS_URL
    idconv_url: str = pubmed.DEFAULT_IDCONV_URL
    biorxiv_url: str = biorxiv.DEFAULT_URL
    crossref_batch: int = crossref.BATCH_SIZE
    crossref_concurrency: int = 3
    workers: int = 8
    timeout: float = 20.0
    max_response_mb: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    max_retry_after: float = 30.0
    retry_budget: float = 60.0
    breaker_failures: int = 5
    redirect_hosts: tuple[str, ...] = doi.REDIRECT_HOSTS
    mailto: str | None = None
    ncbi_api_key: str | None = None
    rate_limits: dict[str, float] = field(default_factory=dict)
    cache_dir: Path | None = None
    ttl_days: float = 30.0
    notfound_ttl_days: float = 1.0
    offline: bool = False

    @classmethod
    def from_config(cls, config: Config | None = None,
                    env: Mapping[str, str] | None = None) -> SourceSettings:
        config = config or Config()
        env = os.environ if env is None else env
        sources = config.section("sources")
        cache = config.section("cache")

        def pick(key: str, default: Any) -> Any:
            return config.setting("sources", key, default, env)

        def number(value: Any, name: str, kind: type = float) -> Any:
            try:
                result = kind(value)
            except (TypeError, ValueError):
                raise CiteflowError(f"[sources] {name} must be a number, not {value!r}",
                                    config.path) from None
            if result < 0:
                raise CiteflowError(f"[sources] {name} must not be negative", config.path)
            return result

        cache_path = user_cache_dir(config, env)
        api_key = pick("ncbi_api_key", None) or None
        ncbi_rate = 10.0 if api_key else 3.0
        limits: dict[str, float] = {"api.crossref.org": 10.0, "api.biorxiv.org": 2.0}
        limits.update({host: ncbi_rate for host in NCBI_HOSTS})
        configured = sources.get("rate_limits", {})
        if not isinstance(configured, dict):
            raise CiteflowError("[sources] rate_limits must be a table of host = requests per second",
                                config.path)
        for host, rate in configured.items():
            limits[str(host)] = number(rate, f"rate_limits.{host}")
        workers = number(pick("workers", 8), "workers", int)
        crossref_batch = number(pick("crossref_batch", crossref.BATCH_SIZE),
                                "crossref_batch", int)
        crossref_concurrency = number(pick("crossref_concurrency", 3),
                                      "crossref_concurrency", int)
        timeout = number(pick("timeout", 20.0), "timeout")
        max_response_mb = number(pick("max_response_mb", 10.0), "max_response_mb")
        for name, value in (("timeout", timeout), ("max_response_mb", max_response_mb)):
            if value <= 0:
                raise CiteflowError(f"[sources] {name} must be more than 0", config.path)
        redirect_hosts = pick("redirect_hosts", list(doi.REDIRECT_HOSTS))
        if not isinstance(redirect_hosts, list) or not all(isinstance(h, str) for h in redirect_hosts):
            raise CiteflowError("[sources] redirect_hosts must be a list of host names", config.path)
        return cls(
            crossref_url=str(pick("crossref_url", crossref.DEFAULT_URL)),
            doi_url=str(pick("doi_url", doi.DEFAULT_URL)),
            eutils_url=str(pick("eutils_url", pubmed.DEFAULT_EUTILS_URL)),
            idconv_url=str(pick("idconv_url", pubmed.DEFAULT_IDCONV_URL)),
            biorxiv_url=str(pick("biorxiv_url", biorxiv.DEFAULT_URL)),
            crossref_batch=max(crossref_batch, 1),
            crossref_concurrency=max(crossref_concurrency, 1),
            workers=max(workers, 1),
            timeout=timeout,
            max_response_mb=max_response_mb,
            retries=number(pick("retries", 3), "retries", int),
            backoff=number(pick("backoff", 0.5), "backoff"),
            max_retry_after=number(pick("max_retry_after", 30.0), "max_retry_after"),
            retry_budget=number(pick("retry_budget", 60.0), "retry_budget"),
            breaker_failures=number(pick("breaker_failures", 5),
                                    "breaker_failures", int),
            redirect_hosts=tuple(h.strip().lower() for h in redirect_hosts if h.strip()),
            mailto=config.setting(None, "mailto", None, env) or None,
            ncbi_api_key=api_key,
            rate_limits=limits,
            cache_dir=cache_path,
            ttl_days=float(cache.get("ttl_days", 30.0)),
            notfound_ttl_days=float(cache.get("notfound_ttl_days", 1.0)),
            offline=bool(pick("offline", False)),
        )


_T = TypeVar("_T")


def _in_batches(wanted: list[str], size: int, service: str,
                ask: Callable[[list[str]], _T]) -> tuple[list[_T], dict[str, str]]:
    """``ask`` about ``wanted`` in chunks of ``size``: what each answer gave, and every item
    of a chunk whose request failed (:class:`HttpProblem`, or :class:`Malformed` for an
    answer that is not what the service promised) with the reason, named by ``service``."""
    answers: list[_T] = []
    failed: dict[str, str] = {}
    for start in range(0, len(wanted), size):
        chunk = wanted[start:start + size]
        try:
            answers.append(ask(chunk))
        except (HttpProblem, Malformed) as exc:
            reason = f"{service}: {exc.message if isinstance(exc, HttpProblem) else exc}"
            failed.update(dict.fromkeys(chunk, reason))
    return answers, failed


def default_cache_dir() -> Path:
    """The user cache directory (``~/.cache/citeflow`` on Linux): outside every project, so
    that a manuscript repository cannot ship cache records of its own."""
    return user_cache_dir(env={})


@dataclass
class _Lookup:
    """The state of one identifier's lookup in its worker thread."""

    budget: RetryBudget
    fresh: bool = False                              # skip the cache (a cached record failed)
    cached: list[str] = field(default_factory=list)  # cache keys that answered


class _Offline(Exception):
    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


class Fetcher:
    """Fetches references for identifiers from Crossref, doi.org and PubMed, with a cache.

    ``offline`` (default: ``CITEFLOW_OFFLINE``) answers from the cache only. ``workers``
    threads fetch in parallel (default 8, ``[sources] workers``). ``progress`` may be a
    callable that is given each :class:`FetchResult` as it completes (the CLI drives a
    progress bar with it). ``fresh`` asks the registries even for what the cache holds (and
    keeps their answers in the cache): ``citeflow refresh`` uses it, with ``keep_records``
    (every result carries the registry's record in :attr:`FetchResult.raw`).
    """

    def __init__(self, config: Config | None = None, offline: bool | None = None,
                 workers: int | None = None, cache_dir: str | Path | None = None,
                 progress: bool | Callable[[FetchResult], None] = False,
                 settings: SourceSettings | None = None, fresh: bool = False, keep_records: bool = False):
        self.config = config or Config()
        self.settings = replace(settings) if settings else SourceSettings.from_config(self.config)
        if offline is not None:
            self.settings.offline = offline
        if workers is not None:
            self.settings.workers = max(int(workers), 1)
        if cache_dir is not None:
            self.settings.cache_dir = Path(cache_dir)
        s = self.settings
        self.offline = s.offline
        self.fresh = fresh and not s.offline
        self.keep_records = keep_records
        self.progress = progress if callable(progress) else None
        self.cache = Cache(s.cache_dir, ttl=s.ttl_days * DAY, notfound_ttl=s.notfound_ttl_days * DAY) \
            if s.cache_dir else None
        self.http = HttpClient(HttpSettings(
            timeout=s.timeout, max_bytes=int(s.max_response_mb * MB), retries=s.retries,
            backoff=s.backoff, max_retry_after=s.max_retry_after, retry_budget=s.retry_budget,
            breaker_failures=s.breaker_failures, pool_size=s.workers, mailto=s.mailto,
            rate_limits=dict(s.rate_limits), concurrency={Service.CROSSREF.value: s.crossref_concurrency}))
        self._local = threading.local()
        self._memo: dict[Identifier, FetchResult] = {}
        self._memo_lock = threading.Lock()
        # Cache files are written by one background thread, so that the workers go straight
        # back to the network; every public call waits for its writes before returning.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citeflow-cache")
        self._pending: list[Future] = []
        self._pending_lock = threading.Lock()
        self._prefetched: dict[str, Response] = {}

    # -- public ------------------------------------------------------------------------------
    @property
    def requests_sent(self) -> int:
        """How many HTTP requests this fetcher has sent (cache hits do not count)."""
        return self.http.requests_sent

    def fetch(self, identifier: Identifier | str) -> FetchResult:
        """Fetch one identifier (a string is parsed first). Never raises for network trouble."""
        result = self._fetch_one(identifier)
        self._flush_cache_writes()
        return result

    def _fetch_one(self, identifier: Identifier | str) -> FetchResult:
        if isinstance(identifier, str):
            text = identifier
            try:
                identifier = parse_identifier(text)
            except InvalidIdentifier as exc:
                return FetchResult(Identifier(exc.kind or "unknown", text), FetchStatus.MALFORMED,
                                   message=exc.reason)
        with self._memo_lock:
            known = self._memo.get(identifier)
        if known is not None:
            return known
        try:
            result = self._lookup(identifier)
        except Exception as exc:  # a bug must not sink the other identifiers of a batch
            result = FetchResult(identifier, FetchStatus.ERROR,
                                 message=f"unexpected problem ({exc.__class__.__name__}: {exc})")
        if result.reference is not None and not result.reference.key:
            result.reference.key = make_key(result.reference)
        with self._memo_lock:
            self._memo[identifier] = result
        return result

    def fetch_many(self, identifiers: Iterable[Identifier | str],
                   on_result: Callable[[FetchResult], None] | None = None) -> dict[Identifier, FetchResult]:
        """Fetch many identifiers in parallel; one result per distinct identifier."""
        unique: list[Identifier | str] = []
        seen: set[Any] = set()
        for ident in identifiers:
            if isinstance(ident, str):
                ident = _as_ident(ident) or ident
            if ident not in seen:
                seen.add(ident)
                unique.append(ident)
        callback = on_result or self.progress
        results: dict[Identifier, FetchResult] = {}
        if not unique:
            return results
        known = [i for i in unique if isinstance(i, Identifier) and i not in self._memo]
        # Identifiers answered without the network (memo, cache, malformed) are looked up in
        # this thread; the rest go to the workers, batches first.
        ready: set[Any] = {i for i in unique if not isinstance(i, Identifier) or i in self._memo}
        pmid_todo = self._uncached_pmids([i for i in known if i.kind == "pmid"], ready)
        doi_chunks = self._doi_batches([i for i in known if i.kind == "doi"], ready)
        with ThreadPoolExecutor(max_workers=max(1, min(self.settings.workers, len(unique))),
                                thread_name_prefix="citeflow-fetch") as pool:
            # A batch task asks for its batch, then looks up each of its identifiers from the
            # answer while other batches are still on their way. The workers take the batches
            # before any single lookup.
            futures: list[Future] = []
            batched: set[Any] = set()
            if len(pmid_todo) > 1:
                idents = [i for i, _ in pmid_todo]
                futures.append(pool.submit(self._batch_lookups, self._prefetch_pmids,
                                           [(i.value, key) for i, key in pmid_todo], idents))
                batched.update(idents)
            for chunk in doi_chunks:
                idents = [ident for ident, _, _ in chunk]
                futures.append(pool.submit(self._batch_lookups, self._prefetch_dois, chunk, idents))
                batched.update(idents)
            futures += [pool.submit(self._batch_lookups, None, None, [ident]) for ident in unique
                        if ident not in ready and ident not in batched]

            def done(result: FetchResult) -> None:
                results[result.identifier] = result
                if callback:
                    callback(result)

            for ident in unique:
                if ident in ready:
                    done(self._fetch_one(ident))
            for future in as_completed(futures):
                for result in future.result():
                    done(result)
        self._flush_cache_writes()
        # keep the caller's order
        order = {i: n for n, i in enumerate(unique)}
        return dict(sorted(results.items(), key=lambda item: order.get(item[0], len(order))))

    def close(self) -> None:
        self._flush_cache_writes()
        self._writer.shutdown(wait=True)
        self.http.close()

    def _flush_cache_writes(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _lookup(self, identifier: Identifier) -> FetchResult:
        """One identifier's lookup; if cached answers gave an unusable record, the cache
        records are dropped and the lookup is made again from the network."""
        lookup = _Lookup(RetryBudget(self.settings.retry_budget))
        self._local.lookup = lookup
        try:
            result = self._fetch(identifier)
            if result.status is FetchStatus.MALFORMED and lookup.cached and not self.offline:
                for key in lookup.cached:
                    self.cache.drop(key)  # type: ignore[union-attr]
                self._local.lookup = _Lookup(lookup.budget, fresh=True)
                result = self._fetch(identifier)
        finally:
            self._local.lookup = None
        return result

    # -- transport: cache first, then network ---------------------------------------------------
    def _get(self, url: str, params: Mapping[str, str] | None = None,
             accept: str | None = None, *, service: Service) -> Response:
        key = request_key(url, params, accept)
        lookup: _Lookup | None = getattr(self._local, "lookup", None)
        with self._memo_lock:
            prefetched = self._prefetched.pop(key, None)
        if prefetched is not None:
            if prefetched.from_cache and lookup is not None:
                lookup.cached.append(key)
            return prefetched
        if self.cache is not None and not self.fresh and not (lookup and lookup.fresh):
            hit = self.cache.get(key, any_age=self.offline)
            if hit is not None:
                hit.cache_key = key
                if lookup is not None:
                    lookup.cached.append(key)
                return hit
        if self.offline:
            shown = {k: v for k, v in (params or {}).items() if k not in ("api_key", "email", "tool")}
            raise _Offline(f"{url}?{urlencode(shown)}" if shown else url)
        response = self.http.get(
            url, params=params, headers={"Accept": accept} if accept else None, service=service.value,
            budget=lookup.budget if lookup else None,
            redirect_hosts=self.settings.redirect_hosts if service is Service.DOI else ())
        response.cache_key = key
        return response

    def _remember(self, response: Response, not_found: bool = False) -> None:
        if self.cache is not None and not response.from_cache:
            future = self._writer.submit(self.cache.put, response.cache_key, response, not_found)
            with self._pending_lock:
                self._pending.append(future)

    def _ncbi_params(self, params: dict[str, str]) -> dict[str, str]:
        params = dict(params, tool="citeflow")
        if self.settings.mailto:
            params["email"] = self.settings.mailto
        if self.settings.ncbi_api_key:
            params["api_key"] = self.settings.ncbi_api_key
        return params

    # -- per kind ---------------------------------------------------------------------------------
    def _fetch(self, ident: Identifier) -> FetchResult:
        checked = _as_ident(str(ident.value), ident.kind)
        if checked is None or checked != ident:
            return FetchResult(ident, FetchStatus.MALFORMED,
                               message=f"malformed {ident.kind} {ident.value!r}; not sent to any server")
        try:
            if ident.kind == "doi":
                return self._fetch_doi(ident, ident.value)
            if ident.kind == "pmid":
                return self._fetch_pmid(ident, ident.value)
            if ident.kind == "pmcid":
                return self._fetch_pmcid(ident)
            if ident.kind == "arxiv":
                bare = re.sub(r"v\d+$", "", ident.value)
                return self._fetch_doi(ident, ARXIV_DOI_PREFIX + bare.lower(), crossref_first=False)
            return FetchResult(ident, FetchStatus.NOT_FOUND,
                               message="ISBNs cannot be looked up in an open registry; "
                                       "add the book to the bibliography by hand")
        except _Offline as exc:
            return FetchResult(ident, FetchStatus.OFFLINE, message="offline and not in the cache", url=exc.url)

    def _problem(self, ident: Identifier, exc: HttpProblem, service: Service) -> FetchResult:
        status = FetchStatus.MALFORMED if exc.kind is ProblemKind.MALFORMED else FetchStatus.ERROR
        return FetchResult(ident, status, message=f"{service.value}: {exc.message}", url=exc.url)

    def _found(self, ident: Identifier, ref: Reference, response: Response, service: Service,
               url: str, item: Mapping[str, Any] | None = None, raw: Any = None) -> FetchResult:
        """``ok`` for a record fit for a bibliography (and the answer cached), else
        ``malformed`` naming what is wrong with it. ``item`` is the JSON record the
        reference was read from, whose dates are checked too; ``raw`` (default: ``item``)
        is kept in the result."""
        problems = (date_problems(item) if item is not None else []) + reference_problems(ref)
        if problems:
            return FetchResult(ident, FetchStatus.MALFORMED, url=url, message=(
                f"{service.value} sent a record that cannot be used: {'; '.join(problems)}"))
        self._remember(response)
        how, source = _FOUND[service]
        record = raw if raw is not None else item
        if not (self.keep_records or telling(record)):
            record = None
        return FetchResult(ident, FetchStatus.OK, ref, how, url, source, response.from_cache, record)

    def _fetch_doi(self, ident: Identifier, doi_value: str, crossref_first: bool = True) -> FetchResult:
        crossref_url = crossref.works_url(self.settings.crossref_url, doi_value)
        if crossref_first:
            try:
                response = self._get(crossref_url, service=Service.CROSSREF)
            except HttpProblem as exc:
                return self._problem(ident, exc, Service.CROSSREF)
            if response.status == 200:
                try:
                    message = crossref.parse_work(response)
                    ref = crossref.reference_from_crossref(message)
                except Malformed as exc:
                    return FetchResult(ident, FetchStatus.MALFORMED, message=str(exc), url=crossref_url)
                if ref.doi is None:
                    ref.doi = doi_value
                return self._found(ident, ref, response, Service.CROSSREF, crossref_url, message)
            if response.status != 404:
                return FetchResult(ident, FetchStatus.ERROR,
                                   message=f"Crossref answered HTTP {response.status}", url=crossref_url)
            self._remember(response, not_found=True)
        # not at Crossref: ask doi.org (content negotiation)
        negotiation_url = doi.doi_url(self.settings.doi_url, doi_value)
        try:
            response = self._get(negotiation_url, accept=doi.CSL_JSON, service=Service.DOI)
        except HttpProblem as exc:
            return self._problem(ident, exc, Service.DOI)
        if response.status == 404:
            self._remember(response, not_found=True)
            where = "Crossref or doi.org" if crossref_first else "doi.org"
            return FetchResult(ident, FetchStatus.NOT_FOUND, message=f"DOI not found at {where}",
                               url=negotiation_url)
        if response.status == 406:
            return FetchResult(ident, FetchStatus.ERROR, url=negotiation_url,
                               message="the DOI's registration agency offers no CSL-JSON (HTTP 406)")
        if response.status != 200:
            return FetchResult(ident, FetchStatus.ERROR, message=f"doi.org answered HTTP {response.status}",
                               url=response.url or negotiation_url)
        try:
            item = doi.read_csl(response)
            ref = doi.reference_from_item(item, doi_value)
        except Malformed as exc:
            return FetchResult(ident, FetchStatus.MALFORMED, message=str(exc), url=response.url or negotiation_url)
        if ident.kind == "arxiv":
            ref.fields["arxiv"] = ident.value
        return self._found(ident, ref, response, Service.DOI, negotiation_url, item)

    def _efetch_url(self) -> str:
        return f"{self.settings.eutils_url.rstrip('/')}/efetch.fcgi"

    def _uncached_pmids(self, identifiers: list[Identifier], ready: set[Any]) -> list[tuple[Identifier, str]]:
        """The PMIDs to ask PubMed for, with their cache keys; those the cache answers are
        kept for their lookup and added to ``ready``."""
        url = self._efetch_url()
        todo = []
        for ident in identifiers:
            key = request_key(url, {"db": "pubmed", "id": ident.value, "retmode": "xml"})
            if self._take_cached(key):
                ready.add(ident)
            else:
                todo.append((ident, key))
        return todo

    def _prefetch_pmids(self, todo: list[tuple[str, str]]) -> None:
        """Ask PubMed for many PMIDs (``[(pmid, cache key)]``) in one EFetch call (up to 200
        each) instead of one call per PMID: NCBI allows only 3 requests a second. Each record
        found is kept as if it had been fetched alone, so the cache and the per-PMID path
        below stay the same. If the batch fails, nothing is kept and each PMID is fetched on
        its own."""
        if self.offline:
            return
        url = self._efetch_url()
        for start in range(0, len(todo), PUBMED_BATCH):
            chunk = todo[start:start + PUBMED_BATCH]
            if len(chunk) < 2:
                break
            params = self._ncbi_params({"db": "pubmed", "id": ",".join(p for p, _ in chunk), "retmode": "xml"})
            answer = self._batch(url, params, Service.PUBMED, pubmed.split_efetch)
            if answer is None:
                continue
            response, articles = answer
            for pmid, key in chunk:
                self._keep(Response(url=f"{url}?db=pubmed&id={pmid}&retmode=xml", status=200,
                                    text=articles.get(pmid, pubmed.EMPTY_SET), content_type=response.content_type,
                                    fetched_at=response.fetched_at, cache_key=key))

    def _batch_lookups(self, prefetch: Callable[[Any], None] | None, batch: Any,
                       identifiers: list[Any]) -> list[FetchResult]:
        """Ask for a batch (with ``prefetch``, if any), then look up each identifier of it:
        from the batch's answer, or on its own when the batch lacked it."""
        if prefetch is not None:
            prefetch(batch)
        return [self._fetch_one(ident) for ident in identifiers]

    def _batch(self, url: str, params: Mapping[str, str], service: Service,
               parse: Callable[[Response], Any]) -> tuple[Response, Any] | None:
        """One request for a batch of identifiers and its parsed answer; None when it fails
        (each identifier is then asked for on its own)."""
        try:
            response = self._ask(url, params, service)
            return (response, parse(response)) if response.status == 200 else None
        except (HttpProblem, Malformed):
            return None

    def _keep(self, response: Response) -> None:
        """Keep an answer got in a batch for the single lookup to come."""
        with self._memo_lock:
            self._prefetched[response.cache_key] = response

    def _take_cached(self, key: str) -> bool:
        """Keep a fresh cached answer for ``key`` for the lookup to come (so that the file
        is read once); False when there is none, or the fetcher is told to ask afresh."""
        if self.cache is None or self.fresh:
            return False
        hit = self.cache.get(key)
        if hit is None:
            return False
        hit.cache_key = key
        self._keep(hit)
        return True

    def _doi_batches(self, identifiers: list[Identifier], ready: set[Any]) -> list[list[tuple[Identifier, str, str]]]:
        """The DOIs to ask Crossref for together: those not cached whose characters fit in a
        filter, cut into batches (``[(identifier, cache key, /works/{doi} URL)]``); those the
        cache answers are kept for their lookup and added to ``ready``. Fewer than two left
        make no batch."""
        if self.offline:
            return []
        todo: dict[str, tuple[Identifier, str, str]] = {}
        for ident in identifiers:
            url = crossref.works_url(self.settings.crossref_url, ident.value)
            key = request_key(url)
            if self._take_cached(key):
                ready.add(ident)
            elif crossref.batch_safe(ident.value) and ident.value not in todo:
                todo[ident.value] = (ident, key, url)
        if len(todo) < 2:
            return []
        return [[todo[d] for d in chunk] for chunk in crossref.batches(list(todo), self.settings.crossref_batch)]

    def _prefetch_dois(self, chunk: list[tuple[Identifier, str, str]]) -> None:
        """Ask Crossref for a batch of DOIs in one ``/works?filter=doi:...`` request. Each
        work listed is kept as the answer ``/works/{doi}`` would have given, so the cache and
        the per-DOI path stay the same; a DOI the list lacks (or a batch that fails) is
        asked for on its own."""
        answer = self._batch(crossref.works_list_url(self.settings.crossref_url),
                             crossref.batch_params([i.value for i, _, _ in chunk]), Service.CROSSREF,
                             crossref.parse_work_list)
        if answer is None:
            return
        response, works = answer
        for ident, key, single_url in chunk:
            item = works.get(ident.value)
            if item is not None:
                envelope = crossref.work_envelope(item)
                self._keep(Response(url=single_url, status=200,
                                    text=json.dumps(envelope, ensure_ascii=False),
                                    content_type="application/json", fetched_at=response.fetched_at,
                                    cache_key=key, parsed=envelope))

    # -- questions beyond one record per identifier (citeflow refresh) --------------------------
    def _ask(self, url: str, params: Mapping[str, str] | None, service: Service) -> Response:
        """One request to ``service`` (no cache), or :class:`HttpProblem`."""
        if self.offline:
            raise HttpProblem("offline; not asked", url, ProblemKind.OTHER)
        return self.http.get(url, params=params, service=service.value,
                             budget=RetryBudget(self.settings.retry_budget))

    def pmids_for_dois(self, dois: Iterable[str]) -> tuple[set[str], dict[str, str]]:
        """The PMIDs PubMed files under any of ``dois`` (ESearch, up to 50 DOIs a request),
        and the DOIs that could not be asked about with the reason. Which PMID belongs to
        which DOI is read from the records themselves (their ``ArticleIdList``)."""
        wanted = sorted({d for d in dois if d and '"' not in d})
        url = f"{self.settings.eutils_url.rstrip('/')}/esearch.fcgi"

        def ask(chunk: list[str]) -> list[str]:
            params = self._ncbi_params({"db": "pubmed", "term": pubmed.doi_term(chunk), "retmode": "json",
                                        "retmax": str(4 * len(chunk))})
            response = self._ask(url, params, Service.PUBMED)
            if response.status != 200:
                raise Malformed(f"PubMed ESearch answered HTTP {response.status}")
            return pubmed.parse_esearch(response)

        answers, failed = _in_batches(wanted, pubmed.ESEARCH_BATCH, "PubMed", ask)
        found: set[str] = set()
        for answer in answers:
            found.update(answer)
        return found, failed

    def pmc_ids(self, pmcids: Iterable[str]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
        """The DOI and PMID of each PMCID from the PMC ID converter (up to 200 a request):
        ``{pmcid: {"doi": ..., "pmid": ...}}`` for those it knows, and the PMCIDs that could
        not be asked about with the reason."""
        wanted = sorted(set(pmcids))

        def ask(chunk: list[str]) -> dict[str, dict[str, str]]:
            params = self._ncbi_params({"ids": ",".join(chunk), "format": "json"})
            response = self._ask(self.settings.idconv_url, params, Service.IDCONV)
            if response.status not in (200, 400, 404):
                raise Malformed(f"the PMC ID converter answered HTTP {response.status}")
            return pubmed.parse_idconv_records(response)

        answers, failed = _in_batches(wanted, PUBMED_BATCH, "PMC ID converter", ask)
        found: dict[str, dict[str, str]] = {}
        for answer in answers:
            found.update(answer)
        return found, failed

    def published_version(self, doi_value: str, server: str = "biorxiv") -> tuple[dict[str, Any] | None, str | None]:
        """The published article of a bioRxiv/medRxiv preprint (``{"doi", "journal",
        "date"}``, or None when the server lists none), and the reason when it could not be
        asked."""
        url = biorxiv.pubs_url(self.settings.biorxiv_url, server, doi_value)
        try:
            response = self._ask(url, None, Service.BIORXIV)
            if response.status == 404:
                return None, None
            if response.status != 200:
                return None, f"{Service.BIORXIV.value} answered HTTP {response.status}"
            return biorxiv.parse_pubs(response, doi_value), None
        except HttpProblem as exc:
            return None, f"{Service.BIORXIV.value}: {exc.message}"
        except Malformed as exc:
            return None, f"{Service.BIORXIV.value}: {exc}"

    def search_works(self, title: str, author: str = "", rows: int = 5) -> tuple[list[dict[str, Any]] | None, str | None]:
        """Crossref works matching a bibliographic description (``query.bibliographic``), best
        first; None and the reason when Crossref could not be asked."""
        params = {"query.bibliographic": title, "rows": str(rows)}
        if author:
            params["query.author"] = author
        try:
            response = self._ask(crossref.works_list_url(self.settings.crossref_url), params, Service.CROSSREF)
            if response.status != 200:
                return None, f"Crossref answered HTTP {response.status}"
            return list(crossref.parse_work_list(response).values()), None
        except HttpProblem as exc:
            return None, f"Crossref: {exc.message}"
        except Malformed as exc:
            return None, f"Crossref: {exc}"

    def _fetch_pmid(self, ident: Identifier, pmid: str) -> FetchResult:
        url = self._efetch_url()
        params = self._ncbi_params({"db": "pubmed", "id": pmid, "retmode": "xml"})
        shown = f"{url}?db=pubmed&id={pmid}&retmode=xml"
        try:
            response = self._get(url, params, service=Service.PUBMED)
        except HttpProblem as exc:
            exc.url = shown
            return self._problem(ident, exc, Service.PUBMED)
        if response.status in (400, 404):
            self._remember(response, not_found=True)
            return FetchResult(ident, FetchStatus.NOT_FOUND, message="PMID not found in PubMed", url=shown)
        if response.status != 200:
            return FetchResult(ident, FetchStatus.ERROR, message=f"PubMed answered HTTP {response.status}", url=shown)
        try:
            articles = pubmed.parse_efetch(response)
            refs = [pubmed.reference_from_pubmed(a) for a in articles]
        except Malformed as exc:
            return FetchResult(ident, FetchStatus.MALFORMED, message=str(exc), url=shown)
        match = next((r for r in refs if r.pmid == pmid), None)
        if match is None:
            self._remember(response, not_found=True)
            return FetchResult(ident, FetchStatus.NOT_FOUND, message="PMID not found in PubMed", url=shown)
        article = articles[refs.index(match)]
        return self._found(ident, match, response, Service.PUBMED, shown,
                           raw=ET.tostring(article, encoding="unicode"))

    def _fetch_pmcid(self, ident: Identifier) -> FetchResult:
        url = self.settings.idconv_url
        params = self._ncbi_params({"ids": ident.value, "format": "json"})
        shown = f"{url}?ids={ident.value}&format=json"
        try:
            response = self._get(url, params, service=Service.IDCONV)
        except HttpProblem as exc:
            exc.url = shown
            return self._problem(ident, exc, Service.IDCONV)
        if response.status not in (200, 400, 404):
            return FetchResult(ident, FetchStatus.ERROR, url=shown,
                               message=f"PMC ID converter answered HTTP {response.status}")
        try:
            found = pubmed.parse_idconv(response, ident.value)
        except Malformed as exc:
            if response.status != 200:
                found = None
            else:
                return FetchResult(ident, FetchStatus.MALFORMED, message=str(exc), url=shown)
        if not found or not (found.get("doi") or found.get("pmid")):
            self._remember(response, not_found=True)
            return FetchResult(ident, FetchStatus.NOT_FOUND, message="PMCID not found by the PMC ID converter",
                               url=shown)
        self._remember(response)
        result = None
        if found.get("doi"):
            result = self._fetch_doi(ident, found["doi"])
        if (result is None or not result.ok) and found.get("pmid"):
            result = self._fetch_pmid(ident, found["pmid"])
        assert result is not None
        if result.reference is not None:
            result.reference.pmcid = ident.value
            result.reference.pmid = result.reference.pmid or found.get("pmid")
        return result


def telling(record: Any) -> bool:
    """True for a registry record that may mark its work retracted, withdrawn or a notice:
    one with update links, a notice publication type or a telling title (most records have
    none, and are judged without being mapped)."""
    if isinstance(record, str):
        return any(mark in record for mark in ("CommentsCorrections", "D016441", "D016440", "D016425"))
    if not isinstance(record, Mapping):
        return False
    title = record.get("title")
    title = title[0] if isinstance(title, list) and title else title
    return bool(record.get("updated-by") or record.get("update-to")
                or (isinstance(title, str) and title_says_so(title)))


def _as_ident(value: Any, kind: str | None = None) -> Identifier | None:
    if isinstance(value, Identifier) and kind is None:
        return value
    try:
        return parse_identifier(str(value), kind=kind)
    except InvalidIdentifier:
        return None


def cached_references(identifiers: Iterable[Identifier], config: Config | None = None) -> dict[Identifier, Reference]:
    """The records the metadata cache holds for ``identifiers``, asked offline (no request
    is sent); identifiers it does not know are left out, and a damaged cache answers nothing."""
    wanted = list(identifiers)
    if not wanted:
        return {}
    try:
        with Fetcher(config, offline=True, workers=1) as fetcher:
            results = fetcher.fetch_many(wanted)
    except Exception:  # a damaged cache must not break a check or a render
        return {}
    return {ident: result.reference for ident, result in results.items()
            if result.status is FetchStatus.OK and result.reference is not None}


__all__ = ["STATUSES", "FetchResult", "FetchStatus", "Fetcher", "SourceSettings", "cached_references"]
