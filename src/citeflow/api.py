"""The Python front door: one :class:`Project`, and a function per stage.

Every command of the ``citeflow`` CLI is a thin layer over this module, so a Python user
gets exactly what the command line does::

    import citeflow

    result = citeflow.check("manuscripts/draft.md")
    for finding in result.findings:
        print(finding.line, finding.code, finding.message)

    print(citeflow.resolve("manuscripts/draft.md", offline=True).diff)
    citeflow.render("manuscripts/draft.md", formats=["html"], output_dir="out")

A *source* is a path to a Markdown manuscript, Markdown text, or a
:class:`~citeflow.document.manuscript.Manuscript`. A ``str`` is read as a path when it has no line
break and names an existing file or folder, or ends in ``.md``, ``.qmd``, ``.markdown`` or
``.txt``;
any other ``str`` is the manuscript's text. Text has no folder of its own: its
bibliography paths are taken relative to the project root.

Options are keyword-only. Every function raises :class:`~citeflow.errors.CiteflowError`
(message, file, line) for bad input, never a bare traceback for something the user can fix.
A :class:`Project` keeps configuration and parsed bibliographies between calls, which is
what a long-running caller (an editor plug-in, a notebook, a server) wants::

    project = citeflow.Project.find("manuscripts/")
    for path in project.manuscripts():
        print(path, project.check(path).summary()["total"])
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from .config import Config, load_config
from .document.manuscript import Manuscript, parse_manuscript, read_manuscript
from .errors import CiteflowError
from .progress import Progress, ReportingFetcher

if TYPE_CHECKING:  # imported lazily at run time: `import citeflow` stays cheap
    from .checks.base import Finding, Severity, Suggestion
    from .checks.engine import CheckResult
    from .checks.fixes import Fix
    from .claims.detect import Claim
    from .fixes.refresh import RefreshResult
    from .fixes.resolve import ResolveResult
    from .output.build import BuildOutcome, BuildReport
    from .references.bibliography import Bibliography, Reference
    from .references.identifiers import Identifier
    from .sources import FetchResult

#: What the API accepts as a manuscript.
Source = Union[str, "os.PathLike[str]", Manuscript]

MARKDOWN_SUFFIXES = (".md", ".qmd", ".markdown")
_PATH_SUFFIXES = MARKDOWN_SUFFIXES + (".txt",)


# --------------------------------------------------------------------------------------
# Sources


def is_path_like(source: Source) -> bool:
    """True when ``source`` names a file rather than holding manuscript text."""
    if isinstance(source, Manuscript):
        return False
    if isinstance(source, os.PathLike):
        return True
    text = str(source)
    if "\n" in text or "\r" in text or not text.strip():
        return False
    return text.lower().endswith(_PATH_SUFFIXES) or Path(text).exists()


def load_manuscript(source: Source, *, root: Path | None = None) -> Manuscript:
    """A :class:`Manuscript` for a path, Markdown text or a manuscript.

    Text gets no path; relative bibliography paths in its front matter are read from
    ``root`` (the project root) by the functions that need them.
    """
    if isinstance(source, Manuscript):
        return source
    if is_path_like(source):
        return read_manuscript(Path(os.fspath(source)))
    manuscript = parse_manuscript(str(source), None)
    manuscript.base = root
    return manuscript


def markdown_files(folder: Path) -> list[Path]:
    """The Markdown manuscripts directly inside ``folder``, sorted."""
    return sorted(p for p in folder.glob("*")
                  if p.is_file() and p.suffix.lower() in MARKDOWN_SUFFIXES)


# --------------------------------------------------------------------------------------
# Results that span several manuscripts


@dataclass
class CheckReport:
    """The findings of several manuscripts, as ``citeflow check`` reports them.

    A bibliography shared by several manuscripts is reported once: findings are
    de-duplicated by file, position, code and message. ``fail_on`` is the level that makes
    :meth:`exit_code` 1 (from ``[check] fail_on`` unless given).
    """

    results: list[CheckResult]
    findings: list[Finding]
    claims: list[Claim]
    fail_on: Severity

    def failing(self) -> list[Finding]:
        """Unsuppressed findings at or above :attr:`fail_on`."""
        return [f for f in self.findings if not f.suppressed and f.severity >= self.fail_on]

    def exit_code(self) -> int:
        """0 when nothing reaches the fail level, else 1."""
        return 1 if self.failing() else 0

    def summary(self) -> dict[str, Any]:
        """Counts by severity and rule, suppressions and claim support (as in JSON reports)."""
        from .checks.engine import summarize

        return summarize(self.findings, self.claims)


@dataclass
class FixResult:
    """What :meth:`Project.fix` did to one manuscript: the fixes applied, the new text, and
    the findings left (the manuscript checked again after fixing)."""

    path: Path | None
    original: str
    text: str
    applied: list[Fix]
    remaining: CheckResult
    written: bool = False

    @property
    def changed(self) -> bool:
        return self.text != self.original

    @property
    def diff(self) -> str:
        from .fixes.resolve import unified_diff

        return unified_diff(self.original, self.text, str(self.path or "<manuscript>"))


@dataclass(frozen=True)
class Candidates:
    """Ranked candidate references for one sentence that needs a source.

    ``kind`` is ``"placeholder"`` (a free-text placeholder such as ``[citation needed]``)
    or ``"claim"`` (a claim sentence that cites nothing). ``confident`` says, per candidate,
    whether it is strong enough to show as likely support.
    """

    kind: str
    line: int
    column: int
    text: str
    sentence: str
    suggestions: tuple[Suggestion, ...]
    confident: tuple[bool, ...]

    @property
    def any_confident(self) -> bool:
        return any(self.confident)


@dataclass
class CiteResult:
    """What :meth:`Project.cite` found: new references (keyed), skipped and failed lookups."""

    references: list[Reference] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[FetchResult] = field(default_factory=list)
    written: list[Reference] = field(default_factory=list)
    bibliography: Path | None = None
    #: New works the registry says are retracted, withdrawn, of concern or notices themselves.
    warnings: list[str] = field(default_factory=list)

    def exit_code(self) -> int:
        """1 when an identifier could not be resolved, else 0."""
        return 1 if self.failed else 0


# --------------------------------------------------------------------------------------
# The project


@dataclass
class Project:
    """A citeflow project: its configuration, and bibliographies parsed once per content.

    ``Project.find(start)`` looks for ``citeflow.toml`` (or ``[tool.citeflow]`` in
    ``pyproject.toml``) at or above ``start``; without one the project is the folder of
    ``start`` with default settings.
    """

    config: Config
    _bibliographies: dict[tuple, Bibliography] = field(default_factory=dict, repr=False)

    @classmethod
    def find(cls, start: str | os.PathLike[str] | None = None, *,
             config_path: str | os.PathLike[str] | None = None) -> Project:
        """The project that ``start`` (a manuscript or folder; default: the working folder)
        belongs to, or the one configured by ``config_path``."""
        where = Path(os.fspath(start)) if start is not None else None
        if where is not None and not where.exists():
            where = where.parent if where.parent.exists() else None
        config_file = Path(os.fspath(config_path)) if config_path is not None else None
        return cls(load_config(where, path=config_file))

    @property
    def root(self) -> Path:
        """The project root: the folder of the configuration file (else the start folder)."""
        return self.config.root

    def manuscripts(self, names: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
        """The named manuscripts (a folder stands for its Markdown files), else every
        Markdown file in the configured ``manuscripts`` folder."""
        paths = [Path(os.fspath(n)) for n in names]
        if paths:
            found: list[Path] = []
            for path in paths:
                found.extend(markdown_files(path) if path.is_dir() else [path])
            if not found:
                raise CiteflowError("no Markdown manuscript in " + ", ".join(map(str, paths)))
            return found
        folder = self.config.manuscripts_dir
        found = markdown_files(folder)
        if not found:
            raise CiteflowError("no manuscript given and none found", folder)
        return found

    def _load(self, source: Source) -> Manuscript:
        """The manuscript of ``source``; a file must not be a symbolic link out of the
        project root (docs/security.md)."""
        if is_path_like(source) and not isinstance(source, Manuscript):
            from .paths import project_root, require_manuscript

            path = Path(os.fspath(source))
            require_manuscript(path, project_root(path, self.config))
        return load_manuscript(source, root=self.root)

    # -- bibliographies -----------------------------------------------------------------
    def bibliography_paths(self, manuscript: Manuscript, *, must_exist: bool = True) -> list[Path]:
        """The manuscript's own bibliographies (front matter), else the project's, each
        inside the project root (:func:`citeflow.paths.bibliography_files`)."""
        from .paths import bibliography_files

        return bibliography_files(manuscript, self.config, must_exist=must_exist)

    def bibliography(self, paths: Sequence[Path], *, missing_ok: bool = False) -> Bibliography:
        """The bibliography of ``paths``, parsed once for as long as the files are unchanged."""
        from .references.bibliography import load_bibliography

        key = (tuple(_file_state(p) for p in paths), missing_ok)
        cached = self._bibliographies.get(key)
        if cached is None:
            cached = load_bibliography(list(paths), missing_ok=missing_ok)
            self._bibliographies[key] = cached
        return cached

    # -- stages -------------------------------------------------------------------------
    def check(self, source: Source, *, select: Iterable[str] | str | None = None,
              ignore: Iterable[str] | str | None = None, suggest: bool | None = None
              ) -> CheckResult:
        """Check one manuscript: findings (sorted, suppressions applied), claims, summary."""
        from .checks.engine import CheckSettings, check_manuscript

        manuscript = self._load(source)
        settings = CheckSettings.from_config(self.config)
        if suggest is not None:
            settings.suggest = settings.suggest and suggest
        bibliography = self.bibliography(self.bibliography_paths(manuscript))
        return check_manuscript(manuscript, self.config, select=select, ignore=ignore,
                                settings=settings, bibliography=bibliography)

    def fix(self, source: Source, *, unsafe: bool = False, write: bool = True,
            select: Iterable[str] | str | None = None,
            ignore: Iterable[str] | str | None = None) -> FixResult:
        """Apply the fixes that findings carry: the safe ones, and with ``unsafe`` the unsafe
        ones too. A manuscript file is rewritten atomically (unless ``write`` is false);
        text is returned changed in :attr:`FixResult.text`. Suppressed findings are not
        fixed. The result holds the findings left after fixing."""
        from .checks.fixes import apply_edits
        from .files import atomic_write_text

        manuscript = self._load(source)
        result = self.check(manuscript, select=select, ignore=ignore, suggest=False)
        wanted = [f.fix for f in result.active()
                  if f.fix is not None and (f.fix.safe or unsafe)
                  and (manuscript.path is None or Path(f.file) == manuscript.path)]
        edits = [edit for fix in wanted for edit in fix.edits]
        text, applied_edits = apply_edits(manuscript.text, edits)
        applied_set = set(applied_edits)
        applied = [fix for fix in wanted if fix is not None and set(fix.edits) <= applied_set]
        written = False
        if text != manuscript.text and write and manuscript.path is not None:
            try:
                atomic_write_text(manuscript.path, text)
            except OSError as exc:
                raise CiteflowError(f"cannot write the manuscript: {exc.strerror or exc}",
                                    manuscript.path) from exc
            written = True
        again = parse_manuscript(text, manuscript.path)
        again.base = manuscript.base
        remaining = self.check(again, select=select, ignore=ignore)
        return FixResult(manuscript.path, manuscript.text, text, applied, remaining, written)

    def check_all(self, sources: Iterable[Source] = (), *,
                  select: Iterable[str] | str | None = None,
                  ignore: Iterable[str] | str | None = None, suggest: bool | None = None,
                  fail_on: Severity | str | None = None, diff_base: str | None = None
                  ) -> CheckReport:
        """Check several manuscripts (default: the project's) into one report.

        ``diff_base`` (a git revision) keeps only findings in sentences new or changed since
        it (and, in bibliographies, on changed lines); ``"auto"`` takes the revision from
        the GitHub Actions event (a pull request's base, the commit before a push) and
        checks everything when the event has none.
        """
        from .checks.base import Severity
        from .checks.engine import CheckSettings

        if diff_base == "auto":
            from .document.gitdiff import event_base

            diff_base = event_base()
        sources = list(sources)
        if all(is_path_like(s) for s in sources):  # files and folders (none: the project's)
            sources = list(self.manuscripts(Path(os.fspath(s)) for s in sources))  # type: ignore[arg-type]
        results: list[CheckResult] = []
        findings: list[Finding] = []
        claims: list[Claim] = []
        seen: set[tuple] = set()
        for source in sources:
            result = self.check(source, select=select, ignore=ignore, suggest=suggest)
            results.append(result)
            batch = result.findings
            if diff_base:
                batch = _changed_only(batch, result.path, diff_base, result.manuscript)
            for finding in batch:
                key = (str(finding.file), finding.line, finding.column, finding.code,
                       finding.message)
                if key not in seen:
                    seen.add(key)
                    findings.append(finding)
            claims.extend(result.claims)
        if fail_on is None:
            level = CheckSettings.from_config(self.config).fail_on
        elif isinstance(fail_on, str):
            level = Severity.parse(fail_on)
        else:
            level = fail_on
        return CheckReport(results, findings, claims, level)

    def resolve(self, source: Source, *, write: bool = False, offline: bool = False,
                bibliography: str | os.PathLike[str] | None = None,
                picks: dict[int, str] | None = None, fetcher: Any = None,
                original: str | None = None, progress: Progress | None = None,
                accept_parsed: bool = False,
                rewrite_manubot: bool | None = None) -> ResolveResult:
        """Resolve identifier placeholders to ``[@key]``; fetch what the bibliography lacks.

        Without ``write`` nothing is written and :attr:`ResolveResult.diff` shows what would
        change. ``write`` needs a manuscript file. ``picks`` maps the start offset of a
        free-text placeholder to the key chosen for it; ``original`` is the text the picks
        were made on (the rewrite is refused when the file no longer holds it).
        ``progress`` is told how many identifiers are fetched and each one done
        (:class:`Progress`). Items of the draft's own reference list that the bibliography
        lacks are looked up at Crossref and added when title, first author and year agree;
        ``accept_parsed`` (offline) adds them as written instead, unverified.
        Manubot keys (``[@doi:...]``, ``@url:...``) are kept as written (their works
        added to the bibliography) unless ``rewrite_manubot`` (default:
        ``[resolve] rewrite_manubot``) writes them as bibliography keys.
        """
        from .fixes.resolve import resolve_manuscript

        if write and not is_path_like(source):
            raise CiteflowError("resolve(write=True) needs a manuscript file, not text")
        manuscript = self._load(source)
        if progress is None or fetcher is not None:
            return resolve_manuscript(manuscript, self.config,
                                      offline=offline, write=write, fetcher=fetcher,
                                      bibliography=_path(bibliography), picks=picks,
                                      original=original, accept_parsed=accept_parsed,
                                      rewrite_manubot=rewrite_manubot)
        from .sources import Fetcher

        with Fetcher(self.config, offline=True if offline else None) as inner:
            return resolve_manuscript(manuscript, self.config, offline=offline, write=write,
                                      fetcher=ReportingFetcher(inner, progress, "Fetching metadata"),
                                      bibliography=_path(bibliography), picks=picks,
                                      original=original, accept_parsed=accept_parsed,
                                      rewrite_manubot=rewrite_manubot)

    def suggest(self, source: Source, *, k: int = 3, include_weak: bool = False,
                bibliography: str | os.PathLike[str] | None = None) -> list[Candidates]:
        """Candidates for every free-text placeholder and for uncited claims.

        Claims are listed when a candidate is confident, or always with ``include_weak``.
        """
        from .claims.documents import DocumentCache
        from .claims.suggest import Suggester

        manuscript = self._load(source)
        paths = ([Path(bibliography)] if bibliography else []) + \
            self.bibliography_paths(manuscript, must_exist=False)
        suggester = Suggester(self.bibliography(paths, missing_ok=True), cache=DocumentCache.default())
        return candidate_report(manuscript, suggester, self.config, k=k,
                                include_weak=include_weak)

    def render(self, source: str | os.PathLike[str], *, formats: Iterable[str] | str = ("html", "pdf"),
               output_dir: str | os.PathLike[str] | None = None, csl: str | None = None,
               allow_missing: bool = False, review: bool = False, trusted: bool | None = None,
               warn: Callable[[Any], None] | None = None) -> list[Path]:
        """Render a manuscript file to ``output_dir/STEM.{html,pdf,docx}``; with ``review``
        the editorial review is written too, in the same formats (``STEM.review.pdf``,
        ``.review.html``, ``.review.docx``).
        ``trusted`` keeps raw HTML and Typst (default: ``[render] trusted``, see
        docs/security.md); ``warn`` receives each warning about what the outputs leave out.
        Returns the paths written."""
        from .output.render import render as render_manuscript

        if not is_path_like(source):
            raise CiteflowError("render needs a manuscript file, not text")
        written = render_manuscript(Path(os.fspath(source)), formats, csl=csl,
                                    outdir=_path(output_dir), allow_missing=allow_missing,
                                    config=self.config, trusted=trusted, warn=warn)
        if review:
            written += self.review(source, output_dir=output_dir, csl=csl, trusted=trusted,
                                   warn=warn, formats=formats)
        return written

    def review(self, source: str | os.PathLike[str], *,
               output_dir: str | os.PathLike[str] | None = None, csl: str | None = None,
               trusted: bool | None = None, warn: Callable[[Any], None] | None = None,
               result: CheckResult | None = None,
               formats: Iterable[str] | str = ("pdf", "html")) -> list[Path]:
        """Write the editorial review of a manuscript file in ``formats``: ``STEM.review.pdf``
        and ``.review.html`` (every finding highlighted in place, a summary page and an
        appendix), ``.review.docx`` (every finding a Word comment). ``result`` is a check of
        the manuscript already at hand."""
        from .output.render import parse_formats
        from .output.review import render_review

        if not is_path_like(source):
            raise CiteflowError("review needs a manuscript file, not text")
        return render_review(Path(os.fspath(source)), outdir=_path(output_dir), csl=csl,
                             config=self.config, result=result, trusted=trusted, warn=warn,
                             formats=parse_formats(formats))

    def build(self, sources: Iterable[str | os.PathLike[str]] = (), *,
              output_dir: str | os.PathLike[str] | None = None, jobs: int | None = None,
              fail_on: Severity | str | None = None, force: bool = False,
              csl: str | None = None, trusted: bool | None = None,
              on_done: Callable[[BuildOutcome], None] | None = None) -> BuildReport:
        """Check and render every manuscript that changed (default: the project's), in
        parallel processes; unchanged ones are reported up to date. ``on_done`` receives
        each outcome as it arrives."""
        from .checks.base import Severity
        from .output.build import build as run_build

        level = Severity.parse(fail_on) if isinstance(fail_on, str) else fail_on
        return run_build([Path(os.fspath(s)) for s in sources], outdir=_path(output_dir), jobs=jobs,
                         fail_on=level, force=force, csl=csl, config=self.config,
                         on_done=on_done, trusted=trusted)

    def refresh(self, sources: Iterable[str | os.PathLike[str]] = (), *, all_entries: bool = False,
                fetcher: Any = None, write: bool = True,
                on_progress: Callable[[str], None] | None = None,
                progress: Progress | None = None) -> RefreshResult:
        """Ask the registries about the cited works of the manuscripts (default: the project's)
        and write what they say to ``citeflow.lock`` at the project root (online).

        ``on_progress`` is told each phase as text; ``progress`` (:class:`Progress`) counts
        the identifiers each phase looks up.

        ``all_entries`` asks about every bibliography entry, not only the cited ones. A
        registry that cannot be asked keeps a work's previous entry; such works are listed in
        :attr:`RefreshResult.unchecked`. Refreshing the whole project drops works no longer
        cited. ``check`` then judges retractions and corrections from the lock, offline.
        """
        from .fixes.refresh import refresh_lock

        names = [Path(os.fspath(s)) for s in sources]
        paths = self.manuscripts(names)
        manuscripts = [self._load(path) for path in paths]
        return refresh_lock(manuscripts, self.config, all_entries=all_entries, prune=not names,
                            fetcher=fetcher, write=write, on_progress=on_progress,
                            progress=progress)

    def cite(self, identifiers: Iterable[str | Identifier], *,
             bibliography: str | os.PathLike[str] | None = None, offline: bool | None = None,
             on_result: Callable[[FetchResult], None] | None = None) -> CiteResult:
        """References for DOIs, PMIDs and PMCIDs, keyed for the bibliography.

        Identifiers whose work the bibliography (``bibliography``, else the project's)
        already holds are skipped, as are two identifiers of the same work. With
        ``bibliography`` given, the new references are appended to that file.
        """
        from .references.bibliography import Bibliography, TakenKeys, append_references, make_key
        from .sources import Fetcher
        from .sources.registry import integrity_warning

        wanted = parse_identifiers(identifiers)
        target = Path(bibliography) if bibliography is not None else None
        # The project's bibliographies count too: a work cited there is not fetched again
        # into another file.
        project_paths = [p for p in self.config.bibliography
                         if target is None or p.resolve() != target.resolve()]
        paths = ([target] if target is not None else []) + project_paths
        existing = (self.bibliography(paths, missing_ok=True) if paths else Bibliography())
        result = CiteResult(bibliography=target)
        to_fetch = []
        for ident in wanted:
            present = existing.find(ident)
            if present is not None:
                where = present.file or target or (paths[0] if paths else None)
                result.skipped.append(f"{ident}: already in {where} as @{present.key}")
            else:
                to_fetch.append(ident)
        with Fetcher(self.config, offline=True if offline else None) as fetcher:
            fetched = fetcher.fetch_many(to_fetch, on_result=on_result)
        taken = TakenKeys(existing.keys())
        seen_dois: set[str] = set()
        for ident in to_fetch:
            answer = fetched[ident]
            if not answer.ok or answer.reference is None:
                result.failed.append(answer)
                continue
            ref = answer.reference
            same = existing.by_doi(ref.doi) if ref.doi else None
            if same is not None:
                where = same.file or target or (paths[0] if paths else None)
                result.skipped.append(f"{ident}: already in {where} as @{same.key} (same DOI)")
                continue
            if ref.doi and ref.doi in seen_dois:
                result.skipped.append(f"{ident}: same work as an identifier given before")
                continue
            if ref.doi:
                seen_dois.add(ref.doi)
            ref.key = make_key(ref, taken)
            taken.add(ref.key)
            result.references.append(ref)
            concern = integrity_warning(answer)
            if concern:
                result.warnings.append(f"@{ref.key} ({ident}) {concern}")
        if target is not None and result.references:
            appended = append_references(target, result.references, known=existing)
            result.written = appended.added
            result.skipped += [f"{ref.identifiers()[0]}: added to {target} meanwhile as @{ref.key}"
                               for ref in appended.reused]
        return result


# --------------------------------------------------------------------------------------
# Module-level shortcuts: the same as Project.find(source).method(source, ...)


def _project_for(source: Any, project: Project | None,
                 config_path: str | os.PathLike[str] | None = None) -> Project:
    if project is not None:
        return project
    start = Path(os.fspath(source)) if source is not None and is_path_like(source) else None
    return Project.find(start, config_path=config_path)


def check(source: Source, *, project: Project | None = None,
          select: Iterable[str] | str | None = None, ignore: Iterable[str] | str | None = None,
          suggest: bool | None = None) -> CheckResult:
    """Check one manuscript (path or text). See :meth:`Project.check`.

    >>> result = check("Studies show that dupilumab causes arthralgia.\\n", select="CF3")
    >>> [f.code for f in result.findings]
    ['CF302']
    """
    return _project_for(source, project).check(source, select=select, ignore=ignore,
                                               suggest=suggest)


def resolve(source: Source, *, project: Project | None = None, write: bool = False,
            offline: bool = False, bibliography: str | os.PathLike[str] | None = None,
            picks: dict[int, str] | None = None, accept_parsed: bool = False,
            rewrite_manubot: bool | None = None) -> ResolveResult:
    """Resolve identifier placeholders of one manuscript. See :meth:`Project.resolve`."""
    return _project_for(source, project).resolve(source, write=write, offline=offline,
                                                 bibliography=bibliography, picks=picks,
                                                 accept_parsed=accept_parsed,
                                                 rewrite_manubot=rewrite_manubot)


def suggest(source: Source, *, project: Project | None = None, k: int = 3,
            include_weak: bool = False) -> list[Candidates]:
    """Candidate references for placeholders and uncited claims. See :meth:`Project.suggest`."""
    return _project_for(source, project).suggest(source, k=k, include_weak=include_weak)


def fix(source: Source, *, project: Project | None = None, unsafe: bool = False,
        write: bool = True) -> FixResult:
    """Apply the fixes findings carry. See :meth:`Project.fix`."""
    return _project_for(source, project).fix(source, unsafe=unsafe, write=write)


def render(source: str | os.PathLike[str], *, project: Project | None = None,
           formats: Iterable[str] | str = ("html", "pdf"),
           output_dir: str | os.PathLike[str] | None = None, csl: str | None = None,
           allow_missing: bool = False, review: bool = False) -> list[Path]:
    """Render a manuscript file. See :meth:`Project.render`."""
    return _project_for(source, project).render(source, formats=formats, output_dir=output_dir,
                                                csl=csl, allow_missing=allow_missing,
                                                review=review)


def build(sources: Iterable[str | os.PathLike[str]] = (), *, project: Project | None = None,
          output_dir: str | os.PathLike[str] | None = None, jobs: int | None = None,
          fail_on: Severity | str | None = None, force: bool = False,
          csl: str | None = None) -> BuildReport:
    """Check and render manuscripts that changed. See :meth:`Project.build`."""
    project = project or Project.find()
    return project.build(sources, output_dir=output_dir, jobs=jobs, fail_on=fail_on,
                         force=force, csl=csl)


def refresh(sources: Iterable[str | os.PathLike[str]] = (), *, project: Project | None = None,
            all_entries: bool = False) -> RefreshResult:
    """Write ``citeflow.lock`` from the registries (online). See :meth:`Project.refresh`."""
    sources = list(sources)
    project = project or Project.find(Path(os.fspath(sources[0])) if sources else None)
    return project.refresh(sources, all_entries=all_entries)


def cite(identifiers: Iterable[str], *, project: Project | None = None,
         bibliography: str | os.PathLike[str] | None = None,
         offline: bool | None = None) -> CiteResult:
    """References for identifiers. See :meth:`Project.cite`."""
    project = project or Project.find(Path(bibliography).parent if bibliography else None)
    return project.cite(identifiers, bibliography=bibliography, offline=offline)


# --------------------------------------------------------------------------------------
# Helpers


def parse_identifiers(texts: Iterable[str | Identifier]) -> list[Identifier]:
    """Identifiers from text (``doi:…``, ``pmid:…``, bare forms), de-duplicated in order.

    Every malformed one is named in one :class:`CiteflowError`.
    """
    from .references.identifiers import Identifier, InvalidIdentifier, parse_identifier

    parsed: list[Identifier] = []
    problems: list[str] = []
    for text in texts:
        if isinstance(text, Identifier):
            ident = text
        else:
            try:
                ident = parse_identifier(text)
            except InvalidIdentifier as exc:
                problems.append(f"{text!r}: {exc.reason}")
                continue
        if ident not in parsed:
            parsed.append(ident)
    if problems:
        raise CiteflowError("malformed identifier " + "; ".join(problems))
    return parsed


def candidate_report(manuscript: Manuscript, suggester: Any, config: Config | None, *,
                     k: int = 3, include_weak: bool = False) -> list[Candidates]:
    """Candidates for each free-text placeholder, then for each uncited claim sentence."""
    from .claims.detect import find_claims
    from .document.citations import find_citations
    from .document.placeholders import FREETEXT, extra_patterns_from_config, find_placeholders

    placeholders = find_placeholders(manuscript, extra_patterns_from_config(config))
    report: list[Candidates] = []
    for placeholder in placeholders:
        if placeholder.kind != FREETEXT:
            continue
        sentence = placeholder.sentence()
        ranked = tuple(suggester.rank(sentence, placeholder.paragraph(), k=k))
        line, column = manuscript.line_col(placeholder.start)
        report.append(Candidates("placeholder", line, column, placeholder.text, sentence, ranked,
                                 tuple(suggester.is_confident(s, sentence) for s in ranked)))
    holes = [(p.start, p.end) for p in placeholders if p.kind == FREETEXT]
    claims = find_claims(manuscript, citations=find_citations(manuscript),
                         placeholders=placeholders)
    for claim in claims:
        said = claim.sentence
        if claim.citations or claim.placeholders:
            continue
        if any(a < said.end and said.start < b for a, b in holes):
            continue  # listed with its placeholder
        ranked = tuple(suggester.rank(said.text, said.block.content, k=k))
        confident = tuple(suggester.is_confident(s, said.text) for s in ranked)
        if not (include_weak or any(confident)):
            continue
        line, column = manuscript.line_col(said.start)
        report.append(Candidates("claim", line, column, said.text, said.text, ranked, confident))
    return report


def _path(value: str | os.PathLike[str] | None) -> Path | None:
    return Path(os.fspath(value)) if value is not None else None


def _file_state(path: Path) -> tuple:
    try:
        stat = path.stat()
    except OSError:
        return (str(path), None)
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def _changed_only(findings: list[Finding], manuscript: Path, base: str,
                  parsed: Manuscript | None = None) -> list[Finding]:
    """The findings in sentences new or changed since ``base`` (in the manuscript), or on
    lines changed since it (bibliographies, and what lies outside any sentence)."""
    from .checks.engine import filter_lines
    from .document.gitdiff import changed_lines

    files = {Path(manuscript)} | {Path(f.file) for f in findings}
    changed = {f: changed_lines(f, base) for f in files if f.exists()}
    by_lines = filter_lines(findings, changed)
    if parsed is None or parsed.path is None:
        return by_lines
    spans = _changed_sentences(parsed, base, changed.get(Path(manuscript)))
    if spans is None:
        return by_lines
    sentence_spans, changed_sentence_spans = spans
    keep = {id(f) for f in by_lines}
    own = Path(manuscript).resolve()
    kept = []
    for finding in findings:
        if Path(finding.file).resolve() != own:
            if id(finding) in keep:
                kept.append(finding)
            continue
        inside = [s for s in sentence_spans if s[0] <= finding.start < s[1]]
        if not inside:
            if id(finding) in keep:
                kept.append(finding)
        elif any(s[0] <= finding.start < s[1] for s in changed_sentence_spans):
            kept.append(finding)
    return kept


def _changed_sentences(manuscript: Manuscript, base: str, lines: set[int] | None
                       ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]] | None:
    """(every sentence span, the spans of sentences new or changed since ``base``); None
    when the old revision cannot be read as a manuscript (lines decide then)."""
    from .claims.detect import sentences
    from .document.gitdiff import changed_spans, text_at

    assert manuscript.path is not None
    current = sentences(manuscript)
    spans = [(s.start, s.end) for s in current]
    if lines is None:  # a file new since base: every sentence is new
        return spans, spans
    old_text = text_at(manuscript.path, base)
    if old_text is None:
        return spans, spans
    try:
        old = parse_manuscript(old_text, manuscript.path)
    except CiteflowError:
        return None
    line_of = lambda offset: manuscript.line_col(offset)[0]  # noqa: E731
    changed = changed_spans(((s.start, s.end, s.text) for s in current),
                            (s.text for s in sentences(old)), lines, line_of)
    return spans, changed


__all__ = [
    "MARKDOWN_SUFFIXES",
    "Candidates",
    "CheckReport",
    "CiteResult",
    "FixResult",
    "Progress",
    "Project",
    "Source",
    "build",
    "candidate_report",
    "check",
    "cite",
    "fix",
    "is_path_like",
    "load_manuscript",
    "markdown_files",
    "parse_identifiers",
    "refresh",
    "render",
    "resolve",
    "suggest",
]
