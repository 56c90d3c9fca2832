"""SIGTERM (a cancelled CI job, `docker stop`) and SIGHUP (a closed terminal) get what Ctrl-C gets, with
real processes and real signals: no new call starts, what finished is recorded, the lock is released,
the exit code is 143 or 129 with a message, and the next run goes on from there. Before, SIGTERM left a
stale lock and every later run failed until force-unlock."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.generate import generate_stack, resource_count
from benchmarks.reliability import CLI, cli_env, cloud_ids, plan_is_empty, run_cli
from state import load_state
from state.journal import journal_path
from state.lock import read_holder
from tests.helpers import EXAMPLES, ROOT

TEMPLATES = 20
RESOURCES = resource_count(TEMPLATES)


@pytest.fixture(scope="module")
def stack_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_stack(tmp_path_factory.mktemp("generated") / "stack", TEMPLATES)


@pytest.fixture
def stack(stack_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(stack_template, tmp_path / "stack"))


def start(
    args: list[str], env: dict[str, str], out: Path, err: Path, **popen: object
) -> subprocess.Popen[bytes]:
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-c", CLI, *args], stdout=stdout, stderr=stderr, env=env, cwd=ROOT, **popen
        )  # type: ignore[call-overload, no-any-return]


def wait_for(path: Path, text: str, proc: subprocess.Popen[bytes]) -> bool:
    """Until `text` appears in the file or the process ends (polled; at most 120 s)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if text in path.read_text():
            return True
        if proc.poll() is not None:
            return text in path.read_text()
        time.sleep(0.01)
    return False


@pytest.mark.parametrize(
    ("signum", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP")]
)
def test_a_signal_during_apply_stops_records_releases_and_exits(
    stack: Path, tmp_path: Path, signum: int, code: int, name: str
) -> None:
    out, err = tmp_path / "out", tmp_path / "err"
    proc = start(["apply", "--auto-approve", "--parallelism", "2", str(stack)], cli_env(100), out, err)
    assert wait_for(err, "Creation complete", proc), err.read_text()
    proc.send_signal(signum)
    assert proc.wait(timeout=120) == code, err.read_text()
    said = err.read_text()
    assert f"{name} received: no new changes will start; waiting for those in flight..." in said
    assert "Interrupted." in said and "not started: interrupted" in said
    state = load_state(stack / "aibplan.state.json")
    assert state is not None and 0 < len(state.resources) < RESOURCES
    assert {r.arm_id.lower() for r in state.resources} == cloud_ids(stack)
    assert not journal_path(stack / ".aibplan").exists()
    assert read_holder(stack / ".aibplan") is None, "the lock is released"
    again = run_cli(stack, cli_env(0), "apply", "--auto-approve")
    assert again.returncode == 0, again.stderr
    assert len(cloud_ids(stack)) == RESOURCES and plan_is_empty(stack)


def test_sigterm_while_apply_asks_releases_the_lock(tmp_path: Path) -> None:
    root = Path(shutil.copytree(EXAMPLES / "quickstart", tmp_path / "quickstart"))
    out, err = tmp_path / "out", tmp_path / "err"
    proc = start(["apply", str(root)], cli_env(0), out, err, stdin=subprocess.PIPE)
    assert wait_for(out, "Enter a value:", proc), err.read_text()
    assert read_holder(root / ".aibplan") is not None, "apply holds the lock while it asks"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    assert proc.stdin is not None
    proc.stdin.close()
    assert "Terminated (SIGTERM)" in err.read_text() and "Traceback" not in err.read_text()
    assert read_holder(root / ".aibplan") is None and cloud_ids(root) == set()
    again = run_cli(root, cli_env(0), "apply", "--auto-approve")
    assert again.returncode == 0, again.stderr


def test_sigterm_during_run_stops_waiting_and_leaves_no_lock(tmp_path: Path) -> None:
    root = Path(shutil.copytree(EXAMPLES / "quickstart", tmp_path / "quickstart"))
    assert run_cli(root, cli_env(0), "apply", "--auto-approve").returncode == 0
    # The build's customizer hangs: it would run until its timeout.
    assert (
        run_cli(root, cli_env(0), "sim", "build-fail", "--hang", "imageTemplate.ubuntu2204").returncode == 0
    )
    out, err = tmp_path / "out", tmp_path / "err"
    proc = start(["run", str(root)], cli_env(0, {"AIBPLAN_LOCAL_BUILD_MINUTE_MS": "250"}), out, err)
    assert wait_for(err, "Customizing", proc), err.read_text()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143, err.read_text()
    said = err.read_text()
    assert "SIGTERM received: no new builds will start" in said
    assert "builds already started go on in the cloud; `aibplan cancel` stops them" in said
    assert "Running" in out.read_text()
    assert read_holder(root / ".aibplan") is None
    state = load_state(root / "aibplan.state.json")
    assert state is not None
    assert state.by_address["imageTemplate.ubuntu2204"].extra["last_run"]["run_state"] == "Running"


def test_a_second_sigterm_leaves_at_once_and_the_journal_settles_the_rest(
    stack: Path, tmp_path: Path
) -> None:
    out, err = tmp_path / "out", tmp_path / "err"
    proc = start(["apply", "--auto-approve", str(stack)], cli_env(400), out, err)
    assert wait_for(err, "Creating...", proc), err.read_text()
    proc.send_signal(signal.SIGTERM)
    assert wait_for(err, "SIGTERM received", proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    assert "Second interrupt: leaving now" in err.read_text()
    assert journal_path(stack / ".aibplan").exists(), "calls were in flight: the journal knows them"
    assert read_holder(stack / ".aibplan") is None, "leaving at once still releases the lock"
    again = run_cli(stack, cli_env(0), "apply", "--auto-approve")
    assert again.returncode == 0, again.stderr
    assert "its journal" in again.stderr and "was reconciled" in again.stderr
    assert len(cloud_ids(stack)) == RESOURCES and plan_is_empty(stack)
