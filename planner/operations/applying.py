"""`apply`, `destroy`, `apply --refresh-only` and `apply PLANFILE`: one path from a plan to the changes.

Under the state lock: reconcile a leftover journal, make the plan (or read the saved one and check that it
still fits), show it (`Hooks.plan_ready`), stop when it cannot succeed, ask (`confirm`), then either write
the cloud's bodies into the state (refresh-only) or make the changes, journaled, and, with `--run`,
build what was created or replaced. A saved plan's id is written into the state before its first change,
so it applies once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from providers.base import Provider, ProviderError, ResourceRef
from state import State
from state.journaled import JournalStopped

from ..collector import collector_paused
from ..execution.apply import apply_journaled
from ..execution.engine import Prepared
from ..execution.refresh import refreshed_state
from ..execution.state_access import StackState
from ..hooks import Hooks
from ..planning.consequences import blockers
from ..planning.drift import read_live
from ..planning.identities import conflicting_ids
from ..planning.saved_plan import (
    cloud_moved,
    ignoring_changes,
    marked,
    plan_from_saved,
    staleness,
    with_secret_variables,
)
from ..plans.plan import Plan
from ..plans.saved import SavedPlan, SavedPlanError, load_saved_plan
from .builds import PermissionsMissing, build_after_apply
from .control import Confirm, OperationError, Stop, always
from .provider_errors import one_line
from .read_only import PlanRequest, StackRequest
from .requests import ApplyOptions, ApplyRequest, SavedApplyRequest
from .results import ApplyOutcome, ApplyStatus
from .workspace import checked_plan, locked, open_stack, provider_for, recovered

APPLY_QUESTION = "Do you want to perform these actions?"
DESTROY_QUESTION = "Do you really want to destroy all resources?"
REFRESH_QUESTION = "Would you like to update the state file to match these changes?"


def apply(
    request: ApplyRequest,
    confirm: Confirm = always,
    hooks: Hooks | None = None,
    stop: Stop | None = None,
) -> ApplyOutcome:
    """Make the plan `request.plan` asks for and carry it out once `confirm` agrees."""
    hooks = hooks or Hooks()
    stop = stop or Stop()
    request.plan.check()
    prepared = open_stack(request.plan.stack)
    operation = "destroy" if request.plan.destroy else "apply"
    with (
        StackState(prepared.stack) as store,
        locked(store, operation, request.options.lock_timeout, hooks, stop),
        provider_for(prepared.stack, hooks) as provider,
    ):
        with collector_paused():  # as while loading: long-lived objects without cycles
            state, existing = recovered(store, provider, hooks)
            the_plan = checked_plan(prepared, provider, state, request.plan, store.elsewhere)
        return _carry_out(
            the_plan,
            _Context(prepared, store, provider, state, existing, request.options, hooks, stop),
            confirm=confirm,
            saved=None,
        )


def destroy(
    request: PlanRequest,
    options: ApplyOptions | None = None,
    confirm: Confirm = always,
    hooks: Hooks | None = None,
    stop: Stop | None = None,
) -> ApplyOutcome:
    """Delete everything in the state (or the targets and what depends on them): apply of a destroy plan."""
    return apply(
        ApplyRequest(replace(request, destroy=True), options or ApplyOptions()), confirm, hooks, stop
    )


def refresh(
    stack: StackRequest,
    confirm: Confirm = always,
    hooks: Hooks | None = None,
    lock_timeout: float = 0.0,
) -> ApplyOutcome:
    """Take what changed outside aibplan into the state (the cloud is not changed): `apply --refresh-only`."""
    request = ApplyRequest(PlanRequest(stack, refresh_only=True), ApplyOptions(lock_timeout=lock_timeout))
    return apply(request, confirm, hooks)


def apply_saved(
    request: SavedApplyRequest, hooks: Hooks | None = None, stop: Stop | None = None
) -> ApplyOutcome:
    """Carry out a saved plan exactly, without asking (it was approved when it was saved), or refuse,
    changing nothing, when it was applied already or the state or the inputs moved since."""
    hooks = hooks or Hooks()
    stop = stop or Stop()
    try:
        saved = load_saved_plan(request.path)
        variables = with_secret_variables(saved, request.variables)
    except SavedPlanError as exc:
        raise OperationError(str(exc)) from None
    asked, made_for = request.environment, saved.options.environment
    if asked is not None and asked != made_for:
        raise OperationError(
            f"{request.path} was made for "
            + (f"environment {made_for}" if made_for else "a stack without environments")
            + f", not for environment {asked}; nothing was changed"
        )
    stack = StackRequest(
        saved.stack_root,
        variables,
        tuple(Path(f) for f in saved.options.var_files),
        saved.options.provider,
        made_for,
    )
    prepared = open_stack(stack)
    with (
        StackState(prepared.stack) as store,
        locked(store, "apply", request.options.lock_timeout, hooks, stop),
        provider_for(prepared.stack, hooks) as provider,
    ):
        state, existing = recovered(store, provider, hooks)
        reasons = staleness(saved, prepared.stack, state, existing is not None)
        if reasons:
            raise OperationError(
                f"Saved plan {request.path} is stale: "
                + "; ".join(reasons)
                + ". Nothing was changed; make a new plan with `aibplan plan --out FILE`."
            )
        try:
            the_plan = plan_from_saved(saved, prepared.stack, _cloud_of_ignored(saved, prepared, provider))
        except SavedPlanError as exc:
            raise OperationError(str(exc)) from None
        context = _Context(prepared, store, provider, state, existing, request.options, hooks, stop)
        return _carry_out(the_plan, context, confirm=always, saved=saved)


def _cloud_of_ignored(saved: SavedPlan, prepared: Prepared, provider: Provider) -> Mapping[str, Any] | None:
    """What the cloud holds now for the resources whose lifecycle ignores paths (None: there are none)."""
    changes = ignoring_changes(saved, prepared.stack)
    if not changes:
        return None
    refs = [
        ResourceRef(c.old_arm_id or c.arm_id, c.arm_type, c.old_api_version or c.api_version) for c in changes
    ]
    try:
        return provider.read_many(refs)
    except ProviderError as exc:
        raise OperationError(f"reading the cloud failed: {one_line(exc)}") from None


@dataclass(frozen=True)
class _Context:
    """What carrying out a plan works with (one apply's worth)."""

    prepared: Prepared
    store: StackState
    provider: Provider
    state: State
    existing: State | None
    options: ApplyOptions
    hooks: Hooks
    stop: Stop


def _carry_out(plan: Plan, ctx: _Context, *, confirm: Confirm, saved: SavedPlan | None) -> ApplyOutcome:
    ctx.hooks.plan_ready(plan)
    if not plan.has_changes:
        return ApplyOutcome(plan, ApplyStatus.NO_CHANGES)
    if plan.refresh_only:
        if not confirm(REFRESH_QUESTION):
            return ApplyOutcome(plan, ApplyStatus.DECLINED)
        return _refresh(plan, ctx, saved)
    found = blockers(plan, allow_vhd_loss=ctx.options.allow_vhd_loss)
    if found:
        raise OperationError("Apply refused: nothing was changed.", details=found)
    if not confirm(DESTROY_QUESTION if plan.destroy else APPLY_QUESTION):
        return ApplyOutcome(plan, ApplyStatus.DECLINED)
    with ctx.stop.making_changes():
        return _make_changes(plan, ctx, saved)


def _make_changes(plan: Plan, ctx: _Context, saved: SavedPlan | None) -> ApplyOutcome:
    state, previous = ctx.state, ctx.existing
    if saved is not None and not conflicting_ids(plan.changes):
        # The plan is spent before its first change: each entry it is about to change records its id, so
        # applying the same file again is refused. (A plan that only creates changes no entry yet; what
        # it creates records the id, and the state it was made against is gone once anything was made.)
        # A plan aimed at one Azure resource under two addresses is refused by the engine with nothing
        # written, not even this mark.
        spent = marked(state, (c.address for c in plan.changes if c.is_change), saved.plan_id)
        if not spent.same_content(state):
            state = previous = ctx.store.save(spent, previous)
    try:
        result = apply_journaled(
            plan,
            state,
            ctx.store.journal(state, previous),
            ctx.provider,
            parallelism=ctx.options.parallelism,
            hooks=ctx.hooks,
            stop=ctx.stop.event,
            cancel_timeout=ctx.options.cancel_timeout,
            saved_plan=saved.plan_id if saved is not None else None,
        )
    except JournalStopped as exc:
        raise OperationError(
            str(exc),
            details=(
                "the apply stopped part way: what it did is in its journal, which the next command "
                "reconciles first",
            ),
        ) from None
    outcome = ApplyOutcome(plan, ApplyStatus.APPLIED, applied=result)
    if not ctx.options.build:
        return outcome
    if not result.ok:
        return replace(outcome, builds_not_started="the apply did not complete")
    try:
        report, note = build_after_apply(
            ctx.prepared,
            ctx.store,
            ctx.provider,
            plan,
            result.state,
            ctx.options,
            ctx.hooks,
            ctx.stop,
        )
    except PermissionsMissing as missing:
        return replace(outcome, builds_refused=missing.lines, builds_not_started=missing.why)
    return replace(outcome, builds=report, builds_not_started=note)


def _refresh(plan: Plan, ctx: _Context, saved: SavedPlan | None) -> ApplyOutcome:
    """Write the drift the plan showed into the state (the cloud is read again, not changed)."""
    try:
        live = read_live(ctx.state, ctx.provider)
    except ProviderError as exc:
        raise OperationError(f"reading the cloud failed: {one_line(exc)}") from None
    if saved is not None:
        moved = cloud_moved(plan, live)
        if moved:
            raise OperationError(
                "Saved plan is stale: the cloud changed since the plan was made ("
                + "; ".join(moved)
                + "). Make a new plan with `aibplan plan --refresh-only --out FILE`."
            )
    result = refreshed_state(ctx.state, plan.drift, live)
    new_state = result.state
    if saved is not None:
        new_state = marked(new_state, (d.address for d in plan.drift), saved.plan_id)
    elif not result.updated and not result.removed:
        return ApplyOutcome(plan, ApplyStatus.ALREADY_REFRESHED, refreshed=result)
    written = ctx.store.save(new_state, ctx.existing)
    status = ApplyStatus.REFRESHED if result.updated or result.removed else ApplyStatus.ALREADY_REFRESHED
    return ApplyOutcome(plan, status, refreshed=replace(result, state=written))
