"""A second process that analyses part of a large bibliography's texts.

Analysing the entries of a large bibliography for candidate ranking
(:func:`citeflow.claims.suggest.tokens_many`) is pure Python and takes seconds for tens of
thousands of entries. :func:`tokens_split` hands part of the texts to one more Python
process (``python -m citeflow.claims.worker``, the same interpreter and installation) and
analyses the rest itself meanwhile, so that a machine with two processors does it in a little
over half the time. The result is the same as analysing every text in one process: each
text's tokens depend on that text alone.

The worker reads the texts as one JSON array on its standard input and writes one JSON array
of texts back, each the tokens of one text joined by spaces (no token holds white space). It
is a plain subprocess, not :mod:`multiprocessing`, so that a script using citeflow as a
library is never imported again in a child. When the worker cannot be started, fails, or
answers anything but the expected array, its texts are analysed in this process: slower,
never different.

``CITEFLOW_ANALYSIS_PROCESSES`` sets how many processes analyse (default: 2 where at least
two processors are available to citeflow, else 1; 1 keeps everything in one process); it
also decides whether the claims of a long manuscript are judged in two
(:mod:`citeflow.checks.parallel`). Only texts of at least :data:`PARALLEL_CHARACTERS`
characters in all are split.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from citeflow.errors import CiteflowError

#: Texts shorter than this in all are analysed in one process: starting the other takes
#: about a third of a second, what analysing some two million characters takes.
PARALLEL_CHARACTERS = 4_000_000
#: The part of the characters the worker analyses.
WORKER_SHARE = 0.45
#: The longest a worker may take before its texts are analysed here instead (seconds).
WORKER_TIMEOUT = 600


def processes(env: Mapping[str, str] | None = None) -> int:
    """How many processes analyse (and judge a long manuscript's claims, see
    :mod:`citeflow.checks.parallel`): ``CITEFLOW_ANALYSIS_PROCESSES``, else 2 where two
    processors are available, else 1 (always 1 in a frozen application, whose interpreter
    is the application itself: kept for the claims too, the cautious choice there)."""
    env = os.environ if env is None else env
    configured = env.get("CITEFLOW_ANALYSIS_PROCESSES", "").strip()
    if getattr(sys, "frozen", False):  # a frozen application cannot run a module of its own
        return 1
    if configured:
        if not configured.isdigit() or int(configured) < 1:
            raise CiteflowError("CITEFLOW_ANALYSIS_PROCESSES must be a number of processes "
                                f"(1 or more), not {configured!r}")
        return min(int(configured), 2)
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - where affinity is unknown
        available = os.cpu_count() or 1
    return 2 if available >= 2 else 1


def tokens_split(texts: Sequence[str], analyse: Callable[[Sequence[str]], list[list[str]]],
                 env: Mapping[str, str] | None = None) -> list[list[str]]:
    """``analyse(texts)``, with the later part of ``texts`` analysed by a worker process
    while this one analyses the earlier part (when they are long enough and two processes
    are allowed; see the module's documentation)."""
    total = sum(map(len, texts))
    if total < PARALLEL_CHARACTERS or processes(env) < 2:
        return analyse(texts)
    # the worker takes the last WORKER_SHARE of the characters (it starts later: it first
    # imports what analysing needs)
    left, cut = int(total * (1 - WORKER_SHARE)), 0
    for cut, text in enumerate(texts):  # noqa: B007 - the index is the result
        left -= len(text)
        if left <= 0:
            break
    mine, theirs = texts[:cut + 1], texts[cut + 1:]
    answer = _Worker(theirs)
    first = analyse(mine)
    second = answer.tokens()
    return first + (second if second is not None else analyse(theirs))


def command() -> list[str]:
    """How a worker is started: this interpreter, running this module."""
    return [sys.executable, "-m", "citeflow.claims.worker"]


def environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The worker's environment: this one, with the folder this citeflow was imported from
    first on ``PYTHONPATH``, so that the worker runs the same code even when it was not
    installed (a checkout put on ``sys.path`` by a script)."""
    env = dict(os.environ if env is None else env)
    here = Path(__file__).resolve().parent.parent.parent
    if here.name not in ("site-packages", "dist-packages"):  # an installed citeflow is found anyway,
        # and its folder must not come before the standard library's
        env["PYTHONPATH"] = os.pathsep.join([str(here), *filter(None, [env.get("PYTHONPATH")])])
    return env


class _Worker:
    """One worker process analysing ``texts``, fed and read by a thread of this process."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.count = len(texts)
        self.output: bytes | None = None
        data = json.dumps(list(texts)).encode("ascii")  # ASCII: lone surrogates survive
        try:
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=environment())
        except OSError:
            self.process = None
            return
        self.thread = threading.Thread(target=self._talk, args=(data,), daemon=True)
        self.thread.start()

    def _talk(self, data: bytes) -> None:
        assert self.process is not None
        try:
            output, _ = self.process.communicate(data, timeout=WORKER_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            return
        if self.process.returncode == 0:
            self.output = output

    def tokens(self) -> list[list[str]] | None:
        """The worker's answer, or None when there is none to use."""
        if self.process is None:
            return None
        self.thread.join()
        if self.output is None:
            return None
        try:
            answer = json.loads(self.output)
        except ValueError:
            return None
        if type(answer) is not list or len(answer) != self.count or not all(type(a) is str for a in answer):
            return None
        # each token once in memory, as the analysis in this process makes them
        return [list(map(sys.intern, joined.split())) for joined in answer]


def main() -> int:
    """Analyse the JSON array of texts on standard input; write the tokens of each, joined
    by spaces, as a JSON array on standard output."""
    import gc

    gc.disable()  # short-lived, and what it makes lives until it ends (as in a check)
    from citeflow.claims.suggest import tokens_many

    texts = json.loads(sys.stdin.buffer.read())
    if type(texts) is not list or not all(type(text) is str for text in texts):
        return 2
    sys.stdout.buffer.write(json.dumps([" ".join(tokens) for tokens in tokens_many(texts)]).encode("ascii"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
