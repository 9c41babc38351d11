"""Lines changed since a git revision, for ``citeflow check --diff BASE``.

``changed_lines(path, base)`` runs ``git diff --unified=0 BASE -- FILE`` (the working tree
against ``BASE``, so uncommitted edits count) and returns the numbers of added or modified
lines in the current file. A file git does not track yet counts as changed everywhere
(``None``). Errors (not a repository, unknown revision, no git) raise
:class:`~citeflow.errors.CiteflowError`.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

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
