"""Running Pandoc (the binary shipped in the pypandoc-binary wheel) and reading its AST.

Every Pandoc run goes through :func:`run_pandoc`, which adds ``--sandbox`` (Pandoc reads no
file but those on its command line and fetches nothing) and turns a failure into one
:class:`~citeflow.errors.CiteflowError` naming the manuscript, or the bibliography file and
line Pandoc could not read.
"""

from __future__ import annotations

import os
import re
import subprocess
from functools import lru_cache
from pathlib import Path

from .errors import CiteflowError


def pandoc_path() -> str:
    import pypandoc

    try:
        return pypandoc.get_pandoc_path()
    except OSError as exc:  # pragma: no cover - the wheel ships Pandoc
        raise CiteflowError(f"Pandoc is not available: {exc}") from exc


#: GHC runtime options for Pandoc: a 64 MiB allocation area instead of the default 4 MiB
#: cuts garbage collection on long manuscripts (about 15% of the citeproc pass for 5,000
#: citations) for ~50 MiB more memory.
PANDOC_RTS = ("+RTS", "-A64m", "-RTS")


@lru_cache(maxsize=1)
def _rts_options() -> tuple[str, ...]:
    """:data:`PANDOC_RTS` when this Pandoc accepts runtime options, else nothing."""
    try:
        probe = subprocess.run([pandoc_path(), *PANDOC_RTS, "--version"], capture_output=True,
                               check=False)
    except OSError:
        return ()
    return PANDOC_RTS if probe.returncode == 0 else ()


# Pandoc: "Error reading bibliography file X: (line 5, column 1): unexpected '@'"
_BIB_ERROR = re.compile(
    r"Error reading bibliography file (?P<file>.+?):\s*\(line (?P<line>\d+), column \d+\):(?P<what>.*)")


def run_pandoc(args: list[str], data: bytes, source: Path | None, cwd: Path | None = None,
               env: dict[str, str] | None = None) -> tuple[bytes, str]:
    """Run Pandoc with ``data`` on stdin; return (stdout, stderr) or raise naming ``source``.
    ``env`` is added to Pandoc's environment."""
    try:
        # --sandbox: Pandoc reads no file but those on its command line and fetches nothing.
        result = subprocess.run(
            [pandoc_path(), *_rts_options(), "--sandbox", *args], input=data, capture_output=True,
            cwd=cwd, check=False, env={**os.environ, **env} if env else None,
        )
    except OSError as exc:
        raise CiteflowError(f"cannot run Pandoc: {exc.strerror}", source) from exc
    stderr = result.stderr.decode("utf-8", "replace")
    if result.returncode != 0:
        lines = [l.strip() for l in stderr.splitlines() if l.strip() and not l.startswith("[WARNING]")]
        detail = " ".join(lines)[:300] if lines else f"exit code {result.returncode}"
        bad_bibliography = _BIB_ERROR.search(detail)
        if bad_bibliography:  # name the .bib file and its line, not the manuscript
            raise CiteflowError(f"malformed bibliography: {bad_bibliography.group('what').strip()}",
                                bad_bibliography.group("file"), int(bad_bibliography.group("line")))
        raise CiteflowError(f"Pandoc failed: {detail}", source)
    return result.stdout, stderr


_WRAPPERS = ("Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps")


def plain_text(inlines: list) -> str:
    """The text of a list of Pandoc inlines, markup dropped (like Lua's ``stringify``)."""
    parts: list[str] = []
    for node in inlines:
        kind = node.get("t")
        if kind == "Str":
            parts.append(node["c"])
        elif kind in ("Space", "SoftBreak", "LineBreak"):
            parts.append(" ")
        elif kind in ("Code", "Math", "RawInline"):
            parts.append(node["c"][-1])
        elif kind == "Quoted":
            mark = '"' if node["c"][0]["t"] == "DoubleQuote" else "'"
            parts.append(mark + plain_text(node["c"][1]) + mark)
        elif kind in ("Link", "Image", "Span", "Cite"):
            parts.append(plain_text(node["c"][1]))
        elif kind in _WRAPPERS:
            parts.append(plain_text(node["c"]))
    return "".join(parts)
