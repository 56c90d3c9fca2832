"""The state's build records: build facts written into the state entries' `extra` as builds start and end."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from state import State, StateError, load_state, save_state
from state.redact import redact

from ..diagnostics import EngineError
from .outcome import BuildTarget
from .record import RunOutput, RunStatus, updated_extra


class StateFile(Protocol):
    """Where the build records go: the state as stored now, and a save of a changed one
    (execution.state_access.StackState is one; `StateAt` is a plain file)."""

    def load(self) -> State | None: ...

    def save(self, state: State, previous: State | None) -> State: ...


class StateAt:
    """A state file at a path, as a StateFile."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> State | None:
        try:
            return load_state(self.path)
        except StateError:
            return None

    def save(self, state: State, previous: State | None) -> State:
        return save_state(self.path, state, previous)


class BuildRecorder:
    """Writes build facts into the state entries' `extra` as builds start and end (thread-safe).

    A build can outlast other commands (an apply in another terminal), so each write reads the state
    file afresh and changes only the build facts of one entry; the file on disk wins for everything else.
    """

    def __init__(
        self,
        where: StateFile | Path,
        state: State,
        previous: State | None,
        *,
        guard: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> None:
        self._where = StateAt(where) if isinstance(where, Path) else where
        self.state = state
        self._previous = previous
        self._lock = threading.Lock()
        # Taken around each write (the state lock), unless the caller already holds it.
        self._guard = guard
        # Records that could not be written, said in a sentence each.
        self.missed: list[str] = []

    def record(self, target: BuildTarget, status: RunStatus, outputs: Sequence[RunOutput] | None) -> None:
        with self._lock:
            try:
                held = self._guard() if self._guard is not None else nullcontext()
            except Exception as exc:
                self.missed.append(
                    f"{target.address}: the build's {status.run_state} was not recorded in the state "
                    f"({exc}); "
                    "`aibplan output --refresh` records it later"
                )
                return
            with held:
                try:
                    self._write(target, status, outputs)
                except (EngineError, StateError) as exc:
                    self.missed.append(
                        f"{target.address}: the build's {status.run_state} was not recorded in the state "
                        f"({exc}); `aibplan output --refresh` records it later"
                    )

    def _write(self, target: BuildTarget, status: RunStatus, outputs: Sequence[RunOutput] | None) -> None:
        current = self._current()
        entry = current.get(target.address)
        if entry is None or entry.arm_id.lower() != target.ref.arm_id.lower():
            return
        # The service's words on a failure and the run outputs' URIs may carry a secret (a SAS token).
        extra = redact(updated_extra(entry.extra, status, outputs, target.fingerprint))
        if extra == dict(entry.extra):
            return
        written = self._where.save(current.with_resource(replace(entry, extra=extra)), current)
        self.state = written
        self._previous = written

    def _current(self) -> State:
        on_disk = self._where.load()
        if on_disk is None or on_disk.lineage != self.state.lineage:
            return self.state
        self._previous = on_disk
        return on_disk
