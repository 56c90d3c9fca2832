"""Running a plan from the command line: what stops it, the apply itself, the refresh-only state update,
and the closing summary. Shared by `apply` (a fresh plan or a saved one) and `destroy`."""

from __future__ import annotations

import sys
from typing import NoReturn

from providers.base import Provider, ProviderError
from state import State, save_state
from state.lock import StateLock

from ..builds import BuildReport
from ..execution.apply import ApplyResult, apply_plan
from ..execution.engine import Prepared
from ..execution.refresh import refreshed_state
from ..planning.consequences import blockers
from ..planning.drift import read_live
from ..planning.saved_plan import cloud_moved
from ..plans.plan import Plan
from ..render.builds import render_results
from .common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    confirm,
    err,
    fail,
    interruptible,
    out,
    use_color,
)
from .progress import close_hooks, progress_hooks


def refuse_blocked(plan: Plan, *, allow_vhd_loss: bool) -> None:
    """Stop before the first change when the plan would lose a VHD or cannot succeed in Azure."""
    found = blockers(plan, allow_vhd_loss=allow_vhd_loss)
    if not found:
        return
    for line in found:
        err(f"Error: {line}\n")
    err("Apply refused: nothing was changed.\n")
    sys.exit(EXIT_ERROR)


def ask(question: str, auto_approve: bool) -> None:
    if auto_approve:
        return
    if not confirm(question):
        err("Apply cancelled.\n")
        sys.exit(EXIT_ERROR)


def execute(
    plan: Plan,
    prepared: Prepared,
    state: State,
    existing: State | None,
    cloud: Provider,
    lock: StateLock,
    *,
    parallelism: int,
    cancel_timeout: float,
) -> ApplyResult:
    """Apply the plan with live progress; a second Ctrl-C releases the lock and leaves at once."""
    hooks = progress_hooks()

    def abort() -> None:
        close_hooks(hooks)
        lock.release()

    try:
        with interruptible(on_abort=abort) as stop:
            return apply_plan(
                plan,
                state,
                existing,
                prepared.stack.state_path,
                cloud,
                parallelism=parallelism,
                hooks=hooks,
                stop=stop,
                runtime_dir=prepared.stack.runtime_dir,
                cancel_timeout=cancel_timeout,
            )
    finally:
        close_hooks(hooks)


def apply_refresh_only(
    plan: Plan, prepared: Prepared, state: State, existing: State | None, cloud: Provider, *, saved: bool
) -> NoReturn:
    """Write the drift the plan showed into the state file (the cloud is read again, not changed)."""
    try:
        live = read_live(state, cloud)
    except ProviderError as exc:
        fail(f"reading the cloud failed: {exc}")
    if saved:
        moved = cloud_moved(plan, live)
        if moved:
            fail(
                "Saved plan is stale: the cloud changed since the plan was made ("
                + "; ".join(moved)
                + "). Make a new plan with `aibplan plan --refresh-only --out FILE`."
            )
    result = refreshed_state(state, plan.drift, live)
    if not result.updated and not result.removed:
        out("\nNo changes. The state already matches the cloud.\n")
        sys.exit(EXIT_OK)
    save_state(prepared.stack.state_path, result.state, existing)
    out(
        f"\nRefresh complete! State updated: {len(result.updated)} resource(s) refreshed, "
        f"{len(result.removed)} removed. Nothing in the cloud was changed.\n"
    )
    sys.exit(EXIT_OK)


def finish(result: ApplyResult, destroy: bool, builds: BuildReport | None = None) -> NoReturn:
    counts = (
        f"Resources: {result.added} added, {result.changed} changed, {result.replaced} replaced, "
        f"{result.destroyed} destroyed."
    )
    if destroy and result.ok:
        out(f"\nDestroy complete! Resources: {result.destroyed} destroyed.\n")
        sys.exit(EXIT_OK)
    if result.ok:
        out(f"\nApply complete! {counts}\n")
        if builds is not None:
            out(render_results(builds.outcomes, color=use_color(sys.stdout)))
            if builds.interrupted:
                sys.exit(EXIT_INTERRUPTED)
            sys.exit(EXIT_OK if builds.ok else EXIT_ERROR)
        sys.exit(EXIT_OK)
    if result.failures:
        err(f"\n{len(result.failures)} change(s) failed:\n")
    for failure in result.failures:
        err(f"Error: {failure.address}: {failure.action} failed: {failure.code}: {failure.message}\n")
    if result.skipped:
        err(f"\n{len(result.skipped)} change(s) not made:\n")
    for address, reason in result.skipped:
        err(f"  {address}: {reason}\n")
    if result.interrupted:
        err(f"\nInterrupted. {counts} The state file holds what was done.\n")
        sys.exit(EXIT_INTERRUPTED)
    err(f"\nApply failed. {counts} The state file holds what was done.\n")
    sys.exit(EXIT_ERROR)
