"""Every api version real traffic and the REST spec's examples use is one aibplan knows: a body the service
accepted at that version validates without an api-version error (AIB2002), old and new versions alike
(galleries at 2019-03-01 and 2026-03-03, identities at 2021-09-30-preview)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.diagnostics import Severity
from planner.rules.validate import validate_paths
from providers.catalog import BY_ARM_TYPE
from providers.catalog.artifacts import artifact_type
from tests.helpers.recorded import ARM_TYPES, Recorded, interactions

MANAGED = {kind: arm_type for kind, arm_type in ARM_TYPES.items() if arm_type.lower() in BY_ARM_TYPE}
RECORDED_PUTS = [
    item
    for item in interactions()
    if item.kind in MANAGED and item.method == "PUT" and isinstance(item.request["body"], dict)
]


def test_the_catalog_knows_every_api_version_of_every_recorded_kind() -> None:
    unknown = set()
    for item in interactions():
        arm_type = ARM_TYPES.get(item.kind)
        if arm_type is None:
            continue
        rtype = BY_ARM_TYPE.get(arm_type.lower()) or artifact_type(arm_type)
        assert rtype is not None, arm_type
        if item.api_version not in rtype.all_api_versions():
            unknown.add(f"{item.where}: {arm_type} {item.api_version}")
    assert not unknown, sorted(unknown)


@pytest.mark.parametrize("item", RECORDED_PUTS, ids=lambda item: item.where)
def test_a_recorded_body_validates_without_an_api_version_error(
    item: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "/".join(item.request["path"].split("/")[8::2])
    resource = {
        "type": MANAGED[item.kind],
        "apiVersion": item.api_version,
        "name": name,
        **item.request["body"],
    }
    (tmp_path / "resource.json").write_text(json.dumps(resource, indent=2), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = validate_paths([Path("resource.json")])
    version_errors = [d for d in result.diagnostics if d.code == "AIB2002" and d.severity is Severity.ERROR]
    assert version_errors == []
