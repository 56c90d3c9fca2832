"""The `aibplan` program leaves without tearing the interpreter down (planner.cli.run): nothing it wrote or
printed may be lost by that, and its exit code is the command's (docs/performance.md, "Start-up")."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import EXAMPLES
from tests.helpers.processes import aibplan, applied_example


def _copy(name: str, where: Path) -> Path:
    root = where / name
    shutil.copytree(EXAMPLES / name, root, ignore=shutil.ignore_patterns(".aibplan", "*.state.json*"))
    return root


def test_a_plan_through_a_pipe_is_printed_whole_and_its_saved_plan_is_complete(tmp_path: Path) -> None:
    root = _copy("quickstart", tmp_path)
    done = aibplan("plan", "--detailed-exitcode", "--out", "tfplan", ".", cwd=root)
    assert done.returncode == 2, done.stderr
    # The last lines of both streams: each was flushed before the process ended.
    assert done.stdout.splitlines()[-1] == "Plan: 7 to add, 0 to change, 0 to replace, 0 to destroy."
    assert done.stderr.splitlines()[-1].endswith("run: aibplan apply tfplan")
    shown = aibplan("show", "--json", "tfplan", cwd=root)
    assert shown.returncode == 0, shown.stderr
    assert len(json.loads(shown.stdout)["resource_changes"]) == 7


def test_exit_codes_and_the_state_written_by_an_apply_are_the_commands(tmp_path: Path) -> None:
    root = applied_example("quickstart", tmp_path)
    state = json.loads((root / "aibplan.state.json").read_text())
    assert len(state["resources"]) == 7
    no_op = aibplan("plan", "--detailed-exitcode", ".", cwd=root)
    assert no_op.returncode == 0, no_op.stderr
    assert "No changes." in no_op.stdout
    refused = aibplan("plan", "--no-such-option", ".", cwd=root)
    assert refused.returncode == 1
    assert "No such option" in refused.stderr


def test_exit_handlers_run_before_the_process_ends(tmp_path: Path) -> None:
    marker = tmp_path / "handled"
    program = (
        "import atexit, pathlib, sys\n"
        f"atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('ran'))\n"
        "from planner.cli import run\n"
        "run(prog_name='aibplan')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0
    assert done.stdout.startswith("aibplan, version")
    assert marker.read_text() == "ran"
