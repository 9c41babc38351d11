"""``citeflow refresh``: ask the registries about every cited work and write ``citeflow.lock``.

The lock (:mod:`citeflow.references.lock`) sits at the project root: the folder of
``citeflow.toml`` (or of a ``pyproject.toml`` with ``[tool.citeflow]``), else the
manuscript's folder. For each cited work with a DOI, PMID or PMCID (every bibliography entry
with ``all_entries``), and each cited journal article without one (looked up by title), the
registries are asked afresh in batches (:mod:`citeflow.sources.registry`); what they answer
replaces that registry's record of the work. A registry that cannot be asked leaves the
work's previous record in place, and the work is reported as not checked: a failed lookup
never reads as "not retracted". When every manuscript of the project is refreshed, works no
longer cited are dropped from the lock.

The file is written atomically, and only when its content changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from citeflow.config import Config
from citeflow.document.citations import find_citations
from citeflow.document.manuscript import Manuscript
from citeflow.errors import CiteflowError
from citeflow.paths import bibliography_files, project_root
from citeflow.progress import Progress, ReportingFetcher
from citeflow.references.bibliography import load_bibliography
from citeflow.references.integrity import Assessment, Certainty, assess
from citeflow.references.lock import LOCK_NAME, Lock, LockedWork, load_lock, today, work_ids
from citeflow.references.reference import Reference
from citeflow.sources import Fetcher, SourceSettings
from citeflow.sources.registry import WorkQuery, ask_registries


@dataclass
class Unchecked:
    """A work (some of) whose registries could not be asked, and why."""

    keys: list[str]
    work_id: str
    problems: list[str]

    def describe(self) -> str:
        return f"{', '.join(self.keys)} ({self.work_id}): {'; '.join(self.problems)}"


@dataclass
class Change:
    """Something new the registries say about a cited work since the last refresh."""

    keys: list[str]
    work_id: str
    message: str


@dataclass
class RefreshResult:
    """What one ``refresh`` asked, learned and wrote."""

    lock_path: Path
    lock: Lock
    works: int = 0
    unchecked: list[Unchecked] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    written: bool = False
    requests: int = 0

    @property
    def exit_code(self) -> int:
        """1 when some work could not be checked, else 0."""
        return 1 if self.unchecked else 0


def refresh_lock(manuscripts: Iterable[Manuscript], config: Config, *, all_entries: bool = False,
                 prune: bool = False, fetcher: Fetcher | None = None, write: bool = True,
                 on_progress: Callable[[str], None] | None = None,
                 progress: Progress | None = None) -> RefreshResult:
    """Refresh the lock of the project ``manuscripts`` belong to (see the module docstring).

    ``prune`` drops works no longer cited by any of ``manuscripts`` (meant for a refresh of
    every manuscript of the project). ``fetcher`` defaults to a fresh-asking
    :class:`~citeflow.sources.Fetcher` for ``config``. ``on_progress`` is told each phase
    ("Crossref: 21 DOIs"); ``progress`` counts the identifiers of each registry's batched
    lookups (:class:`~citeflow.progress.Progress`), one phase per registry.
    """
    manuscripts = list(manuscripts)
    if not manuscripts:
        raise ValueError("no manuscript to refresh")
    first = manuscripts[0]
    root = project_root(first.path or first.folder / "manuscript.md", config)
    path = root / LOCK_NAME
    old = load_lock(path)
    refs = _works(manuscripts, config, root, all_entries)
    queries: dict[str, WorkQuery] = {}
    keys: dict[str, list[str]] = {}
    for ref in refs:
        ids = work_ids(ref.doi, ref.pmid, ref.pmcid, "" if (ref.doi or ref.pmid or ref.pmcid) else ref.title)
        if not ids:
            continue
        work_id = ids[0]
        keys.setdefault(work_id, [])
        if ref.key not in keys[work_id]:
            keys[work_id].append(ref.key)
        if work_id not in queries:
            searchable = work_id.startswith("title:")
            queries[work_id] = WorkQuery(work_id, ref.doi, ref.pmid, ref.pmcid,
                                         ref.title if searchable else "",
                                         ref.first_author_family if searchable else "")
    own = fetcher is None
    if own and SourceSettings.from_config(config).offline:
        raise CiteflowError("refresh asks the registries, but CITEFLOW_OFFLINE is set")
    fetcher = fetcher or Fetcher(config, fresh=True, offline=False, keep_records=True)
    before = fetcher.requests_sent
    asking = fetcher if progress is None else ReportingFetcher(fetcher, progress)
    try:
        answers = ask_registries(asking, queries.values(), asked=today(),  # type: ignore[arg-type]
                                 on_progress=on_progress)
    finally:
        if own:
            fetcher.close()
    lock = Lock(dict(old.works) if old is not None else {}, path)
    result = RefreshResult(path, lock, works=len(queries), requests=fetcher.requests_sent - before)
    for work_id, answer in answers.items():
        previous = old.works.get(work_id) if old is not None else None
        merged = _merge(previous, answer.work)
        if merged.sources:
            lock.put(merged)
        if answer.problems:
            result.unchecked.append(Unchecked(keys[work_id], work_id, answer.problems))
        message = _news(assess(previous) if previous is not None else None, assess(merged))
        if message:
            result.changes.append(Change(keys[work_id], work_id, message))
    if prune:
        for work_id in sorted(set(lock.works) - set(queries)):
            lock.drop(work_id)
            result.dropped.append(work_id)
    text = lock.dumps()
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if write and text != current:
        lock.write(path)
        result.written = True
    return result


def _works(manuscripts: list[Manuscript], config: Config, root: Path, all_entries: bool) -> list[Reference]:
    """The bibliography entries to ask about: cited ones (or all), in order."""
    refs: list[Reference] = []
    seen: set[int] = set()
    for manuscript in manuscripts:
        paths = bibliography_files(manuscript, config, root)
        bib = load_bibliography(paths)
        if all_entries:
            wanted = list(bib)
        else:
            wanted = [r for r in (bib.get(c.key) for c in find_citations(manuscript)) if r is not None]
        for ref in wanted:
            if id(ref) not in seen and (ref.doi or ref.pmid or ref.pmcid or _searchable(ref)):
                seen.add(id(ref))
                refs.append(ref)
    return refs


def _searchable(ref: Reference) -> bool:
    return ref.type == "article-journal" and len(ref.title.split()) >= 3


def _merge(previous: LockedWork | None, answer: LockedWork) -> LockedWork:
    """The answer's records over the previous ones: a registry that did not answer keeps
    what it said last time."""
    if previous is None:
        return answer
    sources = dict(previous.sources)
    sources.update(answer.sources)
    return LockedWork(answer.id, answer.doi or previous.doi, answer.pmid or previous.pmid,
                      answer.pmcid or previous.pmcid, answer.title or previous.title,
                      answer.abstract or previous.abstract, sources)


def _news(before: Assessment | None, after: Assessment) -> str:
    """What is newly said of a work (a retraction, a withdrawal, new notices), or ""."""
    if after.retraction is Certainty.CONFIRMED and (before is None or before.retraction is not Certainty.CONFIRMED):
        notice = after.retractions[-1].describe() if after.retractions else after.retraction_evidence[0]
        return f"retracted: {notice}"
    if after.withdrawn and not (before and before.withdrawn):
        return "withdrawn: " + "; ".join(after.withdrawal_evidence)
    known = {n.identifier for n in before.notices()} if before is not None else set()
    new = [n for n in after.notices() if n.identifier not in known]
    if before is not None and new:
        return "new notice: " + "; ".join(n.describe() for n in new)
    return ""


__all__ = ["Change", "RefreshResult", "Unchecked", "refresh_lock"]
