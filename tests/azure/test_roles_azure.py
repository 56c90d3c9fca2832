"""Role assignments and role definitions end to end through the Azure provider (real SDK, real TLS)
and the ARM emulator: at a resource group, on a gallery (`scope`), on an image definition (a nested
`providers/roleAssignments` type), and a custom role at subscription scope; plan, apply, an update sent as
a whole PUT, no changes after, destroy in order."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from providers.simulated.service import ServiceError
from tests.helpers import BASES, SUBSCRIPTION, Emulator, Run, edit_json

# A custom role at subscription scope, and its assignment to the builder at the resource group.
SUBSCRIPTION_ROLE = [
    {
        "type": "Microsoft.Authorization/roleDefinitions",
        "apiVersion": "2022-04-01",
        "name": "[guid(resourceGroup().id, 'subscription role')]",
        "scope": "[subscription().id]",
        "properties": {
            "roleName": "[concat('Image reader ', resourceGroup().name)]",
            "permissions": [{"actions": ["Microsoft.Compute/images/read"]}],
            "assignableScopes": ["[subscription().id]"],
        },
    },
    {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": "2022-04-01",
        "name": "[guid(resourceGroup().id, 'builder reads images')]",
        "properties": {
            "roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', "
            "guid(resourceGroup().id, 'subscription role'))]",
            "principalId": "9c4f1e2a-7d3b-4c55-8e21-0a6b3f9d4e10",
        },
    },
]


@pytest.fixture
def roles_stack(tmp_path: Path, azure_env: Emulator) -> Path:
    root = tmp_path / "roles"
    shutil.copytree(BASES / "roles" / "stack", root)
    config = {
        "subscriptionId": SUBSCRIPTION,
        "resourceGroup": azure_env.new_group(),
        "location": "westus2",
        "provider": "azure",
    }
    (root / "aibplan.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (root / "subscription-role.json").write_text(json.dumps(SUBSCRIPTION_ROLE, indent=2), encoding="utf-8")
    return root


def _state(root: Path) -> dict[str, Any]:
    data = json.loads((root / "aibplan.state.json").read_text())
    return {r["address"]: r for r in data["resources"] if not r.get("removed")}


def test_role_kinds_plan_apply_update_and_destroy_through_the_emulator(
    roles_stack: Path, azure_env: Emulator, cli: Callable[..., Run]
) -> None:
    root = roles_stack
    run = cli("plan", str(root))
    assert run.exit_code == 0, run.stderr
    assert "Plan: 10 to add, 0 to change, 0 to replace, 0 to destroy." in run.stdout

    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    state = _state(root)
    kinds = sorted(address.split(".")[0] for address in state)
    assert kinds.count("roleAssignment") == 4 and kinds.count("roleDefinition") == 2
    service = azure_env.server.service
    on_gallery = next(e for e in state.values() if "/galleries/gal/providers/" in e["id"])
    held = service.get(on_gallery["id"], "2022-04-01")
    assert held["properties"]["scope"].lower().endswith("/galleries/gal")
    subscription_role = next(
        e for e in state.values() if e["id"].startswith(f"/subscriptions/{SUBSCRIPTION}/providers/")
    )
    assert service.get(subscription_role["id"], "2022-04-01")["properties"]["type"] == "CustomRole"

    run = cli("plan", "--detailed-exitcode", str(root))
    assert run.exit_code == 0, run.stdout + run.stderr

    # The emulator refuses PATCH on role assignments (405): an update is sent as a whole PUT.
    edit_json(root / "pipeline.json", lambda d: d["resources"][5]["properties"].update(description="reads"))
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    assert "Resources: 0 added, 1 changed, 0 replaced, 0 destroyed." in run.stdout
    assert service.get(on_gallery["id"], "2022-04-01")["properties"]["description"] == "reads"
    assert cli("plan", "--detailed-exitcode", str(root)).exit_code == 0

    run = cli("destroy", "--auto-approve", "--parallelism", "1", str(root))
    assert run.exit_code == 0, run.stderr
    order = [line.split(":")[0].split(".")[0] for line in run.stderr.splitlines() if "Destroying" in line]
    assert order.index("imageTemplate") < min(i for i, k in enumerate(order) if k == "roleAssignment")
    assert max(i for i, k in enumerate(order) if k == "roleAssignment") < min(
        i for i, k in enumerate(order) if k == "roleDefinition"
    )
    for entry in state.values():
        with pytest.raises(ServiceError):
            service.get(entry["id"], entry["api_version"])
