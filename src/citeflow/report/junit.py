"""JUnit XML: one test case per finding (a failure; suppressed ones are skipped)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Sequence, TextIO

from ..checks.base import Finding
from . import display_path


def write(findings: Sequence[Finding], stream: TextIO, *, summary: dict[str, Any] | None = None,
          base: str | Path | None = None) -> None:
    suites = ET.Element("testsuites", name="citeflow check")
    failures = sum(1 for f in findings if not f.suppressed)
    skipped = len(findings) - failures
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
        failure = ET.SubElement(case, "failure", type=finding.code,
                                message=f"{finding.severity}: {finding.message}")
        body = f"{path}:{finding.line}:{finding.column}: {finding.code} {finding.severity} " \
               f"{finding.message}"
        if finding.sentence:
            body += "\n" + " ".join(finding.sentence.split())
        failure.text = body
    if not findings:
        ET.SubElement(suite, "testcase", classname="citeflow", name="no findings")
    suites.set("tests", suite.get("tests"))
    suites.set("failures", suite.get("failures"))
    ET.indent(suites)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(suites, encoding="unicode"))
    stream.write("\n")
