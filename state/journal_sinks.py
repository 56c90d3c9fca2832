"""Where an apply's journal lines and state writes go: the `JournalSink` and `StateSaver` that
state.journaled.JournaledState writes through.

Two sinks:

- `FileJournal`, the `local` backend's fast path: `.aibplan/journal.jsonl` written with `pwrite` into
  space laid out ahead with zeros, made durable with `fdatasync` (group commit: one sync covers every
  line written before it). A line costs a system call, a sync a flush of data only.
- `BackendJournal`, any other backend (`azureblob`): lines are buffered and a sync sends them with one
  `journal_append` (an append block), so group commit becomes one request per batch of lines; a reset
  is `journal_reset`, whole in one step. Before sending, it checks that the lock is still held: a run
  that lost its lock writes nothing more.

A `StateSaver` writes the state itself (compare-and-swap over a backend: state.backends.session), and
`FileSaver` is the plain file with its backup, for callers that hold no backend (tests, benchmarks).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from .journal import remove_journal
from .model import State
from .store import fsync_dir, save_state

# How far ahead of its lines the journal file is laid out with zeros.
_LAYOUT_CHUNK = 1 << 16


class JournalSink(Protocol):
    """Where the journal's lines go. `add` is called under the journal's lock and must be quick; `sync`
    makes every line added so far durable; the calls to `sync` and `reset` never overlap."""

    def reset(self, content: bytes) -> None:
        """Replace the journal by `content` whole (the header and the lines carried over)."""
        ...

    def add(self, line: bytes) -> None: ...

    def sync(self) -> None: ...

    def remove(self) -> None:
        """Delete the journal: everything in it is in the state."""
        ...

    def close(self) -> None:
        """Let go of open files; the journal stays for the next command (the process is leaving)."""
        ...


class StateSaver(Protocol):
    """Writes the state during an apply."""

    @property
    def name(self) -> str:
        """The state's name for the journal's header (the file or blob name)."""
        ...

    def save(self, state: State, previous: State | None, *, keep_previous: bool) -> State:
        """Write `state` when it differs from `previous`; the state as stored (`previous` when equal)."""
        ...


class FileJournal:
    """The journal as a local file, written with pwrite and synced with fdatasync."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._offset = 0
        self._laid_out = 0

    def reset(self, content: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY)
        self._offset = self._laid_out = os.fstat(self._fd).st_size

    def add(self, line: bytes) -> None:
        assert self._fd is not None, "reset starts the journal"
        if self._offset + len(line) > self._laid_out:
            self._lay_out(len(line))
        os.pwrite(self._fd, line, self._offset)
        self._offset += len(line)

    def sync(self) -> None:
        fd = self._fd
        if fd is not None:
            getattr(os, "fdatasync", os.fsync)(fd)

    def _lay_out(self, needed: int) -> None:
        """Write zeros ahead of the lines to come, so that syncing a line later flushes only data, not the
        file's size and extents (a cheaper fdatasync: it runs once per provider call). Readers stop at the
        zeros."""
        assert self._fd is not None
        # Small at first (a small apply should not write a megabyte of zeros), doubling as the file grows.
        size = max(_LAYOUT_CHUNK, self._laid_out, needed)
        os.pwrite(self._fd, bytes(size), self._laid_out)
        os.fsync(self._fd)
        self._laid_out += size

    def remove(self) -> None:
        self.close()
        remove_journal(self.path)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


class JournalStore(Protocol):
    """The journal calls of a state backend (state.backends.base.StateBackend has them)."""

    def journal_reset(self, content: bytes) -> None: ...

    def journal_append(self, lines: bytes) -> None: ...

    def journal_remove(self) -> None: ...


class BackendJournal:
    """The journal through a backend's journal calls: lines buffered, sent together at each sync.

    `check` is called before anything is sent (the held lock's check): once the lock is lost, the sync
    raises and no further provider call is made.
    """

    def __init__(self, store: JournalStore, check: Callable[[], None] = lambda: None) -> None:
        self._store = store
        self._check = check
        self._buffer: list[bytes] = []
        self._guard = threading.Lock()

    def reset(self, content: bytes) -> None:
        self._check()
        with self._guard:
            self._buffer.clear()
        self._store.journal_reset(content)

    def add(self, line: bytes) -> None:
        with self._guard:
            self._buffer.append(line)

    def sync(self) -> None:
        with self._guard:
            lines, self._buffer = self._buffer, []
        if lines:
            self._check()
            self._store.journal_append(b"".join(lines))

    def remove(self) -> None:
        with self._guard:
            self._buffer.clear()
        self._store.journal_remove()

    def close(self) -> None:
        with self._guard:
            self._buffer.clear()


class FileSaver:
    """The state as a plain file (state.store.save_state): for callers without a backend."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def name(self) -> str:
        return self.path.name

    def save(self, state: State, previous: State | None, *, keep_previous: bool) -> State:
        return save_state(self.path, state, previous, backup=keep_previous)
