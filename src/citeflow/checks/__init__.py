"""Checks: rules with a code, a default severity and a docstring, producing Findings.

See :mod:`citeflow.checks.base` for the Finding model and the rule registry and
:mod:`citeflow.checks.engine` for :func:`~citeflow.checks.engine.check_manuscript`.
"""
