"""The state as the engine uses it: locked for writers, reconciled with a leftover journal, read whole.

Writers (apply, destroy, import, state edits) call `lock_state` and then `recover`: a journal left by a
run that died is folded into the state, and every call it began without finishing is settled by reading
the resource back from the provider: a resource that exists is adopted into the state (tainted when it is
half made, so the next apply replaces it), one that does not is dropped. The reconciled state is saved
and the journal removed before the writer plans anything.

Readers (plan, drift) take no lock. `read_for_plan` reads the state file (replaced atomically, so always
whole) and, when a dead run's journal is left and nobody holds the lock, reconciles it in memory only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from providers.base import Provider, ProviderError, ResourceRef
from state import ResourceState, State, StateError, save_state
from state.journal import PendingCall, journal_path, read_journal, remove_journal, replay
from state.lock import LockError, LockInfo, StateLock, acquire, is_held
from state.redact import redact

from ..diagnostics import EngineError
from ..stack.model import Stack
from .engine import read_state

_DONE_STATES = (None, "Succeeded")


@dataclass(frozen=True)
class Reconciled:
    """What reconciling a leftover journal did."""

    state: State
    had_journal: bool = False
    replayed: int = 0
    adopted: tuple[str, ...] = ()
    tainted: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    refreshed: tuple[str, ...] = ()

    def describe(self) -> list[str]:
        if not self.had_journal:
            return []
        lines = [
            f"A previous run stopped before it finished; its journal ({self.replayed} events) was reconciled "
            "with the cloud."
        ]
        for word, items in (
            ("adopted into the state", self.adopted),
            ("adopted and tainted (half made; the next apply replaces it)", self.tainted),
            ("dropped from the state (not in the cloud)", self.dropped),
            ("read back", self.refreshed),
        ):
            lines.extend(f"  {address}: {word}" for address in items)
        return lines


def lock_state(
    stack: Stack,
    operation: str,
    *,
    timeout: float = 0.0,
    on_wait: Callable[[LockInfo | None], None] | None = None,
) -> StateLock:
    """Take the stack's write lock; EngineError says who holds it (or that it is stale) and what to do."""
    try:
        return acquire(stack.runtime_dir, operation, timeout=timeout, on_wait=on_wait)
    except LockError as exc:
        raise EngineError(str(exc)) from None


def reconcile(stack: Stack, state: State, provider: Provider) -> Reconciled:
    """The state with a leftover journal folded in and its unfinished calls settled. Writes nothing."""
    path = journal_path(stack.runtime_dir)
    try:
        header, events = read_journal(path)
    except StateError as exc:
        raise EngineError(str(exc)) from None
    if header is None and not events:
        return Reconciled(state)
    if header is not None and state.serial > 0 and header.get("lineage") != state.lineage:
        raise EngineError(
            f"the apply journal {path} belongs to another state (lineage {header.get('lineage')}, this "
            f"state is {state.lineage}); if the state file was replaced on purpose, move the journal aside"
        )
    if header is not None and state.serial == 0 and isinstance(header.get("lineage"), str):
        state = replace(state, lineage=header["lineage"])
    replayed = replay(state, events)
    by_address = dict(replayed.state.by_address)
    adopted: list[str] = []
    tainted: list[str] = []
    dropped: list[str] = []
    refreshed: list[str] = []
    for call in replayed.pending:
        live = _read_back(provider, call)
        entry = by_address.get(call.address)
        if live is None:
            if call.action == "create" and (entry is None or entry.arm_id.lower() != call.arm_id.lower()):
                continue
            if entry is not None and entry.arm_id.lower() == call.arm_id.lower():
                del by_address[call.address]
                dropped.append(call.address)
            continue
        half_made = _provisioning_state(live) not in _DONE_STATES
        if entry is None or entry.arm_id.lower() != call.arm_id.lower() or call.action == "create":
            by_address[call.address] = ResourceState(
                address=call.address,
                arm_type=call.arm_type,
                arm_id=call.arm_id,
                api_version=call.api_version,
                applied=dict(call.applied),
                # Where the journaled body held a secret, the body read back holds one too.
                observed=redact(live, like=(call.applied,)),
                dependencies=call.dependencies,
                tainted=half_made,
            )
            (tainted if half_made else adopted).append(call.address)
        else:
            by_address[call.address] = replace(
                entry,
                observed=redact(live, like=(entry.observed, call.applied)),
                tainted=entry.tainted or half_made,
            )
            (tainted if half_made else refreshed).append(call.address)
    return Reconciled(
        state=replayed.state.with_resources(by_address.values()),
        had_journal=True,
        replayed=replayed.events,
        adopted=tuple(adopted),
        tainted=tuple(tainted),
        dropped=tuple(dropped),
        refreshed=tuple(refreshed),
    )


def recover(stack: Stack, provider: Provider) -> tuple[State, State | None, Reconciled]:
    """For a writer holding the lock: (state, state as on disk, what was reconciled); saves and clears
    the journal when there was one."""
    state, existing = read_state(stack)
    result = reconcile(stack, state, provider)
    if not result.had_journal:
        return state, existing, result
    try:
        written = save_state(stack.state_path, result.state, existing)
    except OSError as exc:
        raise EngineError(f"cannot write the state file {stack.state_path}: {exc}") from None
    remove_journal(journal_path(stack.runtime_dir))
    return written, written, replace(result, state=written)


def read_for_plan(stack: Stack, provider: Provider | None) -> tuple[State, Reconciled, LockInfo | None]:
    """For a reader: (state, what was reconciled in memory, the live lock holder if a writer is running)."""
    state, _ = read_state(stack)
    held, holder = is_held(stack.runtime_dir)
    if held or provider is None:
        return state, Reconciled(state), holder
    return state, reconcile(stack, state, provider), None


def _read_back(provider: Provider, call: PendingCall) -> dict[str, Any] | None:
    try:
        return provider.read(ResourceRef(call.arm_id, call.arm_type, call.api_version))
    except ProviderError as exc:
        raise EngineError(
            f"cannot reconcile the journal: reading {call.address} back from the cloud failed ({exc}); "
            "run the command again when the cloud answers"
        ) from None


def _provisioning_state(body: dict[str, Any]) -> str | None:
    props = body.get("properties")
    value = props.get("provisioningState") if isinstance(props, dict) else None
    return value if isinstance(value, str) else None
