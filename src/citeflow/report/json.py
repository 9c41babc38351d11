"""JSON: ``{"version": 1, "findings": [...], "summary": {...}}``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ..checks.base import Finding
from . import display_path

VERSION = 1


def finding_dict(finding: Finding, base: str | Path | None = None) -> dict[str, Any]:
    data = {
        "file": display_path(finding.file, base),
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "code": finding.code,
        "severity": str(finding.severity),
        "message": finding.message,
        "sentence": finding.sentence,
        "cue": finding.cue,
        "explanation": finding.explanation,
        "suggestions": [{"key": s.key, "score": round(float(s.score), 4),
                         **({"label": s.label} if s.label else {})}
                        for s in finding.suggestions],
        "start": finding.start,
        "end": finding.end,
    }
    if finding.suppressed:
        data["suppressed"] = {"reason": finding.suppressed}
    if finding.notices:
        data["notices"] = finding.notices
    if finding.fix is not None:
        data["fix"] = {
            "message": finding.fix.message,
            "applicability": str(finding.fix.applicability),
            "edits": [{"start": e.start, "end": e.end, "line": e.line, "column": e.column,
                       "end_line": e.end_line, "end_column": e.end_column, "new": e.new}
                      for e in finding.fix.edits],
        }
    return data


def write(findings: Sequence[Finding], stream: TextIO, *, summary: dict[str, Any] | None = None,
          base: str | Path | None = None) -> None:
    if summary is None:
        from ..checks.engine import summarize

        summary = summarize(findings)
    document = {
        "version": VERSION,
        "findings": [finding_dict(f, base) for f in findings],
        "summary": summary,
    }
    json.dump(document, stream, indent=2, ensure_ascii=False)
    stream.write("\n")
