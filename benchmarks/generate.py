"""Generate a stack of N image templates, as the benchmarks and the reliability tests use it.

The stack: 1 user-assigned identity with a role assignment (Contributor on the resource group, so its
builds may write image versions), max(1, N/50) galleries with 5 image definitions each, and N image
templates (one resource file each), every template using the identity and one image
definition (round robin). Run as a script: `python -m benchmarks.generate N FOLDER [--latency-ms MS]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "rg-bench"
LOCATION = "westus2"
DEFINITIONS_PER_GALLERY = 5


def gallery_count(templates: int) -> int:
    return max(1, templates // 50)


def resource_count(templates: int) -> int:
    """Identity + its role assignment + galleries + image definitions + templates."""
    galleries = gallery_count(templates)
    return 2 + galleries + galleries * DEFINITIONS_PER_GALLERY + templates


def _identity() -> dict[str, Any]:
    return {
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "apiVersion": "2023-01-31",
        "name": "aibBuilder",
        "location": LOCATION,
        "tags": {"owner": "platform-team"},
    }


def _role_assignment() -> dict[str, Any]:
    return {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": "2022-04-01",
        "name": "[guid(resourceGroup().id, 'aibBuilder', 'Contributor')]",
        "dependsOn": ["aibBuilder"],
        "properties": {
            "roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', "
            "'b24988ac-6180-42a0-ab88-20f7382dd24c')]",
            # The identity's principal, known after apply (as the AIB quickstart templates name it).
            "principalId": "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', "
            "'aibBuilder'), '2023-01-31').principalId]",
            "principalType": "ServicePrincipal",
        },
    }


def _galleries(count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for g in range(count):
        gallery = f"gal{g:04d}"
        out.append(
            {
                "type": "Microsoft.Compute/galleries",
                "apiVersion": "2024-03-03",
                "name": gallery,
                "location": LOCATION,
                "tags": {"owner": "platform-team"},
                "properties": {"description": f"Golden images, batch {g}"},
            }
        )
        for d in range(DEFINITIONS_PER_GALLERY):
            out.append(
                {
                    "type": "Microsoft.Compute/galleries/images",
                    "apiVersion": "2024-03-03",
                    "name": f"{gallery}/def{d}",
                    "location": LOCATION,
                    "properties": {
                        "osType": "Linux",
                        "osState": "Generalized",
                        "hyperVGeneration": "V2",
                        "architecture": "x64",
                        "identifier": {"publisher": "Contoso", "offer": f"{gallery}-def{d}", "sku": "gen2"},
                    },
                }
            )
    return out


def _template(index: int, galleries: int) -> dict[str, Any]:
    definition = index % (galleries * DEFINITIONS_PER_GALLERY)
    gallery, number = divmod(definition, DEFINITIONS_PER_GALLERY)
    gallery_id = (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.Compute/"
        f"galleries/gal{gallery:04d}/images/def{number}"
    )
    identity_id = (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/aibBuilder"
    )
    return {
        "type": "Microsoft.VirtualMachineImages/imageTemplates",
        "apiVersion": "2024-02-01",
        "name": f"t{index:05d}",
        "location": LOCATION,
        "tags": {"imagebuilderTemplate": f"t{index:05d}", "owner": "platform-team"},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}},
        "properties": {
            "buildTimeoutInMinutes": 80,
            "vmProfile": {"vmSize": "Standard_D2ds_v4", "osDiskSizeGB": 30},
            "source": {
                "type": "PlatformImage",
                "publisher": "Canonical",
                "offer": "0001-com-ubuntu-server-jammy",
                "sku": "22_04-lts-gen2",
                "version": "latest",
            },
            "customize": [
                {
                    "type": "Shell",
                    "name": "update",
                    "inline": ["sudo apt-get update", "sudo apt-get upgrade -y"],
                },
                {
                    "type": "Shell",
                    "name": "stamp",
                    "inline": [f"echo 'built by template {index}' | sudo tee /etc/motd"],
                },
            ],
            "distribute": [
                {
                    "type": "SharedImage",
                    "galleryImageId": gallery_id,
                    "runOutputName": f"t{index:05d}-sig",
                    "artifactTags": {"template": f"t{index:05d}"},
                    "replicationRegions": [LOCATION],
                    "storageAccountType": "Standard_LRS",
                }
            ],
        },
    }


def generate_stack(root: Path, templates: int, *, config: dict[str, Any] | None = None) -> Path:
    """Write the stack into `root` (created); returns `root`."""
    root.mkdir(parents=True, exist_ok=True)
    settings: dict[str, Any] = {
        "subscriptionId": SUBSCRIPTION,
        "resourceGroup": RESOURCE_GROUP,
        "location": LOCATION,
        "provider": "local",
    }
    settings.update(config or {})
    (root / "aibplan.json").write_text(json.dumps(settings, indent=2) + "\n")
    (root / "identity.json").write_text(json.dumps(_identity(), indent=2) + "\n")
    (root / "permissions.json").write_text(json.dumps(_role_assignment(), indent=2) + "\n")
    galleries = gallery_count(templates)
    (root / "galleries.json").write_text(json.dumps(_galleries(galleries), indent=2) + "\n")
    folder = root / "templates"
    folder.mkdir(exist_ok=True)
    for index in range(templates):
        (folder / f"t{index:05d}.json").write_text(json.dumps(_template(index, galleries), indent=2) + "\n")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("templates", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--latency-ms", type=float, default=None)
    args = parser.parse_args()
    config = {"local": {"latencyMs": args.latency_ms}} if args.latency_ms is not None else None
    generate_stack(args.folder, args.templates, config=config)
    print(f"{args.folder}: {resource_count(args.templates)} resources ({args.templates} templates)")


if __name__ == "__main__":
    main()
