"""GitHub Actions workflow commands: one annotation per finding.

``::warning file=F,line=L,col=C,endLine=L2,endColumn=C2,title=CODE::message``. Data is
escaped (``%``, CR, LF) and so are property values (also ``:`` and ``,``), as the runner
requires. Suppressed findings are not annotated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence, TextIO

from ..checks.base import Finding, Severity
from . import display_path, has_span

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_finding(finding: Finding, base: str | Path | None = None) -> str:
    props = [
        ("file", display_path(finding.file, base)),
        ("line", str(finding.line)),
        ("col", str(finding.column)),
    ]
    if has_span(finding):
        props += [("endLine", str(finding.end_line)), ("endColumn", str(finding.end_column))]
    props.append(("title", finding.code))
    prop_text = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    message = finding.message
    if finding.sentence:
        message += "\n" + " ".join(finding.sentence.split())
    return f"::{_COMMAND[finding.severity]} {prop_text}::{escape_data(message)}"


def write(findings: Sequence[Finding], stream: TextIO, *, summary: dict[str, Any] | None = None,
          base: str | Path | None = None) -> None:
    for finding in findings:
        if not finding.suppressed:
            stream.write(format_finding(finding, base) + "\n")
