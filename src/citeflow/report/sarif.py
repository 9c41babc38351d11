"""SARIF 2.1.0 for code-scanning tools, with the rule metadata of every rule.

Findings silenced by an in-manuscript ``ignore`` comment are kept as results with an
``inSource`` suppression carrying the comment's reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .. import __version__
from ..checks.base import RULES, Finding, Severity
from . import display_path, has_span

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def rule_descriptor(code: str) -> dict[str, Any]:
    """A rule's metadata: its explanation as plain text and as Markdown, without the
    docstring's markup."""
    from . import ruledoc

    rule = RULES[code]
    short = ruledoc.summary_text(rule.doc) or rule.name
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": ruledoc.description_text(rule.doc) or short},
        "help": {"text": ruledoc.full_text(rule.doc) or short,
                 "markdown": ruledoc.markdown(rule.doc) or short},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": ["citations"]},
    }


def result(finding: Finding, rule_index: int, base: str | Path | None) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": finding.line, "startColumn": finding.column}
    if has_span(finding):
        region["endLine"] = finding.end_line
        region["endColumn"] = finding.end_column
    if finding.sentence:
        region["snippet"] = {"text": finding.sentence}
    data: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": display_path(finding.file, base),
                                     "uriBaseId": "SRCROOT"},
                "region": region,
            }
        }],
    }
    if finding.suggestions:
        data["properties"] = {"suggestions": [{"key": s.key, "score": round(float(s.score), 4)}
                                              for s in finding.suggestions]}
    if finding.cue:
        data.setdefault("properties", {})["cue"] = finding.cue
    if finding.explanation:
        data.setdefault("properties", {})["explanation"] = finding.explanation
    if finding.notices:
        data.setdefault("properties", {})["notices"] = finding.notices
    if finding.suppressed:
        data["suppressions"] = [{"kind": "inSource", "justification": finding.suppressed}]
    if finding.fix is not None:
        data["fixes"] = [{
            "description": {"text": f"{finding.fix.message} ({finding.fix.applicability})"},
            "artifactChanges": [{
                "artifactLocation": {"uri": display_path(finding.file, base),
                                     "uriBaseId": "SRCROOT"},
                "replacements": [{
                    "deletedRegion": {"startLine": e.line, "startColumn": e.column,
                                      "endLine": e.end_line, "endColumn": e.end_column},
                    "insertedContent": {"text": e.new},
                } for e in finding.fix.edits],
            }],
        }]
    return data


def document(findings: Sequence[Finding], base: str | Path | None = None) -> dict[str, Any]:
    from ..checks.engine import load_rules

    codes = sorted(load_rules())
    index = {code: i for i, code in enumerate(codes)}
    root = Path(base) if base is not None else Path.cwd()
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "citeflow",
                "version": __version__,
                "rules": [rule_descriptor(code) for code in codes],
            }},
            "originalUriBaseIds": {"SRCROOT": {"uri": root.resolve().as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": [result(f, index.get(f.code, 0), base) for f in findings],
        }],
    }


def write(findings: Sequence[Finding], stream: TextIO, *, summary: dict[str, Any] | None = None,
          base: str | Path | None = None) -> None:
    json.dump(document(findings, base), stream, indent=2, ensure_ascii=False)
    stream.write("\n")
