"""On-disk cache of raw service answers, so a second run sends no request at all.

Each answer is one small JSON file under the cache folder (default: the user cache
directory, ``~/.cache/citeflow`` on Linux, outside any repository; ``CITEFLOW_CACHE_DIR``
or ``[cache] dir`` override it), named by a hash of the request and holding the URL, HTTP
status, content type, body, the SHA-256 of the body and the time it was fetched. Records
are kept ``ttl_days`` (default 30); "not found" answers only ``notfound_ttl_days`` (default
1), because a DOI registered yesterday should not stay missing for a month. A record that
cannot be read or parsed, whose body does not match its SHA-256, or whose fetch time lies
in the future is treated as absent (also in offline mode) and overwritten by the next
fetch. In offline mode the cache otherwise answers whatever its age.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from ..files import atomic_write_bytes
from .http import Response

DAY = 86400.0
#: How far a record's fetch time may lie ahead of this machine's clock (clock skew).
FUTURE_SLACK = 300.0
#: Parameters that identify the caller rather than the question; not part of the key.
_IDENTITY_PARAMS = frozenset({"api_key", "email", "tool", "mailto"})


def request_key(url: str, params: Mapping[str, str] | None = None, accept: str | None = None) -> str:
    """The cache key of a request: URL, parameters (sorted, minus caller identity), Accept."""
    kept = sorted((k, str(v)) for k, v in (params or {}).items() if k not in _IDENTITY_PARAMS)
    text = url + ("?" + urlencode(kept) if kept else "") + (f" accept={accept}" if accept else "")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Cache:
    """Raw answers on disk. ``folder`` is created on first write."""

    folder: Path
    ttl: float = 30 * DAY
    notfound_ttl: float = 1 * DAY

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str, any_age: bool = False) -> Response | None:
        """The stored answer for ``key`` if it exists, is readable and is fresh enough."""
        path = self._path(key)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            status = int(record["status"])
            fetched = float(record["fetched_at"])
            body = record["body"]
            if not isinstance(body, str) or record.get("sha256") != body_digest(body):
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if fetched > time.time() + FUTURE_SLACK:
            return None  # forged, or written by a machine with a broken clock
        if not any_age:
            ttl = self.notfound_ttl if record.get("not_found") else self.ttl
            if time.time() - fetched > ttl:
                return None
        return Response(url=str(record.get("url", "")), status=status, text=body,
                        content_type=str(record.get("content_type", "")), from_cache=True,
                        fetched_at=fetched)

    def put(self, key: str, response: Response, not_found: bool = False) -> None:
        """Store an answer (atomically: a reader never sees half a file)."""
        record = {
            "url": response.url,
            "status": response.status,
            "content_type": response.content_type,
            "fetched_at": response.fetched_at or time.time(),
            "fetched": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                     time.gmtime(response.fetched_at or time.time())),
            "not_found": not_found,
            "sha256": body_digest(response.text),
            "body": response.text,
        }
        # a read-only or full disk must not stop the lookup itself
        with contextlib.suppress(OSError):
            _replace_file(self._path(key), json.dumps(record, ensure_ascii=False).encode("utf-8"))

    def drop(self, key: str) -> None:
        """Forget a record (one whose content no longer passes the checks)."""
        with contextlib.suppress(OSError):
            self._path(key).unlink()


def body_digest(body: str) -> str:
    """The SHA-256 of a body (as UTF-8), kept in each record to check it when read."""
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()



def _replace_file(path: Path, data: bytes) -> None:
    """Write via a temporary file and an atomic rename, so no reader sees half a record.

    Unlike the writes of a user's files there is no fsync: after a crash a lost or torn
    record is only a cache miss (it fails to parse and is fetched again), and skipping the
    sync keeps a cold run of hundreds of lookups from waiting on the disk.
    """
    atomic_write_bytes(path, data, durable=False)
