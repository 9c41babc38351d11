"""Analysing a large bibliography in two processes gives what one process gives, and a
worker that cannot start or answers nonsense costs time, never a different result."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from citeflow.claims import suggest, worker
from citeflow.errors import CiteflowError

# Titles of the sample bibliography and pieces that test the round trip: accents, Greek,
# a lone surrogate (CSL-JSON may hold one), white space of several kinds, empty texts.
TEXTS = [
    "Dupilumab-associated arthritis and enthesitis: a review",
    "Two phase 3 trials of dupilumab versus placebo in atopic dermatitis",
    "Efficacy and safety of dupilumab in chronic rhinosinusitis with nasal polyps",
    "IL-4 and interleukin 13 in type 2 inflammation", "Arthralgia\u00a0after\tIL-17 blockade",
    "Éczéma et dermatite atopique", "α-blockers and β-agonists", "broken \ud800 text", "", "AD patients",
] * 40


@pytest.fixture
def split(monkeypatch):
    monkeypatch.setattr(worker, "PARALLEL_CHARACTERS", 100)  # these texts count as long
    monkeypatch.setenv("CITEFLOW_ANALYSIS_PROCESSES", "2")


def test_two_processes_analyse_as_one(split, monkeypatch):
    started = []
    real = worker._Worker
    monkeypatch.setattr(worker, "_Worker", lambda texts: started.append(len(texts)) or real(texts))
    assert worker.tokens_split(TEXTS, suggest.tokens_many) == suggest.tokens_many(TEXTS)
    assert started and 0 < started[0] < len(TEXTS)  # a worker took a part


@pytest.mark.parametrize("command", [["/nonexistent/python"],
                                     [sys.executable, "-c", "print('[1, 2]')"],
                                     [sys.executable, "-c", "import sys; sys.exit(3)"],
                                     [sys.executable, "-c", "print('not json')"]],
                         ids=["cannot start", "wrong answer", "fails", "not json"])
def test_a_failing_worker_changes_nothing_but_time(split, monkeypatch, command):
    monkeypatch.setattr(worker, "command", lambda: command)
    assert worker.tokens_split(TEXTS, suggest.tokens_many) == suggest.tokens_many(TEXTS)


def test_one_process_when_asked_or_when_short(monkeypatch):
    monkeypatch.setattr(worker, "_Worker", lambda texts: pytest.fail("a worker was started"))
    monkeypatch.setenv("CITEFLOW_ANALYSIS_PROCESSES", "1")
    monkeypatch.setattr(worker, "PARALLEL_CHARACTERS", 100)
    assert worker.tokens_split(TEXTS, suggest.tokens_many) == suggest.tokens_many(TEXTS)
    monkeypatch.setenv("CITEFLOW_ANALYSIS_PROCESSES", "2")
    monkeypatch.setattr(worker, "PARALLEL_CHARACTERS", 10**9)
    assert worker.tokens_split(TEXTS, suggest.tokens_many) == suggest.tokens_many(TEXTS)


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_wrong_process_count_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("CITEFLOW_ANALYSIS_PROCESSES", value)
    with pytest.raises(CiteflowError, match="CITEFLOW_ANALYSIS_PROCESSES must be a number"):
        worker.processes()


def test_a_frozen_application_analyses_in_one_process(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv("CITEFLOW_ANALYSIS_PROCESSES", "2")
    assert worker.processes() == 1


def test_the_worker_imports_the_citeflow_this_process_runs(tmp_path):
    """A checkout put on sys.path by a script, not installed: the worker finds the same code."""
    package_root = str(Path(worker.__file__).resolve().parent.parent.parent)
    env = worker.environment({"PYTHONPATH": str(tmp_path)})
    assert env["PYTHONPATH"].split(os.pathsep) == [package_root, str(tmp_path)]
    assert worker.environment({})["PYTHONPATH"] == package_root


def test_an_installed_citeflow_leaves_the_path_alone(monkeypatch, tmp_path):
    installed = tmp_path / "lib" / "site-packages" / "citeflow" / "claims"
    installed.mkdir(parents=True)
    monkeypatch.setattr(worker, "__file__", str(installed / "worker.py"))
    assert "PYTHONPATH" not in worker.environment({})
