"""The claims of a long manuscript judged in two processes.

Finding the claim sentences of a manuscript and ranking candidate references for the
unsupported ones is pure Python, sentence by sentence: about three quarters of ``citeflow
check``'s time on a long manuscript. A sentence is judged in its section alone (its
neighbours and its heading; see :func:`~citeflow.claims.detect.claim_sections`) and a
claim's candidates depend on its sentence and paragraph alone, so the sections can be shared
out. :meth:`ClaimsInTwo.start` forks the process once everything both parts read is ready
(the manuscript parsed, its citations and placeholders found, the model and the
bibliography loaded: nothing is imported or read again), before the rules run; the child
judges the later sections and ranks their claims' candidates while the parent runs the
rules that come before the claim rules, then judges the earlier sections when CF301 asks
for the claims (:meth:`ClaimsInTwo.finish`); the child sends back plain data (where each
claim sentence is, its cue, the model's features, the candidates) from which the parent
makes the same objects it would have made itself.

Forked only on Linux, with two processes allowed (``CITEFLOW_ANALYSIS_PROCESSES``, see
:mod:`citeflow.claims.worker`; 1 keeps one process), when this process runs no other Python
thread (a fork copies only the thread that forks: a lock another one held would stay held
in the child; threads of compiled libraries are not counted, see :func:`can_fork`) and
leaves SIGCHLD alone, for a manuscript with at least :data:`PARALLEL_CHARACTERS`
characters of prose in more than one section (reference lists are not judged, so not
counted). When the child fails in any way (an error, a crash, a signal, no answer within
:data:`CHILD_TIMEOUT`), its sections are judged here: slower, never different. The child
never outlives this process: it is killed when the parent ends however that ends, when the
parent's own work fails, and an interrupt is held back while the fork happens.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import threading
import time
import warnings
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..claims.detect import Claim, Cue, Sentence, claim_sections
from ..claims.model import Verdict, default_model
from ..claims.suggestion import Suggestion
from ..claims.worker import processes
from ..document.citations import Citation
from ..document.manuscript import Block

#: Manuscripts with less prose than this are judged in one process: forking and sending
#: the claims back cost about what judging some thirty thousand characters takes, and below
#: this size the time saved is too little for a second process of some hundred megabytes.
PARALLEL_CHARACTERS = 200_000
#: The share of the work (:func:`cut_at`) the child does: it also sends its claims back,
#: the parent meanwhile runs the other rules.
CHILD_SHARE = 0.5
#: Ranking the candidates of an unsupported claim takes about as long as judging this many
#: characters of prose.
RANKING_CHARACTERS = 200
#: The longest the child may take before its sections are judged here instead (seconds).
CHILD_TIMEOUT = 600.0
#: The rules that report unsupported claims, with candidates.
CLAIM_CODES = ("CF301", "CF302", "CF303")
#: prctl's PR_SET_PDEATHSIG (linux/prctl.h): a signal for the child when its parent ends.
_PR_SET_PDEATHSIG = 1


def can_fork() -> bool:
    """Whether this process may judge claims in two: Linux, two processes allowed, no
    Python thread but this one, and the end of a child left to this code (a program that
    ignores or collects its children itself through SIGCHLD would take it away).

    Threads of compiled libraries (numpy's, or Typst's after a render) are not counted: the
    child runs only the check's Python code and numpy, never the code such a thread runs,
    and the C library's allocator is made safe across a fork by the C library itself."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork") and processes() >= 2
            and threading.active_count() == 1
            and signal.getsignal(signal.SIGCHLD) == signal.SIG_DFL)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold back SIGINT (Ctrl-C) for the duration: a fork and the keeping of its process
    number happen together or not at all. An interrupt that came meanwhile is passed on at
    the end, as the handler in place before would have taken it.

    The signal is caught by a handler that notes it rather than blocked: a signal sent to
    the process may be given to any of its threads (numpy keeps some), so blocking it in
    this one would not hold it back."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is None):  # pragma: no cover - a handler set in C
        yield  # (it could not be put back)
        return
    came: list[int] = []
    before = signal.signal(signal.SIGINT, lambda number, frame: came.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
        if came:
            if callable(before):
                before(signal.SIGINT, None)
            elif before == signal.SIG_DFL:  # pragma: no cover - a program that chose it
                os.kill(os.getpid(), signal.SIGINT)


def cut_at(sizes: Sequence[float], share: float = CHILD_SHARE) -> int | None:
    """The first section the child judges: the section boundary nearest to leaving it
    ``share`` of the work (``sizes``, one number per section); None when there is no
    boundary with work on both sides."""
    total = sum(sizes)
    target = total * (1 - share)
    best: int | None = None
    distance = float("inf")
    before = 0.0
    for index, size in enumerate(sizes):
        if 0 < before < total and abs(before - target) < distance:
            best, distance = index, abs(before - target)
        before += size
    return best


def _work(sections: Sequence[tuple[str, Sequence[Block]]], citations: Sequence[Citation],
          ranked: bool) -> list[float]:
    """An estimate of the work of judging each section: its characters of prose and, when
    candidates are ranked, :data:`RANKING_CHARACTERS` for each sentence that cites nothing
    (sentences counted by their full stops)."""
    groups = sorted({citation.bracket_start for citation in citations})
    result = []
    for _, blocks in sections:
        work = 0.0
        for block in blocks:
            work += len(block.content)
            if ranked:
                cited = bisect_left(groups, block.end) - bisect_left(groups, block.start)
                work += RANKING_CHARACTERS * max(0, block.content.count(". ") + 1 - cited)
        result.append(work)
    return result


class ClaimsInTwo:
    """The claims of a manuscript being judged in two processes: :meth:`start` forks, the
    child judging the later sections at once; :meth:`finish` judges the earlier ones here and
    puts the two together; :meth:`abandon` ends the child when the claims are not wanted
    after all (an error in between)."""

    def __init__(self, ctx, cut: int, pid: int, read: int) -> None:
        self.ctx, self.cut, self.pid, self.read = ctx, cut, pid, read
        self.ended = False  # the pipe closed and the child collected (once, whatever happens)

    @classmethod
    def start(cls, ctx, keep: Callable[[ClaimsInTwo], None]) -> None:
        """Fork for ``ctx``'s manuscript if it is judged in two (see the module's
        documentation), handing the running split to ``keep``: an interrupt (Ctrl-C) is
        held back from the fork until ``keep`` has it, so that no child is left unknown."""
        sections = claim_sections(ctx.manuscript)
        if sum(len(block.content) for _, blocks in sections for block in blocks) < PARALLEL_CHARACTERS:
            return
        if not can_fork():
            return
        # what both parts read, made before the fork so that neither makes it again (the
        # candidate ranking only if a rule will show candidates, as in one process)
        settings = ctx.settings
        ranked = settings.suggest and any(settings.enabled(code) for code in CLAIM_CODES)
        ctx.citations, ctx.placeholders, ctx.cues  # noqa: B018
        if ranked:
            ranked = ctx.suggester is not None
        default_model()
        cut = cut_at(_work(sections, ctx.citations, ranked=ranked))
        if cut is None:
            return
        parent = os.getpid()
        with interrupts_held():
            read, write = os.pipe()
            try:
                with warnings.catch_warnings():
                    # Python 3.12 on warns of any thread, numpy's too: see can_fork
                    warnings.simplefilter("ignore", DeprecationWarning)
                    pid = os.fork()
            except OSError:
                os.close(read)
                os.close(write)
                return
            if pid == 0:  # pragma: no cover - the child; its work is checked by its answer
                _child(ctx, slice(cut, None), read, write, parent)
            os.close(write)
            split = cls(ctx, cut, pid, read)
            try:
                keep(split)
            except BaseException:
                split.abandon()
                raise

    def finish(self) -> list[Claim]:
        """The claims of the whole manuscript, with the candidates of the unsupported ones
        ranked (:meth:`CheckContext.rank_claims`)."""
        if self.ended:
            raise RuntimeError("these claims were collected or abandoned already")
        ctx = self.ctx
        try:
            # this process's own part, the child's answer (an error here, or an interrupt,
            # ends the child too)
            head = ctx.claims_of(slice(0, self.cut))
            ctx.rank_claims(head)
            data = _answer(self.read)
            tail = _rebuilt(ctx, data) if data is not None else None
        finally:
            # a child that answered is ending meanwhile (the kill is then of no effect); one
            # that did not is stopped
            self.abandon()
        if tail is None:  # the child failed: its sections are judged here
            tail = ctx.claims_of(slice(self.cut, None))
        return head + tail

    def abandon(self) -> None:
        """Close the pipe and end and collect the child, once."""
        if not self.ended:
            self.ended = True
            try:
                os.close(self.read)
            finally:
                _end(self.pid)


def _child(ctx, sections: slice, read: int, write: int, parent: int) -> None:  # pragma: no cover
    """Judge ``sections``, rank their claims' candidates, write them to ``write`` as plain
    data and end the process (never returning into the parent's code; ended with the
    parent, however that ends)."""
    status = 1
    try:
        os.close(read)
        # the program's own signal handlers are its process's business, not the child's
        # (a SIGTERM handler that cleans up must not run twice): the child just ends
        for number in signal.valid_signals():
            if number == signal.SIGINT or callable(signal.getsignal(number)):
                signal.signal(number, signal.SIG_DFL)
        _end_with_parent(parent)
        claims = ctx.claims_of(sections)
        ctx.rank_claims(claims)
        data = pickle.dumps(_plain(ctx, claims), protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(len(data).to_bytes(8, "little") + data)  # its length first
        while view:
            view = view[os.write(write, view):]
        os.close(write)  # the answer is complete: the parent reads it without waiting for the exit
        status = 0
    finally:
        os._exit(status)


def _end_with_parent(parent: int) -> None:  # pragma: no cover - runs in the child
    """Have the kernel kill this process when its parent ends (a CI job cancelled, a
    terminal closed), and end now if the parent already has."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)



def _answer(read: int) -> bytes | None:
    """What the child wrote, if it wrote all of it (as long as it says it is) within
    :data:`CHILD_TIMEOUT`; else None (it failed before it answered or while it did, or it
    is late)."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + CHILD_TIMEOUT
    waiting = select.poll()
    waiting.register(read, select.POLLIN)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not waiting.poll(remaining * 1000):
            return None
        chunk = os.read(read, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    data = b"".join(chunks)
    if len(data) < 8 or int.from_bytes(data[:8], "little") != len(data) - 8:
        return None
    return data[8:]


def _end(pid: int) -> None:
    """Stop the child (of no effect on one that is ending) and collect it: no process is left
    behind. (A child collected elsewhere cannot be, and needs no more.)"""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:  # pragma: no cover - collected elsewhere
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # pragma: no cover - collected elsewhere
        pass


def _plain(ctx, claims: list[Claim]) -> list[tuple]:
    """The claims as plain data: blocks, citations and placeholders by their number, the
    model's verdict as its features (its weights are the parent's own), the candidates
    ranked for an unsupported claim. Repeated texts are sent once (interned, they are one
    object to pickle)."""
    blocks = {id(block): index for index, block in enumerate(ctx.manuscript.blocks)}
    citations = {id(citation): index for index, citation in enumerate(ctx.citations)}
    placeholders = {id(placeholder): index for index, placeholder in enumerate(ctx.placeholders)}
    intern = sys.intern
    rows = []
    for claim in claims:
        sentence, cue, verdict = claim.sentence, claim.cue, claim.verdict
        found = None
        if not claim.supported:
            found = ctx.ranked(claim.candidate_query)
            if found is not None:
                found = [(intern(s.key), s.score, tuple(map(intern, s.terms)), intern(s.label))
                         for s in found]
        rows.append((blocks[id(sentence.block)], sentence.start, sentence.end, sentence.cstart,
                     sentence.cend, intern(cue.kind), intern(cue.text), cue.start, cue.end,
                     [citations[id(c)] for c in claim.citations],
                     [placeholders[id(p)] for p in claim.placeholders], claim.probability,
                     None if verdict is None else tuple(map(intern, verdict.names)),
                     claim.threshold, found, claim.explained))
    return rows


def _rebuilt(ctx, data: bytes) -> list[Claim] | None:
    """The child's claims made from its plain data, its candidates added to ``ctx``'s; None
    if the data does not fit this manuscript."""
    try:
        rows = pickle.loads(data)  # written by this process's own fork, never read from a file
        blocks, citations, placeholders = ctx.manuscript.blocks, ctx.citations, ctx.placeholders
        weights = default_model().weights
        claims = []
        ranked = {}
        for (block, start, end, cstart, cend, kind, text, cue_start, cue_end, cited, held,
             probability, names, threshold, found, explained) in rows:
            owner = blocks[block]
            sentence = Sentence(owner.content[cstart:cend], start, end, owner, cstart, cend)
            # the weights of the features are looked up when they are read, as they would be
            verdict: Any = None if names is None else Verdict(probability, names, weights)
            claim = Claim(sentence, Cue(kind, text, cue_start, cue_end),
                          [citations[i] for i in cited], [placeholders[i] for i in held],
                          probability, verdict, threshold, explained)
            claims.append(claim)
            if found is not None:
                ranked[claim.candidate_query] = tuple(
                    Suggestion(key, score, terms, label) for key, score, terms, label in found)
    except Exception:
        return None
    ctx.add_ranked(ranked)
    return claims


__all__ = ["CHILD_SHARE", "CHILD_TIMEOUT", "CLAIM_CODES", "PARALLEL_CHARACTERS", "ClaimsInTwo",
           "can_fork", "cut_at", "interrupts_held"]
