"""Turn citation placeholders into Pandoc citations.

:func:`resolve_manuscript` finds the identifier placeholders of a manuscript
(:mod:`citeflow.document.placeholders`), looks each identifier up in the manuscript's bibliography
(by normalised DOI, PMID or PMCID, whatever form the bibliography writes them in), fetches
the ones it does not know from the metadata sources (:mod:`citeflow.sources`), and replaces
each placeholder by a citation: ``[doi:10.1056/NEJMoa1610020]`` becomes
``[@simpson2016two]``; placeholders standing side by side become one bracket
(``[@a; @b]``); prefixes and locators are kept (``[see @a, p. 3]``).

Only the bytes of the replaced spans change: line endings, a byte-order mark and every other
character stay as they were, so running it again changes nothing. Fetched entries are
appended to the manuscript's first BibTeX bibliography (created if it does not exist yet)
under the file's lock, against what the file holds at that moment: runs resolving other
manuscripts that share the bibliography lose nothing, and a work one of them added meanwhile
is cited under its key rather than added twice. The bibliography is written before the
manuscript, so the manuscript never cites a key the bibliography lacks; the manuscript is
rewritten only if it still holds what was read (an edit saved meanwhile makes the rewrite
stop with an error, and nothing of it is lost).

Free-text placeholders ("[citation needed]") are never filled on their own: each is reported
with up to three candidate references ranked by :class:`citeflow.claims.suggest.Suggester`. A caller
that has asked the writer may pass ``picks`` to fill some of them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from citeflow.checks.fixes import Edit, apply_edits, citation_edits, citation_key_text
from citeflow.claims.documents import DocumentCache
from citeflow.claims.suggest import Suggester
from citeflow.claims.suggestion import Suggestion
from citeflow.config import Config, load_config
from citeflow.document.citations import cited_keys
from citeflow.document.manuscript import Manuscript, read_manuscript
from citeflow.document.placeholders import (
    AUTHOR_YEAR,
    FREETEXT,
    IDENTIFIER,
    Placeholder,
    PlaceholderItem,
    author_year_message,
    extra_patterns_from_config,
    find_placeholders,
    lookup_reference,
)
from citeflow.document.reflist import ReferenceList, find_markers, find_reference_list, match_item
from citeflow.errors import CiteflowError
from citeflow.files import FileChanged, Snapshot, atomic_write_text, read_text_exact
from citeflow.fixes.reflist_sources import ListAdditions, list_additions
from citeflow.references.bibliography import (
    Bibliography,
    Reference,
    TakenKeys,
    append_references,
    load_bibliography,
    make_key,
)
from citeflow.references.bibtex import bibtex_addition
from citeflow.references.identifiers import Identifier
from citeflow.sources import FetchStatus
from citeflow.sources.registry import integrity_warning

#: Reasons an identifier placeholder can be left in place.
NOT_FOUND = "not found"
OFFLINE = "offline"
MALFORMED = "malformed"
ERROR = "error"

_STATUS_REASON = {FetchStatus.NOT_FOUND: NOT_FOUND, FetchStatus.OFFLINE: OFFLINE,
                  FetchStatus.MALFORMED: MALFORMED, FetchStatus.ERROR: ERROR}


#: A replaced span: ``original[start:end]`` (``old``) became ``new``.
Replacement = Edit


@dataclass(frozen=True)
class Unresolved:
    """An identifier left as written, with the reason and where it is."""

    placeholder: Placeholder
    item: PlaceholderItem
    reason: str
    message: str
    line: int
    column: int

    def describe(self) -> str:
        detail = f" ({self.message})" if self.message and self.message != self.reason else ""
        return f"{self.item.raw}: {self.reason}{detail}"


@dataclass(frozen=True)
class Unmatched:
    """An item of the draft's reference list (or a numeric marker) that names no
    bibliography entry for sure, with candidate keys."""

    text: str
    line: int
    column: int
    reason: str
    candidates: tuple[str, ...] = ()

    def describe(self) -> str:
        shown = self.text if len(self.text) <= 80 else self.text[:77] + "..."
        found = f"; candidates: {'; '.join(self.candidates)}" if self.candidates else ""
        return f"{shown}: {self.reason}{found}"


def reference_list_edits(manuscript: Manuscript, reflist: ReferenceList | None,
                         bib: Bibliography, additions: ListAdditions | None = None
                         ) -> tuple[list[Edit], list[Unmatched]]:
    """Edits writing the numeric markers that point into the draft's reference list as
    citations, and removing the list when every item is in the bibliography (the renderer
    writes the reference section); what is left, with candidates. ``additions`` are the
    entries found (or accepted as written) for items the bibliography lacks."""
    if reflist is None:
        return [], []
    text = manuscript.text
    keys: dict[int, str] = {}
    left: list[Unmatched] = []
    for position, item in enumerate(reflist.items, start=1):
        candidates: list[str] = []
        key: str | None
        if additions is not None and position in additions.keys:
            key = additions.keys[position]
        else:
            key, candidates = match_item(item, bib, lookup_reference)
        if key is None:
            line, column = manuscript.line_col(item.start)
            outcome = additions.left.get(position) if additions is not None else None
            left.append(Unmatched(item.text, line, column,
                                  outcome.reason if outcome else "no bibliography entry matches this reference",
                                  outcome.candidates if outcome and outcome.candidates else tuple(candidates)))
            continue
        keys[item.number if item.number is not None else position] = key
    edits: list[Edit] = []
    for marker in find_markers(manuscript, reflist):
        named = [keys.get(n) for n in marker.numbers]
        if any(k is None for k in named):
            line, column = manuscript.line_col(marker.start)
            missing = [str(n) for n, k in zip(marker.numbers, named, strict=True) if k is None]
            left.append(Unmatched(marker.text, line, column,
                                  f"reference {', '.join(missing)} of the list is not in the bibliography"))
            continue
        unique = list(dict.fromkeys(k for k in named if k is not None))
        new = "[" + "; ".join(citation_key_text(k) for k in unique) + "]"
        edits.append(Edit(marker.start, marker.end, text[marker.start:marker.end], new))
    cited = {k for edit in edits for k in re.findall(r"@\{?([^;\]}]+)", edit.new)}
    cited.update(cited_keys(manuscript))
    if not left and all(key in cited for key in keys.values()):
        # Pandoc lists what is cited: a work the text never cites would vanish with the list.
        end = reflist.end
        while end < len(text) and text[end] in "\r\n":
            end += 1
        edits.append(Edit(reflist.start, end, text[reflist.start:end], ""))
    return edits, left


@dataclass(frozen=True)
class FreeText:
    """A free-text placeholder, the sentence it stands for and candidate references."""

    placeholder: Placeholder
    line: int
    column: int
    sentence: str
    suggestions: tuple[Suggestion, ...]
    confident: tuple[bool, ...]


@dataclass
class ResolveResult:
    """What :func:`resolve_manuscript` did, or would do without ``write``."""

    path: Path
    original: str
    text: str
    replacements: list[Replacement] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    freetext: list[FreeText] = field(default_factory=list)
    appended: list[Reference] = field(default_factory=list)
    bibliography_path: Path | None = None
    bibliography_diff: str = ""
    written: bool = False
    keys: list[str] = field(default_factory=list)  # keys of the bibliography (after appending)
    #: Works added although the registry says they are retracted, withdrawn, of concern, or
    #: notices themselves: ``@key (doi:...) is retracted: retraction notice ...``.
    warnings: list[str] = field(default_factory=list)
    #: Items of the draft's own reference list, and numeric markers, left as written.
    unmatched: list[Unmatched] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.text != self.original

    @property
    def diff(self) -> str:
        """Unified diff of the manuscript (and of the bibliography when entries are added)."""
        return unified_diff(self.original, self.text, str(self.path)) + self.bibliography_diff

    @property
    def resolved(self) -> int:
        """Number of replaced spans."""
        return len(self.replacements)

    @property
    def exit_code(self) -> int:
        """0 when every identifier placeholder (and reference-list item and numeric marker)
        was resolved, 1 when some are left."""
        return 1 if self.unresolved or self.unmatched else 0


# --------------------------------------------------------------------------------------


def resolve_manuscript(
    source: str | Path | Manuscript,
    config: Config | None = None,
    offline: bool = False,
    write: bool = False,
    fetcher: Any = None,
    bibliography: str | Path | None = None,
    picks: Mapping[int, str] | None = None,
    suggest: bool = True,
    original: str | None = None,
    accept_parsed: bool = False,
    rewrite_manubot: bool | None = None,
) -> ResolveResult:
    """Resolve the placeholders of a manuscript (a path or a parsed :class:`Manuscript`).

    ``config`` defaults to the project config found from the manuscript's folder.
    ``fetcher`` is an object with ``fetch_many(identifiers)`` (default: a
    :class:`citeflow.sources.Fetcher` built from the config; ``offline`` makes it use the
    cache only). ``bibliography`` is a BibTeX file to look in first and to append fetched
    entries to, instead of the first one named in the front matter. ``picks`` maps the start
    offset of a free-text placeholder to the key chosen for it. With ``write`` the
    bibliography and then the manuscript are rewritten atomically; otherwise nothing is
    written. ``original`` is the text the caller based ``picks`` on (default: the text read
    here): when the file no longer holds it, :class:`~citeflow.files.FileChanged` is raised
    and nothing is written. Items of the draft's reference list that the bibliography lacks
    are looked up at Crossref (:mod:`citeflow.fixes.reflist_sources`); offline,
    ``accept_parsed`` adds them as written (unverified). ``rewrite_manubot`` (default:
    ``[resolve] rewrite_manubot``, off) writes Manubot keys (``[@doi:...]``) as bibliography
    keys; otherwise they are kept as written and only their works are added to the
    bibliography (:mod:`citeflow.fixes.manubot`). Raises :class:`CiteflowError` for
    unreadable input.
    """
    job = _Job.read(source, config, write=write, original=original, bibliography=bibliography,
                    rewrite_manubot=rewrite_manubot)
    manuscript, config, bib = job.manuscript, job.config, job.bib
    keys, unresolved, new_refs, concerns = _lookup(manuscript, job.placeholders, bib, config, offline, fetcher,
                                                   job.target)
    additions = list_additions(job.reflist, bib, offline=offline, accept_parsed=accept_parsed,
                               fetcher=lambda: _fetcher(config, offline, fetcher),
                               taken=bib.keys() + [r.key for r in new_refs], fetched=new_refs,
                               can_write=job.target is not None)
    new_refs = new_refs + additions.references
    reused: list[Reference] = []
    if new_refs and write and job.target is not None:
        new_refs, reused = job.append(new_refs, keys, additions)

    picks = dict(picks or {})
    replacements, unmatched = job.edits(keys, additions, picks)
    result = ResolveResult(
        path=job.path,
        original=manuscript.text,
        text=apply_replacements(manuscript.text, replacements),
        replacements=replacements,
        unresolved=unresolved,
        appended=list(new_refs),
        bibliography_path=job.target if new_refs else None,
        keys=bib.keys() + [ref.key for ref in new_refs + reused],
        warnings=[f"@{keys[ident]} ({ident}) {concern}" for ident, concern in concerns if ident in keys]
        + [f"@{additions.keys[position]} {warning}" for position, warning in additions.warnings],
        unmatched=unmatched,
    )
    if new_refs and not write and job.target is not None:
        result.bibliography_diff = _bibliography_preview(job.target, new_refs)
    if suggest:
        result.freetext = _freetext_reports(manuscript, job.placeholders, bib, picks)
    if write and result.changed:
        job.write(result.text)
        result.written = True
    return result


#: A Manubot URL key, however written (``@url:``, ``@URL:``, ``@{url:``).
_URL_KEY = re.compile(r"@\{?url:", re.I)


@dataclass
class _Job:
    """One resolve: the manuscript as read, its configuration, where fetched entries go,
    what it points at sources with, and the bibliography (read only when there is some)."""

    manuscript: Manuscript
    path: Path
    as_read: Snapshot
    config: Config
    target: Path | None
    placeholders: list[Placeholder]
    reflist: ReferenceList | None
    rewrite: bool
    bib: Bibliography

    @classmethod
    def read(cls, source: str | Path | Manuscript, config: Config | None, *, write: bool,
             original: str | None, bibliography: str | Path | None, rewrite_manubot: bool | None) -> _Job:
        manuscript = source if isinstance(source, Manuscript) else read_manuscript(Path(source))
        path = manuscript.path or Path("<manuscript>")
        if write and manuscript.path is None:
            raise CiteflowError("cannot write a manuscript given as text")
        as_read = Snapshot.of_bytes((manuscript.text if original is None else original).encode("utf-8"))
        if write and original is not None and original != manuscript.text:
            raise _changed(path)
        if config is None:
            config = load_config(manuscript.folder)
        bib_paths = _bibliography_paths(manuscript, config, bibliography)
        target = next((p for p in bib_paths if p.suffix.lower() in (".bib", ".bibtex")), None)
        placeholders = find_placeholders(manuscript, extra_patterns_from_config(config))
        reflist = find_reference_list(manuscript)
        rewrite = config.rewrite_manubot if rewrite_manubot is None else rewrite_manubot
        # Without a placeholder there is nothing to look up: the bibliography is not read at all.
        wanted = bool(placeholders or reflist) or (rewrite and _URL_KEY.search(manuscript.text) is not None)
        bib = load_bibliography(bib_paths, missing_ok=True) if bib_paths and wanted else Bibliography()
        return cls(manuscript, path, as_read, config, target, placeholders, reflist, rewrite, bib)

    def append(self, new_refs: list[Reference], keys: dict[Identifier, str],
               additions: ListAdditions) -> tuple[list[Reference], list[Reference]]:
        """Append the fetched entries to the target bibliography, under its lock; they get
        their final keys from the file they go into (``keys`` and ``additions`` follow).
        The entries added, and those the file already held."""
        target = self.target
        assert target is not None
        if not self.as_read.matches(self.path):
            raise _changed(self.path)
        others = [r.key for r in self.bib if r.file is None or Path(r.file).resolve() != target.resolve()]
        try:
            appended = append_references(target, new_refs, known=self.bib, taken=others)
        except OSError as exc:
            raise CiteflowError(f"cannot add entries to the bibliography: {exc.strerror or exc}", target) from exc
        renamed = {old.key: new.key for old, new in zip(new_refs, appended.references, strict=True)}
        keys.update({ident: renamed.get(key, key) for ident, key in keys.items()})
        additions.keys = {position: renamed.get(key, key) for position, key in additions.keys.items()}
        return appended.added, appended.reused

    def edits(self, keys: dict[Identifier, str], additions: ListAdditions,
              picks: dict[int, str]) -> tuple[list[Replacement], list[Unmatched]]:
        """Every replacement, in order: placeholders written as citations (Manubot keys
        kept or rewritten), numeric markers of the draft's reference list (and the list,
        when every item is in the bibliography); the list items left."""
        manuscript, bib = self.manuscript, self.bib
        planned, manubot_edits = _manubot_plan(manuscript, self.placeholders, keys, bib, self.rewrite)
        list_edits, unmatched = reference_list_edits(manuscript, self.reflist, bib, additions)
        replacements = sorted(_replacements(manuscript, planned, keys, bib, picks) + manubot_edits + list_edits,
                              key=lambda e: e.start)
        return replacements, unmatched

    def write(self, text: str) -> None:
        """Rewrite the manuscript atomically, if it still holds what was read."""
        try:
            atomic_write_text(self.path, text, unchanged=self.as_read)
        except FileChanged:
            raise _changed(self.path) from None
        except OSError as exc:
            raise CiteflowError(f"cannot write the manuscript: {exc.strerror or exc}", self.path) from exc


def _manubot_plan(manuscript: Manuscript, placeholders: list[Placeholder], keys: dict[Identifier, str],
                  bib: Bibliography, rewrite: bool) -> tuple[list[Placeholder], list[Replacement]]:
    """The placeholders to write as citations and the edits of ``@url:`` citations: Manubot
    keys kept as written, or (``rewrite``) written as bibliography keys; ``keys`` gains the
    keys of ``@url:`` entries."""
    from citeflow.fixes.manubot import keep_manubot_keys, url_citation_edits, url_keys

    if not rewrite:
        return keep_manubot_keys(placeholders), []
    planned, by_url = url_keys(placeholders, bib)
    keys.update(by_url)
    return planned, url_citation_edits(manuscript, placeholders, bib)


def _changed(path: Path) -> FileChanged:
    return FileChanged("the manuscript changed on disk since it was read; nothing was rewritten "
                       "(run resolve again)", path)


def apply_replacements(text: str, replacements: list[Replacement]) -> str:
    """``text`` with each replacement's span swapped for its new text (spans sorted, disjoint)."""
    return apply_edits(text, replacements)[0]


def unified_diff(old: str, new: str, name: str) -> str:
    """A unified diff of two texts; a last line without newline is marked as such."""
    if old == new:
        return ""
    # git's a/ b/ prefixes for relative paths, so `git apply -p1` takes the diff as it is.
    before, after = (name, name) if name.startswith("/") else (f"a/{name}", f"b/{name}")
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), before, after
    )
    out = []
    for line in lines:
        if line.endswith(("\n", "\r")):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


# --------------------------------------------------------------------------------------
# Steps


def _bibliography_paths(manuscript: Manuscript, config: Config, explicit: str | Path | None) -> list[Path]:
    """``explicit`` (the operator's), then the manuscript's or the project's bibliographies:
    inside the project root and named as bibliographies, but possibly not there yet."""
    from citeflow.paths import bibliography_files

    paths = bibliography_files(manuscript, config, must_exist=False)
    if explicit is not None:
        explicit = Path(explicit)
        paths = [explicit] + [p for p in paths if p.resolve() != explicit.resolve()]
    return paths


def _lookup(
    manuscript: Manuscript,
    placeholders: list[Placeholder],
    bib: Bibliography,
    config: Config,
    offline: bool,
    fetcher: Any,
    target: Path | None,
) -> tuple[dict[Identifier, str], list[Unresolved], list[Reference], list[tuple[Identifier, str]]]:
    """Keys for every identifier (bibliography first, then sources), what is left, the new
    references, and what the registries say against the new works (retracted, a notice).

    The bookkeeping is linear in the number of identifiers: works fetched so far are found
    by identifier in a table, and keys taken are a :class:`TakenKeys` set."""
    lookup = _Lookup(manuscript, bib)
    lookup.in_bibliography(placeholders)
    if lookup.missing:
        fetcher = _fetcher(config, offline, fetcher)
        lookup.through_piis(fetcher)
        if lookup.missing:
            lookup.fetched(_fetch(list(lookup.missing), config, offline, fetcher), target)
    lookup.unresolved.sort(key=lambda u: (u.placeholder.start, u.item.raw))
    return lookup.keys, lookup.unresolved, lookup.new_refs, lookup.concerns


class _Lookup:
    """The keys of a manuscript's identifiers, found step by step: in the bibliography, then
    (PIIs through Crossref's alternative IDs) from the sources."""

    def __init__(self, manuscript: Manuscript, bib: Bibliography) -> None:
        self.manuscript = manuscript
        self.bib = bib
        self.keys: dict[Identifier, str] = {}
        #: identifiers the bibliography lacks, with the places that name them
        self.missing: dict[Identifier, list[tuple[Placeholder, PlaceholderItem]]] = {}
        self.unresolved: list[Unresolved] = []
        self.new_refs: list[Reference] = []
        self.concerns: list[tuple[Identifier, str]] = []
        self.pii_dois: dict[Identifier, Identifier] = {}

    def leave(self, placeholder: Placeholder, item: PlaceholderItem, reason: str, message: str) -> None:
        line, column = self.manuscript.line_col(placeholder.start)
        self.unresolved.append(Unresolved(placeholder, item, reason, message, line, column))

    def in_bibliography(self, placeholders: list[Placeholder]) -> None:
        """Keys of the identifiers the bibliography holds; the others become ``missing``
        (author-year citations are looked for in the bibliography only)."""
        bib = self.bib
        for placeholder in placeholders:
            if placeholder.kind != IDENTIFIER:
                continue
            for item in placeholder.items:
                if item.key is not None:
                    continue
                if item.literal_key and item.literal_key in bib:
                    continue  # "@doi:..." is an ordinary key of this bibliography
                if item.identifier is None:
                    self.leave(placeholder, item, MALFORMED, item.malformed or "")
                    continue
                ref = lookup_reference(bib, item.identifier)
                if ref is not None:
                    self.keys[item.identifier] = ref.key
                elif item.identifier.kind == AUTHOR_YEAR:
                    self.leave(placeholder, item, NOT_FOUND, author_year_message(bib, item.identifier))
                else:
                    self.missing.setdefault(item.identifier, []).append((placeholder, item))

    def through_piis(self, fetcher: Any) -> None:
        """A PII is looked up through Crossref's alternative-id filter; the DOI found takes
        its place among the identifiers to fetch (or names a bibliography entry)."""
        for pii in [ident for ident in self.missing if ident.kind == "pii"]:
            uses = self.missing.pop(pii)
            doi, reason, message = _doi_for_pii(fetcher, pii.value)
            if doi is None:
                for placeholder, item in uses:
                    self.leave(placeholder, item, reason, message)
                continue
            self.pii_dois[pii] = doi
            known = lookup_reference(self.bib, doi)
            if known is not None:
                self.keys[pii] = known.key
                continue
            self.missing.setdefault(doi, []).extend(uses)

    def fetched(self, results: Mapping[Identifier, Any], target: Path | None) -> None:
        """Keys for the works fetched: one already fetched under another identifier keeps
        its key, a new one gets a key no entry has; failures are left with their reason."""
        taken = TakenKeys(self.bib.keys())
        fetched: dict[Identifier, str] = {}  # identifiers of the works fetched so far -> their keys
        for identifier, uses in self.missing.items():
            result = results.get(identifier)
            status = getattr(result, "status", FetchStatus.ERROR) if result is not None else FetchStatus.ERROR
            reference = getattr(result, "reference", None)
            if status != FetchStatus.OK or reference is None:
                self._failed(uses, status, result)
                continue
            key = _known_key(reference, self.bib, fetched)
            if key is None and target is None:
                for placeholder, item in uses:
                    self.leave(placeholder, item, ERROR, "found, but the manuscript names no BibTeX "
                               "bibliography to add it to (use --bib FILE or 'bibliography:' in the front matter)")
                continue
            if key is None:
                key = make_key(reference, taken)
                taken.add(key)
                self.new_refs.append(replace(reference, key=key))
                for known in reference.identifiers():
                    fetched.setdefault(known, key)
                concern = integrity_warning(result) if result is not None else None
                if concern:
                    self.concerns.append((identifier, concern))
            self.keys[identifier] = key
            for pii, doi in self.pii_dois.items():
                if doi == identifier:
                    self.keys[pii] = key

    def _failed(self, uses: list[tuple[Placeholder, PlaceholderItem]], status: Any, result: Any) -> None:
        reason = _STATUS_REASON.get(status, ERROR)
        message = getattr(result, "message", "") if result is not None else "no answer from the sources"
        url = getattr(result, "url", None) if result is not None else None
        if url and url not in message:
            message = f"{message or reason} at {url}"
        for placeholder, item in uses:
            self.leave(placeholder, item, reason, message or reason)


def _fetcher(config: Config, offline: bool, fetcher: Any) -> Any:
    if fetcher is None:
        from citeflow.sources import Fetcher

        # offline=None lets CITEFLOW_OFFLINE decide when --offline was not given.
        fetcher = Fetcher(config, offline=True if offline else None)
    return fetcher


def _doi_for_pii(fetcher: Any, pii: str) -> tuple[Identifier | None, str, str]:
    """The DOI Crossref lists for an Elsevier PII, or None with the reason and a message.
    Only a work whose ``alternative-id`` is the PII counts: the DOI is never guessed."""
    from citeflow.sources import Service, crossref

    settings = getattr(fetcher, "settings", None)
    get = getattr(fetcher, "_get", None)
    if settings is None or get is None:
        return None, NOT_FOUND, "PIIs are looked up through Crossref only"
    url, params = crossref.alternative_id_query(settings.crossref_url, pii)
    shown = f"{url}?filter={params['filter']}"
    try:
        response = get(url, params, service=Service.CROSSREF)
    except Exception as exc:  # offline, or the service failing: the PII stays as written
        if getattr(settings, "offline", False):
            return None, OFFLINE, f"offline and not in the cache ({shown})"
        return None, ERROR, f"{getattr(exc, 'message', None) or exc} at {shown}"
    if response.status != 200:
        return None, ERROR, f"Crossref answered HTTP {response.status} at {shown}"
    try:
        dois = crossref.dois_with_alternative_id(response, pii)
    except crossref.Malformed as exc:
        return None, MALFORMED, f"{exc} at {shown}"
    if len(dois) != 1:
        what = "no work" if not dois else f"{len(dois)} works ({', '.join(dois)})"
        return None, NOT_FOUND, f"Crossref lists {what} with PII {pii} at {shown}"
    if hasattr(fetcher, "_remember"):
        fetcher._remember(response)
    from citeflow.references.identifiers import parse_identifier

    return parse_identifier(dois[0], "doi"), "", ""


def _fetch(identifiers: list[Identifier], config: Config, offline: bool, fetcher: Any) -> dict:
    fetcher = _fetcher(config, offline, fetcher)
    try:
        return dict(fetcher.fetch_many(identifiers))
    except CiteflowError:
        raise
    except Exception as exc:  # a source failing as a whole leaves every identifier unresolved
        return {ident: _Failure(ident, FetchStatus.ERROR, str(exc)) for ident in identifiers}


@dataclass(frozen=True)
class _Failure:
    identifier: Identifier
    status: FetchStatus
    message: str
    reference: None = None


def _known_key(reference: Reference, bib: Bibliography, fetched: Mapping[Identifier, str]) -> str | None:
    """The key of an entry (existing, or just fetched: ``fetched`` maps their identifiers to
    keys) sharing an identifier with ``reference``."""
    for identifier in reference.identifiers():
        found = bib.find(identifier)
        if found is not None:
            return found.key
        if identifier in fetched:
            return fetched[identifier]
    return None


def _replacements(
    manuscript: Manuscript,
    placeholders: list[Placeholder],
    keys: Mapping[Identifier, str],
    bib: Bibliography,
    picks: Mapping[int, str],
) -> list[Replacement]:
    planned = citation_edits(manuscript.text, placeholders, keys, bib, picks)
    return [item.edit for item in planned]


def _freetext_reports(
    manuscript: Manuscript, placeholders: list[Placeholder], bib: Bibliography, picks: Mapping[int, str]
) -> list[FreeText]:
    free = [p for p in placeholders if p.kind == FREETEXT and p.start not in picks]
    if not free:
        return []
    suggester = Suggester(bib, cache=DocumentCache.default())
    ranked: dict[tuple[str, str], tuple[tuple[Suggestion, ...], tuple[bool, ...]]] = {}
    reports = []
    for placeholder in free:
        sentence = placeholder.sentence()
        query = (sentence, placeholder.paragraph())
        if query not in ranked:  # once per text: the placeholders of a sentence share it
            suggestions = tuple(suggester.rank(*query))
            ranked[query] = suggestions, tuple(suggester.is_confident(s, sentence) for s in suggestions)
        line, column = manuscript.line_col(placeholder.start)
        reports.append(FreeText(placeholder, line, column, sentence, *ranked[query]))
    return reports


def _bibliography_preview(target: Path, refs: list[Reference]) -> str:
    """The diff that appending ``refs`` to ``target`` would make (nothing is written)."""
    old = read_text_exact(target) if target.exists() else ""
    return unified_diff(old, old + bibtex_addition(old, refs).text, str(target))
