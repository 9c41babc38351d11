"""JUnit XML: one test case per finding.

Errors and warnings are failures; info findings are notices, not failures: their test case
passes and carries the message in ``system-out``. Suppressed findings are skipped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ..checks.base import Finding, Severity
from . import display_path


def _body(finding: Finding, path: str) -> str:
    body = f"{path}:{finding.line}:{finding.column}: {finding.code} {finding.severity} " \
           f"{finding.message}"
    if finding.sentence:
        body += "\n" + " ".join(finding.sentence.split())
    return body


def write(findings: Sequence[Finding], stream: TextIO, *, summary: dict[str, Any] | None = None,
          base: str | Path | None = None) -> None:
    suites = ET.Element("testsuites", name="citeflow check")
    failures = sum(1 for f in findings if not f.suppressed and f.severity > Severity.INFO)
    skipped = sum(1 for f in findings if f.suppressed)
    suite = ET.SubElement(suites, "testsuite", name="citeflow check",
                          tests=str(max(len(findings), 1)), failures=str(failures),
                          errors="0", skipped=str(skipped))
    for finding in findings:
        path = display_path(finding.file, base)
        case = ET.SubElement(suite, "testcase", classname=path,
                             name=f"{finding.code} {path}:{finding.line}:{finding.column}",
                             file=path, line=str(finding.line))
        if finding.suppressed:
            ET.SubElement(case, "skipped", message=finding.suppressed)
            continue
        if finding.severity <= Severity.INFO:
            ET.SubElement(case, "system-out").text = _body(finding, path)
            continue
        failure = ET.SubElement(case, "failure", type=finding.code,
                                message=f"{finding.severity}: {finding.message}")
        failure.text = _body(finding, path)
    if not findings:
        ET.SubElement(suite, "testcase", classname="citeflow", name="no findings")
    suites.set("tests", suite.get("tests") or "0")
    suites.set("failures", suite.get("failures") or "0")
    ET.indent(suites)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(suites, encoding="unicode"))
    stream.write("\n")
