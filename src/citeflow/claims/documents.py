"""The analysed entries of a large bibliography, kept on disk from one check to the next.

Ranking candidate references (:class:`~citeflow.claims.suggest.Suggester`) first analyses
the title, keywords, abstract and journal of every bibliography entry (concepts, words,
stems): about a tenth of a millisecond per entry, several seconds for a library of tens of
thousands. For a bibliography of at least :data:`LARGE` entries the analysed entries
(:class:`Documents`: the distinct terms, and each entry's tokens as numbers into them) are
stored in one record per content, found by a key made of

* the text the analysis reads, entry by entry (so any edit to an entry is a new key), and
* a digest of the analysis itself: the code of ``suggest.py``, the concept table, the
  stemmer's version, citeflow's version and the record format.

Records follow the rules of the parsed-bibliography cache (:mod:`citeflow.references.bibcache`):
JSON, zlib-compressed behind a one-line header (format, key, SHA-256 and length of the body),
never pickle; checked when read (header, digest, one count of tokens per entry, every
number naming one of the terms, the terms numbered in the order they first appear) and
ignored otherwise; written atomically; the ones most recently used kept. They live in ``documents/``
of the cache folder (``CITEFLOW_CACHE_DIR``, else the user cache directory), and
``CITEFLOW_BIBLIOGRAPHY_CACHE=0`` turns them off with the bibliography records.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from itertools import chain
from pathlib import Path

import numpy as np

from citeflow import __version__
from citeflow.references.bibcache import BibliographyCache, JsonPieces, dump_json, read_record, write_record

#: Bibliographies with fewer entries are analysed afresh (it takes well under a second).
LARGE = 2000
#: The layout of a record; a change to it bumps it. 2: the distinct tokens, and every
#: entry's tokens as numbers into them (:class:`Documents`), little-endian 32-bit integers in
#: base64: read and written far faster, and far smaller in memory, than lists of texts.
FORMAT = 2
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


#: Entries written out and hashed at a time by :func:`document_key`.
_KEY_SLICE = 2048


def document_key(inputs: Sequence[Sequence[str]]) -> tuple[str, int]:
    """The key of the entries whose analysed texts are ``inputs`` (one tuple of texts per
    entry, in order), and how many bytes of text they hold."""
    digest = hashlib.sha256(analysis_digest().encode())
    # JSON text of the list of every entry's list of texts: no two different lists write
    # the same (a separator character could also be part of a text). Written and hashed a
    # slice of entries at a time (the text of the whole list is as long as the texts).
    size = 0
    for start in range(0, len(inputs), _KEY_SLICE):
        part = json.dumps(inputs[start:start + _KEY_SLICE], ensure_ascii=False)
        data = (("[" if not start else ", ") + part[1:-1]).encode("utf-8", "surrogatepass")
        digest.update(data)
        size += len(data)
    data = b"[]" if not inputs else b"]"
    digest.update(data)
    return digest.hexdigest(), size + len(data)


@dataclass(frozen=True)
class Documents:
    """The analysed entries of a bibliography, one document of tokens per entry, held as
    numbers: ``terms`` are the distinct tokens in the order they first appear, ``ids`` every
    document's token numbers end to end, ``lengths`` how many tokens each document has.
    Fifty thousand entries hold about three million tokens: as numbers, 12 MB instead of
    some 200 MB of Python lists and texts."""

    terms: list[str]
    ids: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, documents: Sequence[Sequence[str]]) -> Documents:
        """The documents of these token lists."""
        return cls.joined([(document,) for document in documents])

    @classmethod
    def joined(cls, documents: Sequence[Sequence[Sequence[str]]]) -> Documents:
        """The documents each made of its token lists end to end. The terms are numbered in
        the order they first appear; a list several documents hold (the same object: an
        analysed text shared by entries, or a title counted twice) is numbered once."""
        number = {term: index for index, term in enumerate(dict.fromkeys(
            chain.from_iterable(chain.from_iterable(documents))))}
        numbered: dict[int, np.ndarray] = {}  # by id() of a token list, alive throughout
        pieces: list[np.ndarray] = []
        lengths = np.zeros(len(documents), dtype=np.int64)
        for index, parts in enumerate(documents):
            for tokens in parts:
                ids = numbered.get(id(tokens))
                if ids is None:
                    ids = numbered[id(tokens)] = np.fromiter(map(number.__getitem__, tokens), dtype=np.int32,
                                                              count=len(tokens))
                pieces.append(ids)
            lengths[index] = sum(map(len, parts))
        flat = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)
        return cls(list(number), flat, lengths)

    def __len__(self) -> int:
        return len(self.lengths)

    @cached_property
    def starts(self) -> np.ndarray:
        """Where each document's tokens start in ``ids`` (and where the last one ends)."""
        starts = np.zeros(len(self.lengths) + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=starts[1:])
        return starts

    def tokens(self, index: int) -> list[str]:
        """The tokens of document ``index``, in order."""
        terms = self.terms
        return [terms[i] for i in self.ids[self.starts[index]:self.starts[index + 1]].tolist()]

    def lists(self) -> list[list[str]]:
        """Every document's tokens."""
        return [self.tokens(index) for index in range(len(self))]


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

    def get(self, key: str, count: int, size: int) -> Documents | None:
        """The ``count`` documents stored under ``key`` (made from ``size`` bytes of text),
        or None if there are none or the record does not pass the checks."""
        return read_record(self.folder / f"{key}.json.z", _MAGIC, FORMAT, key,
                           _MAX_GROWTH * size + 1_000_000, lambda content: _documents(content, count))

    def put(self, key: str, documents: Documents) -> None:
        """Store the documents (atomically), then prune the records used longest ago. A
        folder that cannot be written only means the next check analyses again."""
        # as pieces of JSON: the numbers go from the array to base64 to the compressor, never
        # also as text or as one JSON document in memory
        content = JsonPieces([b'{"terms":', dump_json(documents.terms), b',"ids":"', _encode(documents.ids),
                              b'","lengths":"', _encode(documents.lengths), b'"}'])
        write_record(self.folder / f"{key}.json.z", _MAGIC, FORMAT, key, content, self.records)


_NUMBERS = np.dtype("<i4")
_ONLY_TEXT = {str}


def _encode(numbers: np.ndarray) -> bytes:
    return base64.b64encode(np.ascontiguousarray(numbers, dtype=_NUMBERS).data.cast("B"))


def _decode(text) -> np.ndarray | None:
    if type(text) is not str:
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    if len(data) % _NUMBERS.itemsize:
        return None
    return np.frombuffer(data, dtype=_NUMBERS)


def _documents(content, count: int) -> Documents | None:
    """The documents of a record's content, if it holds ``count`` documents whose token
    numbers all name one of its terms, numbered in the order they first appear."""
    if type(content) is not dict or set(content) != {"terms", "ids", "lengths"}:
        return None
    terms = content["terms"]
    if type(terms) is not list or not set(map(type, terms)) <= _ONLY_TEXT:
        return None
    if len(set(terms)) != len(terms):
        return None
    terms = list(map(sys.intern, terms))  # the same objects as the analysis of a sentence makes
    ids, lengths = _decode(content["ids"]), _decode(content["lengths"])
    if ids is None or lengths is None or len(lengths) != count or (lengths < 0).any():
        return None
    if int(lengths.sum()) != len(ids) or (len(ids) == 0) != (len(terms) == 0):
        return None
    if len(ids):
        # each number at most one more than every number before it, the last term used
        seen = np.maximum.accumulate(ids)
        if ids[0] != 0 or (ids < 0).any() or (ids[1:] > seen[:-1] + 1).any() or int(seen[-1]) != len(terms) - 1:
            return None
    return Documents(terms, ids.astype(np.int32), lengths.astype(np.int64))


__all__ = ["FOLDER", "LARGE", "DocumentCache", "Documents", "analysis_digest", "document_key"]
