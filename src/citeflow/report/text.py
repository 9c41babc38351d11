"""Plain text: ``path:line:col: CODE severity message`` and the sentence below it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence, TextIO

from ..checks.base import Finding
from . import display_path


def format_finding(finding: Finding, base: str | Path | None = None,
                   explain: bool = False) -> str:
    path = display_path(finding.file, base)
    head = (f"{path}:{finding.line}:{finding.column}: {finding.code} "
            f"{finding.severity} {finding.message}")
    if finding.sentence:
        sentence = " ".join(finding.sentence.split())
        head += f"\n    > {sentence}"
    if explain and finding.explanation:
        head += f"\n    why: {finding.explanation}"
    return head


def write(findings: Sequence[Finding], stream: TextIO, *, summary: dict[str, Any] | None = None,
          base: str | Path | None = None, explain: bool = False) -> None:
    active = [f for f in findings if not f.suppressed]
    for finding in active:
        stream.write(format_finding(finding, base, explain) + "\n")
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in active:
        counts[str(finding.severity)] += 1
    total = len(active)
    line = (f"{total} finding{'s' if total != 1 else ''} "
            f"({counts['error']} error{'s' if counts['error'] != 1 else ''}, "
            f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''}, "
            f"{counts['info']} info)")
    suppressed = len(findings) - total
    if suppressed:
        line += f", {suppressed} suppressed"
    if summary and summary.get("claims"):
        line += (f"; {summary['claims_supported']} of {summary['claims']} claim sentences "
                 "cite something")
    stream.write(line + "\n")
    safe = sum(1 for f in active if f.fix is not None and f.fix.safe)
    unsafe = sum(1 for f in active if f.fix is not None and not f.fix.safe)
    if safe:
        stream.write(f"{safe} fixable with `citeflow check --fix`\n")
    if unsafe:
        stream.write(f"{unsafe} more with `citeflow check --fix --unsafe-fixes` (read them first)\n")
