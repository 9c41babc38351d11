"""The claims of a long manuscript judged in two processes are the claims, explanations and
candidate references one process finds; a child that fails, answers nonsense or hangs costs
time, never a different result; no fork beside another thread.

Each check runs in a process of its own (tests/parallel_driver.py), as ``citeflow check``
does: the test process may hold threads (a local HTTP server), beside which citeflow never
forks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from citeflow.checks import parallel

ROOT = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).parent / "parallel_driver.py"
# The sample project's manuscripts (with its bibliography: candidates are ranked) and a
# real review of many sections (data/manuscript/PROVENANCE.md).
SAMPLES = sorted((ROOT / "manuscripts").glob("*.md"))
META_REVIEW = Path(__file__).parent / "data" / "manuscript" / "meta-review_main-text.md"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")


def _seen(path: Path, length: str = "long", behaviour: str = "well", processes: str = "2") -> dict:
    """What a writer sees of a check of ``path`` run in its own process, how many forks it
    made, and that it left no process or file descriptor behind."""
    env = {**os.environ, "CITEFLOW_ANALYSIS_PROCESSES": processes}
    done = subprocess.run([sys.executable, str(DRIVER), str(path), length, behaviour],
                          capture_output=True, text=True, env=env, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["children_left"] == 0 and seen["descriptors_left"] == 0
    return seen


def _same(seen: dict, alone: dict) -> bool:
    return seen["findings"] == alone["findings"] and seen["claims"] == alone["claims"]


def _project(tmp_path: Path, check: str) -> Path:
    """The sample project's manuscript and bibliography with these ``[check]`` settings."""
    shutil.copytree(ROOT / "references", tmp_path / "references")
    (tmp_path / "manuscripts").mkdir()
    shutil.copy(ROOT / "manuscripts" / "dupixent-joint-pain.md", tmp_path / "manuscripts")
    (tmp_path / "citeflow.toml").write_text(
        'bibliography = ["references/dupilumab.bib"]\nmanuscripts = "manuscripts"\n'
        f"[check]\n{check}\n", encoding="utf-8")
    return tmp_path / "manuscripts" / "dupixent-joint-pain.md"


@pytest.fixture(scope="module")
def alone() -> dict:
    """Each manuscript checked in one process."""
    return {path: _seen(path, processes="1") for path in SAMPLES + [META_REVIEW]}


@pytest.mark.parametrize("path", SAMPLES + [META_REVIEW], ids=lambda p: p.name)
def test_two_processes_find_what_one_finds(path, alone):
    assert alone[path]["claims"] and alone[path]["forks"] == 0  # something to compare
    seen = _seen(path)
    assert seen["forks"] == 1  # the sections were shared out
    assert _same(seen, alone[path])


def test_candidates_ranked_in_the_child_are_the_ones_shown(alone):
    """The sample's unsupported claims in its later sections carry candidates from its
    bibliography, ranked by the child."""
    path = next(p for p in SAMPLES if "dupixent" in p.name)
    seen = _seen(path)
    late = seen["child_from_line"]
    assert late and any(f[0].startswith("CF30") and f[5] and f[1] >= late for f in seen["findings"])
    assert seen["forks"] == 1 and _same(seen, alone[path])
    # this process ranked only the earlier sections' claims
    assert 0 < seen["ranked_here"] < alone[path]["ranked_here"]


@pytest.mark.parametrize("check", ['select = ["CF301"]', 'ignore = ["CF3"]', "suggest = false",
                                   "claim_threshold = 0.35",
                                   'ignore = ["CF302"]\n[check.cues]\nattribution = ["it is well known"]'])
def test_settings_of_the_claim_rules_hold_in_both_processes(tmp_path, check):
    path = _project(tmp_path, check)
    alone, seen = _seen(path, processes="1"), _seen(path)
    assert seen["forks"] == 1 and _same(seen, alone)
    if check in ("suggest = false", 'ignore = ["CF3"]'):  # no candidates wanted: none ranked
        assert seen["ranked_here"] == 0


def test_a_reference_list_is_neither_judged_nor_counted_as_work(tmp_path):
    """The meta-review with a numbered reference list of its own at the end: the list is
    no claim in either process, and the child's share is prose."""
    entries = "\n".join(f"{n}. Author A, Writer B. A study of item {n}. J Med. 2019;{n}(2):1-9."
                        for n in range(1, 301))
    path = tmp_path / "paper.md"
    path.write_text(META_REVIEW.read_text(encoding="utf-8") + "\n\n## References\n\n" + entries + "\n",
                    encoding="utf-8")
    alone, seen = _seen(path, processes="1"), _seen(path)
    assert seen["forks"] == 1 and _same(seen, alone)
    assert not any("J Med." in claim[0] for claim in seen["claims"])
    assert seen["child_from_line"] < len(META_REVIEW.read_text(encoding="utf-8").splitlines())


def test_a_rule_that_fails_while_the_child_works_ends_the_child():
    seen = _seen(META_REVIEW, behaviour="rule-error")  # no process or descriptor left
    assert seen["error"] == "a rule fails" and seen["forks"] == 1


def test_the_child_ends_with_its_parent():
    """A CI job cancelled kills the checking process: its child does not run on."""
    env = {**os.environ, "CITEFLOW_ANALYSIS_PROCESSES": "2"}
    driver = subprocess.Popen([sys.executable, str(DRIVER), str(META_REVIEW), "long", "orphan"],
                              stdout=subprocess.PIPE, text=True, env=env)
    child = int(driver.stdout.readline())
    driver.kill()
    driver.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("behaviour", ["error", "misfit", "garbage", "hang"])
def test_a_failing_child_changes_nothing_but_time(alone, behaviour):
    seen = _seen(META_REVIEW, behaviour=behaviour)
    assert seen["forks"] == 1 and _same(seen, alone[META_REVIEW])


def test_the_programs_own_signal_handlers_never_run_in_the_child(tmp_path):
    """A program using citeflow cleans up on SIGTERM: the child, sent SIGTERM, just ends
    (its sections are judged here); the program's handler does not run in it."""
    path = tmp_path / "paper.md"
    shutil.copy(META_REVIEW, path)
    seen = _seen(path, behaviour="sigterm")
    assert seen["forks"] == 1 and _same(seen, _seen(path, processes="1"))
    assert not (tmp_path / "paper.md.cleaned-up").exists()


def test_no_fork_beside_another_thread_when_one_process_is_asked_or_children_are_reaped_elsewhere(alone):
    for seen in (_seen(META_REVIEW, behaviour="thread"), _seen(META_REVIEW, processes="1"),
                 _seen(META_REVIEW, behaviour="sigchld")):
        assert seen["forks"] == 0 and _same(seen, alone[META_REVIEW])


def test_a_short_manuscript_or_one_section_is_judged_in_one_process(tmp_path):
    shutil.copy(META_REVIEW, tmp_path / "paper.md")
    assert _seen(tmp_path / "paper.md", length="short")["forks"] == 0
    text = META_REVIEW.read_text(encoding="utf-8")
    (tmp_path / "flat.md").write_text("\n".join(line for line in text.splitlines()
                                                if not line.startswith("#")), encoding="utf-8")
    assert _seen(tmp_path / "flat.md")["forks"] == 0


@pytest.mark.parametrize(("sizes", "cut"), [([10, 0, 10], 1), ([0, 10, 10], 2), ([5], None),
                                            ([0, 10], None), ([10, 0], None), ([1, 1, 1, 7], 3),
                                            ([], None), ([4, 3, 3], 1)])
def test_the_cut_leaves_the_child_about_its_share_of_the_work(sizes, cut):
    assert parallel.cut_at(sizes, share=0.5) == cut


def test_an_interrupt_during_the_fork_comes_after_it():
    """Ctrl-C while the fork happens is raised once the child is recorded, by the handler
    the program had; the handler is put back."""
    handler = signal.getsignal(signal.SIGINT)
    reached = False
    with pytest.raises(KeyboardInterrupt), parallel.interrupts_held():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # held back: nothing is raised here
        reached = True
    assert reached and signal.getsignal(signal.SIGINT) is handler
    with parallel.interrupts_held():  # nothing came: nothing is raised
        pass
