"""The state read ahead in a child process (state.backends.read_ahead): the same state as a read here, or
no read ahead at all; never a stale one, never a child left behind. Each case runs in a fresh process
(read_ahead_probe): no child is forked beside threads, and a test runner's process may hold some."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import generate_stack
from planner.settings import READ_AHEAD_ENV, read_ahead_allowed
from state.backends.read_ahead import ReadAhead
from tests.helpers import apply_root
from tests.helpers.processes import aibplan


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = generate_stack(tmp_path_factory.mktemp("read-ahead") / "stack", 10)
    apply_root(root)
    return root


@pytest.fixture
def stack(applied: Path, tmp_path: Path) -> Path:
    root = tmp_path / "stack"
    shutil.copytree(applied, root)
    return root


def _probe(case: str, root: Path, other: Path | None = None) -> dict[str, Any]:
    args = [sys.executable, "-m", "tests.state.backends.read_ahead_probe", case, str(root)]
    done = subprocess.run(
        [*args, *([str(other)] if other else [])], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_the_state_read_ahead_is_the_state_read_here(stack: Path) -> None:
    seen = _probe("same", stack)
    # One identity and its role assignment, a gallery with five definitions, ten templates.
    assert seen == {
        "stored": True,
        "known": True,
        "state": True,
        "resources": 2 + 1 + 5 + 10,
        "adopted": True,  # the backend knows the file as read: a write names its version
        "reaped": True,
    }


def test_a_session_reads_through_the_read_ahead_and_keeps_the_text(stack: Path) -> None:
    assert _probe("session", stack) == {"state": True, "text": True}


def test_a_state_file_replaced_after_the_child_read_it_is_read_again(stack: Path) -> None:
    assert _probe("replaced", stack) == {"taken": False, "reaped": True, "session": True}


def test_a_state_file_created_after_the_child_looked_is_read_here(stack: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / ".aibplan").mkdir(parents=True)
    assert _probe("created", empty, stack) == {"taken": False}


def test_no_state_file_is_read_ahead_as_none(tmp_path: Path) -> None:
    (tmp_path / ".aibplan").mkdir()
    assert _probe("none", tmp_path) == {"taken": True, "state": None, "text": None}


def test_a_child_killed_leaves_the_read_to_this_process(stack: Path) -> None:
    assert _probe("killed", stack) == {"taken": False, "reaped": True}


def test_a_read_ahead_of_another_file_is_not_taken(stack: Path, applied: Path) -> None:
    assert _probe("other", stack, applied) == {"taken": False, "reaped": True}


def test_close_stops_the_child_and_reaps_it(stack: Path) -> None:
    assert _probe("close", stack) == {"reaped": True, "taken": False}


def test_the_switch_turns_the_read_ahead_off() -> None:
    assert read_ahead_allowed({}) and read_ahead_allowed({READ_AHEAD_ENV: "1"})
    assert not read_ahead_allowed({READ_AHEAD_ENV: "0"})


def test_no_child_with_threads_running(applied: Path) -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert ReadAhead.start(applied / "aibplan.state.json", applied / ".aibplan") is None
    finally:
        release.set()
        thread.join()


def test_a_plan_reads_the_state_ahead_and_shows_the_same_plan(stack: Path) -> None:
    cache = stack / ".aibplan" / "plan-cache.json"
    runs = {}
    for switch in ("1", "0"):
        cache.unlink(missing_ok=True)
        runs[switch] = aibplan("plan", "-v", "--detailed-exitcode", cwd=stack, env={READ_AHEAD_ENV: switch})
    ahead, here = runs["1"], runs["0"]
    assert ahead.returncode == here.returncode == 0, ahead.stderr + here.stderr
    assert "state: read and parsed ahead, in process" in ahead.stderr
    assert "read and parsed ahead" not in here.stderr
    assert ahead.stdout == here.stdout


def test_a_malformed_state_says_the_same_error_read_ahead_or_not(stack: Path) -> None:
    path = stack / "aibplan.state.json"
    path.write_text(path.read_text(encoding="utf-8")[:-40], encoding="utf-8")
    runs = [aibplan("plan", cwd=stack, env={READ_AHEAD_ENV: switch}) for switch in ("1", "0")]
    assert runs[0].returncode == runs[1].returncode == 1
    assert "aibplan.state.json" in runs[0].stderr
    assert runs[0].stderr == runs[1].stderr


def test_drift_reads_the_state_ahead_and_reports_the_same(stack: Path) -> None:
    runs = {switch: aibplan("drift", "-v", cwd=stack, env={READ_AHEAD_ENV: switch}) for switch in ("1", "0")}
    assert runs["1"].returncode == runs["0"].returncode == 0, runs["1"].stderr + runs["0"].stderr
    assert "state: read and parsed ahead, in process" in runs["1"].stderr
    assert "read and parsed ahead" not in runs["0"].stderr
    assert runs["1"].stdout == runs["0"].stdout
    assert "No drift." in runs["1"].stdout
