"""Applies this branch has not seen: what the cloud holds because another git branch of the stack applied
it, told apart from what changed outside aibplan.

The rule (docs/state.md, "Merging states in git"): a state entry's `observed` is what aibplan last saw of
the resource *from this branch*. When the cloud differs from it, the change is drift (someone changed it
outside aibplan) unless another branch's state of the same stack (same lineage, a branch not merged
here) records exactly what the cloud holds, at a later serial: then that branch's apply made it. Such a
change is not drift and is never changed back:

- when this branch's stack asks nothing new of the resource (its body is what this branch last applied),
  the plan leaves it as it is and says which branch changed it (AIB8101, a warning): merging that branch
  brings the change and its state here;
- when this branch changes the resource too, the plan stops (AIB8101, an error): merge that branch first,
  so that one change is made on top of the other, not over it;
- a resource another branch destroyed is not created again for the same reasons.

After the merge the state holds that branch's entry (git takes the side that changed it), and the plan
is clean. The states elsewhere come from the backend (state.backends.branches, for the `local` backend);
a shared backend has one state, so nothing is elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from providers.catalog import for_arm_type
from state import ResourceState, State
from state.redact import redact

from ..diagnostics import Diagnostic, Severity
from ..normalize import applied_body, normalize_body
from ..plans.drift import DriftKind, DriftReport, ResourceDrift
from ..plans.plan import Action, Change, Plan
from .diff import diff_bodies

UNSEEN = "AIB8101"
# A state kept elsewhere: where (a branch and commit, for messages) and the state.
Elsewhere = tuple[str, State]


def witnessed(item: ResourceDrift, state: State, elsewhere: Sequence[Elsewhere]) -> str | None:
    """Where the drifted resource's cloud body was applied from, when another state records it."""
    entry = state.get(item.address)
    if entry is None or item.drift not in (DriftKind.CHANGED, DriftKind.DELETED):
        return None
    for where, other in elsewhere:
        if other.lineage != state.lineage:
            continue
        theirs = other.get(item.address)
        if item.drift is DriftKind.CHANGED:
            if theirs is not None and theirs.serial > entry.serial and _observed(theirs) == item.after:
                return where
        elif theirs is None and other.removed.get(item.address, 0) > entry.serial:
            return where
    return None


def unseen_applies(plan: Plan, state: State, elsewhere: Sequence[Elsewhere]) -> Plan:
    """The plan with what other branches applied taken out of its drift and never changed back."""
    drift: list[ResourceDrift] = []
    changes = {c.address: c for c in plan.changes}
    found: list[Diagnostic] = []
    for item in plan.drift:
        where = witnessed(item, state, elsewhere)
        if where is None:
            drift.append(item)
            continue
        done = "changed" if item.drift is DriftKind.CHANGED else "destroyed"
        said = f"{item.address} was {done} by an apply on {where}, which this branch has not merged"
        change = changes.get(item.address)
        entry = state.get(item.address)
        both_delete = (
            item.drift is DriftKind.DELETED and change is not None and change.action is Action.DELETE
        )
        if change is None or not change.is_change or both_delete:
            found.append(_said(Severity.WARNING, item.address, f"{said}; merge it to take it in"))
        elif entry is not None and change.action is not Action.DELETE and _asks_nothing_new(change, entry):
            changes[item.address] = replace(
                change,
                action=Action.NOOP,
                action_reason=None,
                reasons=(f"{done} on another branch, not merged here",),
            )
            kept = "left as that apply made it" if done == "changed" else "not created again"
            found.append(_said(Severity.WARNING, item.address, f"{said}: {kept}; merge it to take it in"))
        else:
            found.append(
                _said(
                    Severity.ERROR,
                    item.address,
                    f"{said}, and this branch changes it too: merge that branch first (git merge), then "
                    "plan again, so that one change is made on top of the other, not over it",
                )
            )
    if not found:
        return plan
    return replace(
        plan,
        drift=tuple(drift),
        changes=tuple(changes[c.address] for c in plan.changes),
        diagnostics=(*plan.diagnostics, *found),
    )


def unseen_in_report(report: DriftReport, state: State, elsewhere: Sequence[Elsewhere]) -> DriftReport:
    """`aibplan drift` with what other branches applied said as such (AIB8101 warnings), not as drift."""
    drift: list[ResourceDrift] = []
    notes: list[Diagnostic] = []
    for item in report.drift:
        where = witnessed(item, state, elsewhere)
        if where is None:
            drift.append(item)
            continue
        done = "changed" if item.drift is DriftKind.CHANGED else "destroyed"
        notes.append(
            _said(
                Severity.WARNING,
                item.address,
                f"{item.address} was {done} by an apply on {where}, which this branch has not merged; "
                "merge it to take it in",
            )
        )
    if not notes:
        return report
    return replace(report, drift=tuple(drift), warnings=(*report.warnings, *notes))


def _asks_nothing_new(change: Change, entry: ResourceState) -> bool:
    """Whether the stack's body is what this branch last applied (so this branch wants no change)."""
    rtype = for_arm_type(entry.arm_type)
    if rtype is None or change.after is None:
        return False
    return not diff_bodies(applied_body(entry), dict(change.after), rtype, change.api_version)


def _observed(entry: ResourceState) -> dict[str, Any]:
    rtype = for_arm_type(entry.arm_type)
    body: Mapping[str, Any] = entry.observed or entry.applied
    return dict(redact(dict(body) if rtype is None else normalize_body(rtype, body)))


def _said(severity: Severity, address: str, message: str) -> Diagnostic:
    return Diagnostic(UNSEEN, severity, message, address=address)
