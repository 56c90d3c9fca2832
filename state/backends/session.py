"""One command's work on a backend: every read remembers the version it saw, every write names it.

A `Session` is what the engine holds (planner.execution.state_access.StackState): the state read with its
version token, written only over that version (compare-and-swap: `StateChanged` when another writer came
in between, never a silent overwrite), the lock it took (checked before each write: a run whose lease
was broken or ran out writes nothing more), and the apply's journal, through the backend's journal calls
or, for the `local` backend, the file written with pwrite and fdatasync (state.journal_sinks).

Thread-safe: an apply's compactions, and the build records after it, write from other threads.
"""

from __future__ import annotations

import threading

from ..journal import journal_path, parse_journal
from ..journal_sinks import BackendJournal, FileJournal, JournalSink
from ..journaled import JournaledState
from ..lock import LockInfo
from ..model import State
from ..store import dumps_state, next_state, parse_state
from .base import HeldLock, OnWait, StateBackend
from .local import LocalBackend
from .read_ahead import ReadAhead, read_state


class Session:
    """A backend as one command uses it (see the module)."""

    def __init__(self, backend: StateBackend, ahead: ReadAhead | None = None) -> None:
        self.backend = backend
        # A child reading the state file meanwhile (state.backends.read_ahead): the first read takes it.
        self._ahead = ahead
        self.held: HeldLock | None = None
        self._version: str | None = None
        # The text of the state last read (the plan cache hashes it; parse_state does not keep it).
        self.text: str | None = None
        self._guard = threading.RLock()

    def where(self) -> str:
        return self.backend.where()

    # -- the state -------------------------------------------------------------------------------------

    def read(self) -> State | None:
        """The state as stored now (None: there is none yet); its version is what the next write names."""
        ahead, self._ahead = self._ahead, None
        if isinstance(self.backend, LocalBackend):
            read = ahead.take(self.backend) if ahead is not None else None
            if read is None:
                read = read_state(self.backend)
            stored, state = read.stored, read.state
        else:
            if ahead is not None:
                ahead.close()
            stored = self.backend.read()
            state = parse_state(stored.text, stored.where) if stored.text is not None else None
        with self._guard:
            self._version = stored.version
            self.text = stored.text
        return state

    def read_text(self) -> str | None:
        """The state's text as stored now, not parsed (None: there is none yet)."""
        stored = self.backend.read()
        with self._guard:
            self._version = stored.version
            self.text = stored.text
        return stored.text

    @property
    def name(self) -> str:
        """The state's name, for the journal's header."""
        return self.where().rsplit("/", 1)[-1]

    def save(self, state: State, previous: State | None, *, keep_previous: bool = True) -> State:
        """Write `state` over the version last read or written when its content differs from `previous`;
        the state as stored. StateChanged when another writer came in between; LockError when the lock
        this session holds was lost."""
        with self._guard:
            if previous is not None and self._version is not None and state.same_content(previous):
                return previous
            written = next_state(state, previous)
            self.check()
            text = dumps_state(written)
            self._version = self.backend.write(text, self._version, keep_previous=keep_previous)
            if isinstance(self.backend, LocalBackend):
                return written.with_digest(self._version)
            return written.stored_as(text)

    # -- the lock --------------------------------------------------------------------------------------

    def lock(self, operation: str, *, timeout: float = 0.0, on_wait: OnWait | None = None) -> HeldLock:
        held = self.backend.lock(operation, timeout=timeout, on_wait=on_wait)
        with self._guard:
            self.held = held
        return held

    def check(self) -> None:
        """LockError when the lock this session took was lost (nothing when it holds none)."""
        held = self.held
        if held is not None:
            held.check()

    def holder(self) -> LockInfo | None:
        return self.backend.holder()

    def force_unlock(self, lock_id: str) -> LockInfo:
        return self.backend.force_unlock(lock_id)

    # -- the journal -----------------------------------------------------------------------------------

    def journal_text(self) -> tuple[str | None, str]:
        """(the journal a stopped run left, or None; where it is, for messages)."""
        where = self._journal_where()
        return self.backend.journal_read(), where

    def journal_events(self) -> tuple[dict[str, object] | None, list[dict[str, object]], str]:
        """(header, events, where) of the journal a stopped run left ((None, [], where) when none)."""
        text, where = self.journal_text()
        if text is None:
            return None, [], where
        header, events = parse_journal(text, where)
        return header, events, where

    def remove_journal(self) -> None:
        self.backend.journal_remove()

    def journal(self, state: State, previous: State | None) -> JournaledState:
        """The journal an apply writes each call into, compacted into the state through this session."""
        sink: JournalSink
        if isinstance(self.backend, LocalBackend):
            sink = FileJournal(journal_path(self.backend.runtime_dir))
        else:
            sink = BackendJournal(self.backend, self.check)
        return JournaledState(sink, self, state, previous)

    def _journal_where(self) -> str:
        if isinstance(self.backend, LocalBackend):
            return str(journal_path(self.backend.runtime_dir))
        return f"{self.where()}.journal"

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.close()
            self._ahead = None
        self.backend.close()
