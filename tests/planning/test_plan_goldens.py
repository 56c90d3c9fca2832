"""Golden plans: for each case (a stack, a state and a cloud), the JSON plan it makes (plan_fixtures.py).

Each case also says which action (and action_reason) it means each resource to get, so a golden file
rewritten by mistake cannot make a wrong decision pass.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.plan_fixtures import CASES as CASES_DIR
from tests.plan_fixtures import case_files, golden_path, materialise, plan_document

CASES = case_files()


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
