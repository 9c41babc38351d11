"""citeflow: a citation-aware authoring pipeline for medical writing.

Stages, data flowing one way::

    manuscript -> placeholders/citations -> bibliography & sources -> checks -> report/render

The public API (documented in docs/api.md)::

    import citeflow

    citeflow.check("manuscripts/draft.md").findings
    citeflow.resolve("manuscripts/draft.md").diff
    citeflow.render("manuscripts/draft.md", formats=["html"], output_dir="out")
    project = citeflow.Project.find(".")

Names are imported on first use, so ``import citeflow`` stays cheap for the command line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> module that defines it.
_EXPORTS = {
    "Project": "api", "check": "api", "resolve": "api", "render": "api", "build": "api",
    "suggest": "api", "cite": "api", "CheckReport": "api", "Candidates": "api",
    "CiteResult": "api", "Source": "api", "fix": "api", "FixResult": "api", "refresh": "api",
    "RefreshResult": "fixes.refresh",
    "Fix": "checks.fixes", "Edit": "checks.fixes", "Applicability": "checks.fixes",
    "CiteflowError": "errors",
    "Config": "config", "load_config": "config",
    "Manuscript": "document.manuscript",
    "CheckResult": "checks.engine",
    "Finding": "checks.base", "Severity": "checks.base", "Suggestion": "checks.base",
    "ResolveResult": "fixes.resolve",
    "Reference": "references.bibliography", "Bibliography": "references.bibliography",
    "Identifier": "references.identifiers",
    "BuildReport": "output.build", "BuildOutcome": "output.build",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'citeflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors
    from .api import (
        Candidates,
        CheckReport,
        CiteResult,
        FixResult,
        Project,
        Source,
        build,
        check,
        cite,
        fix,
        refresh,
        render,
        resolve,
        suggest,
    )
    from .checks.base import Finding, Severity, Suggestion
    from .checks.engine import CheckResult
    from .checks.fixes import Applicability, Edit, Fix
    from .config import Config, load_config
    from .document.manuscript import Manuscript
    from .errors import CiteflowError
    from .fixes.refresh import RefreshResult
    from .fixes.resolve import ResolveResult
    from .output.build import BuildOutcome, BuildReport
    from .references.bibliography import Bibliography, Reference
    from .references.identifiers import Identifier
