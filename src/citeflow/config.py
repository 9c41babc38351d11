"""Project configuration: ``citeflow.toml`` or ``[tool.citeflow]`` in ``pyproject.toml``.

The file is looked for in the given folder and its parents; the first ``citeflow.toml``, or
``pyproject.toml`` with a ``[tool.citeflow]`` table, wins. Paths in it are relative to the
folder that holds it. Environment variables override it (``CITEFLOW_*``).

Recognised keys (all optional)::

    style = "american-medical-association"    # CSL style name or path
    bibliography = ["references/dupilumab.bib"] # default bibliographies
    manuscripts = "manuscripts"                 # folder that `citeflow build` scans
    output = "build"                            # default output folder
    mailto = "editor@example.org"               # contact in the User-Agent

    [sources]          # crossref_url, doi_url, eutils_url, idconv_url, workers, ncbi_api_key, timeout,
                       # max_response_mb, retries, backoff, max_retry_after, retry_budget,
                       # breaker_failures, redirect_hosts (see citeflow.sources)
    [cache]            # dir (default: the user cache directory), ttl_days, notfound_ttl_days
    [placeholders]     # extra = ["regex", ...] (free-text), extra_identifier = [...]
    [check]            # fail_on, select, ignore, severity = {CF106 = "info"}, cues = {...}
    [render]           # trusted = true: keep raw HTML/Typst (see docs/security.md)
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CiteflowError

DEFAULT_STYLE = "american-medical-association"


@dataclass
class Config:
    """Settings for one project. ``root`` is the folder the config file lives in (or cwd)."""

    root: Path = field(default_factory=Path.cwd)
    path: Path | None = None
    data: dict[str, Any] = field(default_factory=dict)

    # -- top-level conveniences -------------------------------------------------------
    @property
    def style(self) -> str | None:
        value = self.data.get("style")
        if value is None:
            return None
        return self._maybe_path(str(value))

    @property
    def bibliography(self) -> list[Path]:
        value = self.data.get("bibliography", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise CiteflowError("bibliography must be a file name or a list of file names", self.path)
        return [self.root / v for v in value]

    @property
    def manuscripts_dir(self) -> Path:
        return self.root / self.data.get("manuscripts", "manuscripts")

    @property
    def output_dir(self) -> Path:
        return self.root / self.data.get("output", "build")

    @property
    def mailto(self) -> str | None:
        return os.environ.get("CITEFLOW_MAILTO") or self.data.get("mailto") or None

    @property
    def render_trusted(self) -> bool:
        """``[render] trusted``: the project's manuscripts may carry raw HTML and Typst
        (docs/security.md). Off by default."""
        value = self.section("render").get("trusted", False)
        if not isinstance(value, bool):
            raise CiteflowError("[render] trusted must be true or false", self.path)
        return value

    def section(self, name: str) -> dict[str, Any]:
        """A ``[name]`` table of the config, or an empty dict."""
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise CiteflowError(f"[{name}] must be a table", self.path)
        return value

    def _maybe_path(self, value: str) -> str:
        """A style given as a relative path is resolved against the config's folder."""
        if value.endswith(".csl") and not Path(value).is_absolute():
            return str(self.root / value)
        return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        # tomllib messages end with "(at line N, column M)"
        line = None
        text = str(exc)
        if "line " in text:
            try:
                line = int(text.split("line ")[-1].split(",")[0].rstrip(")"))
            except ValueError:
                line = None
        raise CiteflowError(f"malformed TOML: {text}", path, line) from exc
    except OSError as exc:
        raise CiteflowError(f"cannot read config: {exc.strerror}", path) from exc


def find_config_file(start: str | Path | None = None) -> Path | None:
    """The nearest ``citeflow.toml`` (or pyproject with ``[tool.citeflow]``) at or above start."""
    here = Path(start or Path.cwd()).absolute()
    if here.is_file():  # the folder the file is named in, not where a symlink points
        here = here.parent
    here = here.resolve()
    for folder in (here, *here.parents):
        candidate = folder / "citeflow.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = _read_toml(pyproject)
            except CiteflowError:
                continue
            if "citeflow" in data.get("tool", {}):
                return pyproject
    return None


def load_config(start: str | Path | None = None, path: str | Path | None = None) -> Config:
    """Load the project config for ``start`` (a file or folder), or from an explicit ``path``."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise CiteflowError("config file not found", path)
    else:
        path = find_config_file(start)
    if path is None:
        return Config(root=Path(start).absolute().parent.resolve() if start and Path(start).is_file()
                      else Path(start or Path.cwd()).resolve())
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("citeflow", {})
    return Config(root=path.parent.resolve(), path=path, data=data)
