"""HTTP for metadata services: bounded waits, bounded answers, a polite agent.

* One :class:`requests.Session` shared by all threads, with a connection pool as large as
  the worker pool.
* An overall deadline per request: connecting, sending and reading the whole answer
  (redirects included) must fit in ``timeout`` seconds. A watchdog shuts the connection
  down when the time is up, so a server that trickles bytes cannot hold a worker longer
  than that (a per-read socket timeout alone would wait forever for one byte a second).
* Answers are read as a stream and abandoned past ``max_bytes`` (after decompression);
  a ``Content-Length`` above it is refused before any of the body is read.
* Retries with exponential backoff on connection errors, timeouts, 429 and 5xx answers.
  ``Retry-After`` is honoured up to ``max_retry_after``; a server asking for longer is
  given up on at once. Every wait is paid from the lookup's :class:`RetryBudget`.
* A :class:`CircuitBreaker` per service: after ``breaker_failures`` failed attempts in a
  row, further requests to that service fail at once as "service unavailable".
* Redirects are followed by hand: to the same host and port (or the same host upgraded to
  https), or to a host of the request's ``redirect_hosts`` (the registration agencies that
  doi.org content negotiation hands over to). An https URL is never redirected to http.
* Per-host rate limits: requests to a host are spaced evenly (NCBI asks for at most 3 per
  second, 10 with an API key). A host that announces its budget in ``X-Rate-Limit-Limit`` /
  ``X-Rate-Limit-Interval`` (Crossref does) is held to that budget.
* Requests in flight per service: at most ``concurrency[service]`` at once (Crossref's
  polite pool allows 3), however many threads ask.
* A ``User-Agent`` naming citeflow and a contact address, as Crossref and NCBI ask.

Trouble is raised as :class:`HttpProblem` with a message fit for a writer: what went wrong
and with which URL. Nothing here prints.
"""

from __future__ import annotations

import codecs
import contextlib
import email.utils
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from http.client import HTTPException
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies, requote_uri
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .. import __version__

RETRY_STATUSES = (429, 500, 502, 503, 504)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MB = 1_000_000
#: Bytes asked of the connection per read while streaming an answer.
CHUNK = 64 * 1024


class ProblemKind(StrEnum):
    """Why a request failed."""

    TIMEOUT = "timeout"          # no complete answer within the deadline
    CONNECTION = "connection"    # refused, reset, cut off
    STATUS = "status"            # 429/5xx after the retries, or a Retry-After too long
    TOO_LARGE = "too_large"      # the answer is bigger than allowed
    REDIRECT = "redirect"        # redirected somewhere citeflow does not follow
    UNAVAILABLE = "unavailable"  # the service's circuit breaker is open
    MALFORMED = "malformed"      # not decodable as the text it claims to be
    OTHER = "other"


#: Problems worth another attempt.
RETRYABLE = frozenset({ProblemKind.TIMEOUT, ProblemKind.CONNECTION, ProblemKind.STATUS})


class HttpProblem(Exception):
    """A request that failed for good (after retries): ``kind`` says why (a
    :class:`ProblemKind`, which compares equal to its string value); ``url`` is the URL
    asked for."""

    def __init__(self, message: str, url: str, kind: ProblemKind | str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.url = url
        self.kind = ProblemKind(kind)
        self.status = status


@dataclass
class Response:
    """What a server (or the cache) answered."""

    url: str
    status: int
    text: str
    content_type: str = ""
    from_cache: bool = False
    fetched_at: float = 0.0
    cache_key: str = ""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: The body already parsed, when the answer was cut out of a batch answer (so that it
    #: is not parsed twice); ``text`` still holds it as the service would have sent it.
    parsed: Any = field(default=None, repr=False, compare=False)


def user_agent(mailto: str | None) -> str:
    """``citeflow/VERSION (mailto:ADDRESS)``: the polite agent string the services ask for."""
    if mailto:
        return f"citeflow/{__version__} (mailto:{mailto})"
    return f"citeflow/{__version__}"


def describe_size(size: float) -> str:
    """``10 MB``, ``64 kB``, ``512 bytes``."""
    for unit, scale in (("MB", MB), ("kB", 1000)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{int(size)} bytes"


class RateLimiter:
    """Spaces requests to each host evenly: at most ``rate`` per second per host.

    Threads reserve the next free slot under a lock and sleep outside it, so many workers
    share one host's budget fairly. ``clock`` and ``sleep`` can be replaced (tests).
    """

    def __init__(self, limits: Mapping[str, float] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self._limits = {host.lower(): float(rate) for host, rate in (limits or {}).items() if rate}
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def set_limit(self, host: str, rate: float | None) -> None:
        with self._lock:
            if rate:
                self._limits[host.lower()] = float(rate)
            else:
                self._limits.pop(host.lower(), None)

    def limit(self, host: str) -> float | None:
        return self._limits.get(host.lower())

    def wait(self, host: str) -> float:
        """Block until a request to ``host`` may go; return the seconds waited."""
        rate = self._limits.get(host.lower())
        if not rate:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(host.lower(), now))
            self._next[host.lower()] = slot + 1.0 / rate
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return max(delay, 0.0)


def _announced_rate(headers: Mapping[str, str]) -> float | None:
    """Requests per second from ``X-Rate-Limit-Limit: 50`` and ``X-Rate-Limit-Interval: 1s``."""
    limit = headers.get("X-Rate-Limit-Limit")
    interval = headers.get("X-Rate-Limit-Interval")
    if not limit or not interval:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*", interval)
    try:
        count = float(limit)
    except ValueError:
        return None
    if not match or count <= 0:
        return None
    seconds = float(match.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[match.group(2)]
    return count / seconds if seconds > 0 else None


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (a number or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


# -- the deadline of one request ------------------------------------------------------------------
class Deadline:
    """The time left for one request, enforced by shutting its sockets down when it runs out.

    Sockets opened or reused while the deadline is active in this thread (see
    :func:`_watch`) are registered as duplicates of their file descriptors, so that the
    watchdog can shut the connection down however urllib3 wraps it (TLS included) and
    without touching a descriptor that may since have been reused.
    """

    _current = threading.local()

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        Deadline._current.value = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        Deadline._current.value = None
        self._timer.cancel()
        with self._lock:
            self._done = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()

    @classmethod
    def current(cls) -> Deadline | None:
        return getattr(cls._current, "value", None)

    def remaining(self) -> float:
        return self.ends - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.expired or self.remaining() <= 0

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        try:
            copy = socket.socket(fileno=os.dup(sock.fileno()))
        except (OSError, ValueError):
            return
        with self._lock:
            if self._done:
                copy.close()
                return
            self._sockets.append(copy)
            late = self.expired
        if late:
            _shut(copy)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _watch(sock: socket.socket | None) -> None:
    deadline = Deadline.current()
    if deadline is not None:
        deadline.watch(sock)


class _Watched:
    """Mixed into urllib3's connections: their sockets, new or reused from the pool, are
    handed to the current :class:`Deadline`."""

    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        _watch(sock)
        return sock

    def request(self, *args, **kwargs):
        _watch(self.sock)  # None for a new connection: _new_conn registers it
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _DeadlineConnection(_Watched, HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _DeadlineAdapter(HTTPAdapter):
    """A requests adapter whose connections (direct or through a proxy) obey deadlines."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy, **kwargs):
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS brings connection classes of its own
            manager.pool_classes_by_scheme = _POOLS
        return manager


class InFlight:
    """At most ``limits[service]`` requests to a service at once; threads wait for a slot.

    ``peak`` records the most requests that were in flight together, per service.
    """

    def __init__(self, limits: Mapping[str, int] | None = None):
        self._slots = {name: threading.BoundedSemaphore(count)
                       for name, count in (limits or {}).items() if count and count > 0}
        self._lock = threading.Lock()
        self._now: dict[str, int] = {}
        self.peak: dict[str, int] = {}

    @contextlib.contextmanager
    def slot(self, service: str) -> Iterator[None]:
        semaphore = self._slots.get(service)
        if semaphore is None:
            yield
            return
        with semaphore:
            with self._lock:
                self._now[service] = self._now.get(service, 0) + 1
                self.peak[service] = max(self.peak.get(service, 0), self._now[service])
            try:
                yield
            finally:
                with self._lock:
                    self._now[service] -= 1


# -- retry budget and circuit breaker --------------------------------------------------------------
@dataclass
class RetryBudget:
    """Seconds one lookup may spend waiting between attempts (backoff and Retry-After)."""

    seconds: float
    spent: float = 0.0

    def take(self, wait: float) -> bool:
        """Spend ``wait`` seconds if the budget allows it."""
        if self.spent + wait > self.seconds:
            return False
        self.spent += wait
        return True


@dataclass
class _ServiceState:
    failures: int = 0
    last: str = ""


class CircuitBreaker:
    """Counts failed attempts per service; ``threshold`` in a row open the breaker, and
    from then on requests to that service fail at once. Any answer resets the count.
    A threshold of 0 never opens."""

    def __init__(self, threshold: int):
        self.threshold = threshold
        self._states: dict[str, _ServiceState] = {}
        self._lock = threading.Lock()

    def _tripped(self, service: str) -> _ServiceState | None:
        """The service's state (a copy) if its breaker is open, else None."""
        with self._lock:
            state = self._states.get(service)
            if self.threshold and state and state.failures >= self.threshold:
                return _ServiceState(state.failures, state.last)
        return None

    def is_open(self, service: str) -> bool:
        return self._tripped(service) is not None

    def check(self, service: str, url: str) -> None:
        """Raise :class:`HttpProblem` (``unavailable``) if the service's breaker is open."""
        state = self._tripped(service)
        if state is not None:
            raise HttpProblem(f"service unavailable ({state.failures} failed attempts in a row, the "
                              f"last: {state.last}); not asked", url, ProblemKind.UNAVAILABLE)

    def failure(self, service: str, message: str) -> None:
        with self._lock:
            state = self._states.setdefault(service, _ServiceState())
            state.failures += 1
            state.last = message

    def success(self, service: str) -> None:
        with self._lock:
            self._states.pop(service, None)


# -- the client --------------------------------------------------------------------------------------
@dataclass
class HttpSettings:
    timeout: float = 20.0
    max_bytes: int = 10 * MB
    retries: int = 3
    backoff: float = 0.5
    max_retry_after: float = 30.0
    retry_budget: float = 60.0
    breaker_failures: int = 5
    max_redirects: int = 5
    pool_size: int = 8
    mailto: str | None = None
    rate_limits: dict[str, float] = field(default_factory=dict)
    #: Requests in flight at once, by service name (the ``service`` given to :meth:`HttpClient.get`).
    concurrency: dict[str, int] = field(default_factory=dict)


@dataclass
class _Attempt:
    """The outcome of one attempt: an answer or a problem, and how long to wait before
    the next (None: do not retry)."""

    response: Response | None = None
    problem: HttpProblem | None = None
    wait: float | None = None


class HttpClient:
    """A shared, thread-safe HTTP client for the metadata services."""

    def __init__(self, settings: HttpSettings | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings or HttpSettings()
        s = self.settings
        self.session = requests.Session()
        adapter = _DeadlineAdapter(max_retries=0, pool_connections=8, pool_maxsize=max(s.pool_size, 1))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = user_agent(s.mailto)
        # Proxy and CA settings come from the environment as usual, but are read once per
        # host rather than on every request (requests re-reads them each time otherwise).
        self.session.trust_env = False
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self._proxies: dict[str, dict[str, str]] = {}
        self.limiter = RateLimiter(s.rate_limits)
        self.breaker = CircuitBreaker(s.breaker_failures)
        self.in_flight = InFlight(s.concurrency)
        self._sleep = sleep
        self._count_lock = threading.Lock()
        self.requests_sent = 0

    def get(self, url: str, params: Mapping[str, str] | None = None,
            headers: Mapping[str, str] | None = None, *, service: str | None = None,
            budget: RetryBudget | None = None, redirect_hosts: Iterable[str] = ()) -> Response:
        """GET a URL; return the final answer or raise :class:`HttpProblem`.

        ``service`` names the circuit breaker to use (default: the URL's host); ``budget``
        pays for the waits between attempts; ``redirect_hosts`` are the other hosts this
        request may be redirected to.
        """
        service = service or urlsplit(url).netloc
        allowed = frozenset(h.lower() for h in redirect_hosts)
        attempt = 0
        while True:
            self.breaker.check(service, url)
            with self.in_flight.slot(service):
                outcome = self._attempt(url, params, headers, allowed, attempt)
            if outcome.response is not None:
                self.breaker.success(service)
                return outcome.response
            problem = outcome.problem
            assert problem is not None
            if problem.kind is not ProblemKind.MALFORMED:
                self.breaker.failure(service, problem.message)
            if outcome.wait is None or attempt >= self.settings.retries:
                raise problem
            if self.breaker.is_open(service):
                raise problem
            if budget is not None and not budget.take(outcome.wait):
                raise HttpProblem(f"{problem.message}; no retry left in the lookup's budget of "
                                  f"{budget.seconds:g} s", problem.url, problem.kind, problem.status)
            if outcome.wait > 0:
                self._sleep(outcome.wait)
            attempt += 1

    # -- one attempt ---------------------------------------------------------------------------
    def _attempt(self, url: str, params: Mapping[str, str] | None, headers: Mapping[str, str] | None,
                 redirect_hosts: frozenset[str], attempt: int) -> _Attempt:
        s = self.settings
        backoff = s.backoff * (2 ** attempt)
        self.limiter.wait(urlsplit(url).netloc)  # waiting for a slot is not the server's time
        with Deadline(s.timeout) as deadline:
            try:
                response = self._exchange(url, params, headers, redirect_hosts, deadline)
            except HttpProblem as exc:
                problem = self._late(url) if deadline.expired else exc
                return _Attempt(problem=problem, wait=backoff if problem.kind in RETRYABLE else None)
            except (requests.exceptions.RequestException, OSError, HTTPException, urllib3.exceptions.HTTPError) as exc:
                problem = self._late(url) if deadline.passed else _request_problem(exc, url, s.timeout)
                return _Attempt(problem=problem, wait=backoff if problem.kind in RETRYABLE else None)
        if response.status not in RETRY_STATUSES:
            return _Attempt(response=response)
        if attempt >= s.retries:
            return _Attempt(problem=HttpProblem(
                f"server answered HTTP {response.status} after {s.retries} retries",
                response.url, ProblemKind.STATUS, response.status))
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        if asked is not None and asked > s.max_retry_after:
            return _Attempt(problem=HttpProblem(
                f"server answered HTTP {response.status} and asks to wait {asked:g} s "
                f"(Retry-After), longer than the {s.max_retry_after:g} s citeflow waits",
                response.url, ProblemKind.STATUS, response.status))
        problem = HttpProblem(f"server answered HTTP {response.status}", response.url,
                              ProblemKind.STATUS, response.status)
        return _Attempt(problem=problem, wait=asked if asked is not None else backoff)

    def _late(self, url: str) -> HttpProblem:
        return HttpProblem(f"no complete answer within {self.settings.timeout:g} s", url, ProblemKind.TIMEOUT)

    def _exchange(self, url: str, params: Mapping[str, str] | None, headers: Mapping[str, str] | None,
                  redirect_hosts: frozenset[str], deadline: Deadline) -> Response:
        """One request and its redirects, within ``deadline``; the body read as a stream."""
        current, current_params = url, params
        for hop in range(self.settings.max_redirects + 1):
            host = urlsplit(current).netloc
            if hop:
                self.limiter.wait(host)
            with self._count_lock:
                self.requests_sent += 1
            left = deadline.remaining()
            if left <= 0:
                raise self._late(url)
            answer = self.session.get(current, params=current_params, headers=dict(headers or {}),
                                      timeout=(left, left), proxies=self._proxies_for(current),
                                      allow_redirects=False, stream=True)
            try:
                target = self.session.get_redirect_target(answer) \
                    if answer.status_code in REDIRECT_STATUSES else None
                if target:
                    following = requote_uri(urljoin(answer.url, target))
                    refusal = redirect_refusal(answer.url, following, redirect_hosts)
                    if refusal:
                        raise HttpProblem(refusal, answer.url, ProblemKind.REDIRECT, answer.status_code)
                    current, current_params = following, None
                    continue
                body = self._read_body(answer, deadline)
            finally:
                answer.close()
            announced = _announced_rate(answer.headers)
            if announced and announced != self.limiter.limit(host):
                self.limiter.set_limit(host, announced)
            content_type = answer.headers.get("Content-Type", "")
            return Response(url=answer.url or current, status=answer.status_code,
                            text=decode_body(body, content_type, answer.url or current),
                            content_type=content_type, fetched_at=time.time(),
                            headers=answer.headers)
        raise HttpProblem(f"more than {self.settings.max_redirects} redirects", url, ProblemKind.REDIRECT)

    def _read_body(self, answer: requests.Response, deadline: Deadline) -> bytes:
        """The whole body, or :class:`HttpProblem` when it is too large or too late."""
        limit = self.settings.max_bytes
        url = answer.url
        declared = answer.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise HttpProblem(f"the answer is larger than {describe_size(limit)} "
                              f"({describe_size(int(declared))} announced); abandoned",
                              url, ProblemKind.TOO_LARGE)
        chunks: list[bytes] = []
        size = 0
        for chunk in _stream(answer):
            size += len(chunk)
            if size > limit:
                raise HttpProblem(f"the answer is larger than {describe_size(limit)}; abandoned",
                                  url, ProblemKind.TOO_LARGE)
            if deadline.passed:
                raise self._late(url)
            chunks.append(chunk)
        if deadline.passed:  # the watchdog may have cut the body short
            raise self._late(url)
        return b"".join(chunks)

    def _proxies_for(self, url: str) -> dict[str, str]:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        proxies = self._proxies.get(origin)
        if proxies is None:
            proxies = self._proxies[origin] = get_environ_proxies(origin)
        return proxies

    def close(self) -> None:
        self.session.close()


def _stream(answer: requests.Response) -> Iterator[bytes]:
    """The decoded body in chunks of at most :data:`CHUNK` bytes (urllib3 bounds each
    decompression step too, so a small compressed answer cannot blow up in one go)."""
    try:
        yield from answer.raw.stream(CHUNK, decode_content=True)
    except Exception as exc:  # urllib3 ProtocolError, DecodeError, ReadTimeoutError, OSError
        raise requests.exceptions.ConnectionError(exc) from exc


def redirect_refusal(source: str, target: str, allowed_hosts: frozenset[str]) -> str | None:
    """Why a redirect from ``source`` to ``target`` is not followed, or None to follow it.

    Followed: the same host and port; the same host moving from http to https; or a host
    (``name`` or ``name:port``) in ``allowed_hosts``. Never from https to http.
    """
    old, new = urlsplit(source), urlsplit(target)
    if new.scheme not in ("http", "https"):
        return f"redirected to a {new.scheme or 'relative'} URL ({target}); not followed"
    if old.scheme == "https" and new.scheme == "http":
        return f"redirected from https to http ({target}); not followed"
    old_host, new_host = (old.hostname or "").lower(), (new.hostname or "").lower()
    try:
        old_port = old.port or _DEFAULT_PORTS.get(old.scheme)
        new_port = new.port or _DEFAULT_PORTS.get(new.scheme)
    except ValueError:  # a port out of range
        return f"redirected to a malformed URL ({target}); not followed"
    upgrade = (old.scheme, old_port, new.scheme, new_port) == ("http", 80, "https", 443)
    if old_host == new_host and (old_port == new_port or upgrade):
        return None
    if new_host in allowed_hosts or new.netloc.lower() in allowed_hosts:
        return None
    return f"redirected to another host ({target}); not followed"


_DEFAULT_PORTS = {"http": 80, "https": 443}
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.I)


def decode_body(body: bytes, content_type: str, url: str) -> str:
    """The body as text in its declared charset (UTF-8 when none is declared, a UTF-8 byte
    order mark dropped); bytes that are not valid in it are a :class:`HttpProblem`."""
    match = _CHARSET.search(content_type or "")
    charset = match.group(1).lower() if match else "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    if codecs.lookup(charset).name == "utf-8":
        charset = "utf-8-sig"
    try:
        return body.decode(charset)
    except UnicodeDecodeError as exc:
        shown = "UTF-8" if charset == "utf-8-sig" else charset
        raise HttpProblem(f"the answer is not valid {shown} text (byte {exc.start})", url,
                          ProblemKind.MALFORMED) from None


def _request_problem(exc: Exception, url: str, timeout: float) -> HttpProblem:
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout)):
        return HttpProblem(f"no complete answer within {timeout:g} s", url, ProblemKind.TIMEOUT)
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = _connection_reason(exc)
        if reason == "timed out":
            return HttpProblem(f"no complete answer within {timeout:g} s", url, ProblemKind.TIMEOUT)
        if reason == "the answer was cut off":
            return HttpProblem(reason, url, ProblemKind.CONNECTION)
        return HttpProblem(f"cannot connect ({reason})", url, ProblemKind.CONNECTION)
    return HttpProblem(f"request failed ({exc.__class__.__name__})", url, ProblemKind.OTHER)


def _connection_reason(exc: Exception) -> str:
    text = str(exc)
    for needle, reason in (("Connection refused", "connection refused"),
                           ("Name or service not known", "unknown host"),
                           ("nodename nor servname", "unknown host"),
                           ("Temporary failure in name resolution", "unknown host"),
                           ("timed out", "timed out"),
                           ("RemoteDisconnected", "server closed the connection"),
                           ("Connection reset", "connection reset"),
                           ("IncompleteRead", "the answer was cut off"),
                           ("Connection broken", "the answer was cut off")):
        if needle in text:
            return reason
    return "network error"
