"""The command line as a user meets it: every command is listed, errors are one line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from citeflow.cli import COMMAND_MODULES, main

COMMANDS = sorted(COMMAND_MODULES)


def test_help_lists_every_command():
    done = CliRunner().invoke(main, ["--help"])
    assert done.exit_code == 0
    listed = [line.split()[0] for line in done.output.split("Commands:")[1].splitlines()
              if line.strip()]
    assert listed == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command):
    done = CliRunner().invoke(main, [command, "--help"], prog_name="citeflow")
    assert done.exit_code == 0, done.output
    assert f"citeflow {command}" in done.output


def test_unknown_command_is_a_usage_error():
    done = CliRunner().invoke(main, ["publish"])
    assert done.exit_code == 2
    assert "No such command" in done.output


def test_error_is_one_line_and_debug_shows_the_traceback(tmp_path):
    missing = tmp_path / "absent.md"
    plain = subprocess.run([sys.executable, "-m", "citeflow", "check", str(missing)],
                           capture_output=True, text=True)
    assert plain.returncode == 2
    assert plain.stderr.strip().splitlines() == [f"citeflow: error: {missing}: manuscript not found"]
    debug = subprocess.run([sys.executable, "-m", "citeflow", "--debug", "render", str(missing)],
                           capture_output=True, text=True)
    assert debug.returncode != 0
    assert "Traceback" in debug.stderr and "CiteflowError" in debug.stderr
