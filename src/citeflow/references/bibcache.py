"""The parsed-bibliography cache: a large BibTeX bibliography is parsed once per content.

Parsing BibTeX (pybtex, then the LaTeX of every field decoded) costs about a millisecond
per entry, so a 50,000-entry library takes tens of seconds. :func:`load_bibliography
<citeflow.references.bibliography.load_bibliography>` keeps what that parse gave, the
references with their lines and the warnings, in one record per set of BibTeX files, found
by a key made of

* the SHA-256 of each BibTeX file's bytes, in the order given (the files share ``@string``
  macros and ``crossref`` targets, so they are parsed together);
* the record format, the citeflow version and the parser settings: the pybtex and
  latexcodec versions and a digest of citeflow's own BibTeX reading code.

A record names the files by their place in that list, not by path, so the same content
under another name or in another folder is found as well; the caller's paths are put back
when it is read.

Records are JSON, zlib-compressed behind a one-line header, never pickle: the folder may be
shared, and a record must stay data. They live in ``bibliographies/`` of the metadata
cache's folder (``CITEFLOW_CACHE_DIR``, else the user cache directory; see
:meth:`BibliographyCache.default`). Each is checked when read: its header (format and key),
the SHA-256 and length of its body, and the type of every value. Anything else, a record
cut off, tampered with or written by another version, is ignored: the files are parsed
again and the record rewritten. Records are written atomically (a reader never sees half of
one); the ones most recently used are kept (``CITEFLOW_BIBLIOGRAPHY_CACHE``, default 8; 0
turns the cache off).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

try:  # orjson: JSON in compiled code; the json module does the same, slower
    import orjson
except ImportError:  # pragma: no cover - only where the dependency is missing
    orjson = None  # type: ignore[assignment]

from citeflow import __version__
from citeflow.config import SCHEMA, Config
from citeflow.errors import CiteflowError
from citeflow.files import atomic_write_bytes
from citeflow.references.reference import BibliographyWarning, Reference, WarningKind

_T = TypeVar("_T")

#: The layout of a record; a change to it (or to what a parse returns) bumps it. 2: JSON
#: lines, one reference each, read as the record inflates.
FORMAT = 2
#: The folder of the records, inside the user cache directory.
FOLDER = "bibliographies"
#: How many records are kept (the most recently used).
DEFAULT_RECORDS = 8
#: Modules whose code decides what a BibTeX parse, or a record of it, holds (part of the key).
_PARSER_MODULES = ("bibliography.py", "bibparse.py", "bibtex.py", "reference.py", "identifiers.py", "bibcache.py")
#: A record larger than this many times its BibTeX bytes (plus a margin) is not read.
_MAX_GROWTH = 16
_MAGIC = b"citeflow-bibliography "


def user_cache_dir(config: Config | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The folder of citeflow's caches: ``CITEFLOW_CACHE_DIR`` (relative to the working
    folder), else ``[cache] dir`` of the configuration (relative to the project root), else
    the user cache directory (``~/.cache/citeflow`` on Linux), outside every project so that
    a manuscript repository cannot ship cache records of its own."""
    config = config or Config()
    env = os.environ if env is None else env
    configured = config.setting("cache", "dir", None, env)
    if not configured:
        return Path(platformdirs.user_cache_dir("citeflow", appauthor=False))
    path = Path(str(configured)).expanduser()
    if not path.is_absolute():
        from_environment = bool(env.get(SCHEMA["cache"]["dir"].env or "", "").strip())
        path = (Path.cwd() if from_environment else config.root) / path
    return path


@dataclass
class ParsedBibtex:
    """What parsing a list of BibTeX files gave: references in file order, warnings in the
    order they were found."""

    references: list[Reference] = field(default_factory=list)
    warnings: list[BibliographyWarning] = field(default_factory=list)


@dataclass(frozen=True)
class BibliographyCache:
    """Parsed BibTeX on disk, in ``folder``; at most ``records`` records are kept."""

    folder: Path
    records: int = DEFAULT_RECORDS

    @classmethod
    def default(cls, env: Mapping[str, str] | None = None) -> BibliographyCache | None:
        """The cache in ``bibliographies/`` of ``CITEFLOW_CACHE_DIR``, else of the user cache
        directory; None when ``CITEFLOW_BIBLIOGRAPHY_CACHE=0`` turns it off (a number keeps
        that many records). ``[cache] dir`` of citeflow.toml does not move it: a repository's
        own configuration cannot point it at records shipped with the repository."""
        env = os.environ if env is None else env
        configured = env.get("CITEFLOW_BIBLIOGRAPHY_CACHE", "").strip()
        records = DEFAULT_RECORDS
        if configured:
            if not configured.isdigit():
                raise CiteflowError("CITEFLOW_BIBLIOGRAPHY_CACHE must be a number of records "
                                    f"(0 turns the cache off), not {configured!r}")
            records = int(configured)
        if records == 0:
            return None
        return cls(user_cache_dir(env=env) / FOLDER, records)  # no config: see above

    # -- keys --------------------------------------------------------------------------------
    @staticmethod
    def key(digests: Sequence[str]) -> str:
        """The key of the BibTeX files whose SHA-256 digests are ``digests``, in order."""
        identity = {"format": FORMAT, "citeflow": __version__, "parser": parser_settings(),
                    "files": list(digests)}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json.z"

    # -- reading -----------------------------------------------------------------------------
    def get(self, key: str, files: Sequence[Path], size: int) -> ParsedBibtex | None:
        """The parse stored under ``key`` with ``files`` (the BibTeX files, ``size`` bytes
        together) as its paths, or None if there is none or it does not pass the checks."""
        return read_record(self._path(key), _MAGIC, FORMAT, key, _MAX_GROWTH * size + 1_000_000,
                           lambda values: _parsed(values, files), lines=True)

    # -- writing -----------------------------------------------------------------------------
    def put(self, key: str, files: Sequence[Path], parsed: ParsedBibtex) -> None:
        """Store a parse (atomically), then prune the records used longest ago. A folder that
        cannot be written only means the next load parses again."""
        content = _content(files, parsed)
        if content is not None:
            write_record(self._path(key), _MAGIC, FORMAT, key, content, self.records)


# -- records on disk, shared with the other caches of parsed or analysed text ---------------------
# A record is ``magic``, a one-line JSON header (format, key, SHA-256 and length of the body),
# then the body: JSON (one document, or JSON lines read one by one), zlib-compressed.

def read_record(path: Path, magic: bytes, record_format: int, key: str, limit: int,
                parse: Callable[[Any], _T | None], lines: bool = False) -> _T | None:
    """What ``parse`` makes of the JSON content of the record at ``path``, if the record is
    at most ``limit`` bytes, has this magic, format and key, is whole (length and SHA-256 as
    its header says) and inflates to at most ``limit`` bytes (a forged record cannot swell
    into gigabytes); else None, as when ``parse`` gives None or raises ValueError. With
    ``lines``, the content is JSON lines, and ``parse`` is given an iterator of their values,
    inflated and read as it goes (so that the record is never held whole beside what is made
    of it). A record read is marked as used now: the last to be pruned."""
    try:
        if path.stat().st_size > limit:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(magic):
        return None
    head, _, body = data[len(magic):].partition(b"\n")
    try:
        header = json.loads(head)
    except (ValueError, RecursionError):
        return None
    if not (isinstance(header, dict) and header.get("format") == record_format
            and header.get("key") == key and header.get("length") == len(body)
            and header.get("sha256") == hashlib.sha256(body).hexdigest()):
        return None
    del data
    try:
        result = parse(_json_lines(body, limit) if lines else _json_whole(body, limit))
    except (ValueError, zlib.error, RecursionError):
        return None
    if result is not None:
        with contextlib.suppress(OSError):
            os.utime(path)
    return result


_CHUNK = 1 << 20


def _json_whole(body: bytes, limit: int) -> Any:
    """The JSON value ``body`` inflates to; a body that inflates past ``limit`` bytes, or
    not to its end, raises ValueError."""
    inflater = zlib.decompressobj()
    inflated = inflater.decompress(body, limit + 1)
    if len(inflated) > limit or not inflater.eof:
        raise _Invalid("inflates past its limit, or is cut off")
    return load_json(inflated)


def _json_lines(body: bytes, limit: int) -> Iterator[Any]:
    """The values of the JSON lines that ``body`` inflates to, read as it inflates; a body
    that inflates past ``limit`` bytes, or not to its end, raises ValueError."""
    inflater = zlib.decompressobj()
    pending = body
    rest = b""
    total = 0
    while pending or not inflater.eof:
        out = inflater.decompress(pending, _CHUNK)
        pending = inflater.unconsumed_tail
        total += len(out)
        if total > limit:
            raise _Invalid("inflates past its limit")
        if not out and not pending:
            if not inflater.eof:
                raise _Invalid("cut off")
            break
        *complete, rest = (rest + out).split(b"\n")
        for line in complete:
            yield load_json(line)
    if rest:
        yield load_json(rest)


def dump_json(content: Any) -> bytes:
    """``content`` as JSON: by orjson (some seven times faster than the json module), or,
    for text orjson refuses (lone surrogates, which CSL-JSON may hold), as ASCII JSON whose
    escapes keep them."""
    if orjson is not None:
        try:
            return orjson.dumps(content)
        except TypeError:
            pass
    return json.dumps(content, separators=(",", ":")).encode("ascii")


def load_json(data: bytes) -> Any:
    """The JSON ``data`` read back (as the json module reads it)."""
    if orjson is not None:
        try:
            return orjson.loads(data)
        except ValueError:  # escapes of lone surrogates, or no JSON at all
            pass
    return json.loads(data.decode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class JsonPieces:
    """JSON text as pieces that make it when joined, made while the record is compressed
    (so that it is never held whole)."""

    pieces: Iterable[bytes]


def write_record(path: Path, magic: bytes, record_format: int, key: str, content: Any, records: int) -> None:
    """Write ``content`` (JSON-able, or :class:`JsonPieces`) as a record atomically, then
    keep only the ``records`` records of its folder used last. A folder that cannot be
    written is no error: the record is made again next time."""
    if isinstance(content, JsonPieces):
        compressor = zlib.compressobj(1)
        body = b"".join([compressor.compress(piece) for piece in content.pieces]) + compressor.flush()
    else:
        body = zlib.compress(dump_json(content), 1)
    header = {"format": record_format, "key": key, "sha256": hashlib.sha256(body).hexdigest(),
              "length": len(body)}
    with contextlib.suppress(OSError):
        atomic_write_bytes(path, magic + json.dumps(header).encode("ascii") + b"\n" + body, durable=False)
        stored = []
        for other in path.parent.glob("*.json.z"):
            with contextlib.suppress(OSError):
                stored.append((other.stat().st_mtime, other))
        stored.sort(reverse=True)
        for _, other in stored[records:]:
            with contextlib.suppress(OSError):
                other.unlink()


@lru_cache(maxsize=1)
def parser_settings() -> dict[str, str]:
    """What decides the result of a BibTeX parse besides the files: the versions of pybtex
    and latexcodec and a digest of citeflow's reading code (so that a changed parser never
    reads an old record)."""
    code = hashlib.sha256()
    for name in _PARSER_MODULES:
        try:
            code.update((Path(__file__).parent / name).read_bytes())
        except OSError:
            code.update(name.encode())
    settings = {"code": code.hexdigest()}
    for package in ("pybtex", "latexcodec"):
        try:
            settings[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            settings[package] = "?"
    return settings


# -- the record --------------------------------------------------------------------------------
# A record is one header line, then the zlib-compressed body of JSON lines:
#   citeflow-bibliography {"format": 2, "key": ..., "sha256": <of the body>, "length": ...}
#   {"warnings": [{...}, ...], "references": N}
#   {...}   (N lines, one reference each)
# A reference is stored with the fields that differ from Reference's defaults; "file" and
# "first_file" are places in the list of files (or, for a path not in it, the path as text).

_DEFAULTS = {name: value for name, value in vars(Reference(key="")).items() if name != "key"}


class _Invalid(ValueError):
    """A record that does not have the shape this version writes."""


def _content(files: Sequence[Path], parsed: ParsedBibtex) -> JsonPieces | None:
    """What a record holds of a parse, as pieces of JSON, one per reference; None for a
    parse it cannot hold (never for BibTeX)."""
    if any(ref.updates for ref in parsed.references):
        return None
    return JsonPieces(_pieces(files, parsed))


def _pieces(files: Sequence[Path], parsed: ParsedBibtex) -> Iterator[bytes]:
    """The record as JSON lines: the warnings and how many references follow, then one
    reference per line (JSON text holds no raw line break)."""
    warnings = []
    for warning in parsed.warnings:
        entry = {"file": _place(warning.file, files), "line": warning.line, "message": warning.message,
                 "kind": warning.kind.value}
        if warning.key is not None:
            entry["key"] = warning.key
        if warning.first_file is not None:
            entry["first_file"] = _place(warning.first_file, files)
            entry["first_line"] = warning.first_line
        warnings.append(entry)
    yield dump_json({"warnings": warnings, "references": len(parsed.references)}) + b"\n"
    for ref in parsed.references:
        item: dict[str, Any] = {"key": ref.key}
        for name, default in _DEFAULTS.items():
            value = getattr(ref, name)
            if value != default:
                item[name] = _place(value, files) if name == "file" else value
        yield dump_json(item) + b"\n"


def _place(path: Path, files: Sequence[Path]) -> int | str:
    return files.index(path) if path in files else str(path)


def _parsed(values: Iterator[Any], files: Sequence[Path]) -> ParsedBibtex | None:
    """The parse a record's JSON lines hold, if they have the shape this version writes:
    the warnings and the number of references, then that many references."""
    head = next(values, None)
    if not isinstance(head, dict) or set(head) != {"references", "warnings"} or not _is_int(head["references"]):
        return None
    warnings = [_warning(item, files) for item in _list(head["warnings"])]
    references = [_reference(item, files) for item in values]
    if len(references) != head["references"]:
        return None
    return ParsedBibtex(references, warnings)


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise _Invalid("not a list")
    return value


def _is_str(value: Any) -> bool:
    return type(value) is str


def _is_int(value: Any) -> bool:
    return type(value) is int


_ONLY_TEXT = {str}


def _is_strings(value: Any) -> bool:
    return type(value) is list and set(map(type, value)) <= _ONLY_TEXT


def _is_fields(value: Any) -> bool:
    return type(value) is dict and set(map(type, value.values())) <= _ONLY_TEXT


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "key": _is_str, "type": _is_str, "title": _is_str, "authors": _is_strings, "year": _is_int,
    "container": _is_str, "volume": _is_str, "issue": _is_str, "pages": _is_str, "doi": _is_str,
    "pmid": _is_str, "pmcid": _is_str, "url": _is_str, "isbn": _is_str, "abstract": _is_str,
    "keywords": _is_strings, "publisher": _is_str, "fields": _is_fields,
    "file": lambda value: type(value) in (int, str), "line": _is_int, "editors": _is_strings,
}


def _reference(item: Any, files: Sequence[Path]) -> Reference:
    if type(item) is not dict or "key" not in item:
        raise _Invalid("not a reference")
    for name, value in item.items():
        check = _CHECKS.get(name)
        if check is None or not check(value):
            raise _Invalid(f"reference field {name!r}")
    if "file" in item:
        item["file"] = _path(item["file"], files)
    return Reference(**item)


def _path(value: Any, files: Sequence[Path]) -> Path:
    if type(value) is int and 0 <= value < len(files):
        return files[value]
    if type(value) is str:
        return Path(value)
    raise _Invalid("not a file")


def _warning(item: Any, files: Sequence[Path]) -> BibliographyWarning:
    if type(item) is not dict or not set(item) <= {"file", "line", "message", "kind", "key",
                                                    "first_file", "first_line"}:
        raise _Invalid("not a warning")
    line, first_line, key = item.get("line"), item.get("first_line"), item.get("key")
    if not (_is_str(item.get("message")) and _is_str(item.get("kind"))
            and all(v is None or _is_int(v) for v in (line, first_line)) and (key is None or _is_str(key))):
        raise _Invalid("warning fields")
    first_file = item.get("first_file")
    return BibliographyWarning(_path(item.get("file"), files), line, item["message"], WarningKind(item["kind"]),
                               key, _path(first_file, files) if first_file is not None else None, first_line)
