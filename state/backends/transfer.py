"""Moving a whole state into a backend: push, pull, and migrating from one backend to another.

A push never replaces a state it should not: another stack's state (another lineage), a newer state
(a higher serial), or a state that went its own way at the same serial. Each refusal says what to do.
A push writes with the version it read (compare-and-swap), under the target's lock, so a writer that
slips in between is refused too.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import State
from ..store import dumps_state, parse_state
from .base import BackendError, StateBackend


class PushRefused(BackendError):
    """The push would replace a state it must not replace."""


@dataclass(frozen=True)
class Pushed:
    """What a push did: `written` is False when the backend already held the same state."""

    written: bool
    serial: int
    where: str


def pull_state(backend: StateBackend) -> State | None:
    """The backend's state, or None when it holds none yet."""
    stored = backend.read()
    if stored.text is None:
        return None
    return parse_state(stored.text, stored.where)


def check_push(current: State | None, incoming: State, where: str) -> None:
    """Raise PushRefused when `incoming` must not replace `current`."""
    if current is None:
        return
    if current.lineage != incoming.lineage:
        raise PushRefused(
            f"the state at {where} belongs to another stack (lineage {current.lineage}); the state pushed is "
            f"lineage {incoming.lineage}. Check the backend's container and key; nothing was written"
        )
    if incoming.serial < current.serial:
        raise PushRefused(
            f"the state at {where} is newer (serial {current.serial}) than the state pushed (serial "
            f"{incoming.serial}); pull it first (aibplan state pull) and apply again. Nothing was written"
        )
    if incoming.serial == current.serial and not incoming.same_content(current):
        raise PushRefused(
            f"the state at {where} and the state pushed are both serial {current.serial} but differ: they "
            "were changed apart. Pull the backend's state and run `aibplan plan` to see what differs; "
            "nothing was written"
        )


def push_state(
    backend: StateBackend, state: State, *, force: bool = False, lock_timeout: float = 0.0
) -> Pushed:
    """Write `state` (with its own serial) to `backend` under its lock, after `check_push` unless `force`."""
    text = dumps_state(state)
    with backend.lock("state push", timeout=lock_timeout) as held:
        stored = backend.read()
        current = parse_state(stored.text, stored.where) if stored.text is not None else None
        if current is not None and stored.text == text:
            return Pushed(False, state.serial, stored.where)
        if not force:
            check_push(current, state, stored.where)
        held.check()
        backend.write(text, stored.version, keep_previous=True)
    return Pushed(True, state.serial, stored.where)


def migrate_state(source: StateBackend, target: StateBackend, *, lock_timeout: float = 0.0) -> Pushed:
    """Copy the state from `source` to `target`, both locked; refuses to overwrite a newer or another
    stack's state in `target`, and a source whose last run left a journal (reconcile it first)."""
    with source.lock("state migrate", timeout=lock_timeout):
        if source.journal_read() is not None:
            raise PushRefused(
                f"{source.where()} has the journal of a run that stopped before it finished; run "
                "`aibplan plan` or `aibplan apply` on it first so the journal is reconciled, then migrate"
            )
        state = pull_state(source)
        if state is None:
            raise PushRefused(f"there is no state at {source.where()} to migrate")
        return push_state(target, state, lock_timeout=lock_timeout)
