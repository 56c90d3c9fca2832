"""Saved plans against the stack and the state: whether a plan file may still be applied, the plan with its
request bodies, and where `plan --out` may write.

The file format is planner.plans.saved. Applying a plan file loads the stack again with the options it
was made with and refuses when anything moved since: the plan was applied already (an entry of the
state records its id), another state lineage, another state (its digest: the hash of the state as
stored), or other inputs (the hash of the evaluated stack). The request bodies come from the stack
loaded again, which the matching hash proves identical to what was planned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from providers.catalog import for_arm_type
from state import State
from state.redact import fingerprint

from ..normalize import normalize_body
from ..plans.drift import DriftKind
from ..plans.plan import Action, Change, Plan
from ..plans.saved import SavedPlan, SavedPlanError, is_saved_plan
from ..stack.model import Stack
from .guardrails import with_ignored_changes
from .plan import request_body


def with_secret_variables(saved: SavedPlan, given: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The plan's `--var`s with the secret ones given again on the command line, each checked against the
    fingerprint the file keeps; raises SavedPlanError naming what is missing, wrong or not asked for."""
    wanted = dict(saved.options.secret_variables)
    values = dict(given)
    unexpected = sorted(set(values) - set(wanted))
    if unexpected:
        raise SavedPlanError(
            f"--var cannot be used with a saved plan ({', '.join(unexpected)}): the plan file fixed its "
            "variables when it was made; only secret ones, which it does not keep, are given again"
        )
    missing = sorted(set(wanted) - set(values))
    if missing:
        shown = " ".join(f"--var {name}=..." for name in missing)
        raise SavedPlanError(
            f"{saved.path} was made with secret --var {', '.join(missing)}, which a plan file does not keep: "
            f"give {'it' if len(missing) == 1 else 'them'} again (`aibplan apply {saved.path.name} {shown}`)"
        )
    wrong = sorted(name for name, value in values.items() if fingerprint(value) != wanted[name])
    if wrong:
        raise SavedPlanError(
            f"--var {', '.join(wrong)}: not the value the plan was made with (its fingerprint differs); "
            "give the same value, or make a new plan"
        )
    return (*saved.options.variables, *((name, values[name]) for name, _ in saved.options.secret_variables))


def staleness(saved: SavedPlan, stack: Stack, state: State, state_exists: bool) -> list[str]:
    """Why the saved plan no longer fits the stack and state (empty when it may be applied)."""
    spent = [e.address for e in state.resources if e.saved_plan == saved.plan_id] if state_exists else []
    if spent:
        return [
            f"it was applied already ({', '.join(spent[:3])} in the state record plan {saved.plan_id}); "
            "a saved plan applies once"
        ]
    reasons = []
    lineage, serial, digest = saved.plan.state_lineage, saved.plan.state_serial, saved.plan.state_digest
    # An empty state plans like no state at all.
    current = state.digest if state_exists and state.serial > 0 else None
    name = stack.state_path.name
    if lineage is not None and current is not None and lineage != state.lineage:
        reasons.append(
            f"the plan was made against another state (lineage {lineage}); the state {name} has lineage "
            f"{state.lineage}"
        )
    elif digest is None and current is not None:
        reasons.append(f"the plan was made with no state; {name} exists now (serial {state.serial})")
    elif digest is not None and current is None:
        reasons.append(f"the plan was made against state serial {serial}; the state is gone")
    elif digest != current:
        if serial != state.serial:
            reasons.append(
                f"the state changed since the plan was made (serial {serial} then, {state.serial} now)"
            )
        else:
            reasons.append(
                f"the state changed since the plan was made (serial {serial} then and now, but other "
                "content: a git merge, or an earlier copy restored)"
            )
    if saved.plan.inputs_hash != stack.inputs_hash:
        reasons.append(
            "the configuration changed since the plan was made (the evaluated stack's hash differs: "
            "a resource file, aibplan.json, a --var or a --var-file)"
        )
    return reasons


def marked(state: State, addresses: Iterable[str], plan_id: str) -> State:
    """`state` with each entry of `addresses` marked as last changed by the saved plan `plan_id`: written
    before the plan's first change, so the plan cannot apply a second time."""
    wanted = set(addresses)
    entries = [
        replace(e, saved_plan=plan_id) if e.address in wanted and e.saved_plan != plan_id else e
        for e in state.resources
    ]
    return state.with_resources(entries)


def plan_from_saved(saved: SavedPlan, stack: Stack, cloud: Mapping[str, Any] | None = None) -> Plan:
    """The Plan the file holds, with request bodies from the (identical) stack loaded again; paths a
    lifecycle ignores take the values `cloud` (keyed by the state's ids) holds now (planning.guardrails)."""
    changes = []
    for change in saved.plan.changes:
        if change.action in (Action.CREATE, Action.UPDATE, Action.REPLACE):
            resource = stack.by_address.get(change.address)
            if resource is None:
                raise SavedPlanError(
                    f"{saved.path}: {change.address} is not in the stack any more; plan again"
                )
            if cloud is not None and change.old_arm_id is not None:
                lifecycle = stack.lifecycle(change.address)
                resource = with_ignored_changes(resource, cloud.get(change.old_arm_id), lifecycle)
            change = replace(change, body=request_body(resource))
        changes.append(change)
    return replace(saved.plan, changes=tuple(changes), stack_root=str(stack.root))


def ignoring_changes(saved: SavedPlan, stack: Stack) -> list[Change]:
    """The saved plan's updates and replaces of resources with ignored paths: what to read from the cloud
    before it is applied, so the ignored paths keep the cloud's values then."""
    return [
        c
        for c in saved.plan.changes
        if c.action in (Action.UPDATE, Action.REPLACE)
        and c.old_arm_id is not None
        and stack.lifecycle(c.address).ignore_changes
    ]


def out_path_problem(path: Path, stack: Stack) -> str | None:
    """Why `plan --out` must not write `path` (None when it may): the state, aibplan.json, a file the
    stack was loaded from, anything in the runtime folder, or any existing file that is not a saved plan."""
    target = path.resolve()
    protected = {
        stack.state_path.resolve(): "the state file",
        (stack.root / "aibplan.json").resolve(): "the stack's aibplan.json",
    }
    for name in (*stack.texts, *(r.source.file for r in stack.resources)):
        protected.setdefault((stack.root / name).resolve(), "a file of the stack")
    what = protected.get(target)
    if what is None and target.is_relative_to(stack.runtime_dir.resolve()):
        what = "aibplan's runtime folder"
    if what is None and target == stack.state_path.resolve().with_name(stack.state_path.name + ".backup"):
        what = "the state file's backup"
    if what is None and (path.exists() or path.is_symlink()) and not is_saved_plan(path):
        what = "an existing file that is not a saved plan"
    if what is None:
        return None
    return (
        f"--out {path}: refusing to overwrite {what}; choose another file name "
        "(a saved plan is usually NAME.plan)"
    )


def cloud_moved(plan: Plan, live: Mapping[str, Any]) -> list[str]:
    """For a refresh-only plan: drifted resources whose cloud body is no longer what the plan showed."""
    moved = []
    for item in plan.drift:
        if item.drift is DriftKind.UNMANAGED:
            continue
        body = live.get(item.arm_id)
        if item.drift is DriftKind.DELETED:
            if body is not None:
                moved.append(f"{item.address} exists again")
            continue
        rtype = for_arm_type(item.arm_type)
        if body is None:
            moved.append(f"{item.address} has been deleted since")
        elif rtype is not None and normalize_body(rtype, body) != dict(item.after or {}):
            moved.append(f"{item.address} changed again")
    return moved
