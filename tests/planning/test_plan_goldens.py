"""Golden plans: for each case (a stack, a state and a cloud), the JSON plan it makes (tests/helpers.py
describes the fixtures).

Each case also says which action (and action_reason) it means each resource to get, so a golden file
rewritten by mistake cannot make a wrong decision pass.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from planner.execution.apply import apply_plan
from planner.execution.engine import open_provider, prepare, read_state
from planner.planning.plan import make_plan
from providers.simulated.service import SimulatedAzure
from state import State, dumps_state, load_state
from tests.helpers import (
    BASES,
    EXTERNAL,
    case_files,
    golden_path,
    materialise,
    plan_document,
)
from tests.helpers import CASES as CASES_DIR

CASES = case_files()
_ENVELOPE = ("id", "name", "type")


@pytest.mark.parametrize("case_file", CASES, ids=[p.stem for p in CASES])
def test_golden_plan(case_file: Path, tmp_path: Path) -> None:
    case = json.loads(case_file.read_text())
    root = materialise(case, tmp_path)
    document = plan_document(root, case.get("options", {}))
    actual = {c["address"]: [c["action"], c["action_reason"]] for c in document["resource_changes"]}
    for address, expected in case["expect"].items():
        assert actual.get(address) == expected, f"{case['description']}: {address}"
    golden = golden_path(case_file)
    if os.environ.get("AIBPLAN_UPDATE_GOLDEN"):
        golden.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    assert golden.exists(), f"no golden file {golden.name}; run with AIBPLAN_UPDATE_GOLDEN=1 and review it"
    assert document == json.loads(golden.read_text())


def _change(case: str, address: str = "imageTemplate.t") -> dict:  # type: ignore[type-arg]
    document = json.loads(golden_path(CASES_DIR / f"{case}.json").read_text())
    return next(c for c in document["resource_changes"] if c["address"] == address)


@pytest.mark.parametrize("field", ["vm-size", "os-disk", "subnet"])
def test_the_same_vm_profile_change_is_a_replace_before_2024_and_an_update_from_it(field: str) -> None:
    for version in ("2020-02-14", "2022-07-01", "2023-07-01"):
        change = _change(f"template-{version}--{field}")
        assert change["action"] == "replace" and change["action_reason"] == "replace_because_cannot_update"
        (diff,) = change["attribute_diffs"]
        assert diff["forces_replacement"] is True
        assert f"(api-version {version})" in change["reasons"][0]
    change = _change(f"template-2024-02-01--{field}")
    assert change["action"] == "update" and change["reasons"] == []
    (diff,) = change["attribute_diffs"]
    assert diff["forces_replacement"] is False


def test_the_plan_marks_the_exact_path_that_forces_a_replace() -> None:
    change = _change("template-2022-07-01--customize")
    assert [d["path"] for d in change["attribute_diffs"] if d["forces_replacement"]] == [
        ["properties", "customize", 0, "inline", 1]
    ]
    assert change["reasons"] == [
        "properties.customize[0].inline[1] cannot be updated in place (api-version 2022-07-01)"
    ]
    change = _change("template-2024-02-01--location")
    assert change["reasons"] == ["location cannot be updated in place (api-version 2024-02-01)"]


def test_cascades_name_their_cause() -> None:
    template = _change("gallery--location")
    definition = _change("gallery--location", "imageDefinition.gal/ubuntu")
    assert definition["action_reason"] == "cascade"
    assert "gallery.gal is replaced" in definition["reasons"][0]
    assert template["action_reason"] == "cascade"
    assert "imageDefinition.gal/ubuntu, is replaced" in template["reasons"][0]


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
