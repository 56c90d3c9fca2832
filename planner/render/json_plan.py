"""The machine-readable plan: a versioned JSON document with stable field names (docs/plan-json.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..diagnostics import Diagnostic, JsonPath
from ..plans.drift import ResourceDrift
from ..plans.plan import Change, Plan
from ..rules.suppress import Suppressed

FORMAT_VERSION = "1"


def plan_to_json(plan: Plan) -> dict[str, Any]:
    summary = plan.summary
    return {
        "format_version": FORMAT_VERSION,
        "provider": plan.provider,
        "refreshed": plan.refreshed,
        "destroy": plan.destroy,
        "state": {"lineage": plan.state_lineage, "serial": plan.state_serial},
        "inputs_hash": plan.inputs_hash,
        "refresh_only": plan.refresh_only,
        "targets": list(plan.targets),
        "replace_requested": list(plan.replace_requested),
        "resource_drift": [drift_to_json(d) for d in plan.drift],
        "resource_changes": [change_to_json(c) for c in plan.changes],
        "unmanaged": list(plan.unmanaged),
        "diagnostics": [d.to_json() for d in diagnostics_of(plan)],
        "summary": {
            "add": summary.add,
            "change": summary.change,
            "replace": summary.replace,
            "destroy": summary.destroy,
        },
        **({"environment": plan.environment} if plan.environment is not None else {}),
    }


def change_to_json(change: Change) -> dict[str, Any]:
    document = {
        "address": change.address,
        "kind": change.kind,
        "type": change.arm_type,
        "name": change.name,
        "id": change.arm_id,
        "api_version": change.api_version,
        "action": change.action.value,
        "action_reason": change.action_reason,
        "reasons": list(change.reasons),
        "attribute_diffs": [d.to_json() for d in change.attribute_diffs],
        "before": change.before,
        "after": change.after,
        "after_unknown": unknown_tree(change.after, change.after_unknown),
        "depends_on": list(change.depends_on),
        "warnings": [w.to_json() for w in change.warnings],
        # The existing resource (what a delete or the delete half of a replace acts on).
        "previous": None
        if change.old_arm_id is None
        else {
            "id": change.old_arm_id,
            "api_version": change.old_api_version,
            "depends_on": list(change.old_depends_on),
        },
        "running_build": change.running_build,
        "vhd_uris": list(change.vhd_uris),
        "image_versions": list(change.image_versions),
        "nested_definitions": list(change.nested_definitions),
    }
    if change.previous_address is not None:
        # The address the state tracked it under (only the case of its name changed): apply moves it.
        document["previous_address"] = change.previous_address
    return document


def unknown_tree(after: Any, paths: Sequence[JsonPath]) -> Any:
    """Terraform's `after_unknown`: `after`'s shape with `true` at each value known only after apply,
    known values left out of objects (and `false` in lists, so indexes hold); `{}` when all are known."""
    return _tree(after, paths) if paths else {}


def _tree(after: Any, paths: Sequence[JsonPath]) -> Any:
    if () in paths:
        return True
    if isinstance(after, Mapping):
        out: dict[str, Any] = {}
        for key, value in after.items():
            inner = [p[1:] for p in paths if p and p[0] == key]
            if inner:
                out[key] = _tree(value, inner)
        return out
    if isinstance(after, list):
        inner_paths = [[p[1:] for p in paths if p and p[0] == i] for i in range(len(after))]
        return [
            _tree(value, inner) if inner else False for value, inner in zip(after, inner_paths, strict=True)
        ]
    return False


def drift_to_json(drift: ResourceDrift) -> dict[str, Any]:
    """One resource changed outside aibplan (the plan's `resource_drift`, the drift report's `drift`)."""
    return {
        "address": drift.address,
        "kind": drift.kind,
        "type": drift.arm_type,
        "name": drift.name,
        "id": drift.arm_id,
        "drift": drift.drift.value,
        "message": drift.message,
        "attribute_diffs": [d.to_json() for d in drift.attribute_diffs],
        "before": drift.before,
        "after": drift.after,
    }


def suppressed_to_json(item: Suppressed) -> dict[str, Any]:
    """A finding the stack turned off: the diagnostic, and by what (SARIF's kind, where, the reason)."""
    by = item.by
    return {
        **item.diagnostic.to_json(),
        "suppression": {"kind": by.kind, "where": by.where, "justification": by.reason},
    }


def diagnostics_of(plan: Plan) -> list[Diagnostic]:
    return [*plan.diagnostics, *(w for c in plan.changes for w in c.warnings)]
