"""Project configuration: ``citeflow.toml`` or ``[tool.citeflow]`` in ``pyproject.toml``.

The file is looked for in the given folder and its parents; the first ``citeflow.toml``, or
``pyproject.toml`` with a ``[tool.citeflow]`` table, wins. Paths in it are relative to the
folder that holds it. Every key is checked when the file is read (:data:`SCHEMA`): an
unknown key or a value of the wrong kind is one error naming the file, the line and the key
(with the closest known key for a typo).

Settings are merged in one order, each layer overriding the one before:

1. citeflow's defaults;
2. ``citeflow.toml`` (or ``[tool.citeflow]`` in ``pyproject.toml``);
3. a manuscript's front matter, for what belongs to one manuscript (``bibliography``,
   ``csl``; paths relative to the manuscript's folder);
4. environment variables (``CITEFLOW_*``, ``NCBI_API_KEY``: the ``env`` column of
   :data:`SCHEMA`, applied by :meth:`Config.setting`, the one place they are read);
5. command-line options and keyword arguments of the Python API.

Recognised keys (all optional)::

    style = "american-medical-association"    # CSL style name or path
    bibliography = ["references/dupilumab.bib"] # default bibliographies
    manuscripts = "manuscripts"                 # folder that `citeflow build` scans
    output = "build"                            # default output folder
    mailto = "editor@example.org"               # contact in the User-Agent

    [sources]          # crossref_url, doi_url, eutils_url, idconv_url, biorxiv_url, crossref_batch,
                       # crossref_concurrency, workers, ncbi_api_key, timeout,
                       # max_response_mb, retries, backoff, max_retry_after, retry_budget,
                       # breaker_failures, redirect_hosts, rate_limits, offline (see citeflow.sources)
    [cache]            # dir (default: the user cache directory), ttl_days, notfound_ttl_days
    [placeholders]     # extra = ["regex", ...] (free-text)
    [check]            # fail_on, select, ignore, suggest, placeholders, lock_max_age_days,
                       # severity = {CF106 = "info"}, cues = {...}, per_file = {"glob" = ["CF106"]},
                       # claim_threshold = 0.6
    [render]           # trusted = true: keep raw HTML/Typst (see docs/security.md)
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CiteflowError

DEFAULT_STYLE = "american-medical-association"


@dataclass(frozen=True)
class Key:
    """One configuration key: the kinds of value it takes, what it does, and the
    environment variable that overrides it (if any)."""

    kinds: tuple[type, ...]
    help: str
    env: str | None = None

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) and bool not in self.kinds:
            return False  # TOML true is not a number
        if list in self.kinds and isinstance(value, list):
            return all(isinstance(item, str) for item in value)
        return isinstance(value, self.kinds)

    def describe(self) -> str:
        names = {str: "a string", int: "a number", float: "a number", bool: "true or false",
                 list: "a list of strings", dict: "a table"}
        return " or ".join(dict.fromkeys(names[kind] for kind in self.kinds))

    def from_environment(self, raw: str) -> Any:
        """The value of this key's environment variable, read as the key's kind; a value
        that is not of that kind is an error naming the variable."""
        text = raw.strip()
        if bool in self.kinds:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
        elif int in self.kinds or float in self.kinds:
            try:
                return int(text) if self.kinds == (int,) else float(text)
            except ValueError:
                pass
        elif str in self.kinds:
            return text
        raise CiteflowError(f"environment variable {self.env} must be {self.describe()}, not {raw!r}")


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


_NUMBER = (int, float)
_TEXT = (str,)
_TEXTS = (str, list)

#: Every key citeflow reads, by section (``None``: the top level). Tables listed with kind
#: ``dict`` hold keys of the user's choosing (rule codes, globs, host names, cue kinds).
SCHEMA: dict[str | None, dict[str, Key]] = {
    None: {
        "style": Key(_TEXT, "CSL style name (`citeflow styles`) or .csl path"),
        "bibliography": Key(_TEXTS, "default bibliography files"),
        "manuscripts": Key(_TEXT, "folder that `citeflow build` and `check` scan"),
        "output": Key(_TEXT, "default output folder"),
        "mailto": Key(_TEXT, "contact sent to Crossref and NCBI", "CITEFLOW_MAILTO"),
    },
    "sources": {
        "crossref_url": Key(_TEXT, "Crossref REST API", "CITEFLOW_CROSSREF_URL"),
        "doi_url": Key(_TEXT, "doi.org resolver", "CITEFLOW_DOI_URL"),
        "eutils_url": Key(_TEXT, "NCBI E-utilities", "CITEFLOW_EUTILS_URL"),
        "idconv_url": Key(_TEXT, "PMC ID converter", "CITEFLOW_IDCONV_URL"),
        "biorxiv_url": Key(_TEXT, "bioRxiv/medRxiv API", "CITEFLOW_BIORXIV_URL"),
        "crossref_batch": Key((int,), "DOIs per Crossref request", "CITEFLOW_CROSSREF_BATCH"),
        "crossref_concurrency": Key((int,), "Crossref requests in flight at once",
                                    "CITEFLOW_CROSSREF_CONCURRENCY"),
        "workers": Key((int,), "lookups at once", "CITEFLOW_WORKERS"),
        "timeout": Key(_NUMBER, "seconds for one whole request", "CITEFLOW_TIMEOUT"),
        "max_response_mb": Key(_NUMBER, "largest answer read", "CITEFLOW_MAX_RESPONSE_MB"),
        "retries": Key((int,), "retries of a failed request", "CITEFLOW_RETRIES"),
        "backoff": Key(_NUMBER, "seconds before the first retry", "CITEFLOW_BACKOFF"),
        "max_retry_after": Key(_NUMBER, "longest Retry-After honoured", "CITEFLOW_MAX_RETRY_AFTER"),
        "retry_budget": Key(_NUMBER, "seconds of waiting per lookup", "CITEFLOW_RETRY_BUDGET"),
        "breaker_failures": Key((int,), "failures in a row before a service is given up",
                                "CITEFLOW_BREAKER_FAILURES"),
        "redirect_hosts": Key((list,), "hosts doi.org may redirect to"),
        "rate_limits": Key((dict,), "requests per second by host"),
        "ncbi_api_key": Key(_TEXT, "NCBI API key (10 requests/s instead of 3)", "NCBI_API_KEY"),
        "offline": Key((bool,), "never ask the network; answer from the cache only", "CITEFLOW_OFFLINE"),
    },
    "cache": {
        "dir": Key(_TEXT, "metadata cache folder", "CITEFLOW_CACHE_DIR"),
        "ttl_days": Key(_NUMBER, "days a fetched record is fresh"),
        "notfound_ttl_days": Key(_NUMBER, "days a not-found answer is kept"),
    },
    "placeholders": {
        "extra": Key(_TEXTS, "regular expressions for more free-text placeholders"),
    },
    "check": {
        "fail_on": Key(_TEXT, "error, warning or info"),
        "select": Key(_TEXTS, "rule codes or prefixes to run"),
        "ignore": Key(_TEXTS, "rule codes or prefixes to skip"),
        "suggest": Key((bool,), "rank candidate references for findings"),
        "placeholders": Key(_TEXTS, "regular expressions for more free-text placeholders"),
        "severity": Key((dict,), "severity by rule code"),
        "cues": Key((dict,), "extra cue phrases by kind"),
        "per_file": Key((dict,), "rule codes silenced by file glob"),
        "claim_threshold": Key(_NUMBER, "claim model probability from which a sentence is a claim"),
        "lock_max_age_days": Key(_NUMBER, "days after which a work in citeflow.lock counts as "
                                 "checked long ago (CF114)"),
    },
    "render": {
        "trusted": Key((bool,), "keep raw HTML and Typst (docs/security.md)"),
    },
    "resolve": {
        "rewrite_manubot": Key((bool,), "write Manubot keys (@doi:..., @pmid:..., @url:...) as "
                               "bibliography keys"),
    },
}


def _key_line(text: str, section: str | None, key: str) -> int | None:
    """The line of ``key`` in TOML ``text`` (inside ``[section]`` when given)."""
    lines = text.splitlines()
    inside = section is None
    header = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
    for number, line in enumerate(lines, 1):
        match = header.match(line)
        if match:
            name = match.group(1).strip().strip('"')
            if section is None:
                inside = False
            else:
                inside = name in (section, f"tool.citeflow.{section}")
            continue
        if inside and re.match(rf"^\s*\"?{re.escape(key)}\"?\s*=", line):
            return number
    if section is not None:
        for number, line in enumerate(lines, 1):
            if re.match(rf"^\s*\[\s*(tool\.citeflow\.)?{re.escape(section)}(\.{re.escape(key)})?\s*\]", line):
                return number
    return None


def validate(data: dict[str, Any], path: Path | None, text: str = "") -> None:
    """Raise :class:`CiteflowError` naming file, line and key for the first unknown key or
    value of the wrong kind in configuration ``data`` (the text gives the line)."""

    def fail(message: str, section: str | None, key: str) -> None:
        raise CiteflowError(message, path, _key_line(text, section, key) if text else None)

    for key, value in data.items():
        if key in SCHEMA and key is not None:
            if not isinstance(value, dict):
                fail(f"[{key}] must be a table", None, key)
            _validate_section(key, value, fail)
            continue
        spec = SCHEMA[None].get(key)
        if spec is None:
            close = difflib.get_close_matches(key, [k for k in SCHEMA if k] + list(SCHEMA[None]), 1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            fail(f"unknown key {key!r}{hint}", None, key)
        elif not spec.accepts(value):
            fail(f"{key} must be {spec.describe()}, not {value!r}", None, key)


def _validate_section(section: str, table: dict[str, Any], fail: Any) -> None:
    known = SCHEMA[section]
    for key, value in table.items():
        spec = known.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, list(known), 1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            fail(f"unknown key {key!r} in [{section}]{hint}", section, key)
        elif not spec.accepts(value):
            fail(f"[{section}] {key} must be {spec.describe()}, not {value!r}", section, key)


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
        return self.setting(None, "mailto") or None

    @property
    def render_trusted(self) -> bool:
        """``[render] trusted``: the project's manuscripts may carry raw HTML and Typst
        (docs/security.md). Off by default."""
        value = self.section("render").get("trusted", False)
        if not isinstance(value, bool):
            raise CiteflowError("[render] trusted must be true or false", self.path)
        return value

    def setting(self, section: str | None, key: str, default: Any = None,
                env: Mapping[str, str] | None = None) -> Any:
        """One setting, merged in the documented order: the environment variable of the
        key (:data:`SCHEMA`'s ``env``; a set, non-empty variable wins and is read as the
        key's kind), else the configuration file, else ``default``."""
        spec = SCHEMA[section][key]
        environment = os.environ if env is None else env
        if spec.env and environment.get(spec.env, "").strip():
            return spec.from_environment(environment[spec.env])
        table = self.data if section is None else self.section(section)
        return table.get(key, default)

    @property
    def rewrite_manubot(self) -> bool:
        """``[resolve] rewrite_manubot``: ``resolve`` (and ``check --fix``) write Manubot keys
        such as ``@doi:10.1/x`` as bibliography keys. Off by default: they render as written."""
        value = self.section("resolve").get("rewrite_manubot", False)
        if not isinstance(value, bool):
            raise CiteflowError("[resolve] rewrite_manubot must be true or false", self.path)
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
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    validate(data, path, text)
    return Config(root=path.parent.resolve(), path=path, data=data)
