"""Text for people, as ruff prints it.

``full`` (the default): ``path:line:col: CODE severity message``, then the source line with
a caret under the flagged words, the candidate references and the fix a finding carries::

    manuscripts/draft.md:9:15: CF303 warning statistic "30%" without a citation
       |
     9 | - First item. Dupilumab reduces itch by 30%.
       |               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ CF303
       |
       = help: candidate: Simpson et al. 2016, Two Phase 3 Trials of … (simpson2016two)

``concise``: the first line only. Both end with the counts. A manuscript paragraph is often
one long line: the excerpt shows a window of ``width`` characters around the flagged words,
cut with "…". Colour (``color=True``) comes from rich styles, never from hand-written
escape codes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from rich.color import ColorSystem
from rich.style import Style

from ..checks.base import RULES, Finding, Severity
from . import display_path, has_span, reference_label

OUTPUT_FORMATS = ("full", "concise")

#: Characters of context shown left of the flagged words in a long line.
_CONTEXT = 24
#: Lines of a multi-line span shown before "…".
_MAX_LINES = 3

_QUOTED = re.compile(r'"([^"]+)"')

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow",
                   Severity.INFO: "bold blue"}


class _Painter:
    """Applies rich styles as terminal codes when colour is on; the identity otherwise."""

    def __init__(self, color: bool) -> None:
        self.color = color
        self._styles: dict[str, Style] = {}

    def __call__(self, text: str, style: str) -> str:
        if not self.color or not text:
            return text
        parsed = self._styles.get(style)
        if parsed is None:
            parsed = self._styles[style] = Style.parse(style)
        return parsed.render(text, color_system=ColorSystem.STANDARD)


class _Sources:
    """File texts split into lines, read once each (findings point into them)."""

    def __init__(self) -> None:
        self._lines: dict[Path, list[str] | None] = {}

    def lines(self, path: Path) -> list[str] | None:
        if path not in self._lines:
            try:
                text = Path(path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._lines[path] = None
            else:
                # Lines as the findings count them: split at "\n" only.
                self._lines[path] = [line.rstrip("\r") for line in text.split("\n")]
        return self._lines[path]


def header(finding: Finding, base: str | Path | None = None, paint: _Painter | None = None) -> str:
    """``path:line:col: CODE [*] severity message`` (``[*]``: a safe fix is available)."""
    paint = paint or _Painter(False)
    where = f"{display_path(finding.file, base)}:{finding.line}:{finding.column}:"
    style = _SEVERITY_STYLE[finding.severity]
    fixable = " [*]" if finding.fix is not None and finding.fix.safe else ""
    return (f"{paint(where, 'bold')} {paint(finding.code, style)}{fixable} "
            f"{paint(str(finding.severity), style.replace('bold ', ''))} {finding.message}")


def window(length: int, focus_start: int, span_start: int, width: int,
           span_end: int | None = None) -> tuple[int, int]:
    """The part ``[left, right)`` of a line of ``length`` characters to show, at most
    ``width`` long: from the start of the span when the focus (the flagged words) is near
    it, else from a little before the focus; a short span gets some text before it."""
    if length <= width:
        return 0, length
    near = 0 < focus_start - span_start <= width // 2
    short = span_end is not None and span_end - focus_start <= width - 2 * _CONTEXT
    if near or (focus_start == span_start and not short):
        left = span_start
    else:
        left = focus_start - _CONTEXT
    left = 0 if left <= _CONTEXT // 2 else left
    right = min(length, left + width)
    return max(0, right - width), right


def _cue_span(finding: Finding, text: str, start: int, end: int) -> tuple[int, int] | None:
    """Where the words that made the finding (its cue, "kind \"words\"") stand in
    ``text[start:end]``, white space aside; None when they are not there."""
    match = _QUOTED.search(finding.cue or "")
    if not match:
        return None
    words = match.group(1).split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(map(re.escape, words)), re.I)
    found = pattern.search(text, start, end)
    return (found.start(), found.end()) if found else None


def excerpt(finding: Finding, lines: list[str], *, width: int = 100,
            paint: _Painter | None = None) -> list[str]:
    """The gutter, source lines and marks under the flagged words: ``^`` under the words
    that made the finding (its cue, where known) and ``-`` under the rest of its span."""
    paint = paint or _Painter(False)
    first = finding.line
    last = finding.end_line if has_span(finding) else finding.line
    if first < 1 or first > len(lines):
        return []
    # A span that ends at column 1 of the next line ends with the line before it.
    if last > first and finding.end_column <= 1:
        last -= 1
    shown = list(range(first, min(last, len(lines), first + _MAX_LINES - 1) + 1))
    gutter = len(str(shown[-1])) + 1
    bar = paint(" " * gutter + " |", "bold blue")
    out = [bar]
    style = _SEVERITY_STYLE[finding.severity]
    for number in shown:
        text = lines[number - 1].replace("\t", " ")
        if has_span(finding):
            start = finding.column - 1 if number == first else len(text) - len(text.lstrip())
            end = finding.end_column - 1 if number == finding.end_line else len(text.rstrip())
        else:  # a whole entry or line: mark the line's text
            start, end = finding.column - 1, len(text.rstrip())
        start = max(0, min(start, len(text)))
        end = max(start + 1, min(end, len(text)))
        cue = _cue_span(finding, text, start, end)
        focus = cue or (start, end)
        left, right = window(len(text), focus[0], start, width, end)
        prefix = "…" if left > 0 else ""
        suffix = "…" if right < len(text) else ""
        piece = prefix + text[left:right] + suffix
        marks = "".join("^" if (cue and cue[0] <= i < cue[1]) or (not cue and start <= i < end)
                        else "-" if start <= i < end else " "
                        for i in range(left, right)).rstrip()
        marks = " " * len(prefix) + marks
        label = f" {finding.code}" if number == shown[-1] else ""
        out.append(paint(f"{number:>{gutter}} |", "bold blue") + (" " + piece if piece else ""))
        out.append(bar + " " + paint(marks + label, style))
    if last > shown[-1]:
        out.append(paint(" " * gutter + " :", "bold blue") + " …")
    out.append(bar)
    return out


def help_lines(finding: Finding, references: Mapping[str, Any] | None = None,
               paint: _Painter | None = None, limit: int = 3, explain: bool = False) -> list[str]:
    """``= help:`` lines: candidate references (as "Author Year, Title (key)") and the fix;
    with ``explain``, first a ``= why:`` line saying why the finding was raised."""
    paint = paint or _Painter(False)
    out = []
    if explain and finding.explanation:
        out.append(f"  {paint('= why:', 'bold cyan')} {finding.explanation}")
    for suggestion in finding.suggestions[:limit]:
        ref = (references or {}).get(suggestion.key)
        out.append(f"  {paint('= help:', 'bold cyan')} candidate: "
                   f"{reference_label(ref, suggestion.key)}")
    if finding.fix is not None:
        how = ("safe: `citeflow check --fix`" if finding.fix.safe
               else "unsafe: `citeflow check --fix --unsafe-fixes`")
        out.append(f"  {paint('= fix:', 'bold cyan')} {finding.fix.message} ({how})")
    return out


def format_finding(finding: Finding, base: str | Path | None = None, *,
                   output_format: str = "full", lines: list[str] | None = None,
                   references: Mapping[str, Any] | None = None, width: int = 100,
                   color: bool = False, explain: bool = False) -> str:
    """One finding in ``full`` or ``concise`` form (``lines``: the file's lines, for the
    excerpt; without them a full finding quotes its sentence instead)."""
    paint = _Painter(color)
    head = header(finding, base, paint)
    if output_format == "concise":
        if explain and finding.explanation:
            return f"{head}\n  why: {finding.explanation}"
        return head
    body = excerpt(finding, lines, width=width, paint=paint) if lines else []
    if not body and finding.sentence:
        body = [f"    > {' '.join(finding.sentence.split())}"]
    return "\n".join([head, *body, *help_lines(finding, references, paint, explain=explain)])


def summary_line(findings: Sequence[Finding], summary: Mapping[str, Any] | None = None) -> str:
    """``N findings (E errors, W warnings, I info)``, suppressions and claim support."""
    active = [f for f in findings if not f.suppressed]
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
    return line


def statistics(findings: Sequence[Finding]) -> list[tuple[int, str, str, bool]]:
    """(count, code, rule name, safely fixable) per rule of the unsuppressed findings,
    most frequent first."""
    counts: dict[str, int] = {}
    fixable: dict[str, bool] = {}
    for finding in findings:
        if finding.suppressed:
            continue
        counts[finding.code] = counts.get(finding.code, 0) + 1
        if finding.fix is not None and finding.fix.safe:
            fixable[finding.code] = True
    rows = [(n, code, RULES[code].name if code in RULES else "", fixable.get(code, False))
            for code, n in counts.items()]
    return sorted(rows, key=lambda row: (-row[0], row[1]))


def write_statistics(findings: Sequence[Finding], stream: TextIO, *, color: bool = False) -> None:
    """One line per rule, as ``ruff --statistics``: count, code, ``[*]`` if fixable, name."""
    paint = _Painter(color)
    rows = statistics(findings)
    width = max((len(str(n)) for n, *_ in rows), default=1)
    for count, code, name, fix in rows:
        stream.write(f"{count:>{width}}\t{paint(code, 'bold')}\t{'[*]' if fix else '[ ]'} {name}\n")
    stream.write(summary_line(findings) + "\n")


def write(findings: Sequence[Finding], stream: TextIO, *, summary: dict[str, Any] | None = None,
          base: str | Path | None = None, output_format: str = "full", color: bool = False,
          references: Mapping[str, Any] | None = None, width: int = 100,
          explain: bool = False) -> None:
    """Every unsuppressed finding (``full`` or ``concise``), then the counts and what
    ``--fix`` would do; ``explain`` adds why each finding was raised."""
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {output_format!r} (use full or concise)")
    paint = _Painter(color)
    sources = _Sources()
    active = [f for f in findings if not f.suppressed]
    for finding in active:
        lines = sources.lines(Path(finding.file)) if output_format == "full" else None
        stream.write(format_finding(finding, base, output_format=output_format, lines=lines,
                                    references=references, width=width, color=color,
                                    explain=explain) + "\n")
        if output_format == "full":
            stream.write("\n")
    stream.write(paint(summary_line(findings, summary), "bold") + "\n")
    safe = sum(1 for f in active if f.fix is not None and f.fix.safe)
    unsafe = sum(1 for f in active if f.fix is not None and not f.fix.safe)
    if safe:
        stream.write(f"{safe} fixable with `citeflow check --fix`\n")
    if unsafe:
        stream.write(f"{unsafe} more with `citeflow check --fix --unsafe-fixes` (read them first)\n")
