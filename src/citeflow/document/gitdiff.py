"""Lines and sentences changed since a git revision, for ``citeflow check --diff BASE``.

``changed_lines(path, base)`` runs ``git diff --unified=0 BASE -- FILE`` (the working tree
against ``BASE``, so uncommitted edits count) and returns the numbers of added or modified
lines in the current file. A file git does not track yet counts as changed everywhere
(``None``). Errors (not a repository, unknown revision, no git) raise
:class:`~citeflow.errors.CiteflowError`.

A manuscript paragraph is often one line, so lines are too coarse: ``text_at`` gives the file
as it was at ``BASE`` and ``changed_spans`` keeps the sentences whose words changed. In a
GitHub Actions run, ``event_base`` reads the revision to compare with from the event
(``--diff auto``).
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from citeflow.errors import CiteflowError

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@", re.M)


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              check=False)
    except FileNotFoundError as exc:
        raise CiteflowError("--diff needs git, which was not found on PATH") from exc


def parse_hunks(diff_text: str) -> set[int]:
    """New-file line numbers touched by the hunks of a ``--unified=0`` diff."""
    lines: set[int] = set()
    for match in _HUNK.finditer(diff_text):
        start = int(match.group("start"))
        count = int(match.group("count")) if match.group("count") is not None else 1
        lines.update(range(start, start + count))
    return lines


def repository_root(path: Path) -> Path:
    folder = path if path.is_dir() else path.parent
    done = _git(["rev-parse", "--show-toplevel"], folder)
    if done.returncode != 0:
        raise CiteflowError("--diff: not inside a git repository", path)
    return Path(done.stdout.strip())


def check_revision(base: str, root: Path) -> None:
    done = _git(["rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], root)
    if done.returncode != 0:
        raise CiteflowError(f"--diff: unknown git revision {base!r}", root)


def changed_lines(path: str | Path, base: str) -> set[int] | None:
    """Lines of ``path`` added or changed since ``base``; None when git does not track it."""
    path = Path(path).resolve()
    root = repository_root(path)
    check_revision(base, root)
    rel = path.relative_to(root.resolve()).as_posix()
    tracked = _git(["ls-files", "--error-unmatch", "--", rel], root)
    if tracked.returncode != 0:
        in_base = _git(["cat-file", "-e", f"{base}:{rel}"], root)
        if in_base.returncode != 0:
            return None  # new file: every line is new
    done = _git(["diff", "--no-color", "--no-ext-diff", "--unified=0", base, "--", rel], root)
    if done.returncode != 0:
        raise CiteflowError(f"--diff: git diff failed: {done.stderr.strip()}", path)
    return parse_hunks(done.stdout)


def text_at(path: str | Path, base: str) -> str | None:
    """The text of ``path`` at revision ``base``; None when the file did not exist there."""
    path = Path(path).resolve()
    root = repository_root(path)
    check_revision(base, root)
    rel = path.relative_to(root.resolve()).as_posix()
    try:
        done = subprocess.run(["git", "show", f"{base}:{rel}"], cwd=root, capture_output=True,
                              check=False)
    except FileNotFoundError as exc:
        raise CiteflowError("--diff needs git, which was not found on PATH") from exc
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")


def normalized(text: str) -> str:
    """A sentence as compared across revisions: white space collapsed."""
    return " ".join(text.split())


def changed_spans(spans: Iterable[tuple[int, int, str]], old_sentences: Iterable[str],
                  lines_changed: set[int] | None, line_of: Callable[[int], int]
                  ) -> list[tuple[int, int]]:
    """The spans (start, end, text) of the current file whose sentence is new or changed.

    A sentence is unchanged when the same words (white space aside) stand in the old
    revision: rewrapping a paragraph or editing its neighbour leaves it alone. Only
    sentences on lines git reports as changed are compared (``None``: every line).
    """
    old = Counter(normalized(s) for s in old_sentences)
    changed = []
    for start, end, text in spans:
        if lines_changed is not None and not any(
                n in lines_changed for n in range(line_of(start), line_of(max(start, end - 1)) + 1)):
            continue
        key = normalized(text)
        if old[key] > 0:
            old[key] -= 1
            continue
        changed.append((start, end))
    return changed


#: Events whose payload names the revision a run should compare with.
_ZERO_SHA = "0" * 40


def event_base(env: Mapping[str, str] | None = None) -> str | None:
    """The revision a GitHub Actions run compares with, from its event payload.

    A pull request (or ``pull_request_target``) compares with its base commit, a merge
    queue entry with its ``base_sha``, a push with the commit before the push. None when
    the event has no such revision (a new branch, a scheduled or manual run): then every
    line counts. Outside Actions (no ``GITHUB_EVENT_PATH``) this is an error.
    """
    import json
    import os

    env = os.environ if env is None else env
    event_path = env.get("GITHUB_EVENT_PATH")
    if not event_path:
        raise CiteflowError("--diff auto takes the base from the GitHub Actions event "
                            "(GITHUB_EVENT_PATH is not set): name a git revision instead")
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CiteflowError(f"cannot read the GitHub event payload: {exc}", event_path) from None
    name = env.get("GITHUB_EVENT_NAME", "")
    sha: Any = None
    if name in ("pull_request", "pull_request_target"):
        sha = (event.get("pull_request") or {}).get("base", {}).get("sha")
    elif name == "merge_group":
        sha = (event.get("merge_group") or {}).get("base_sha")
    elif name == "push":
        sha = event.get("before")
    if not isinstance(sha, str) or not sha or sha == _ZERO_SHA:
        return None
    return sha


def has_revision(base: str, folder: Path) -> bool:
    """True when ``base`` names a commit of the repository holding ``folder``."""
    done = _git(["rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], folder)
    return done.returncode == 0


def toplevel(folder: Path) -> Path | None:
    """The top folder of the git repository holding ``folder``; None outside one or without git."""
    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=folder,
                              capture_output=True, text=True, check=False)
    except (FileNotFoundError, NotADirectoryError):
        return None
    found = done.stdout.strip()
    return Path(found) if done.returncode == 0 and found else None
