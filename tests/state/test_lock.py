"""The state lock with real files and real processes: one holder, a readable holder, stale locks, timeouts."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from state.lock import LockError, acquire, force_unlock, is_held, read_holder

HOLD = """
import sys, time
from pathlib import Path
from state.lock import acquire
lock = acquire(Path(sys.argv[1]), "apply")
print(lock.info.id, flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold_in_process(runtime: Path, seconds: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(runtime), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent.parent,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def test_second_writer_fails_fast_showing_the_holder(tmp_path: Path) -> None:
    with acquire(tmp_path, "apply") as held:
        with pytest.raises(LockError) as caught:
            acquire(tmp_path, "destroy")
        message = str(caught.value)
        assert held.info.id in message and f"Process: {os.getpid()}" in message
        assert "Operation: apply" in message and "--lock-timeout" in message
        assert is_held(tmp_path) == (True, held.info)
    assert is_held(tmp_path) == (False, None)
    assert read_holder(tmp_path) is None
    acquire(tmp_path, "apply").release()


def test_lock_timeout_waits_for_the_holder(tmp_path: Path) -> None:
    held = acquire(tmp_path, "apply")
    threading.Timer(0.3, held.release).start()
    waited: list[object] = []
    started = time.monotonic()
    with acquire(tmp_path, "apply", timeout=5, on_wait=waited.append):
        assert time.monotonic() - started >= 0.25
    assert waited and waited[0] == held.info


def test_lock_timeout_gives_up(tmp_path: Path) -> None:
    with acquire(tmp_path, "apply"), pytest.raises(LockError, match=r"after waiting 0\.3s"):
        acquire(tmp_path, "apply", timeout=0.3)


def test_a_lock_left_by_a_killed_process_is_stale_and_force_unlock_clears_it(tmp_path: Path) -> None:
    proc, lock_id = hold_in_process(tmp_path, 60)
    with pytest.raises(LockError, match="locked by another aibplan"):
        acquire(tmp_path, "apply")
    with pytest.raises(LockError, match="held by a running process"):
        force_unlock(tmp_path, lock_id)
    proc.kill()
    proc.wait()
    assert proc.stdout is not None
    proc.stdout.close()
    with pytest.raises(LockError) as caught:
        acquire(tmp_path, "apply")
    assert caught.value.stale
    assert f"aibplan force-unlock {lock_id}" in str(caught.value)
    assert f"process {proc.pid} is no longer running on this host" in str(caught.value)
    with pytest.raises(LockError, match="does not match"):
        force_unlock(tmp_path, "not-the-id")
    assert force_unlock(tmp_path, lock_id).id == lock_id
    acquire(tmp_path, "apply").release()
    with pytest.raises(LockError, match="no lock to clear"):
        force_unlock(tmp_path, lock_id)
