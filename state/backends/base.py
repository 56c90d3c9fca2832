"""What a state backend does, whatever holds the state: a file next to aibplan.json or a blob in Azure.

A backend keeps four things for one stack (one state):

- the state's text, read with a version token and written only if that version is still the current
  one (compare-and-swap), so two writers can never lose each other's update;
- the lock: one writer at a time, with a holder people can read (who, operation, since when, lock id),
  renewed while held where it can expire, and cleared by id with force-unlock;
- the apply journal (state.journal's line format), kept where any machine that takes the lock next can
  read it, so a run killed half way is reconciled from there;
- history: the previous state, kept when a writer asks for it.

Errors: `BackendError` (a StateError) for anything the backend cannot do, with one line saying what and
what to do; `StateChanged` (a BackendError) when a write names a version that is no longer current;
`state.lock.LockError` for the lock, carrying the holder.

The backend moves text and bytes only: the state was already redacted (state.redact) before it gets
here, and no backend writes a credential into a message, a log line or the state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..lock import LockInfo
from ..store import StateError

# A backend's lock holder, waiting: called once with the holder (None when it has not said who it is).
OnWait = Callable[[LockInfo | None], None]


class BackendError(StateError):
    """The backend cannot do what was asked; the message says what and what to do."""


class StateChanged(BackendError):
    """A write named a version of the state that is no longer the current one: someone wrote since."""


def changed_message(where: str, what: str) -> str:
    """StateChanged's message: the same words whatever the backend."""
    return (
        f"the state changed since it was read: {what} ({where}); nothing was written. "
        "Run the command again: it starts from the state as it is now."
    )


def journal_replaced_message(where: str) -> str:
    """An append found the journal replaced or removed by another run: it must not land anywhere."""
    return (
        f"the apply journal at {where} was replaced by another run while this one was writing it (was the "
        "lock cleared with force-unlock?); nothing more is written: stop, and run the command again"
    )


@dataclass(frozen=True)
class StoredState:
    """The state's text as a backend holds it, and the version a write must name to replace it.

    `text` and `version` are both None when there is no state yet; a write then names `None`, and
    fails if another writer created one meanwhile.
    """

    text: str | None
    version: str | None
    where: str


@dataclass(frozen=True)
class HistoryEntry:
    """One earlier state the backend kept: `id` reads it back with `read_history`."""

    id: str
    taken: str
    size: int
    serial: int | None = None


class HeldLock(Protocol):
    """A lock this process holds. Release it (or leave the `with` block) when the write is done."""

    @property
    def info(self) -> LockInfo:
        """Who holds it: this process."""
        ...

    @property
    def taken_over(self) -> LockInfo | None:
        """A holder that died without releasing the lock, whose lock ran out before this one took it:
        its journal is still there to reconcile."""
        ...

    def renew(self) -> None:
        """Keep the lock from running out (a blob lease is renewed by a thread; a flock never runs out)."""
        ...

    def check(self) -> None:
        """Raise LockError if the lock was lost (its lease broken by force-unlock or run out)."""
        ...

    def release(self) -> None:
        """Give the lock up; nothing happens the second time."""
        ...

    def __enter__(self) -> HeldLock: ...

    def __exit__(self, *exc: object) -> None: ...


class StateBackend(Protocol):
    """Where one stack's state, lock, journal and history live."""

    @property
    def kind(self) -> str:
        """`local` or `azureblob`."""
        ...

    def where(self) -> str:
        """Where the state is, for messages: a path or a URL without any credential."""
        ...

    # -- the state -------------------------------------------------------------------------------------

    def read(self) -> StoredState:
        """The state's text and its version token (both None when there is no state yet)."""
        ...

    def write(self, text: str, expected: str | None, *, keep_previous: bool = True) -> str:
        """Replace the state by `text` if its version is still `expected` (None: if there is still no
        state); returns the new version. Raises StateChanged otherwise: never a silent overwrite.
        `keep_previous` keeps the state being replaced in the history."""
        ...

    # -- the lock --------------------------------------------------------------------------------------

    def lock(self, operation: str, *, timeout: float = 0.0, on_wait: OnWait | None = None) -> HeldLock:
        """Take the write lock for `operation`, waiting up to `timeout` seconds for a holder to finish;
        LockError says who holds it (or that it is stale) and what to do."""
        ...

    def holder(self) -> LockInfo | None:
        """Who holds the lock now, without taking it (a reader's probe); None when nobody does."""
        ...

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Clear the lock with this id (its holder is gone); refuses another id. Returns who held it."""
        ...

    # -- the journal -----------------------------------------------------------------------------------

    def journal_read(self) -> str | None:
        """The journal's text (state.journal.parse_journal reads it); None when there is none."""
        ...

    def journal_reset(self, content: bytes) -> None:
        """Replace the journal by `content` (a header line and the lines carried over) in one step: a
        crash leaves the old journal or the new one, never a mix."""
        ...

    def journal_append(self, lines: bytes) -> None:
        """Add whole lines to the journal; they are durable when this returns."""
        ...

    def journal_remove(self) -> None:
        """Delete the journal (its calls are all in the state)."""
        ...

    # -- history ---------------------------------------------------------------------------------------

    def history(self) -> tuple[HistoryEntry, ...]:
        """The earlier states kept, newest first."""
        ...

    def read_history(self, entry_id: str) -> str:
        """The text of one earlier state."""
        ...

    def close(self) -> None:
        """Let go of connections (a held lock is released by its own `release`)."""
        ...
