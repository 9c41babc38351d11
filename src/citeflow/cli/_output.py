"""Terminal output shared by the commands: verbosity, colour, progress and candidates.

Colour and progress come from ``rich``: colour only on a terminal (``NO_COLOR`` turns it
off, ``FORCE_COLOR`` on), progress bars only on standard error, only when that is a
terminal and ``--quiet`` was not given. Reports and diffs on standard output stay plain
text whenever it is redirected.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from enum import IntEnum
from typing import Any

import click
from rich.console import Console
from rich.text import Text


class Verbosity(IntEnum):
    """How much a command says besides its result: ``--quiet`` < normal < ``--verbose``."""

    QUIET = 0
    NORMAL = 1
    VERBOSE = 2


_STATE = {"verbosity": Verbosity.NORMAL}


def set_verbosity(level: Verbosity) -> None:
    _STATE["verbosity"] = level


def verbosity() -> Verbosity:
    return _STATE["verbosity"]


def console(*, stderr: bool = False) -> Console:
    """A console on the current standard output (or error), as click's test runner sees it.

    No markup, no highlighting, no wrapping: text is printed as given, styled only where
    a :class:`rich.text.Text` says so and only when the stream takes colour.
    """
    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, markup=False, highlight=False, emoji=False, soft_wrap=True)


def color_on(*, stderr: bool = False) -> bool:
    """True when the stream is a terminal that takes colour (NO_COLOR unset, or FORCE_COLOR)."""
    probe = console(stderr=stderr)
    return probe.is_terminal and probe.color_system is not None and not probe.no_color


def say(message: str, *, style: str | None = None, err: bool = True) -> None:
    """A line for the user (standard error by default), left out with ``--quiet``."""
    if verbosity() >= Verbosity.NORMAL:
        echo(message, style=style, err=err)


def detail(message: str) -> None:
    """A line shown only with ``--verbose`` (on standard error)."""
    if verbosity() >= Verbosity.VERBOSE:
        echo(message, style="dim", err=True)


def echo(message: str, *, style: str | None = None, err: bool = False) -> None:
    """A line, styled when the stream takes colour; plain ``click.echo`` otherwise."""
    if style and color_on(stderr=err):
        console(stderr=err).print(Text(message, style=style))
    else:
        click.echo(message, err=err)


def warning(message: str) -> None:
    """``citeflow: warning: MESSAGE`` on standard error (shown even with ``--quiet``)."""
    _labelled("warning", message, "bold yellow")


def error(message: str) -> None:
    """``citeflow: error: MESSAGE`` on standard error."""
    _labelled("error", message, "bold red")


def _labelled(label: str, message: str, style: str) -> None:
    if color_on(stderr=True):
        line = Text("citeflow: ")
        line.append(f"{label}:", style=style)
        line.append(f" {message}")
        console(stderr=True).print(line)
    else:
        click.echo(f"citeflow: {label}: {message}", err=True)


# --------------------------------------------------------------------------------------
# Progress


class ProgressBar:
    """A progress bar on standard error, for network work and builds.

    Use it as a context manager; :meth:`start` gives the number of steps (when known up
    front, pass ``total`` instead) and :meth:`advance` moves one step, taking and ignoring
    any arguments so it can be handed to an ``on_result``/``on_done`` hook. It is the
    ``progress`` object the API's long-running calls accept (``Project.resolve``). Silent
    when standard error is not a terminal, with ``--quiet``, or for fewer than ``minimum``
    steps.
    """

    def __init__(self, label: str, total: int | None = None, *, minimum: int = 1) -> None:
        self.label = label
        self.minimum = minimum
        self._total = total
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressBar:
        if self._total is not None:
            self.start(self._total)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self, total: int, label: str | None = None) -> Callable[..., None]:
        """Show a bar of ``total`` steps (when the conditions above allow) and return the
        function that advances it. A phase started while another is running gets a bar
        of its own below it."""
        err = console(stderr=True)
        if total < self.minimum or verbosity() <= Verbosity.QUIET or not err.is_terminal:
            return _ignore
        if self._bar is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                                 transient=True)
            self._bar.start()
        bar = self._bar
        task = self._task = bar.add_task(label or self.label, total=total)
        return lambda *_args, **_kw: bar.advance(task)

    def advance(self, *_args: Any, **_kw: Any) -> None:
        """Advance the phase started last."""
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = self._task = None


def _ignore(*_args: Any, **_kw: Any) -> None:
    """Advances a bar that is not shown."""


# --------------------------------------------------------------------------------------
# Candidates


def short(text: str, width: int = 70) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def bibliography_entries(project: Any, path: Any, extra: Any = None) -> dict[str, Any]:
    """The entries a manuscript's candidates come from, by key (``extra``: a --bib file)."""
    from ..api import load_manuscript

    manuscript = load_manuscript(path)
    paths = ([extra] if extra else []) + project.bibliography_paths(manuscript, must_exist=False)
    return {ref.key: ref for ref in project.bibliography(paths, missing_ok=True)}


def print_candidates(ranked: Sequence, confident: Sequence[bool], *,
                     references: Mapping[str, Any] | None = None, err: bool = False) -> None:
    """Numbered candidate references as "Author Year, Title (key)"; '*' marks a confident one.

    ``references`` maps keys to bibliography entries; a key without one is shown alone.
    With ``--verbose`` the score and the words that matched follow each candidate.
    """
    from ..report import reference_label

    if not ranked:
        click.echo("    no candidate in the bibliography", err=err)
        return
    for number, (suggestion, sure) in enumerate(zip(ranked, confident, strict=False), 1):
        mark = "*" if sure else " "
        ref = (references or {}).get(suggestion.key)
        line = f"   {mark}{number}. {reference_label(ref, suggestion.key)}"
        if verbosity() >= Verbosity.VERBOSE:
            terms = ", ".join(suggestion.terms[:6])
            line += f"  [score {suggestion.score:.2f}: {terms}]"
        echo(line, style="bold" if sure else None, err=err)
