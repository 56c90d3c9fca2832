"""Plans and applies through the engine on the local cloud: every action, order, idempotence, failures."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from planner.execution.apply import apply_plan
from planner.execution.engine import open_provider, prepare, read_state
from planner.planning.plan import make_plan
from planner.plans.plan import Action, Plan
from planner.render.json_plan import plan_to_json
from providers.simulated.local import LocalProvider
from state import load_state
from tests.helpers import apply_root, cloud_count, edit_json


def plan_for(root: Path, *, destroy: bool = False, refresh: bool = True) -> Plan:
    prepared, diagnostics = prepare(root)
    assert prepared is not None, diagnostics
    state, _ = read_state(prepared.stack)
    provider = open_provider(prepared.stack)
    try:
        return make_plan(prepared.stack, prepared.graph, state, provider, refresh=refresh, destroy=destroy)
    finally:
        provider.close()


def actions(plan: Plan) -> dict[str, str]:
    return {c.address: c.action.value for c in plan.changes}


def test_first_plan_creates_everything_in_order(example: Callable[[str], Path]) -> None:
    plan = plan_for(example("quickstart"))
    order = [c.address for c in plan.changes]
    assert [a.split(".")[0] for a in order] == [
        "gallery",
        "identity",
        "imageDefinition",
        "roleAssignment",  # Storage Blob Data Reader: a built-in role, only the identity before it
        "roleDefinition",
        "roleAssignment",  # the custom Image Creation role, after its definition
        "imageTemplate",
    ]
    assert order.index("imageDefinition.corpImages/ubuntu2204") < order.index("imageTemplate.ubuntu2204")
    assert set(actions(plan).values()) == {"create"}
    assert (plan.summary.add, plan.summary.change, plan.summary.replace, plan.summary.destroy) == (7, 0, 0, 0)
    assert plan.provider.startswith("local (simulated Azure")


def test_apply_then_plan_is_a_no_op_and_apply_is_idempotent(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    apply_root(root)
    for refresh in (True, False):
        plan = plan_for(root, refresh=refresh)
        assert not plan.has_changes and set(actions(plan).values()) == {"no-op"}
    state = load_state(root / "aibplan.state.json")
    assert state is not None and [r.address for r in state.resources] == sorted(
        r.address for r in state.resources
    )
    serial = state.serial
    hooks = apply_root(root)
    assert hooks.events == []
    assert load_state(root / "aibplan.state.json").serial == serial  # type: ignore[union-attr]


def test_inline_change_replaces_template_deleting_first(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    apply_root(root)
    edit_json(
        root / "ubuntu2204.json",
        lambda d: d["properties"]["customize"][0]["inline"].append("sudo apt-get autoremove -y"),
    )
    plan = plan_for(root)
    change = plan.change_for("imageTemplate.ubuntu2204")
    assert change is not None and change.action is Action.REPLACE
    assert change.action_reason == "replace_because_cannot_update"
    (diff,) = change.attribute_diffs
    assert diff.path == ("properties", "customize", 0, "inline", 2) and diff.forces_replacement
    hooks = apply_root(root)
    assert [e[:3] for e in hooks.events if e[0] == "pre"] == [
        ("pre", "imageTemplate.ubuntu2204", "replace (delete)"),
        ("pre", "imageTemplate.ubuntu2204", "replace (create)"),
    ]
    assert not plan_for(root).has_changes


def test_tag_change_updates_in_place(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    apply_root(root)
    edit_json(root / "ubuntu2204.json", lambda d: d["tags"].update(costCenter="4711"))
    change = plan_for(root).change_for("imageTemplate.ubuntu2204")
    assert change is not None and change.action is Action.UPDATE
    assert [(d.path, d.after, d.forces_replacement) for d in change.attribute_diffs] == [
        (("tags", "costCenter"), "4711", False)
    ]
    hooks = apply_root(root)
    assert ("pre", "imageTemplate.ubuntu2204", "update") in hooks.events
    assert not plan_for(root).has_changes


def test_location_spelling_and_id_case_are_not_changes(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    apply_root(root)
    edit_json(root / "identity.json", lambda d: d.update(location="West US 2"))
    edit_json(root / "ubuntu2204.json", lambda d: d["properties"].update(buildTimeoutInMinutes=80))
    assert not plan_for(root).has_changes


def test_removed_resource_is_deleted_and_destroy_walks_dependents_first(
    example: Callable[[str], Path],
) -> None:
    root = example("quickstart")
    apply_root(root)
    (root / "ubuntu2204.json").unlink()
    plan = plan_for(root)
    assert actions(plan)["imageTemplate.ubuntu2204"] == "delete"
    assert plan.summary.destroy == 1
    apply_root(root)
    hooks = apply_root(root, destroy=True, parallelism=1)
    order = [e[1] for e in hooks.events if e[0] == "pre"]
    assert order.index("imageDefinition.corpImages/ubuntu2204") < order.index("gallery.corpImages")
    assert cloud_count(root) == 0


def test_destroy_deletes_template_before_its_identity_and_definition(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    apply_root(root)
    plan = plan_for(root, destroy=True)
    assert set(actions(plan).values()) == {"delete"}
    hooks = apply_root(root, destroy=True)
    post = [e[1] for e in hooks.events if e[0] == "post"]
    pre = [e[1] for e in hooks.events if e[0] == "pre"]
    template_done = post.index("imageTemplate.ubuntu2204")
    for later in ("identity.aibBuilder", "imageDefinition.corpImages/ubuntu2204", "gallery.corpImages"):
        assert pre.index(later) > pre.index("imageTemplate.ubuntu2204")
        assert post.index(later) > template_done
    assert cloud_count(root) == 0
    assert load_state(root / "aibplan.state.json").resources == ()  # type: ignore[union-attr]


def test_resource_deleted_outside_is_created_again(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    apply_root(root)
    provider = LocalProvider(root / ".aibplan")
    state = load_state(root / "aibplan.state.json")
    assert state is not None
    provider.service.raw_delete(state.by_address["identity.aibBuilder"].arm_id)
    provider.close()
    change = plan_for(root).change_for("identity.aibBuilder")
    assert change is not None and change.action is Action.CREATE
    assert change.action_reason == "deleted_outside_aibplan"
    # Without refresh, the plan trusts the state file.
    assert not plan_for(root, refresh=False).has_changes


def test_failure_skips_dependents_and_keeps_what_succeeded(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    # Point the template at an image definition nobody creates: the cloud refuses the template.
    edit_json(
        root / "ubuntu2204.json",
        lambda d: d["properties"]["distribute"][0].update(
            galleryImageId="/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-golden-images/"
            "providers/Microsoft.Compute/galleries/corpImages/images/missing"
        ),
    )
    prepared, _ = prepare(root)
    assert prepared is not None
    state, existing = read_state(prepared.stack)
    provider = open_provider(prepared.stack)
    plan = make_plan(prepared.stack, prepared.graph, state, provider)
    result = apply_plan(plan, state, existing, prepared.stack.state_path, provider)
    provider.close()
    assert [(f.address, f.code) for f in result.failures] == [
        ("imageTemplate.ubuntu2204", "InvalidParameter")
    ]
    assert "does not exist" in result.failures[0].message
    assert result.added == 6
    saved = load_state(root / "aibplan.state.json")
    assert saved is not None and len(saved.resources) == 6


def test_json_plan_document(example: Callable[[str], Path]) -> None:
    document = plan_to_json(plan_for(example("quickstart")))
    assert document["format_version"] == "1"
    assert document["summary"] == {"add": 7, "change": 0, "replace": 0, "destroy": 0}
    change = document["resource_changes"][0]
    assert set(change) >= {"address", "type", "name", "action", "reasons", "attribute_diffs"}
    assert change["action"] in {"create", "update", "replace", "delete", "no-op", "read"}
    json.dumps(document)
