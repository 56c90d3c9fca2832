"""The machine-readable plan: a versioned JSON document with stable field names (docs/plan-json.md)."""

from __future__ import annotations

from typing import Any

from ..diagnostics import Diagnostic
from ..plan import Change, Plan

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
        "resource_changes": [change_to_json(c) for c in plan.changes],
        "unmanaged": list(plan.unmanaged),
        "diagnostics": [d.to_json() for d in diagnostics_of(plan)],
        "summary": {
            "add": summary.add,
            "change": summary.change,
            "replace": summary.replace,
            "destroy": summary.destroy,
        },
    }


def change_to_json(change: Change) -> dict[str, Any]:
    return {
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
        "depends_on": list(change.depends_on),
        "warnings": [w.to_json() for w in change.warnings],
    }


def diagnostics_of(plan: Plan) -> list[Diagnostic]:
    return [*plan.diagnostics, *(w for c in plan.changes for w in c.warnings)]
