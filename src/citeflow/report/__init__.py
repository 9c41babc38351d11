"""Report writers for check findings: text, json, sarif, github, junit.

Each module has ``write(findings, stream, *, summary=None, base=None)``; ``base`` is the
folder paths are shown relative to (the current directory by default).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

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


def reference_label(reference: Any, key: str, *, title_width: int = 70) -> str:
    """How a candidate reference is named to a writer: ``Author Year, Title (key)``.

    ``reference`` is a bibliography entry (or None when the key is not in one): the first
    author's family name (``et al.`` when there are more), the year and the title cut to
    ``title_width`` characters.
    """
    if reference is None:
        return key
    author = getattr(reference, "first_author_family", "") or ""
    if author and len(getattr(reference, "authors", ())) > 1:
        author += " et al."
    year = getattr(reference, "year", None)
    who = " ".join(part for part in (author, str(year) if year else "") if part)
    title = " ".join((getattr(reference, "title", "") or "").split())
    if len(title) > title_width:
        title = title[: title_width - 1].rstrip() + "…"
    label = ", ".join(part for part in (who, title) if part)
    return f"{label} ({key})" if label else key


def has_span(finding: Finding) -> bool:
    """False for findings that point at a whole line (bibliography entries)."""
    return (finding.end_line, finding.end_column) != (finding.line, finding.column)


def write_report(fmt: str, findings: Sequence[Finding], stream: TextIO, *,
                 summary: dict[str, Any] | None = None, base: str | Path | None = None,
                 **options: Any) -> None:
    """Write ``findings`` in format ``fmt`` (one of :data:`FORMATS`) to ``stream``.

    ``options`` go to the writers that take them (text: ``output_format``, ``color``,
    ``references``, ``width``) and are ignored by the others.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r} (use {', '.join(FORMATS)})")
    import inspect
    from importlib import import_module

    module = import_module(f"{__name__}.{fmt}")
    accepted = inspect.signature(module.write).parameters
    module.write(findings, stream, summary=summary, base=base,
                 **{k: v for k, v in options.items() if k in accepted})
