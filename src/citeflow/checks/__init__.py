"""Checks: rules with a code, a default severity and a docstring, producing Findings.

See :mod:`citeflow.checks.base` for the Finding model and the rule registry and
:mod:`citeflow.checks.engine` for :func:`check_manuscript`.
"""

from __future__ import annotations


def __getattr__(name: str):
    # Lazy, so that importing citeflow.checks.base stays cheap.
    if name in ("check_manuscript", "CheckResult", "CheckSettings", "load_rules"):
        from . import engine

        return getattr(engine, name)
    raise AttributeError(name)
