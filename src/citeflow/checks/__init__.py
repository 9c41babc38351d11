"""Checks: rules with a code, a default severity and a docstring, producing Findings.

See :mod:`citeflow.checks.base` for the Finding model and the rule registry.
"""
