"""The local state file read and parsed in a child process while this one does other work.

A plan made in full spends about a third of a second on parsing a state of 5,600 resources, and as long
again on loading and checking the stack, one after the other on one core. `ReadAhead.start` forks a
child that reads the state file and parses it (state.store.parse_state) while this process imports,
loads the stack and builds its graph; the child hands the parsed state back pickled (unpickling it
takes about a third of the time parsing does), in memory the two processes share only (a memfd on
Linux; elsewhere an unlinked temporary file only this user can read).

The read ahead is only ever a shortcut. `take` gives None, and the state is read here as before, when
anything differs from a plain read: the child failed (a malformed state says its error from the read
here, with the same words), was killed, or the file changed since the child read it (its inode, size or
times differ). No fork is made where it would not be safe or useful: without `os.fork`, with other
threads running (a fork copies only the calling thread); nor when the caller says not to
(planner.settings.read_ahead_allowed: `AIBPLAN_READ_AHEAD=0`).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..model import State
from ..store import parse_state
from .base import StoredState
from .local import LocalBackend

_LOG = logging.getLogger("aibplan.state")


@dataclass(frozen=True)
class ReadState:
    """What a read of the local state file found: the text, its version, the file's identity when read,
    and the state parsed (None when there is no state file)."""

    stored: StoredState
    known: tuple[tuple[int, ...], str] | None
    state: State | None


def read_state(backend: LocalBackend) -> ReadState:
    """The state file read and parsed, as `Session.read` does (StateError, BackendError)."""
    stored = backend.read()
    state = parse_state(stored.text, stored.where, digest=stored.version) if stored.text is not None else None
    return ReadState(stored, backend.known, state)


class ReadAhead:
    """A child process reading and parsing one local state file (see the module)."""

    def __init__(self, pid: int, handle: BinaryIO, state_path: Path) -> None:
        self.pid = pid
        self.state_path = state_path
        self._handle: BinaryIO | None = handle

    @classmethod
    def start(cls, state_path: Path, runtime_dir: Path) -> ReadAhead | None:
        """The child started, or None where no fork is made (the state is then read in this process)."""
        if not hasattr(os, "fork") or threading.active_count() > 1:
            return None
        try:
            handle = _scratch()
        except OSError:
            return None
        try:
            pid = os.fork()
        except OSError:
            handle.close()
            return None
        if pid == 0:  # pragma: no cover - the child: measured by its result, it never returns
            _child(handle, state_path, runtime_dir)
        return cls(pid, handle, state_path)

    def take(self, backend: LocalBackend) -> ReadState | None:
        """What the child read, for `backend` (the same file), when the file is still as it read it; None
        when the state must be read here. Waits for the child."""
        handle, self._handle = self._handle, None
        if handle is None:
            return None
        with handle:
            if backend.state_path != self.state_path:
                _stop(self.pid)
                return None
            if not _reap(self.pid):
                return None
            try:
                handle.seek(0)
                read: ReadState = pickle.loads(handle.read())
            except Exception:  # anything short or strange: read here instead
                return None
        if not backend.adopt(read.known):
            _LOG.info("state: the file changed after it was read ahead; reading it again")
            return None
        _LOG.info("state: read and parsed ahead, in process %d", self.pid)
        return read

    def close(self) -> None:
        """Stop the child if it still runs (safe to call more than once, and after `take`)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            _stop(self.pid)
            handle.close()


def _scratch() -> BinaryIO:
    """Where the child writes what it read: memory only (Linux), else an unlinked temporary file that
    only this user can read. It holds the state file's own content, which is committed to git."""
    if hasattr(os, "memfd_create"):
        return open(os.memfd_create("aibplan-state-read-ahead", os.MFD_CLOEXEC), "w+b")
    import tempfile

    return tempfile.TemporaryFile()


def _child(handle: BinaryIO, state_path: Path, runtime_dir: Path) -> None:  # pragma: no cover
    """Read, parse, write, leave: never back into the parent's code, never its exit handlers or buffers."""
    code = 1
    try:
        # Ctrl-C reaches the whole process group: the child just ends (the parent decides what happens).
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        gc.disable()  # a short life that frees nothing it makes
        read = read_state(LocalBackend(state_path, runtime_dir))
        pickle.dump(read, handle, protocol=pickle.HIGHEST_PROTOCOL)
        handle.flush()
        code = 0
    except BaseException:  # whatever went wrong, the parent reads the state itself
        code = 1
    finally:
        os._exit(code)


def _stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> bool:
    """Wait for the child; whether it ended well."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return False
    return os.waitstatus_to_exitcode(status) == 0
