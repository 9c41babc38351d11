"""Run a check in a process of its own (as ``citeflow check`` runs) and print what a writer
sees of it as JSON, with the forks it made, the processes and file descriptors it left:
the process a test runs in may hold threads of its own (a local HTTP server), beside which
citeflow never forks.

    python tests/parallel_driver.py PATH [long|short] [BEHAVIOUR]

BEHAVIOUR: well, error, misfit, garbage, hang (the child fails in that way), thread
(another thread runs), sigchld (SIGCHLD ignored), sigterm (the program handles SIGTERM by
writing PATH.cleaned-up; the child is sent SIGTERM), rule-error (a rule fails while the
child works), orphan (the child waits forever; its process number is printed first).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

from citeflow.checks import parallel
from citeflow.checks.engine import check_manuscript, load_rules
from citeflow.claims.detect import claim_sections
from citeflow.claims.suggest import Suggester
from citeflow.errors import CiteflowError


def _children() -> int:
    """How many child processes this one has left (not collected)."""
    me = os.getpid()  # the main thread's task: the one that forks
    with open(f"/proc/{me}/task/{me}/children", encoding="ascii") as handle:
        return len(handle.read().split())


def main(path: str, length: str, behaviour: str) -> None:
    parallel.PARALLEL_CHARACTERS = 0 if length == "long" else 10**12
    forks = []
    real_fork = os.fork

    def fork():
        forks.append(os.getpid())
        pid = real_fork()
        if pid and behaviour == "orphan":
            print(pid, flush=True)
        return pid

    parallel.os.fork = fork  # type: ignore[attr-defined]
    cuts = []
    real_cut = parallel.cut_at
    parallel.cut_at = lambda sizes, *args: cuts.append(real_cut(sizes, *args)) or cuts[-1]
    real_plain = parallel._plain
    if behaviour == "error":
        def plain(ctx, claims):
            raise RuntimeError("the child fails")
        parallel._plain = plain
    elif behaviour == "misfit":  # claims in a block the manuscript does not have
        def plain(ctx, claims):
            return [(10**6,) + row[1:] for row in real_plain(ctx, claims)]
        parallel._plain = plain
    elif behaviour == "garbage":
        parallel._plain = lambda ctx, claims: "not the rows"
    elif behaviour == "hang":
        parallel.CHILD_TIMEOUT = 0.5
        parallel._plain = lambda ctx, claims: time.sleep(120)
    elif behaviour == "orphan":
        parallel._plain = lambda ctx, claims: time.sleep(600)
    elif behaviour == "sigterm":  # the program's handler; the child is sent SIGTERM
        def cleanup(number, frame):
            with open(path + ".cleaned-up", "a", encoding="utf-8") as marker:
                marker.write(f"{os.getpid()}\n")
        signal.signal(signal.SIGTERM, cleanup)

        def plain(ctx, claims):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
            return real_plain(ctx, claims)
        parallel._plain = plain
    elif behaviour == "sigchld":
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    elif behaviour == "rule-error":
        def failing(ctx):
            time.sleep(0.2)  # the child is at work
            raise CiteflowError("a rule fails")
        rule = load_rules()["CF101"]
        object.__setattr__(rule, "run", failing)
    ranked_here = []  # queries whose candidates this process ranked
    me = os.getpid()
    real_many = Suggester.confident_many

    def confident_many(self, queries, k=3):
        if os.getpid() == me:
            ranked_here.extend(queries)
        return real_many(self, queries, k)

    Suggester.confident_many = confident_many  # type: ignore[method-assign]
    stop = threading.Event()
    if behaviour == "thread":
        threading.Thread(target=stop.wait).start()
    descriptors = len(os.listdir("/proc/self/fd"))
    seen: dict = {"forks": 0}
    try:
        result = check_manuscript(path)
    except CiteflowError as error:
        seen["error"] = str(error)
    else:
        seen["findings"] = [[f.code, f.line, f.column, f.message, f.explanation,
                             [[s.key, s.score, list(s.terms), s.label] for s in f.suggestions or []]]
                            for f in result.findings]
        seen["claims"] = [[c.text, c.start, c.end, c.probability, str(c.cue), c.explanation(),
                           c.keys, c.supported] for c in result.claims]
        if cuts and cuts[-1] is not None:  # the line where the child's sections begin
            first = claim_sections(result.manuscript)[cuts[-1]][1]
            seen["child_from_line"] = result.manuscript.line_col(first[0].start)[0]
    finally:
        stop.set()
    seen.update(forks=len(forks), ranked_here=len(ranked_here), children_left=_children(),
                descriptors_left=len(os.listdir("/proc/self/fd")) - descriptors)
    print(json.dumps(seen))


if __name__ == "__main__":
    main(*sys.argv[1:4])
