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
import subprocess
import sys
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
    """What a writer sees of a check of ``path`` run in its own process, and how many forks
    it made."""
    env = {**os.environ, "CITEFLOW_ANALYSIS_PROCESSES": processes}
    done = subprocess.run([sys.executable, str(DRIVER), str(path), length, behaviour],
                          capture_output=True, text=True, env=env, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _same(seen: dict, alone: dict) -> bool:
    return seen["findings"] == alone["findings"] and seen["claims"] == alone["claims"]


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


@pytest.mark.parametrize("behaviour", ["error", "misfit", "garbage", "hang"])
def test_a_failing_child_changes_nothing_but_time(alone, behaviour):
    seen = _seen(META_REVIEW, behaviour=behaviour)
    assert seen["forks"] == 1 and _same(seen, alone[META_REVIEW])


def test_no_fork_beside_another_thread_or_when_one_process_is_asked(alone):
    for seen in (_seen(META_REVIEW, behaviour="thread"), _seen(META_REVIEW, processes="1")):
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
