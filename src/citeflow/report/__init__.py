"""Report writers for check findings: text, json, sarif, github, junit.

Each module has ``write(findings, stream, *, summary=None, base=None)``; ``base`` is the
folder paths are shown relative to (the current directory by default).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence, TextIO

from ..checks.base import Finding

FORMATS = ("text", "json", "sarif", "github", "junit")


def display_path(path: str | Path, base: str | Path | None = None) -> str:
    """``path`` relative to ``base`` (cwd) when it lies below it, else absolute; '/' separated."""
    path = Path(path)
    base = Path(base) if base is not None else Path.cwd()
    try:
        rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(base))
        return rel.as_posix()
    except ValueError:
        return Path(os.path.abspath(path)).as_posix()


def has_span(finding: Finding) -> bool:
    """False for findings that point at a whole line (bibliography entries)."""
    return (finding.end_line, finding.end_column) != (finding.line, finding.column)


def write_report(fmt: str, findings: Sequence[Finding], stream: TextIO, *,
                 summary: dict[str, Any] | None = None, base: str | Path | None = None,
                 explain: bool = False) -> None:
    """Write ``findings`` in format ``fmt`` (one of :data:`FORMATS`) to ``stream``.

    ``explain`` adds each finding's explanation to the text report (the other formats
    always carry it as data)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r} (use {', '.join(FORMATS)})")
    from importlib import import_module

    module = import_module(f"{__name__}.{fmt}")
    extra = {"explain": True} if explain and fmt == "text" else {}
    module.write(findings, stream, summary=summary, base=base, **extra)
