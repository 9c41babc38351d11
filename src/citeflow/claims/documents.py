"""The analysed entries of a large bibliography, kept on disk from one check to the next.

Ranking candidate references (:class:`~citeflow.claims.suggest.Suggester`) first analyses
the title, keywords, abstract and journal of every bibliography entry (concepts, words,
stems): about a tenth of a millisecond per entry, several seconds for a library of tens of
thousands. For a bibliography of at least :data:`LARGE` entries the token lists are stored
in one record per content, found by a key made of

* the text the analysis reads, entry by entry (so any edit to an entry is a new key), and
* a digest of the analysis itself: the code of ``suggest.py``, the concept table, the
  stemmer's version, citeflow's version and the record format.

Records follow the rules of the parsed-bibliography cache (:mod:`citeflow.references.bibcache`):
JSON, zlib-compressed behind a one-line header (format, key, SHA-256 and length of the body),
never pickle; checked when read (header, digest, one list of words per entry) and ignored
otherwise; written atomically; the ones most recently used kept. They live in ``documents/``
of the cache folder (``CITEFLOW_CACHE_DIR``, else the user cache directory), and
``CITEFLOW_BIBLIOGRAPHY_CACHE=0`` turns them off with the bibliography records.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from citeflow import __version__
from citeflow.references.bibcache import BibliographyCache, read_record, write_record

#: Bibliographies with fewer entries are analysed afresh (it takes well under a second).
LARGE = 2000
#: The layout of a record; a change to it bumps it.
FORMAT = 1
#: The folder of the records, inside the cache folder.
FOLDER = "documents"
_MAGIC = b"citeflow-documents "
#: A record larger, or inflating to more, than this many times the text it was made from
#: (plus a margin) is not read: the words of a title and keywords are kept twice, with the
#: concepts they raise, and JSON adds quotes and commas.
_MAX_GROWTH = 16


@lru_cache(maxsize=1)
def analysis_digest() -> str:
    """A digest of what decides the analysis of an entry besides its text."""
    # Python's own version too: it brings the Unicode tables behind lower-casing, accent
    # folding and the word characters of regular expressions.
    digest = hashlib.sha256(f"{FORMAT} {__version__} {sys.version} {unicodedata.unidata_version}".encode())
    package = resources.files("citeflow.claims")
    for name in ("suggest.py", "screen.py", "data/__init__.py", "data/concepts.toml"):
        try:
            digest.update(package.joinpath(name).read_bytes())
        except OSError:
            digest.update(name.encode())
    for distribution in ("PyStemmer", "snowballstemmer", "google-re2"):
        try:
            digest.update(importlib.metadata.version(distribution).encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(b"-")
    return digest.hexdigest()


def document_key(inputs: Sequence[Sequence[str]]) -> tuple[str, int]:
    """The key of the entries whose analysed texts are ``inputs`` (one tuple of texts per
    entry, in order), and how many bytes of text they hold."""
    digest = hashlib.sha256(analysis_digest().encode())
    # JSON text of the list of every entry's list of texts: no two different lists write
    # the same (a separator character could also be part of a text)
    data = json.dumps(inputs, ensure_ascii=False).encode("utf-8", "surrogatepass")
    digest.update(data)
    return digest.hexdigest(), len(data)


@dataclass(frozen=True)
class DocumentCache:
    """Analysed entries on disk, in ``folder``; at most ``records`` records are kept."""

    folder: Path
    records: int

    @classmethod
    def default(cls, env: Mapping[str, str] | None = None) -> DocumentCache | None:
        """The records in ``documents/`` next to the bibliography records; None when
        ``CITEFLOW_BIBLIOGRAPHY_CACHE=0`` turns the caches off."""
        bibliographies = BibliographyCache.default(env)
        if bibliographies is None:
            return None
        return cls(bibliographies.folder.parent / FOLDER, bibliographies.records)

    def get(self, key: str, count: int, size: int) -> list[list[str]] | None:
        """The ``count`` token lists stored under ``key`` (made from ``size`` bytes of
        text), or None if there are none or the record does not pass the checks."""
        return read_record(self.folder / f"{key}.json.z", _MAGIC, FORMAT, key,
                           _MAX_GROWTH * size + 1_000_000, lambda content: _documents(content, count))

    def put(self, key: str, documents: Sequence[Sequence[str]]) -> None:
        """Store the token lists (atomically), then prune the records used longest ago. A
        folder that cannot be written only means the next check analyses again."""
        write_record(self.folder / f"{key}.json.z", _MAGIC, FORMAT, key, [list(doc) for doc in documents],
                     self.records)


_ONLY_TEXT = {str}


def _documents(content, count: int) -> list[list[str]] | None:
    """The token lists of a record's content, if it holds ``count`` lists of text."""
    if type(content) is not list or len(content) != count:
        return None
    if not all(type(doc) is list and set(map(type, doc)) <= _ONLY_TEXT for doc in content):
        return None
    return content


__all__ = ["FOLDER", "LARGE", "DocumentCache", "analysis_digest", "document_key"]
