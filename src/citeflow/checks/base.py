"""The Finding model, severities and the rule registry shared by every check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from ..claims.suggestion import Suggestion
from .fixes import Fix


class Severity(IntEnum):
    """Ordered so that ``severity >= fail_level`` decides the exit code."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {value!r} (use error, warning or info)") from None


@dataclass
class Finding:
    """One problem at one place in a manuscript (or a bibliography file).

    ``line``/``column`` are 1-based and point at the original file text; ``end_line`` and
    ``end_column`` point one past the last character. ``suppressed`` carries the reason of an
    in-manuscript ``<!-- citeflow: ignore CODE reason="..." -->`` comment when one applies.
    ``fix``, when set, repairs the finding (``citeflow check --fix`` applies safe ones).
    ``notices`` names the registry notices a finding rests on (retractions, expressions of
    concern, corrections: their DOI, PMID, date and who says so), for JSON and SARIF.
    """

    file: Path
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    severity: Severity
    message: str
    sentence: str = ""
    cue: str = ""
    suggestions: list[Suggestion] = field(default_factory=list)
    suppressed: str | None = None
    start: int = 0  # source offsets in the file, for in-place highlighting
    end: int = 0
    fix: Fix | None = None
    #: Why the finding was raised, for ``check --explain``: for a claim, its cue and the
    #: claim model's confidence with the features that weighed most.
    explanation: str = ""
    notices: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Rule:
    """A rule: code (``CF301``), short name, default severity, the explanation and the check."""

    code: str
    name: str
    severity: Severity
    doc: str
    run: Callable[..., list[Finding]] | None = None


RULES: dict[str, Rule] = {}


def rule(code: str, name: str, severity: Severity) -> Callable:
    """Decorator registering a check function as a rule; its docstring is the explanation."""

    def register(func: Callable[..., list[Finding]]) -> Callable[..., list[Finding]]:
        RULES[code] = Rule(code, name, severity, (func.__doc__ or "").strip(), func)
        return func

    return register
