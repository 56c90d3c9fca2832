"""Saved plans against the stack and the state: whether a plan file may still be applied, the plan with its
request bodies, and where `plan --out` may write.

The file format is planner.plans.saved. Applying a plan file loads the stack again with the options it
was made with and refuses when anything moved since: the plan was applied already (its id is the state's
`last_saved_plan`), another state lineage, another state serial, or other inputs (the hash of the
evaluated stack). The request bodies come from the stack loaded again, which the matching hash proves
identical to what was planned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from providers.catalog import for_arm_type
from state import State

from ..normalize import normalize_body
from ..plans.drift import DriftKind
from ..plans.plan import Action, Change, Plan
from ..plans.saved import SavedPlan, SavedPlanError, is_saved_plan
from ..stack.model import Stack
from .guardrails import with_ignored_changes
from .plan import request_body


def staleness(saved: SavedPlan, stack: Stack, state: State, state_exists: bool) -> list[str]:
    """Why the saved plan no longer fits the stack and state (empty when it may be applied)."""
    if state_exists and state.last_saved_plan == saved.plan_id:
        return [
            f"it was applied already (state serial {state.serial} records plan {saved.plan_id}); a saved "
            "plan applies once"
        ]
    reasons = []
    lineage, serial = saved.plan.state_lineage, saved.plan.state_serial
    current_lineage = state.lineage if state_exists else None
    current_serial = state.serial if state_exists else None
    if lineage is not None and current_lineage is not None and lineage != current_lineage:
        reasons.append(
            f"the plan was made against another state (lineage {lineage}); the state file "
            f"{stack.state_path.name} has lineage {current_lineage}"
        )
    elif lineage is None and current_serial is not None:
        reasons.append(
            f"the plan was made with no state file; {stack.state_path.name} exists now "
            f"(serial {current_serial})"
        )
    elif lineage is not None and current_lineage is None:
        reasons.append(f"the plan was made against state serial {serial}; the state file is gone")
    elif serial != current_serial:
        reasons.append(
            f"the state changed since the plan was made (serial {serial} then, {current_serial} now)"
        )
    if saved.plan.inputs_hash != stack.inputs_hash:
        reasons.append(
            "the configuration changed since the plan was made (the evaluated stack's hash differs: "
            "a resource file, aibplan.json, a --var or a --var-file)"
        )
    return reasons


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
