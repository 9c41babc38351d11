"""``citeflow build``: check and render every manuscript, in parallel, skipping what is current.

For each manuscript (the ``manuscripts`` folder of the project, or the files named) a build
checks it, renders ``STEM.html`` and ``STEM.pdf``, and, when the check found something,
the editorial review ``STEM.review.html``/``STEM.review.pdf``. Manuscripts are built in
worker processes (``jobs`` of them).

A manuscript is *up to date*, and skipped, when a hash of all its inputs equals the one
recorded by the last successful build, the options of the build are the same, and its
outputs are still there exactly as that build wrote them. The inputs are the manuscript's
bytes, the bibliographies and the CSL style it renders with, the project config file and
citeflow's version; the options are the style asked for and trusted mode. An output
rewritten since (``citeflow render --csl vancouver`` into the same folder) or deleted makes
the manuscript build again. The record lives in ``OUTDIR/.citeflow-build.json`` together
with each manuscript's outputs (size, time and SHA-256) and finding counts, so that an
up-to-date manuscript still counts towards the exit code the way ``citeflow check
--fail-on`` would.

The outputs recorded for a manuscript that no longer exists are removed from ``OUTDIR``
(only files inside it), and its record is dropped.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from citeflow import __version__
from citeflow.checks.base import Severity
from citeflow.config import Config, load_config
from citeflow.errors import CiteflowError
from citeflow.files import atomic_write_text

STAMP_NAME = ".citeflow-build.json"
STAMP_VERSION = 2
MANUSCRIPT_SUFFIXES = (".md", ".qmd", ".markdown")  # as `citeflow check`


# --------------------------------------------------------------------------------------
# Plan: which manuscripts, with which inputs


def citeflow_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("CITEFLOW_")}


def _apply_environment(env: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith("CITEFLOW_") and k not in env]:
        del os.environ[key]
    os.environ.update(env)


@dataclass(frozen=True)
class BuildTask:
    """One manuscript to build and everything a worker process needs for it."""

    manuscript: Path
    outdir: Path
    config: Config
    inputs_hash: str
    csl: str | None = None
    #: The CITEFLOW_* environment of the build; workers may have started before it was set.
    env: dict[str, str] = field(default_factory=lambda: citeflow_environment())
    trusted: bool | None = None  # keep raw HTML/Typst; None: [render] trusted

    @property
    def key(self) -> str:
        """How the manuscript is named in the stamp file: its absolute path."""
        return str(self.manuscript.resolve())


class BuildStatus(str, Enum):
    """What a build did with one manuscript."""

    BUILT = "built"
    UP_TO_DATE = "up-to-date"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


@dataclass
class BuildOutcome:
    """What happened to one manuscript."""

    manuscript: Path
    status: BuildStatus
    outputs: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # error/warning/info (unsuppressed)
    error: str = ""
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # what the outputs leave out, and why

    def fails(self, fail_on: Severity) -> bool:
        """True when the manuscript has findings at or above ``fail_on``."""
        return any(self.counts.get(str(s), 0) for s in Severity if s >= fail_on)

    @property
    def total(self) -> int:
        return sum(self.counts.get(str(s), 0) for s in Severity)


@dataclass
class BuildReport:
    """All outcomes of one build and the exit code that follows from them.

    ``removed`` lists the outputs of manuscripts that no longer exist, deleted by this
    build."""

    outcomes: list[BuildOutcome]
    fail_on: Severity
    seconds: float = 0.0
    removed: list[Path] = field(default_factory=list)

    def by_status(self, status: BuildStatus | str) -> list[BuildOutcome]:
        return [o for o in self.outcomes if o.status == BuildStatus(status)]

    @property
    def exit_code(self) -> int:
        """2 when a manuscript could not be built, else 1 when findings reach ``fail_on``."""
        if self.by_status(BuildStatus.FAILED):
            return 2
        return 1 if any(o.fails(self.fail_on) for o in self.outcomes) else 0


def find_manuscripts(names: Sequence[str | Path], config: Config) -> list[Path]:
    """The manuscripts named (files, or folders whose Markdown files are taken), or those in
    the project's ``manuscripts`` folder. Order is kept; a stem may appear only once, since
    outputs are named after it."""
    sources = [Path(n) for n in names] or [config.manuscripts_dir]
    found: list[Path] = []
    for source in sources:
        if source.is_dir():
            found += sorted(p for p in source.iterdir()
                            if p.suffix.lower() in MANUSCRIPT_SUFFIXES and p.is_file())
        elif source.is_file():
            found.append(source)
        elif names:
            raise CiteflowError("manuscript not found", source)
        else:
            raise CiteflowError("manuscripts folder not found (set `manuscripts` in citeflow.toml "
                                "or name the manuscripts)", source)
    # One entry per file; a symbolic link keeps its own name (its target is checked later).
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path.absolute())
    stems: dict[str, Path] = {}
    for path in unique.values():
        if path.stem in stems:
            raise CiteflowError(f"two manuscripts would write the same outputs: "
                                f"{stems[path.stem]} and {path.name}", path)
        stems[path.stem] = path
    return [Path(os.path.relpath(p)) if _inside_cwd(p) else p for p in unique.values()]


def _inside_cwd(path: Path) -> bool:
    try:
        path.relative_to(Path.cwd().resolve())
        return True
    except ValueError:
        return False


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def inputs_hash(manuscript: Path, config: Config, csl: str | None = None,
                trusted: bool | None = None) -> str:
    """A hash of everything the build of ``manuscript`` depends on (see module docstring).

    Raises :class:`CiteflowError` for input that cannot be read (bad front matter, a
    bibliography or style that does not exist or lies outside the project), naming file
    and line.
    """
    from citeflow.output.render import prepare

    job = prepare(manuscript, csl=csl, config=config, allow_missing=True, trusted=trusted)
    parts = [f"citeflow {__version__}", f"stamp {STAMP_VERSION}", f"trusted {job.trusted}",
             f"manuscript {hashlib.sha256(job.manuscript.text.encode('utf-8')).hexdigest()}",
             f"style {job.style} {_file_digest(job.style)}"]
    parts += [f"bibliography {b.resolve()} {_file_digest(b)}" for b in job.bibliography]
    if config.path is not None:
        parts.append(f"config {config.path.resolve()} {_file_digest(config.path)}")
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------
# The stamp file


def read_stamp(outdir: Path) -> dict:
    """The manuscripts recorded by the last build in ``outdir`` (empty when unreadable)."""
    try:
        data = json.loads((outdir / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != STAMP_VERSION:
        return {}
    manuscripts = data.get("manuscripts")
    return manuscripts if isinstance(manuscripts, dict) else {}


def write_stamp(outdir: Path, manuscripts: dict) -> None:
    data = {"version": STAMP_VERSION, "citeflow": __version__, "manuscripts": manuscripts}
    atomic_write_text(outdir / STAMP_NAME, json.dumps(data, indent=2, sort_keys=True) + "\n")


def task_options(task: BuildTask) -> dict:
    """The options a build ran with, as recorded next to its outputs."""
    return {"csl": task.csl, "trusted": task.trusted, "formats": ["html", "pdf"]}


def output_record(path: Path) -> dict:
    """What the stamp keeps of one output: size, modification time and SHA-256."""
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": _file_digest(path)}


def output_unchanged(path: Path, record: object) -> bool:
    """True when ``path`` still holds what the build wrote (same size and time, or the same
    bytes)."""
    if not isinstance(record, dict):
        return False
    try:
        stat = path.stat()
    except OSError:
        return False
    if not path.is_file() or stat.st_size != record.get("size"):
        return False
    if stat.st_mtime_ns == record.get("mtime_ns"):
        return True
    return _file_digest(path) == record.get("sha256")


def _up_to_date(task: BuildTask, stamp: dict) -> BuildOutcome | None:
    entry = stamp.get(task.key)
    if not isinstance(entry, dict) or entry.get("inputs") != task.inputs_hash:
        return None
    if entry.get("options") != task_options(task):
        return None
    recorded = entry.get("outputs")
    if not isinstance(recorded, dict) or not recorded:
        return None
    outputs = [Path(p) for p in recorded]
    if not all(output_unchanged(p, recorded[str(p)]) for p in outputs):
        return None
    counts = {k: int(v) for k, v in entry.get("counts", {}).items()}
    return BuildOutcome(task.manuscript, BuildStatus.UP_TO_DATE, outputs, counts)


def remove_stale(stamp: dict, outdir: Path) -> tuple[dict, list[Path]]:
    """The stamp without the manuscripts that no longer exist, and their outputs deleted
    (only files inside ``outdir``)."""
    kept: dict = {}
    removed: list[Path] = []
    root = outdir.resolve()
    for key, entry in stamp.items():
        if Path(key).exists():
            kept[key] = entry
            continue
        outputs = entry.get("outputs", {}) if isinstance(entry, dict) else {}
        for name in outputs:
            path = Path(name)
            try:
                inside = path.resolve().parent == root or root in path.resolve().parents
            except OSError:
                inside = False
            if inside and path.is_file() and not path.is_symlink():
                path.unlink()
                removed.append(path)
    return kept, removed


# --------------------------------------------------------------------------------------
# Building one manuscript (runs in a worker process)


def build_one(task: BuildTask) -> BuildOutcome:
    """Check, render HTML and PDF, and the review where there are findings.

    Unknown citation keys do not stop the render: the check reports them. Outputs of a
    failed build are never half-written (each file is replaced atomically); a review left
    from an earlier build is removed once the manuscript has no findings.
    """
    from citeflow.checks.engine import check_manuscript
    from citeflow.output.render import citeproc_ast, prepare, write_outputs
    from citeflow.output.review import render_review

    started = time.perf_counter()
    _apply_environment(task.env)
    warnings: list[str] = []
    try:
        result = check_manuscript(task.manuscript, config=task.config)
        active = result.active()
        counts = {str(s): sum(1 for f in active if f.severity == s) for s in Severity}
        job = prepare(task.manuscript, csl=task.csl, config=task.config, allow_missing=True,
                      trusted=task.trusted, manuscript=result.manuscript)
        ast = citeproc_ast(job.manuscript.text, job)
        # One writer at a time: the parallelism of a build is across manuscripts.
        outputs = write_outputs(ast, ["html", "pdf"], task.outdir, job.stem, job=job,
                                parallel=False)
        warnings += map(str, job.warnings)
        review = [task.outdir / f"{job.stem}.review.{ext}" for ext in ("pdf", "html")]
        if active:
            outputs += render_review(task.manuscript, outdir=task.outdir, csl=task.csl,
                                     config=task.config, result=result, trusted=task.trusted,
                                     warn=lambda w: warnings.append(str(w)))
        else:
            for stale in review:
                stale.unlink(missing_ok=True)
    except CiteflowError as exc:
        if exc.file is None:
            exc.file = task.manuscript
        return BuildOutcome(task.manuscript, BuildStatus.FAILED, error=str(exc),
                            seconds=time.perf_counter() - started)
    return BuildOutcome(task.manuscript, BuildStatus.BUILT, outputs, counts,
                        seconds=time.perf_counter() - started,
                        warnings=list(dict.fromkeys(warnings)))


# --------------------------------------------------------------------------------------
# Building many


def default_fail_on(config: Config) -> Severity:
    value = config.section("check").get("fail_on", "error")
    try:
        return Severity.parse(str(value))
    except ValueError as exc:
        raise CiteflowError(f"[check] fail_on: {exc}", config.path) from None


def plan(names: Sequence[str | Path], outdir: Path | None, config: Config,
         csl: str | None = None,
         trusted: bool | None = None) -> tuple[list[BuildTask], list[BuildOutcome], Path]:
    """Tasks for the manuscripts, or failed outcomes for those whose inputs cannot be read."""
    if outdir is None:
        from citeflow.output.render import default_outdir

        outdir = default_outdir(config)
    outdir = Path(outdir)
    tasks, failed = [], []
    for manuscript in find_manuscripts(names, config):
        own = load_config(manuscript) if names else config
        try:
            digest = inputs_hash(manuscript, own, csl, trusted)
        except CiteflowError as exc:
            failed.append(BuildOutcome(manuscript, BuildStatus.FAILED, error=str(exc)))
            continue
        tasks.append(BuildTask(manuscript, outdir, own, digest, csl, trusted=trusted))
    return tasks, failed, outdir


def build(
    names: Sequence[str | Path] = (),
    outdir: str | Path | None = None,
    jobs: int | None = None,
    fail_on: Severity | None = None,
    force: bool = False,
    csl: str | None = None,
    config: Config | None = None,
    on_done: Callable[[BuildOutcome], None] | None = None,
    trusted: bool | None = None,
) -> BuildReport:
    """Build the named manuscripts (default: the project's ``manuscripts`` folder).

    ``jobs`` worker processes (default: the CPU count) build the manuscripts that are not
    up to date; ``force`` rebuilds all. ``trusted`` keeps raw HTML and Typst (default:
    ``[render] trusted`` of each manuscript's config). ``on_done`` is called with each outcome as it
    arrives (up-to-date ones first). The stamp file is rewritten at the end with the
    manuscripts built successfully; a failed one is dropped from it so it builds next time.
    """
    started = time.perf_counter()
    config = config or load_config()
    fail_on = fail_on if fail_on is not None else default_fail_on(config)
    tasks, outcomes, out = plan(names, Path(outdir) if outdir else None, config, csl, trusted)
    for outcome in outcomes:
        if on_done:
            on_done(outcome)
    recorded = read_stamp(out)
    stamp, removed = remove_stale(recorded, out)
    pending: list[BuildTask] = []
    for task in tasks:
        current = None if force else _up_to_date(task, stamp)
        if current is None:
            pending.append(task)
            continue
        outcomes.append(current)
        if on_done:
            on_done(current)

    workers = max(1, min(jobs or os.cpu_count() or 1, len(pending) or 1))
    built = _run(pending, workers, on_done)
    outcomes += built

    by_key = {task.key: task for task in tasks}
    updated = dict(stamp)
    for outcome in outcomes:
        key = str(outcome.manuscript.resolve())
        if outcome.status is BuildStatus.BUILT:
            updated[key] = {"inputs": by_key[key].inputs_hash,
                            "options": task_options(by_key[key]),
                            "outputs": {str(p.resolve()): output_record(p)
                                        for p in outcome.outputs if p.is_file()},
                            "counts": outcome.counts}
        elif outcome.status is BuildStatus.FAILED:
            updated.pop(key, None)
    if updated != recorded:
        write_stamp(out, updated)
    order = {str(p.manuscript): i for i, p in enumerate(tasks)}
    outcomes.sort(key=lambda o: order.get(str(o.manuscript), -1))
    return BuildReport(outcomes, fail_on, time.perf_counter() - started, removed)


#: What a build worker imports; the fork server loads it once for all workers.
_WORKER_MODULES = ["citeflow.output.build", "citeflow.checks.engine", "citeflow.output.render",
                   "citeflow.output.review"]


def _one_process_each() -> None:
    """In a build worker: the jobs already share the processors out, so a check or a
    bibliography's analysis does not start a second process of its own."""
    os.environ["CITEFLOW_ANALYSIS_PROCESSES"] = "1"


def _run(tasks: list[BuildTask], workers: int,
         on_done: Callable[[BuildOutcome], None] | None) -> list[BuildOutcome]:
    if not tasks:
        return []
    results: list[BuildOutcome] = []
    if workers == 1:
        for task in tasks:
            results.append(build_one(task))
            if on_done:
                on_done(results[-1])
        return results
    # Workers are forked from a fresh server process that has imported citeflow once, never
    # from this one: forking a process that has rendered before is unsafe, since the Typst
    # compiler keeps threads (and their locks) alive.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_WORKER_MODULES)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_one_process_each) as pool:
        futures = [pool.submit(build_one, task) for task in tasks]
        for future in as_completed(futures):
            results.append(future.result())
            if on_done:
                on_done(results[-1])
    return results
