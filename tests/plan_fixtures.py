"""Golden plan fixtures: a stack, a state and a cloud in, a JSON plan out.

Layout under tests/fixtures/plans/:

- `bases/<base>/stack/`: a stack; `bases/<base>/state.json` and `cloud.json`: the state and the cloud after
  a clean apply of it (made by `python -m tests.plan_fixtures`, which applies the stack to a fresh local
  cloud and records both);
- `cases/<case>.json`: one case: its base, edits to the stack files, the state and the cloud (each a file
  or address, a JSON path as a list, and a value, or `"remove": true`), the plan options, and the
  action each resource is meant to get (`expect`);
- `cases/<case>.plan.json`: the JSON plan the case must produce (without the provider's description, the
  inputs hash and the full before/after bodies, which other tests cover). `AIBPLAN_UPDATE_GOLDEN=1`
  rewrites these files from the current code; review the diff before committing it.
"""

from __future__ import annotations

import copy
import json
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from planner.execution.apply import apply_plan
from planner.execution.engine import open_provider, prepare, read_state
from planner.planning.plan import make_plan
from planner.render.json_plan import plan_to_json
from planner.stack.jsonc import load_jsonc
from providers.simulated.service import SimulatedAzure
from state import State, dumps_state, load_state

PLANS = Path(__file__).resolve().parent / "fixtures" / "plans"
BASES = PLANS / "bases"
CASES = PLANS / "cases"
_ENVELOPE = ("id", "name", "type")
# What the stacks refer to but do not manage; the plan reads them (AIB8001), so the cloud holds them.
EXTERNAL = {
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-network/providers/"
    f"Microsoft.Network/virtualNetworks/vnet-build/subnets/{name}": {"properties": {"addressPrefix": prefix}}
    for name, prefix in (("build", "10.0.1.0/24"), ("build2", "10.0.2.0/24"))
}


def case_files() -> list[Path]:
    return sorted(p for p in CASES.glob("*.json") if not p.name.endswith(".plan.json"))


def golden_path(case_file: Path) -> Path:
    return case_file.with_name(case_file.stem + ".plan.json")


def set_at(document: Any, path: list[Any], value: Any, *, remove: bool = False) -> None:
    """Set (or remove) the value at `path` (keys and list indexes), creating objects on the way."""
    node = document
    for part in path[:-1]:
        if isinstance(node, dict) and part not in node:
            node[part] = {}
        node = node[part]
    last = path[-1]
    if remove:
        del node[last]
    elif isinstance(node, list) and last == len(node):
        node.append(value)
    else:
        node[last] = value


def materialise(case: Mapping[str, Any], where: Path) -> Path:
    """Lay the case out in `where`: the stack with its edits, the state file, the local cloud database."""
    base = BASES / case["base"]
    root = where / "stack"
    shutil.copytree(base / "stack", root)
    for edit in case.get("stack", []):
        file = root / edit["file"]
        document = load_jsonc(file.read_text(), str(file))
        set_at(document, edit["path"], copy.deepcopy(edit.get("value")), remove=edit.get("remove", False))
        file.write_text(json.dumps(document, indent=2) + "\n")
    state_data = json.loads((base / "state.json").read_text())
    by_address = {r["address"]: r for r in state_data["resources"]}
    for edit in case.get("state", []):
        entry = by_address[edit["address"]]
        set_at(entry, edit["path"], copy.deepcopy(edit.get("value")), remove=edit.get("remove", False))
    (root / "aibplan.state.json").write_text(json.dumps(state_data, indent=2, sort_keys=True) + "\n")
    cloud = json.loads((base / "cloud.json").read_text())
    bodies = {r["id"]: r["body"] for r in cloud["resources"]}
    for edit in case.get("cloud", []):
        arm_id = by_address[edit["address"]]["id"]
        if edit.get("delete"):
            bodies.pop(arm_id)
            continue
        value = copy.deepcopy(edit.get("value"))
        set_at(bodies[arm_id], edit["path"], value, remove=edit.get("remove", False))
    service = SimulatedAzure(root / ".aibplan" / "local-cloud.db")
    try:
        for arm_id, body in bodies.items():
            service.raw_write(arm_id, body)
    finally:
        service.close()
    return root


def plan_document(root: Path, options: Mapping[str, Any]) -> dict[str, Any]:
    prepared, diagnostics = prepare(root)
    assert prepared is not None, diagnostics
    state, _ = read_state(prepared.stack)
    provider = open_provider(prepared.stack)
    try:
        plan = make_plan(
            prepared.stack,
            prepared.graph,
            state,
            provider,
            refresh=options.get("refresh", True),
            destroy=options.get("destroy", False),
            targets=tuple(options.get("targets", ())),
            replace_addresses=tuple(options.get("replace", ())),
            refresh_only=options.get("refresh_only", False),
        )
    finally:
        provider.close()
    return golden_form(plan_to_json(plan))


def golden_form(document: dict[str, Any]) -> dict[str, Any]:
    """What a golden file pins: the JSON plan without machine paths, the hash and full bodies."""
    out = {k: v for k, v in document.items() if k not in ("provider", "inputs_hash")}
    out["resource_changes"] = [
        {k: v for k, v in c.items() if k not in ("before", "after")} for c in document["resource_changes"]
    ]
    out["resource_drift"] = [
        {k: v for k, v in d.items() if k not in ("before", "after")} for d in document["resource_drift"]
    ]
    return out


def make_base(name: str) -> None:
    """Apply a base stack to a fresh local cloud; record the state and the cloud it leaves."""
    base = BASES / name
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "stack"
        shutil.copytree(base / "stack", root)
        prepared, diagnostics = prepare(root)
        assert prepared is not None, diagnostics
        state, existing = read_state(prepared.stack)
        state = State(lineage=f"golden-fixture-{name}")
        service = SimulatedAzure(root / ".aibplan" / "local-cloud.db")
        for arm_id, body in EXTERNAL.items():
            service.raw_write(arm_id, body)
        service.close()
        provider = open_provider(prepared.stack)
        try:
            plan = make_plan(prepared.stack, prepared.graph, state, provider)
            result = apply_plan(plan, state, existing, prepared.stack.state_path, provider)
            assert result.ok, result.failures
        finally:
            provider.close()
        written = load_state(prepared.stack.state_path)
        assert written is not None
        (base / "state.json").write_text(dumps_state(written))
        service = SimulatedAzure(root / ".aibplan" / "local-cloud.db")
        try:
            listed = service.list_resource_group(
                prepared.stack.config.subscription_id, prepared.stack.config.resource_group
            ) + service.list_resource_group(prepared.stack.config.subscription_id, "rg-network")
        finally:
            service.close()
        resources = [
            {"id": body["id"], "body": {k: v for k, v in body.items() if k not in _ENVELOPE}}
            for body in listed
        ]
        text = json.dumps({"resources": resources}, indent=2, sort_keys=True)
        (base / "cloud.json").write_text(text + "\n")


if __name__ == "__main__":
    for base_dir in sorted(BASES.iterdir()):
        if len(sys.argv) > 1 and base_dir.name not in sys.argv[1:]:
            continue
        make_base(base_dir.name)
        print(f"made {base_dir.name}")
