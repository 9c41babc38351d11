"""GitHub Actions: one annotation per finding, and a job summary.

``::warning file=F,line=L,col=C,endLine=L2,endColumn=C2,title=CODE::message``. Data is
escaped (``%``, CR, LF) and so are property values (also ``:`` and ``,``), as the runner
requires. Suppressed findings are not annotated. GitHub shows only the first few
annotations of each kind per step, so errors come first, then warnings, then notices.

Paths are relative to the repository root (``GITHUB_WORKSPACE``, else git's top level),
whatever the working directory: GitHub attaches annotations by those paths.

:func:`write_job_summary` appends Markdown to ``$GITHUB_STEP_SUMMARY``: counts by rule and
a table of every finding linked to its file and line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from ..checks.base import RULES, Finding, Severity
from . import display_path, has_span

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}
#: Rows of the findings table at most (the job summary of a step is limited to 1 MiB).
SUMMARY_ROWS = 1000


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def repository_root(env: Mapping[str, str] | None = None, *,
                    github_only: bool = False) -> Path | None:
    """The folder report paths are relative to: ``GITHUB_WORKSPACE`` in Actions, else (unless
    ``github_only``) the git repository holding the working directory; None: the working
    directory."""
    env = os.environ if env is None else env
    workspace = env.get("GITHUB_WORKSPACE")
    if workspace and Path(workspace).is_dir():
        return Path(workspace)
    if github_only:
        return None
    from ..document.gitdiff import toplevel

    return toplevel(Path.cwd())


def most_severe_first(findings: Sequence[Finding]) -> list[Finding]:
    """Unsuppressed findings, errors first, then by file and position (a stable order)."""
    active = [f for f in findings if not f.suppressed]
    return sorted(active, key=lambda f: (-int(f.severity), str(f.file), f.line, f.column, f.code))


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
    for finding in most_severe_first(findings):
        stream.write(format_finding(finding, base) + "\n")


# --------------------------------------------------------------------------------------
# Job summary


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (no pipes, line breaks or HTML)."""
    text = " ".join(str(text).split())
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|"))


def _blob_url(env: Mapping[str, str]) -> str | None:
    """``SERVER/OWNER/REPO/blob/SHA`` for the commit under review, when run in Actions."""
    server = env.get("GITHUB_SERVER_URL", "https://github.com")
    repository = env.get("GITHUB_REPOSITORY")
    sha = env.get("GITHUB_SHA")
    event_path = env.get("GITHUB_EVENT_PATH")
    if event_path and env.get("GITHUB_EVENT_NAME", "").startswith("pull_request"):
        try:  # the pull request's head, not the merge commit Actions checks out
            event = json.loads(Path(event_path).read_text(encoding="utf-8"))
            sha = event["pull_request"]["head"]["sha"] or sha
        except (OSError, ValueError, KeyError, TypeError):
            pass
    if not repository or not sha:
        return None
    return f"{server.rstrip('/')}/{repository}/blob/{sha}"


def job_summary(findings: Sequence[Finding], *, summary: Mapping[str, Any] | None = None,
                base: str | Path | None = None, fail_on: Severity | None = None,
                env: Mapping[str, str] | None = None) -> str:
    """The Markdown of a job summary: totals, findings by rule, and every finding."""
    env = os.environ if env is None else env
    ordered = most_severe_first(findings)
    counts = {s: sum(1 for f in ordered if f.severity == s) for s in Severity}
    lines = ["## citeflow check", ""]
    verdict = ""
    if fail_on is not None:
        failing = sum(1 for f in ordered if f.severity >= fail_on)
        verdict = (f" — **failed**: {failing} at or above {fail_on}" if failing
                   else f" — passed (nothing at or above {fail_on})")
    lines.append(f"**{len(ordered)} finding{'s' if len(ordered) != 1 else ''}**: "
                 f"{counts[Severity.ERROR]} error, {counts[Severity.WARNING]} warning, "
                 f"{counts[Severity.INFO]} info{verdict}")
    suppressed = sum(1 for f in findings if f.suppressed)
    extra = []
    if suppressed:
        extra.append(f"{suppressed} suppressed in the manuscripts")
    if summary and summary.get("claims"):
        extra.append(f"{summary['claims_supported']} of {summary['claims']} claim sentences "
                     "cite something")
    if extra:
        lines += ["", "; ".join(extra).capitalize() + "."]
    if not ordered:
        return "\n".join(lines) + "\n"
    by_rule: dict[str, list[Finding]] = {}
    for finding in ordered:
        by_rule.setdefault(finding.code, []).append(finding)
    lines += ["", "| rule | name | severity | findings |", "| --- | --- | --- | ---: |"]
    for code in sorted(by_rule, key=lambda c: (-int(by_rule[c][0].severity), -len(by_rule[c]), c)):
        name = RULES[code].name if code in RULES else ""
        lines.append(f"| {code} | {_cell(name)} | {by_rule[code][0].severity} | "
                     f"{len(by_rule[code])} |")
    blob = _blob_url(env)
    lines += ["", "| | where | rule | message |", "| --- | --- | --- | --- |"]
    for finding in ordered[:SUMMARY_ROWS]:
        path = display_path(finding.file, base)
        where = f"{path}:{finding.line}"
        if blob and not Path(path).is_absolute():
            anchor = (f"#L{finding.line}" if not has_span(finding) or finding.end_line == finding.line
                      else f"#L{finding.line}-L{finding.end_line}")
            where = f"[{_cell(where)}]({blob}/{path}{anchor})"
        else:
            where = _cell(where)
        message = finding.message
        if finding.sentence:
            sentence = " ".join(finding.sentence.split())
            message += f" — “{sentence[:160]}{'…' if len(sentence) > 160 else ''}”"
        lines.append(f"| {_ICON[finding.severity]} | {where} | {finding.code} | {_cell(message)} |")
    if len(ordered) > SUMMARY_ROWS:
        lines += ["", f"… and {len(ordered) - SUMMARY_ROWS} more: see the annotations or the "
                      "SARIF report."]
    return "\n".join(lines) + "\n"


def write_job_summary(findings: Sequence[Finding], path: Path, **options: Any) -> None:
    """Append the job summary to ``path`` (``$GITHUB_STEP_SUMMARY``), as the runner expects."""
    from ..errors import CiteflowError

    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(job_summary(findings, **options))
    except OSError as exc:
        raise CiteflowError(f"cannot write the job summary: {exc.strerror or exc}", path) from exc
