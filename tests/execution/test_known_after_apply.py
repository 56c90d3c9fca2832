"""Values known only after apply, on the local cloud through the command line: a fresh stack whose role
assignments take their principal from `reference()` plans `(known after apply)`, applies (directly or as a
saved plan) with the real value, and plans "No changes" after; a value the plan showed that the cloud
changes before a saved plan is applied stops that change; the published full-pipeline template (its
role assignment's principal from reference()) validates, plans and applies."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from providers.simulated.service import SimulatedAzure
from tests.helpers import BASES, FIXTURES, Run, edit_json

RA_RG = "roleAssignment.65aacccd-1036-54eb-b54d-66e9b8a228fd"
RA_GALLERY = "roleAssignment.e65b4d8e-b63b-545b-ae58-cf7950dee5af"
IDENTITY = "identity.aibBuilder"
SHARED_IDENTITY = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shared/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/shared"
)


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    """The `unknowns` golden base as a fresh stack: nothing applied yet."""
    root = tmp_path / "stack"
    shutil.copytree(BASES / "unknowns" / "stack", root)
    return root


def _state(root: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((root / "aibplan.state.json").read_text())
    return {entry["address"]: entry for entry in data["resources"]}


def _assert_real_values(root: Path) -> None:
    state = _state(root)
    identity = state[IDENTITY]["observed"]["properties"]
    for address in (RA_RG, RA_GALLERY):
        for part in ("applied", "observed"):
            assert state[address][part]["properties"]["principalId"] == identity["principalId"], address
    assert state["gallery.gal"]["applied"]["tags"] == {"builderClientId": identity["clientId"]}
    assert (
        state[RA_GALLERY]["applied"]["properties"]["description"]
        == f"The builder ({identity['clientId']}) reads the gallery"
    )


def _no_changes(cli: Callable[..., Run], root: Path) -> None:
    run = cli("plan", "--detailed-exitcode", str(root))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "No changes." in run.stdout


def test_a_fresh_plan_shows_the_principal_known_after_apply_and_the_apply_sends_the_real_one(
    stack: Path, cli: Callable[..., Run]
) -> None:
    run = cli("plan", str(stack))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.count("principalId      = (known after apply)") == 2
    assert "builderClientId = (known after apply)" in run.stdout
    assert "description      = (known after apply)" in run.stdout
    assert "Plan: 4 to add, 0 to change, 0 to replace, 0 to destroy." in run.stdout

    document = json.loads(cli("plan", "--json", str(stack)).stdout)
    changes = {c["address"]: c for c in document["resource_changes"]}
    assert changes[RA_RG]["after_unknown"] == {"properties": {"principalId": True}}
    assert changes[RA_RG]["after"]["properties"]["principalId"] is None
    assert changes[RA_GALLERY]["after_unknown"] == {"properties": {"description": True, "principalId": True}}
    assert changes["gallery.gal"]["after_unknown"] == {"tags": {"builderClientId": True}}
    assert changes[IDENTITY]["after_unknown"] == {}
    # What refers to the identity waits for it.
    assert changes[RA_RG]["depends_on"] == [IDENTITY]

    run = cli("apply", "--auto-approve", str(stack))
    assert run.exit_code == 0, run.stderr
    assert "Apply complete! Resources: 4 added" in run.stdout
    _assert_real_values(stack)
    _no_changes(cli, stack)


def test_a_saved_plan_keeps_the_unknowns_and_its_apply_writes_the_real_values(
    stack: Path, cli: Callable[..., Run]
) -> None:
    plan_file = stack.parent / "fresh.plan"
    run = cli("plan", "--out", str(plan_file), str(stack))
    assert run.exit_code == 0, run.stderr
    saved = json.loads(plan_file.read_text())
    by_address = {c["address"]: c for c in saved["plan"]["changes"]}
    assert by_address[RA_RG]["after_unknown"] == [["properties", "principalId"]]
    run = cli("show", str(plan_file))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.count("principalId      = (known after apply)") == 2

    run = cli("apply", str(plan_file))
    assert run.exit_code == 0, run.stderr
    _assert_real_values(stack)
    _no_changes(cli, stack)


def test_a_replaced_identity_replaces_the_role_assignments_that_name_its_principal(
    stack: Path, cli: Callable[..., Run]
) -> None:
    assert cli("apply", "--auto-approve", str(stack)).exit_code == 0
    edit_json(stack / "pipeline.json", lambda d: d["resources"][0].update(location="eastus"))
    run = cli("plan", str(stack))
    assert run.exit_code == 0, run.stderr
    assert "Plan: 0 to add, 1 to change, 3 to replace, 0 to destroy." in run.stdout
    assert "-> (known after apply) # forces replacement" in run.stdout
    assert '~ tags.builderClientId = "' in run.stdout
    run = cli("apply", "--auto-approve", str(stack))
    assert run.exit_code == 0, run.stderr
    _assert_real_values(stack)
    _no_changes(cli, stack)


def _refer_to_shared_identity(root: Path) -> None:
    """A role assignment whose description names the owner tag of an identity outside the stack."""

    def add(document: dict[str, Any]) -> None:
        document["resources"].append(
            {
                "type": "Microsoft.Authorization/roleAssignments",
                "apiVersion": "2022-04-01",
                "name": "[guid(resourceGroup().id, 'shared', 'Reader')]",
                "properties": {
                    "roleDefinitionId": "[variables('readerRole')]",
                    "principalId": f"[reference('{SHARED_IDENTITY}', '2023-01-31').principalId]",
                    "description": f"[concat('owned by ', reference('{SHARED_IDENTITY}', '2023-01-31', "
                    "'Full').tags.owner)]",
                },
            }
        )

    edit_json(root / "pipeline.json", add)


def _write_shared_identity(root: Path, owner: str) -> None:
    service = SimulatedAzure(root / ".aibplan" / "local-cloud.db")
    try:
        service.raw_write(
            SHARED_IDENTITY,
            {
                "location": "westus2",
                "tags": {"owner": owner},
                "properties": {"principalId": "5d1f0c3e-8a2b-4c6d-9e7f-102938475665", "clientId": "c"},
            },
        )
    finally:
        service.close()


def test_a_resource_outside_the_stack_is_read_at_plan_and_a_changed_value_stops_its_saved_plan(
    stack: Path, cli: Callable[..., Run]
) -> None:
    _refer_to_shared_identity(stack)
    run = cli("plan", str(stack))
    assert run.exit_code == 1
    assert "AIB8001 reference(): the identity " in run.stderr and "rg-shared" in run.stderr
    assert "pipeline.json:" in run.stderr

    _write_shared_identity(stack, "team-a")
    plan_file = stack.parent / "shared.plan"
    run = cli("plan", "--out", str(plan_file), str(stack))
    assert run.exit_code == 0, run.stderr
    assert '+ description      = "owned by team-a"' in run.stdout
    assert '+ principalId      = "5d1f0c3e-8a2b-4c6d-9e7f-102938475665"' in run.stdout

    _write_shared_identity(stack, "team-b")
    run = cli("apply", str(plan_file))
    assert run.exit_code == 1
    assert "reference() gives other values than the plan showed (properties.description)" in run.stderr
    assert "plan again" in run.stderr

    run = cli("apply", "--auto-approve", str(stack))
    assert run.exit_code == 0, run.stderr
    shared = next(e for e in _state(stack).values() if "owned by" in json.dumps(e["applied"]))
    assert shared["applied"]["properties"]["description"] == "owned by team-b"
    _no_changes(cli, stack)


def test_the_published_full_pipeline_template_plans_its_principal_known_after_apply(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    """tests/fixtures/published/arm-full-pipeline, in a stack, with its other known mistakes fixed (a Gen1
    image definition for a Gen2 source, replication without the gallery's region, a preview api version)."""
    root = tmp_path / "published"
    root.mkdir()
    shutil.copy(FIXTURES / "published" / "arm-full-pipeline" / "azuredeploy.json", root)
    (root / "aibplan.json").write_text(
        json.dumps({"subscriptionId": "sub-1", "resourceGroup": "rg-aib", "location": "westus2"})
    )
    edit_json(
        root / "azuredeploy.json",
        lambda d: d["resources"][3]["properties"].update(hyperVGeneration="V2"),
    )
    fixes = ("--var", "api-version=2024-02-01", "--var", 'replicationRegions=["westus2"]')
    run = cli("validate", *fixes, str(root))
    assert run.exit_code == 0, run.stderr
    run = cli("plan", *fixes, str(root))
    assert run.exit_code == 0, run.stderr
    assert "principalId      = (known after apply)" in run.stdout
    assert "Plan: 5 to add, 0 to change, 0 to replace, 0 to destroy." in run.stdout
    run = cli("apply", "--auto-approve", *fixes, str(root))
    assert run.exit_code == 0, run.stderr
    state = _state(root)
    (identity,) = [e for a, e in state.items() if a.startswith("identity.")]
    (assignment,) = [e for a, e in state.items() if a.startswith("roleAssignment.")]
    principal = identity["observed"]["properties"]["principalId"]
    assert assignment["applied"]["properties"]["principalId"] == principal
    assert cli("plan", "--detailed-exitcode", *fixes, str(root)).exit_code == 0
