"""The steps every operation shares: load the stack, open its provider, take the state lock, read the
state (reconciling a leftover journal), and make a plan that the stack's and the cloud's findings allow."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from providers.base import Provider, ProviderError
from state import State, StateError
from state.backends import HeldLock
from state.lock import LockError, LockInfo

from ..diagnostics import Diagnostic, Severity
from ..execution.engine import Prepared, open_provider, prepare
from ..execution.state_access import Reconciled, StackState
from ..hooks import Hooks
from ..planning import screened
from ..planning.elsewhere import Elsewhere, unseen_applies
from ..planning.external_refs import check_external_references
from ..planning.permissions import is_permission_finding
from ..planning.plan import make_plan
from ..planning.targeting import address_errors
from ..plans.drift import DriftKind
from ..plans.plan import Plan
from ..stack.model import Stack
from .control import OperationError, StackRejected, Stop
from .provider_errors import one_line
from .read_only import PlanRequest, StackRequest
from .stack_settings import settings_only

__all__ = ["settings_only"]


def open_stack(request: StackRequest) -> Prepared:
    """The stack loaded, checked and graphed; StackRejected when its diagnostics stop the way."""
    prepared, diagnostics = prepare(
        request.root,
        variables=request.variables,
        var_files=request.var_files,
        provider=request.provider,
        environment=request.environment,
    )
    if prepared is None:
        raise StackRejected(diagnostics)
    return prepared


@contextlib.contextmanager
def provider_for(stack: Stack, hooks: Hooks) -> Iterator[Provider]:
    """The stack's provider, every call retried (retries reported to `hooks`), closed at the end."""
    provider = open_provider(stack, hooks)
    try:
        yield provider
    finally:
        provider.close()


@contextlib.contextmanager
def locked(
    store: StackState, operation: str, timeout: float, hooks: Hooks, stop: Stop | None = None
) -> Iterator[HeldLock]:
    """Hold the state lock for the block; an abort (a second signal) releases it too. A lock taken over
    from a run that died holding it (its lease ran out) is said: its journal is reconciled next."""

    def waiting(holder: LockInfo | None) -> None:
        who = (
            f"{holder.operation} by {holder.user}@{holder.host} (pid {holder.pid})"
            if holder
            else "another run"
        )
        hooks.message(f"Waiting up to {timeout:g}s for the state lock held by {who}...")

    lock = store.lock(operation, timeout=timeout, on_wait=waiting)
    gone = lock.taken_over
    if gone is not None:
        hooks.message(
            f"Note: the state lock of {gone.operation} by {gone.user}@{gone.host} (pid {gone.pid}, since "
            f"{gone.created}, lock {gone.id}) ran out: that run stopped without releasing it. This run "
            "took the lock over."
        )
    try:
        with stop.on_abort(lock.release) if stop is not None else contextlib.nullcontext():
            yield lock
    finally:
        # A lock that cannot be released (the network) runs out on its own.
        with contextlib.suppress(StateError, LockError):
            lock.release()


def recovered(store: StackState, provider: Provider, hooks: Hooks) -> tuple[State, State | None]:
    """For a writer holding the lock: (the state, as stored), a leftover journal reconciled and saved."""
    state, existing, reconciled = store.recover(provider)
    _say(reconciled, hooks, saved=True)
    return state, existing


def external_references(
    prepared: Prepared, provider: Provider, request: PlanRequest
) -> list[Diagnostic] | None:
    """What a refreshed plan finds of the resources the stack refers to and does not make (planning.
    external_refs), asked before the state is read, as it needs none (a cloud that cannot be read is one
    of its findings). None when the plan does not ask: no refresh, or a destroy."""
    if not request.refresh or request.destroy:
        return None
    return check_external_references(prepared.stack, provider)


def read_for_plan(store: StackState, provider: Provider | None, hooks: Hooks) -> State:
    """For a reader: the state, a leftover journal reconciled in memory only."""
    _state, reconciled, holder = store.read_for_plan(provider)
    if holder is not None:
        hooks.message(
            f"Note: {holder.operation} by {holder.user}@{holder.host} (pid {holder.pid}) holds the state "
            "lock; this plan is made against the last saved state."
        )
    _say(reconciled, hooks, saved=False)
    return reconciled.state


def _say(reconciled: Reconciled, hooks: Hooks, *, saved: bool) -> None:
    lines = reconciled.describe()
    if lines and not saved:
        lines.append("  (this plan used the reconciled state; the next apply saves it)")
    for line in lines:
        hooks.message(line)


def checked_plan(
    prepared: Prepared,
    provider: Provider,
    state: State,
    request: PlanRequest,
    elsewhere: Callable[[], Sequence[Elsewhere]] = tuple,
    external: Sequence[Diagnostic] | None = None,
) -> Plan:
    """The plan for `request`, the stack's warnings with it; OperationError for an address that names
    nothing, StackRejected when what the cloud said makes the plan impossible. `elsewhere` gives the
    states other branches hold, asked for only when the cloud differs from the state
    (planning.elsewhere: what another branch applied is neither drift nor changed back). `external`: the
    external references already checked (`external_references`)."""
    problems = address_errors(
        request.targets, prepared.stack, state, flag="--target", in_state_only=request.destroy
    )
    problems += address_errors(request.replace, prepared.stack, state, flag="--replace")
    if problems:
        raise OperationError(problems[-1], details=problems[:-1])
    # What is known of the stack's bodies from the last plan of the same stack (none for a destroy).
    known = None if request.destroy else screened.read(prepared.stack, prepared.cache_key)
    try:
        plan = make_plan(
            prepared.stack,
            prepared.graph,
            state,
            provider,
            refresh=request.refresh,
            destroy=request.destroy,
            targets=request.targets,
            replace_addresses=request.replace,
            refresh_only=request.refresh_only,
            screened=known,
            external=external,
        )
    except ProviderError as exc:
        raise OperationError(f"reading the cloud failed: {one_line(exc)}") from None
    if known is not None:
        screened.keep(prepared.stack, known)
    if any(d.drift in (DriftKind.CHANGED, DriftKind.DELETED) for d in plan.drift):
        plan = unseen_applies(plan, state, elsewhere())
    # A refreshed plan checked the identities' permissions again with the cloud's role assignments.
    warnings = tuple(
        d
        for d in prepared.diagnostics
        if d.severity is Severity.WARNING
        and not (plan.refreshed and not plan.destroy and is_permission_finding(d))
    )
    if any(d.severity is Severity.ERROR for d in plan.diagnostics):
        raise StackRejected([*warnings, *plan.diagnostics])
    return replace(plan, diagnostics=(*warnings, *plan.diagnostics))
