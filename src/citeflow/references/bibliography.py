"""The bibliography: references loaded from BibTeX/BibLaTeX, CSL-JSON and CSL-YAML files.

What one entry means is mapped elsewhere (:mod:`citeflow.references.bibtex`,
:mod:`citeflow.references.csl`; the :class:`~citeflow.references.reference.Reference`
model in :mod:`citeflow.references.reference`); this module reads and writes files.

A :class:`Bibliography` indexes references by key, DOI, PMID and PMCID. New entries are added
to a ``.bib`` file with :func:`append_references`, which writes atomically and leaves every
existing byte of the file as it was, under an exclusive lock so that runs appending to the
same file at the same time lose nothing. :func:`load_bibliography` keeps what it parsed in
the parsed-bibliography cache (:mod:`citeflow.references.bibcache`), so that a large
bibliography is parsed once per content.

Bibliography files must be UTF-8 (as Pandoc requires): any other bytes are an error naming
the file and line, for every command alike.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pybtex.errors
from pybtex.database import BibliographyDataError
from pybtex.database.input.bibtex import UndefinedMacro
from pybtex.scanner import PybtexError, PybtexSyntaxError

from citeflow.errors import CiteflowError
from citeflow.files import Snapshot, atomic_write_bytes, decode_utf8, exclusive_lock
from citeflow.references.bibcache import BibliographyCache, ParsedBibtex
from citeflow.references.bibparse import Parser
from citeflow.references.bibtex import (
    BIBTEX_TO_CSL,
    CSL_TO_BIBTEX,
    bibtex_addition,
    decode_latex,
    entry_lines,
    reference_from_bibtex,
    to_bibtex,
)
from citeflow.references.csl import (
    CROSSREF_TO_CSL,
    DATE_FIELDS,
    csl_names,
    date_problems,
    reference_from_csl,
    reference_to_csl,
    strip_markup,
    updates_from_metadata,
    work_fields,
)
from citeflow.references.identifiers import Identifier, normalize_doi, normalize_pmcid, normalize_pmid
from citeflow.references.reference import (
    EARLIEST_YEAR,
    YEARS_AHEAD,
    BibliographyWarning,
    Reference,
    WarningKind,
    reference_problems,
)

#: Names defined in the modules above, importable from here as before.
__all__ = [
    "BIBTEX_TO_CSL", "CROSSREF_TO_CSL", "CSL_TO_BIBTEX", "DATE_FIELDS", "EARLIEST_YEAR",
    "STOP_WORDS", "YEARS_AHEAD", "AppendResult", "Bibliography", "BibliographyWarning",
    "Placement", "Reference", "TakenKeys", "WarningKind", "append_references", "csl_names", "date_problems",
    "decode_latex", "entry_lines", "load_bibliography", "make_key", "reference_from_bibtex",
    "reference_from_csl", "reference_problems", "reference_to_csl", "strip_markup", "to_bibtex",
    "updates_from_metadata", "work_fields", "work_identifiers",
]

#: Words skipped when a key takes the first word of the title.
STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "how",
    "in", "into", "is", "it", "its", "of", "on", "or", "the", "their", "this", "to", "was", "were",
    "what", "when", "where", "which", "who", "why", "with",
))

_PYBTEX_LOCK = threading.Lock()


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise CiteflowError("bibliography file not found", path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CiteflowError(f"cannot read bibliography: {exc.strerror}", path) from exc


def _syntax_error(exc: PybtexSyntaxError, path: Path) -> CiteflowError:
    message = exc.args[0] if exc.args else str(exc)
    return CiteflowError(f"BibTeX syntax error: {message}", path, getattr(exc, "lineno", None))


def _parse_bibtex(parser: Parser, path: Path, text: str, warnings: list[BibliographyWarning],
                  origin: dict[str, tuple[Path, int | None]]) -> list[str]:
    """Parse one file into ``parser.data``; return the keys it added (and record in ``origin``
    where each is written). Syntax errors raise."""
    before = set(parser.data.entries.keys())
    with _PYBTEX_LOCK, pybtex.errors.capture() as captured:
        try:
            parser.parse_string(text)
        except PybtexSyntaxError as exc:
            raise _syntax_error(exc, path) from exc
        except PybtexError as exc:
            raise CiteflowError(f"cannot read BibTeX: {exc}", path) from exc
    lines = entry_lines(text)
    added = [k for k in parser.data.entries if k not in before]
    for key in added:
        found = lines.get(key.lower())
        origin[key] = (path, found[0] if found else None)
    repeats: dict[str, int] = {}  # entry heads of each key in this file seen so far
    for problem in captured:
        if isinstance(problem, UndefinedMacro):
            name = problem.args[0] if problem.args else str(problem)
            warnings.append(BibliographyWarning(path, getattr(problem, "lineno", None),
                                                f"undefined @string macro {name!r}",
                                                WarningKind.UNDEFINED_MACRO))
        elif isinstance(problem, PybtexSyntaxError):
            raise _syntax_error(problem, path)
        elif isinstance(problem, BibliographyDataError) and "repeated bibliography entry" in str(problem):
            warnings.append(_duplicate_warning(str(problem).rsplit(":", 1)[-1].strip(), path, lines,
                                               repeats, parser.data.entries, origin))
        else:
            warnings.append(BibliographyWarning(path, None, str(problem)))
    return added


def _duplicate_warning(key: str, path: Path, lines: dict[str, list[int]], repeats: dict[str, int],
                       entries: Any, origin: dict[str, tuple[Path, int | None]]) -> BibliographyWarning:
    """The warning for one repeated entry head of ``key`` in ``path``, naming the entry used.

    Keys are compared without case, as BibTeX does; the entry used is the first one.
    """
    folded = key.lower()
    used_key = key if key in origin else next((k for k in entries if k.lower() == folded), key)
    first_file, first_line = origin.get(used_key, (path, None))
    heads = lines.get(folded, [])
    index = repeats.get(folded, 1 if first_file == path else 0)
    repeats[folded] = index + 1
    line = heads[index] if index < len(heads) else None
    return BibliographyWarning(path, line, f"duplicate key {key!r} (the first entry is used)",
                               WarningKind.DUPLICATE_KEY, key, first_file, first_line)


def _merge_crossrefs(entries: dict[str, Any], warnings: list[BibliographyWarning],
                     origin: dict[str, tuple[Path, int | None]]) -> None:
    """Fill fields an entry lacks from the entry its ``crossref`` field names."""
    lowered = {k.lower(): k for k in entries}
    for key, entry in entries.items():
        target_key = entry.fields.get("crossref")
        if not target_key:
            continue
        target = entries.get(lowered.get(target_key.strip().lower(), ""))
        if target is None:
            path, line = origin.get(key, (Path("?"), None))
            warnings.append(BibliographyWarning(path, line, f"{key}: crossref {target_key!r} is not in the "
                                                "bibliography", WarningKind.DANGLING_CROSSREF, key))
            continue
        for name, value in target.fields.items():
            if name.lower() == "title" and "booktitle" not in entry.fields:
                entry.fields["booktitle"] = value
            elif name not in entry.fields:
                entry.fields[name] = value
        for role, people in target.persons.items():
            if role not in entry.persons:
                entry.persons[role] = people

def _line_of_json_ids(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line_text in enumerate(text.splitlines(), start=1):
        for match in re.finditer(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"', line_text):
            lines.setdefault(match.group(1), number)
    return lines


def _load_csl_json(path: Path, text: str) -> list[Reference]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CiteflowError(f"malformed CSL-JSON: {exc.msg}", path, exc.lineno) from exc
    if isinstance(data, dict):
        data = data.get("items", [data])
    if not isinstance(data, list):
        raise CiteflowError("CSL-JSON must be a list of items", path)
    lines = _line_of_json_ids(text)
    refs = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise CiteflowError(f"CSL-JSON item {index + 1} is not an object", path)
        ref = reference_from_csl(item)
        ref.file = path
        ref.line = lines.get(ref.key)
        refs.append(ref)
    return refs


def _load_csl_yaml(path: Path, text: str) -> list[Reference]:
    """CSL-YAML as pandoc writes it: a list of items, or a ``references:`` list."""
    import yaml

    try:
        # pandoc writes the list between "---" lines, like Markdown front matter
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "syntax error"
        raise CiteflowError(f"malformed CSL-YAML: {problem}", path,
                            mark.line + 1 if mark is not None else None) from exc
    data = documents[0] if documents else []
    if isinstance(data, dict):
        data = data.get("references", [])
    if not isinstance(data, list):
        raise CiteflowError("CSL-YAML must be a list of items or have a 'references' list", path)
    lines: dict[str, int] = {}
    for number, line_text in enumerate(text.splitlines(), start=1):
        match = re.match(r"\s*-?\s*id\s*:\s*['\"]?([^'\"\s]+)", line_text)
        if match:
            lines.setdefault(match.group(1), number)
    refs = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise CiteflowError(f"CSL-YAML item {index + 1} is not a mapping", path)
        item = {k: (str(v) if isinstance(v, (int, float)) and k not in ("issued",) else v)
                for k, v in item.items()}
        ref = reference_from_csl(item)
        ref.file = path
        ref.line = lines.get(ref.key)
        refs.append(ref)
    return refs


# -- the bibliography ---------------------------------------------------------------------------
@dataclass
class Bibliography:
    """References from one or more files, indexed by key, DOI, PMID and PMCID.

    Lookups by identifier accept any spelling (``by_doi("https://doi.org/10.1/ABC")``). When
    two entries share a key the first one is used and ``warnings`` says so. ``snapshots``
    records what each file held when it was read (see :func:`append_references`).
    """

    references: list[Reference] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    warnings: list[BibliographyWarning] = field(default_factory=list)
    snapshots: dict[Path, Snapshot] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._reindex()

    def _reindex(self) -> None:
        self._by_key: dict[str, Reference] = {}
        self._by_key_folded: dict[str, Reference] = {}
        self._by_id: dict[tuple[str, str], list[Reference]] = {}
        for ref in self.references:
            self._by_key.setdefault(ref.key, ref)
            self._by_key_folded.setdefault(ref.key.casefold(), ref)
            for ident in ref.identifiers():
                self._by_id.setdefault((ident.kind, ident.value), []).append(ref)

    def add(self, ref: Reference) -> None:
        """Add a reference (e.g. one just fetched) to the in-memory index."""
        self.references.append(ref)
        self._by_key.setdefault(ref.key, ref)
        self._by_key_folded.setdefault(ref.key.casefold(), ref)
        for ident in ref.identifiers():
            self._by_id.setdefault((ident.kind, ident.value), []).append(ref)

    def get(self, key: str) -> Reference | None:
        """The reference with this citation key (exact, else case-insensitive), or None."""
        return self._by_key.get(key) or self._by_key_folded.get(key.casefold())

    def _lookup(self, kind: str, value: str | None) -> Reference | None:
        if not value:
            return None
        found = self._by_id.get((kind, value))
        return found[0] if found else None

    def by_doi(self, doi: str) -> Reference | None:
        return self._lookup("doi", normalize_doi(doi))

    def by_pmid(self, pmid: str | int) -> Reference | None:
        return self._lookup("pmid", normalize_pmid(pmid))

    def by_pmcid(self, pmcid: str) -> Reference | None:
        return self._lookup("pmcid", normalize_pmcid(pmcid))

    def find(self, identifier: Identifier) -> Reference | None:
        """The reference carrying this identifier, or None."""
        return self._lookup(identifier.kind, identifier.value)

    def duplicates(self) -> list[tuple[str, list[Reference]]]:
        """Works entered twice: ``(normalised DOI, [references])`` for each DOI that
        appears under more than one key."""
        result = []
        for (kind, value), refs in self._by_id.items():
            if kind != "doi":
                continue
            keys = {r.key.casefold() for r in refs}
            if len(keys) > 1:
                result.append((value, list(refs)))
        return sorted(result, key=lambda item: item[0])

    def keys(self) -> list[str]:
        return [r.key for r in self.references]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __len__(self) -> int:
        return len(self.references)

    def __iter__(self) -> Iterator[Reference]:
        return iter(self.references)


def load_bibliography(paths: Iterable[str | Path] | str | Path, missing_ok: bool = False, *,
                      cache: BibliographyCache | bool = True) -> Bibliography:
    """Load BibTeX/BibLaTeX (``.bib``), CSL-JSON (``.json``) and CSL-YAML (``.yaml``/``.yml``)
    files into one Bibliography.

    BibTeX files share one macro table, in the order given, so an ``@string`` file listed
    first serves the files after it; ``crossref`` fields are merged across all files.
    Undefined macros, dangling crossrefs and duplicate keys become ``warnings``; a syntax
    error or bytes that are not UTF-8 raise :class:`CiteflowError` naming the file and line,
    as does a missing file (unless ``missing_ok``).

    What the BibTeX files parse to is kept in ``cache`` (default: the parsed-bibliography
    cache in the user cache directory, :meth:`BibliographyCache.default`; False: none), keyed
    on their content: loading the same files again returns the same references, lines and
    warnings without parsing them.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    bib = Bibliography()
    files = _read_files(paths, missing_ok, bib)
    store = BibliographyCache.default() if cache is True else cache or None
    bibtex = [path for path, _ in files if _is_bibtex(path)]
    key = store.key([bib.snapshots[path].digest for path in bibtex]) if store and bibtex else ""
    size = sum(bib.snapshots[path].size for path in bibtex)
    parsed = store.get(key, bibtex, size) if store and key else None
    csl_refs = _parse_files(files, parsed)
    del files  # the texts are read: not held while the record is written
    if parsed is None:
        parsed = csl_refs.bibtex
        if store and key:
            store.put(key, bibtex, parsed)
    bib.references.extend(parsed.references)
    bib.warnings.extend(parsed.warnings)
    seen = {r.key: r for r in bib.references}
    for path, ref in csl_refs.csl:
        first = seen.get(ref.key)
        if first is not None:
            bib.warnings.append(BibliographyWarning(path, ref.line, f"duplicate key {ref.key!r} (the first "
                                                    "entry is used)", WarningKind.DUPLICATE_KEY, ref.key,
                                                    first.file, first.line))
        seen.setdefault(ref.key, ref)
        bib.references.append(ref)
    bib._reindex()
    return bib


def _read_files(paths: Iterable[str | Path], missing_ok: bool, bib: Bibliography) -> list[tuple[Path, str]]:
    """The text of each file (their paths and snapshots noted in ``bib``); only the texts
    are kept, not the bytes they were decoded from."""
    files: list[tuple[Path, str]] = []
    try:
        for raw_path in paths:
            path = Path(raw_path)
            if missing_ok and not path.is_file():
                continue
            data = _read_bytes(path)
            text = decode_utf8(data, path)
            bib.files.append(path)
            bib.snapshots[path] = Snapshot.of_bytes(data)
            files.append((path, text))
    except CiteflowError:
        _parse_files(files, None)  # the files before the unreadable one report their errors first
        raise
    return files


def _is_bibtex(path: Path) -> bool:
    return path.suffix.lower() not in (".json", ".yaml", ".yml")


@dataclass
class _Parsed:
    """The files of one load, parsed: BibTeX (unless it came from the cache) and CSL."""

    bibtex: ParsedBibtex
    csl: list[tuple[Path, Reference]]


def _parse_files(files: list[tuple[Path, str]], cached: ParsedBibtex | None) -> _Parsed:
    """Parse ``files`` (path and text) in order, so that the first file with an error is the
    one reported; the BibTeX files only when ``cached`` does not hold their parse already."""
    parser = Parser()
    origin: dict[str, tuple[Path, int | None]] = {}
    bib_order: list[str] = []
    result = _Parsed(ParsedBibtex(), [])
    for path, text in files:
        if path.suffix.lower() == ".json":
            result.csl.extend((path, ref) for ref in _load_csl_json(path, text))
        elif path.suffix.lower() in (".yaml", ".yml"):
            result.csl.extend((path, ref) for ref in _load_csl_yaml(path, text))
        elif cached is None:
            bib_order.extend(_parse_bibtex(parser, path, text, result.bibtex.warnings, origin))
    if cached is None:
        entries = parser.data.entries
        _merge_crossrefs(entries, result.bibtex.warnings, origin)
        for key in bib_order:
            path, line = origin[key]
            result.bibtex.references.append(reference_from_bibtex(key, entries[key], path, line))
    return result


# -- writing --------------------------------------------------------------------------------------
def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    folded = folded.replace("ø", "o").replace("Ø", "O").replace("ß", "ss").replace("æ", "ae").replace("ł", "l")
    return re.sub(r"[^a-z0-9]", "", folded.encode("ascii", "ignore").decode().lower())


class TakenKeys:
    """Citation keys in use, compared without case as BibTeX compares them. Asking and
    adding take constant time, so that keying thousands of new entries stays linear."""

    def __init__(self, keys: Iterable[str] = ()):
        self._folded = {k.casefold() for k in keys}
        #: For each key base, the suffix number :func:`make_key` found free last: every
        #: suffix before it was taken then, and keys are never given back.
        self.next_suffix: dict[str, int] = {}

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.casefold() in self._folded

    def add(self, key: str) -> None:
        self._folded.add(key.casefold())

    def __len__(self) -> int:
        return len(self._folded)


def make_key(ref: Reference, taken: Iterable[str] | TakenKeys = ()) -> str:
    """A citation key ``firstauthorYEARfirstword`` in lower-case ASCII (``wakefield1998ileal``).

    The title's first word that is not a stop word is used; an organisation author gives
    its first significant word. A key already in ``taken`` gets a suffix ``a``, ``b``, ...
    Pass a :class:`TakenKeys` when keying many references: a plain iterable is folded anew
    on every call.
    """
    taken_folded = taken if isinstance(taken, TakenKeys) else TakenKeys(taken)
    author = ""
    if ref.authors:
        first = ref.authors[0]
        if "," in first:
            author = _ascii_word(first.split(",")[0])
        else:
            words = [w for w in first.split() if w.lower() not in STOP_WORDS]
            author = _ascii_word(words[0]) if words else _ascii_word(first)
    elif ref.editors:
        author = _ascii_word(ref.editors[0].split(",")[0])
    author = author or "anon"
    word = ""
    for candidate in re.findall(r"[^\W_]+", ref.title or ""):
        if candidate.lower() in STOP_WORDS:
            continue
        word = _ascii_word(candidate)
        if word:
            break
    base = f"{author}{ref.year or 'nd'}{word}"
    if base not in taken_folded:
        return base
    suffix_index = taken_folded.next_suffix.get(base.casefold(), 0)
    while True:
        suffix = ""
        n = suffix_index
        while True:
            suffix = chr(ord("a") + n % 26) + suffix
            n = n // 26 - 1
            if n < 0:
                break
        if (base + suffix) not in taken_folded:
            taken_folded.next_suffix[base.casefold()] = suffix_index
            return base + suffix
        suffix_index += 1

@dataclass(frozen=True)
class Placement:
    """Where one reference given to :func:`append_references` is in the file now:
    ``reference`` carries its final key, file and line; ``added`` is False when the file held
    the work already (same DOI, PMID or PMCID) and nothing was written for it."""

    reference: Reference
    added: bool


@dataclass
class AppendResult:
    """What :func:`append_references` did: one :class:`Placement` per reference given, in order."""

    placements: list[Placement] = field(default_factory=list)

    @property
    def references(self) -> list[Reference]:
        """Every reference given, as the file now has it."""
        return [p.reference for p in self.placements]

    @property
    def added(self) -> list[Reference]:
        """The references this call wrote."""
        return [p.reference for p in self.placements if p.added]

    @property
    def reused(self) -> list[Reference]:
        """The references the file held already."""
        return [p.reference for p in self.placements if not p.added]


#: Identifiers that name one work (an ISBN is shared by a book's chapters), normalised.
_WORK_IDENTIFIERS = {"doi": normalize_doi, "pmid": normalize_pmid, "pmcid": normalize_pmcid}


def work_identifiers(ref: Reference) -> list[Identifier]:
    """The DOI, PMID and PMCID of ``ref``, normalised, for telling whether two entries are
    the same work."""
    found = []
    for kind, normalize in _WORK_IDENTIFIERS.items():
        value = normalize(getattr(ref, kind))
        if value:
            found.append(Identifier(kind, value))
    return found


def _identifier_keys(refs: Iterable[Reference]) -> dict[Identifier, str]:
    """Each work identifier of ``refs`` with the key of the first reference carrying it."""
    found: dict[Identifier, str] = {}
    for ref in refs:
        for identifier in work_identifiers(ref):
            found.setdefault(identifier, ref.key)
    return found


def _parse_entries(path: Path, text: str) -> list[Reference]:
    """The BibTeX entries of ``text`` as references (fields as written, no crossref merge)."""
    parser = Parser()
    _parse_bibtex(parser, path, text, [], {})
    return [reference_from_bibtex(key, entry, path) for key, entry in parser.data.entries.items()]


def _present_identifiers(path: Path, data: bytes, text: str, known: Bibliography | None) -> dict[Identifier, str]:
    """Identifiers of the entries the file ``path`` holds now (``data``/``text``), with their keys.

    When ``known`` read this file before and the file only grew since (other runs appended),
    only the new part is parsed; otherwise the whole file is.
    """
    snapshot = known.snapshots.get(path) if known is not None else None
    if known is not None and snapshot is not None and len(data) >= snapshot.size \
            and Snapshot.of_bytes(data[: snapshot.size]) == snapshot:
        present = _identifier_keys(r for r in known.references if r.file == path)
        if len(data) > snapshot.size:
            tail = decode_utf8(data[snapshot.size:], path)
            for identifier, key in _identifier_keys(_parse_entries(path, tail)).items():
                present.setdefault(identifier, key)
        return present
    return _identifier_keys(_parse_entries(path, text))


_VALID_KEY = re.compile(r"[^,\s{}()=\"#%'~]+")


def append_references(path: str | Path, refs: Iterable[Reference], known: Bibliography | None = None,
                      taken: Iterable[str] = (), timeout: float | None = None) -> AppendResult:
    """Append BibTeX entries for ``refs`` to the file at ``path``, atomically and under the
    file's exclusive lock (:func:`citeflow.files.exclusive_lock`).

    The file is read again under the lock, so that what other processes appended meanwhile
    counts: a reference whose DOI, PMID or PMCID the file holds already is not added again
    (its existing key is returned), and a reference without a key, or whose key the file (or
    ``taken``, keys of other bibliographies) already uses, gets one from :func:`make_key`.
    ``known`` is the bibliography the caller loaded, including this file: when the file has
    only grown since, only the new part is parsed again. Every byte already in the file stays
    as it was; the new entries follow, separated by a blank line and written with the file's
    own newline convention. The file is created if missing.
    """
    path = Path(path)
    refs = list(refs)
    with exclusive_lock(path, timeout):
        old = path.read_bytes() if path.exists() else b""
        old_text = decode_utf8(old, path)
        present = _present_identifiers(path, old, old_text, known) if old else {}
        heads = entry_lines(old_text)
        taken_keys = TakenKeys(heads)
        for key in taken:
            taken_keys.add(key)
        chosen: list[tuple[Reference, str, bool]] = []  # (reference, key, added)
        for ref in refs:
            existing = next((present[i] for i in work_identifiers(ref) if i in present), None)
            if existing is not None:
                chosen.append((ref, existing, False))
                continue
            usable = ref.key and ref.key not in taken_keys and _VALID_KEY.fullmatch(ref.key)
            key = ref.key if usable else make_key(ref, taken_keys)
            taken_keys.add(key)
            chosen.append((ref, key, True))
            for identifier in work_identifiers(ref):
                present.setdefault(identifier, key)
        added = [replace(ref, key=key) for ref, key, is_new in chosen if is_new]
        addition = bibtex_addition(old_text, added)
        heads.update({ref.key.lower(): [line] for ref, line in zip(added, addition.lines, strict=True)})
        result = AppendResult([Placement(replace(ref, key=key, file=path, line=heads.get(key.lower(), [None])[0]),
                                         is_new) for ref, key, is_new in chosen])
        if added:
            atomic_write_bytes(path, old + addition.text.encode("utf-8"))
    return result

