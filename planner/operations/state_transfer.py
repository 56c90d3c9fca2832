"""`state pull`, `state push FILE` and `state migrate`: whole states moved between a file, the stack's
backend and another backend. state.backends.transfer makes the checks: a push or a migration never
replaces another stack's state, a newer one, or one that went its own way (unless a push is `--force`d).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from state import StateError
from state.backends import PushRefused, StateBackend, migrate_state, open_backend, push_state
from state.lock import LockError
from state.store import parse_state

from ..diagnostics import EngineError
from ..execution.state_access import StackState
from ..settings import other_backend
from ..stack.model import Stack
from .control import OperationError
from .workspace import settings_only

LOCAL = "local"
T = TypeVar("T")


@dataclass(frozen=True)
class PushRequest:
    """Replace the stack's state by the state in `file` (after the lineage and serial checks)."""

    root: Path
    file: Path
    force: bool = False
    lock_timeout: float = 0.0
    environment: str | None = None


@dataclass(frozen=True)
class MigrateRequest:
    """Copy the state between the stack's backend and `other` (`local`, or backend settings as a JSON
    object or a JSON file): from `other` into the stack's backend, or (`to_other`) the other way."""

    root: Path
    other: str
    to_other: bool = False
    lock_timeout: float = 0.0
    environment: str | None = None


@dataclass(frozen=True)
class StatePulled:
    """`state pull`: the state's text as its backend holds it, where it is, and whether a journal is left."""

    text: str
    where: str
    journal_left: bool


@dataclass(frozen=True)
class StateMoved:
    """A push or a migration: where the state went, its serial, and whether anything was written."""

    source: str
    target: str
    serial: int
    written: bool
    # The backends' kinds (`local`, `azureblob`); a pushed file's is "file".
    source_kind: str = "file"
    target_kind: str = LOCAL


def pull(root: Path, environment: str | None = None) -> StatePulled:
    """The stack's state as its backend holds it (the text, byte for byte)."""
    with StackState(settings_only(root, environment)) as store:
        backend = store.session.backend
        text = _guarded(lambda: backend.read().text)
        if text is None:
            raise OperationError(f"there is no state at {store.where()} yet (nothing was applied)")
        return StatePulled(text, store.where(), store.has_journal())


def push(request: PushRequest) -> StateMoved:
    """Write the state in `request.file` into the stack's backend, under its lock."""
    try:
        text = request.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OperationError(f"cannot read {request.file}: {exc}") from None
    state = _guarded(lambda: parse_state(text, str(request.file)))
    with StackState(settings_only(request.root, request.environment)) as store:
        backend = store.session.backend
        pushed = _guarded(
            lambda: push_state(backend, state, force=request.force, lock_timeout=request.lock_timeout)
        )
        return StateMoved(
            str(request.file), pushed.where, pushed.serial, pushed.written, "file", backend.kind
        )


def migrate(request: MigrateRequest) -> StateMoved:
    """Copy the state from one backend to the other, both locked; refuses to overwrite a newer state."""
    stack = settings_only(request.root, request.environment)
    with StackState(stack) as store:
        configured = store.session.backend
        other = _open_other(stack, request.other)
        try:
            if other.where() == configured.where():
                raise OperationError(
                    f"the state is already at {other.where()}: the stack's backend and "
                    f"{request.other!r} are the same place"
                )
            source, target = (configured, other) if request.to_other else (other, configured)
            moved = _guarded(lambda: migrate_state(source, target, lock_timeout=request.lock_timeout))
            return StateMoved(
                source.where(), moved.where, moved.serial, moved.written, source.kind, target.kind
            )
        finally:
            other.close()


def _open_other(stack: Stack, spec: str) -> StateBackend:
    """The backend `spec` names: `local` (the state file next to aibplan.json), or settings as a JSON
    object, given inline or in a file."""
    if spec == LOCAL:
        config: object = {"type": LOCAL}
    else:
        text = spec
        if not spec.lstrip().startswith("{"):
            try:
                text = Path(spec).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise OperationError(
                    f"{spec}: expected `local`, a backend's settings as JSON, or a file holding them ({exc})"
                ) from None
        try:
            config = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OperationError(f"{spec}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    inline = spec.lstrip().startswith("{")
    settings = other_backend(config, source="the backend given" if inline else spec)
    return _guarded(
        lambda: open_backend(settings, state_path=stack.state_path, runtime_dir=stack.runtime_dir)
    )


def _guarded(call: Callable[[], T]) -> T:
    """What the state layer refuses, as the operations say it."""
    try:
        return call()
    except PushRefused as exc:
        raise OperationError(str(exc)) from None
    except (StateError, LockError) as exc:
        raise EngineError(str(exc)) from None
