"""One read-ahead case run in a fresh process (`python -m tests.state.backends.read_ahead_probe CASE ROOT
[OTHER]`), printing what it saw as JSON: a test runner's process may hold threads other tests left, and
a read ahead is never started beside a thread."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

from state.backends.local import LocalBackend
from state.backends.read_ahead import ReadAhead, read_state
from state.backends.session import Session


def _backend(root: Path) -> LocalBackend:
    return LocalBackend(root / "aibplan.state.json", root / ".aibplan")


def _start(root: Path) -> ReadAhead:
    ahead = ReadAhead.start(root / "aibplan.state.json", root / ".aibplan")
    if ahead is None:
        raise SystemExit("no child was started")
    return ahead


def _finished(pid: int) -> None:
    """Until the child has finished, leaving it for `take` to reap."""
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


def _gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _replace(path: Path) -> None:
    """A writer's atomic replace: another file in its place, its text the same."""
    copy = path.with_name("state.tmp")
    shutil.copyfile(path, copy)
    os.replace(copy, path)


def probe(case: str, root: Path, other: Path | None) -> dict[str, Any]:
    here = read_state(_backend(root))
    if case == "same":
        ahead, backend = _start(root), _backend(root)
        read = ahead.take(backend)
        assert read is not None
        return {
            "stored": read.stored == here.stored,
            "known": read.known == here.known,
            "state": read.state == here.state,
            "resources": len(read.state.resources) if read.state else None,
            "adopted": backend.known == here.known,
            "reaped": _gone(ahead.pid),
        }
    if case == "session":
        session = Session(_backend(root), _start(root))
        state = session.read()
        return {"state": state == here.state, "text": session.text == here.stored.text}
    if case == "replaced":
        ahead = _start(root)
        _finished(ahead.pid)
        _replace(root / "aibplan.state.json")
        taken = ahead.take(_backend(root))
        session = Session(_backend(root), _start(root))
        _replace(root / "aibplan.state.json")
        return {
            "taken": taken is not None,
            "reaped": _gone(ahead.pid),
            "session": session.read() == read_state(_backend(root)).state,
        }
    if case == "created":  # ROOT has no state file; OTHER's is copied in after the child looked
        ahead = _start(root)
        _finished(ahead.pid)
        assert other is not None
        shutil.copyfile(other / "aibplan.state.json", root / "aibplan.state.json")
        return {"taken": ahead.take(_backend(root)) is not None}
    if case == "none":
        read = _start(root).take(_backend(root))
        assert read is not None
        return {"taken": True, "state": read.state, "text": read.stored.text}
    if case == "killed":
        ahead = _start(root)
        os.kill(ahead.pid, signal.SIGKILL)
        return {"taken": ahead.take(_backend(root)) is not None, "reaped": _gone(ahead.pid)}
    if case == "other":
        assert other is not None
        ahead = _start(root)
        return {"taken": ahead.take(_backend(other)) is not None, "reaped": _gone(ahead.pid)}
    if case == "close":
        ahead = _start(root)
        ahead.close()
        reaped = _gone(ahead.pid)
        ahead.close()
        return {"reaped": reaped, "taken": ahead.take(_backend(root)) is not None}
    raise SystemExit(f"unknown case {case}")


if __name__ == "__main__":
    case, root, *rest = sys.argv[1:]
    print(json.dumps(probe(case, Path(root), Path(rest[0]) if rest else None)))
