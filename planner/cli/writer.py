"""What every command that writes the state does first (take the lock, reconcile a leftover journal), and
what readers do instead (read the state whole, reconcile in memory)."""

from __future__ import annotations

import click

from providers.base import Provider
from state import State
from state.lock import LockInfo, StateLock

from ..diagnostics import EngineError
from ..execution.state_access import Reconciled, lock_state, read_for_plan, recover
from ..hooks import Hooks
from ..stack.model import Stack
from .common import err, fail


def lock_timeout_option(f: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--lock-timeout",
        type=click.FloatRange(min=0),
        default=0.0,
        show_default=True,
        metavar="SECONDS",
        help="Wait this long for another aibplan holding the state lock; 0 fails at once.",
    )(f)


def lock_or_exit(stack: Stack, operation: str, timeout: float) -> StateLock:
    def waiting(holder: LockInfo | None) -> None:
        who = (
            f"{holder.operation} by {holder.user}@{holder.host} (pid {holder.pid})"
            if holder
            else "another run"
        )
        err(f"Waiting up to {timeout:g}s for the state lock held by {who}...\n")

    try:
        return lock_state(stack, operation, timeout=timeout, on_wait=waiting)
    except EngineError as exc:
        fail(str(exc))


def recover_or_exit(stack: Stack, provider: Provider, hooks: Hooks) -> tuple[State, State | None]:
    try:
        state, existing, reconciled = recover(stack, provider)
    except EngineError as exc:
        fail(str(exc))
    _report(reconciled, hooks, saved=True)
    return state, existing


def read_for_plan_or_exit(stack: Stack, provider: Provider) -> State:
    try:
        _state, reconciled, holder = read_for_plan(stack, provider)
    except EngineError as exc:
        fail(str(exc))
    if holder is not None:
        err(
            f"Note: {holder.operation} by {holder.user}@{holder.host} (pid {holder.pid}) holds the state "
            "lock; this plan is made against the last saved state.\n"
        )
    _report(reconciled, Hooks(), saved=False)
    return reconciled.state


def _report(reconciled: Reconciled, hooks: Hooks, *, saved: bool) -> None:
    lines = reconciled.describe()
    if not lines:
        return
    if not saved:
        lines.append("  (this plan used the reconciled state; the next apply saves it)")
    for line in lines:
        err(line + "\n")
