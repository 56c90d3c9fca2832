"""The quickstart end to end through the Azure provider (real SDK, real TLS) and the ARM emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.helpers import SUBSCRIPTION, Emulator, Run, edit_json


def group_of(root: Path) -> str:
    import json

    return str(json.loads((root / "aibplan.json").read_text())["resourceGroup"])


def test_quickstart_plan_apply_noop_replace_destroy(
    azure_quickstart: Callable[..., Path], azure_env: Emulator, cli: Callable[..., Run]
) -> None:
    root = azure_quickstart()
    group = group_of(root)

    run = cli("plan", str(root))
    assert run.exit_code == 0, run.stderr
    assert f"Provider: azure (subscription {SUBSCRIPTION} at {azure_env.endpoint}" in run.stdout
    assert "Plan: 7 to add, 0 to change, 0 to replace, 0 to destroy." in run.stdout

    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    assert "Apply complete! Resources: 7 added, 0 changed, 0 replaced, 0 destroyed." in run.stdout
    held = azure_env.server.service.list_resource_group(SUBSCRIPTION, group)
    assert sorted(item["type"] for item in held) == [
        "Microsoft.Authorization/roleAssignments",
        "Microsoft.Authorization/roleAssignments",
        "Microsoft.Authorization/roleDefinitions",
        "Microsoft.Compute/galleries",
        "Microsoft.Compute/galleries/images",
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "Microsoft.VirtualMachineImages/imageTemplates",
    ]

    run = cli("plan", "--detailed-exitcode", str(root))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "No changes." in run.stdout

    edit_json(root / "gallery.json", lambda d: _tag_first(d, {"owner": "image-team"}))
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    assert "1 changed" in run.stdout

    edit_json(
        root / "ubuntu2204.json",
        lambda d: d["properties"]["customize"][0].update(inline=["sudo apt-get update"]),
    )
    run = cli("plan", "--detailed-exitcode", str(root))
    assert run.exit_code == 2
    assert '-/+ resource "Microsoft.VirtualMachineImages/imageTemplates" "ubuntu2204"' in run.stdout
    assert "# forces replacement" in run.stdout
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    assert "Apply complete! Resources: 0 added, 0 changed, 1 replaced, 0 destroyed." in run.stdout
    template = next(
        item
        for item in azure_env.server.service.list_resource_group(SUBSCRIPTION, group)
        if item["type"].endswith("imageTemplates")
    )
    assert template["properties"]["customize"][0]["inline"] == ["sudo apt-get update"]

    run = cli("plan", "--detailed-exitcode", str(root))
    assert run.exit_code == 0, run.stdout

    run = cli("destroy", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    assert "Destroy complete! Resources: 7 destroyed." in run.stdout
    assert azure_env.server.service.list_resource_group(SUBSCRIPTION, group) == []


def _tag_first(document: object, tags: dict[str, str]) -> None:
    resource = document[0] if isinstance(document, list) else document
    assert isinstance(resource, dict)
    resource.setdefault("tags", {}).update(tags)
