"""HTTP for metadata services: one session, timeouts, retries, rate limits, a polite agent.

* One :class:`requests.Session` shared by all threads, with a connection pool as large as
  the worker pool.
* Retries with exponential backoff on connection errors, read timeouts, 429 and 5xx answers
  (urllib3 ``Retry``), honouring ``Retry-After`` up to a cap.
* Per-host rate limits: requests to a host are spaced evenly (NCBI asks for at most 3 per
  second, 10 with an API key). A host that announces its budget in ``X-Rate-Limit-Limit`` /
  ``X-Rate-Limit-Interval`` (Crossref does) is held to that budget.
* A ``User-Agent`` naming citeflow and a contact address, as Crossref and NCBI ask.

Trouble is raised as :class:`HttpProblem` with a message fit for a writer: what went wrong
and with which URL. Nothing here prints.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies
from urllib3.util.retry import Retry

from .. import __version__

RETRY_STATUSES = (429, 500, 502, 503, 504)


class HttpProblem(Exception):
    """A request that failed for good (after retries): ``kind`` is ``timeout``,
    ``connection``, ``status`` or ``other``; ``url`` is the URL asked for."""

    def __init__(self, message: str, url: str, kind: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.url = url
        self.kind = kind
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


def user_agent(mailto: str | None) -> str:
    """``citeflow/VERSION (mailto:ADDRESS)``: the polite agent string the services ask for."""
    if mailto:
        return f"citeflow/{__version__} (mailto:{mailto})"
    return f"citeflow/{__version__}"


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


@dataclass
class HttpSettings:
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    max_retry_after: float = 60.0
    pool_size: int = 8
    mailto: str | None = None
    rate_limits: dict[str, float] = field(default_factory=dict)


class HttpClient:
    """A shared, thread-safe HTTP client for the metadata services."""

    def __init__(self, settings: HttpSettings | None = None):
        self.settings = settings or HttpSettings()
        s = self.settings
        self.session = requests.Session()
        retry = Retry(
            total=s.retries,
            connect=s.retries,
            read=s.retries,
            status=s.retries,
            other=0,
            backoff_factor=s.backoff,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
            retry_after_max=int(max(s.max_retry_after, 0)),
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=8,
                              pool_maxsize=max(s.pool_size, 1))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = user_agent(s.mailto)
        # Proxy and CA settings come from the environment as usual, but are read once per
        # host rather than on every request (requests re-reads them each time otherwise).
        self.session.trust_env = False
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self._proxies: dict[str, dict[str, str]] = {}
        self.limiter = RateLimiter(s.rate_limits)
        self._count_lock = threading.Lock()
        self.requests_sent = 0

    def get(self, url: str, params: Mapping[str, str] | None = None,
            headers: Mapping[str, str] | None = None) -> Response:
        """GET a URL; return the final answer (any status) or raise :class:`HttpProblem`."""
        host = urlsplit(url).netloc
        self.limiter.wait(host)
        with self._count_lock:
            self.requests_sent += 1
        shown = url
        try:
            answer = self.session.get(url, params=params, headers=dict(headers or {}),
                                      timeout=self.settings.timeout, proxies=self._proxies_for(url))
        except requests.exceptions.RetryError as exc:
            status = _status_from_retry_error(exc)
            raise HttpProblem(
                f"server kept answering {status or 'errors'} after {self.settings.retries} retries",
                shown, "status", status) from exc
        except (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout) as exc:
            raise HttpProblem(f"no answer within {self.settings.timeout:g} s", shown, "timeout") from exc
        except requests.exceptions.ConnectionError as exc:
            reason = _connection_reason(exc)
            if "timed out" in reason.lower():
                raise HttpProblem(f"no answer within {self.settings.timeout:g} s", shown, "timeout") from exc
            raise HttpProblem(f"cannot connect ({reason})", shown, "connection") from exc
        except requests.exceptions.RequestException as exc:
            raise HttpProblem(f"request failed ({exc.__class__.__name__})", shown, "other") from exc
        if "charset=" not in answer.headers.get("Content-Type", "").lower():
            # the services answer UTF-8; without this, requests guesses (slowly, and may
            # guess wrong for CSL-JSON or XML sent without a charset)
            answer.encoding = "utf-8"
        announced = _announced_rate(answer.headers)
        if announced and announced != self.limiter.limit(host):
            self.limiter.set_limit(host, announced)
        try:
            text = answer.text
        except Exception as exc:  # body cut off mid-way
            raise HttpProblem("the answer was cut off", shown, "other") from exc
        if answer.status_code in RETRY_STATUSES:
            raise HttpProblem(f"server answered HTTP {answer.status_code} after "
                              f"{self.settings.retries} retries", answer.url or shown, "status",
                              answer.status_code)
        return Response(url=answer.url or shown, status=answer.status_code, text=text,
                        content_type=answer.headers.get("Content-Type", ""),
                        fetched_at=time.time())

    def _proxies_for(self, url: str) -> dict[str, str]:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        proxies = self._proxies.get(origin)
        if proxies is None:
            proxies = self._proxies[origin] = get_environ_proxies(origin)
        return proxies

    def close(self) -> None:
        self.session.close()


def _status_from_retry_error(exc: Exception) -> int | None:
    match = re.search(r"too many (\d{3}) error", str(exc))
    return int(match.group(1)) if match else None


def _connection_reason(exc: Exception) -> str:
    text = str(exc)
    for needle, reason in (("Connection refused", "connection refused"),
                           ("Name or service not known", "unknown host"),
                           ("nodename nor servname", "unknown host"),
                           ("Temporary failure in name resolution", "unknown host"),
                           ("timed out", "timed out"),
                           ("RemoteDisconnected", "server closed the connection"),
                           ("Connection reset", "connection reset"),
                           ("IncompleteRead", "the answer was cut off")):
        if needle in text:
            return reason
    return "network error"
