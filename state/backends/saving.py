"""The state file's read and save (state.store's `load_state` / `save_state`) over any backend.

`load` gives the state with the version it was read at; `save` writes a changed state with its serial
bumped, naming that version, and returns what to name next time. A save that changes nothing writes
nothing, as `save_state` does; a save after another writer's is refused (StateChanged).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import State
from ..store import dumps_state, next_state, parse_state
from .base import StateBackend


@dataclass(frozen=True)
class Loaded:
    """The state as a backend held it (None: no state yet) and the version a write must name."""

    state: State | None
    version: str | None
    where: str


def load(backend: StateBackend) -> Loaded:
    """The backend's state, parsed and upgraded (StateError says what is wrong with it)."""
    stored = backend.read()
    state = parse_state(stored.text, stored.where) if stored.text is not None else None
    return Loaded(state, stored.version, stored.where)


def save(backend: StateBackend, state: State, loaded: Loaded, *, keep_previous: bool = True) -> Loaded:
    """Write `state` over `loaded` if its content differs: serial bumped, compare-and-swap on the version
    it was loaded at. Returns the state as written and its version (`loaded` itself when unchanged)."""
    previous = loaded.state
    if previous is not None and state.same_content(previous):
        return loaded
    written = next_state(state, previous)
    text = dumps_state(written)
    version = backend.write(text, loaded.version, keep_previous=keep_previous)
    return Loaded(written.stored_as(text), version, loaded.where)
