"""Moving a whole state into a backend: push, pull, and migrating from one backend to another.

A push never replaces a state it should not: another stack's state (another lineage), a newer state
(a higher serial), or a state that went its own way at the same serial. Each refusal says what to do.
A push writes with the version it read (compare-and-swap), under the target's lock, so a writer that
slips in between is refused too.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import ResourceState, State
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
    """Raise PushRefused when `incoming` must not replace `current`.

    Each entry and each removal carries the serial at which it last changed: `incoming` is older when
    `current` holds a change it has not seen (a resource changed at a higher serial there, or one it
    never had at all), and went its own way when both changed a resource at the same serial, differently.
    """
    if current is None:
        return
    if current.lineage != incoming.lineage:
        raise PushRefused(
            f"the state at {where} belongs to another stack (lineage {current.lineage}); the state pushed is "
            f"lineage {incoming.lineage}. Check the backend's container and key; nothing was written"
        )
    theirs = _stamps(incoming)
    unseen: list[str] = []
    apart: list[str] = []
    for address, (serial, entry) in sorted(_stamps(current).items()):
        seen = theirs.get(address)
        if seen is None or seen[0] < serial:
            unseen.append(f"{address} at serial {serial}")
        elif seen[0] == serial and not _same(entry, seen[1]):
            apart.append(address)
    if unseen:
        shown = ", ".join(unseen[:5]) + (f" and {len(unseen) - 5} more" if len(unseen) > 5 else "")
        raise PushRefused(
            f"the state at {where} is newer (serial {current.serial}) than the state pushed (serial "
            f"{incoming.serial}): it holds changes the state pushed has not seen ({shown}); pull it first "
            "(aibplan state pull) and apply again. Nothing was written"
        )
    if apart:
        raise PushRefused(
            f"the state at {where} and the state pushed both changed {', '.join(apart[:5])} at the same "
            "serial, differently: they were changed apart. Pull the backend's state and run `aibplan plan` "
            "to see what differs; nothing was written"
        )


def _stamps(state: State) -> dict[str, tuple[int, ResourceState | None]]:
    """Each address the state knows, present or removed, with the serial at which it last changed."""
    known: dict[str, tuple[int, ResourceState | None]] = {a: (n, None) for a, n in state.removed.items()}
    known.update({r.address: (r.serial, r) for r in state.resources})
    return known


def _same(mine: ResourceState | None, theirs: ResourceState | None) -> bool:
    if mine is None or theirs is None:
        return mine is theirs
    return mine.same_content(theirs)


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
