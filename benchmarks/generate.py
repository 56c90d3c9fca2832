"""Generate a stack of N image templates, as the benchmarks and the reliability tests use it.

The graph: 1 user-assigned identity with a role assignment (Contributor on the resource group, so its
builds may write image versions), max(1, N/50) galleries with 5 image definitions each, and N image
templates, every template using the identity and one image definition (round robin). The same graph can
be written in four layouts (`LAYOUTS`), which evaluate to the same resources with the same bodies:

- files: one resource per file (templates/t00000.json, ...), the galleries and definitions as a list;
- list:  one file (resources.json) holding a list of every resource;
- arm:   one ARM deployment template (deployment.json) with every resource, ids written as
         resourceId() expressions and dependsOn, as an ARM template would;
- copy:  one ARM deployment template whose galleries, definitions and templates are copy loops (of at
         most 800 instances each, as ARM allows).

Run as a script: `python -m benchmarks.generate N FOLDER [--layout L] [--latency-ms MS]`.
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
LAYOUTS = ("files", "list", "arm", "copy")
DEPLOYMENT_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


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


# A step whose script is not checked (warning AIB3408): with `warnings`, every template has one, so that
# validate locates N diagnostics (file, line and column) in the stack's files.
UNCHECKED_STEP = {
    "type": "Shell",
    "name": "tools",
    "scriptUri": "https://stcontosoimages.blob.core.windows.net/scripts/install-tools.sh",
}


def _template(index: int, galleries: int, warnings: bool = False) -> dict[str, Any]:
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
                *([dict(UNCHECKED_STEP)] if warnings else []),
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


def resources(templates: int, warnings: bool = False) -> list[dict[str, Any]]:
    """Every resource of the graph, as written in the files and list layouts: the identity and its role
    assignment, each gallery followed by its image definitions, then the templates."""
    galleries = gallery_count(templates)
    return [
        _identity(),
        _role_assignment(),
        *_galleries(galleries),
        *(_template(i, galleries, warnings) for i in range(templates)),
    ]


def generate_stack(
    root: Path,
    templates: int,
    *,
    config: dict[str, Any] | None = None,
    layout: str = "files",
    warnings: bool = False,
) -> Path:
    """Write the stack into `root` (created) in `layout` (one of `LAYOUTS`); returns `root`. With
    `warnings`, every template carries one warning (AIB3408)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}: one of {', '.join(LAYOUTS)}")
    root.mkdir(parents=True, exist_ok=True)
    settings: dict[str, Any] = {
        "subscriptionId": SUBSCRIPTION,
        "resourceGroup": RESOURCE_GROUP,
        "location": LOCATION,
        "provider": "local",
    }
    settings.update(config or {})
    _write(root / "aibplan.json", settings)
    galleries = gallery_count(templates)
    if layout == "files":
        _write(root / "identity.json", _identity())
        _write(root / "permissions.json", _role_assignment())
        _write(root / "galleries.json", _galleries(galleries))
        folder = root / "templates"
        folder.mkdir(exist_ok=True)
        for index in range(templates):
            _write(folder / f"t{index:05d}.json", _template(index, galleries, warnings))
    elif layout == "list":
        _write(root / "resources.json", resources(templates, warnings))
    elif layout == "arm":
        _write(root / "deployment.json", arm_deployment(templates, warnings))
    else:
        _write(root / "deployment.json", copy_deployment(templates, warnings))
    return root


def resource_files(root: Path) -> list[Path]:
    """The stack's resource files: every JSON file but the settings, the state and `.aibplan/`."""
    return sorted(
        f
        for f in root.rglob("*.json")
        if f.name not in ("aibplan.json", "aibplan.state.json")
        and ".aibplan" not in f.relative_to(root).parts
    )


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def _deployment(resources: list[dict[str, Any]], variables: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": DEPLOYMENT_SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": {"location": {"type": "string", "defaultValue": LOCATION}},
        "variables": variables,
        "resources": resources,
    }


_IDENTITY_ID = "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'aibBuilder')]"


def _in_arm(resource: dict[str, Any], depends_on: list[str]) -> dict[str, Any]:
    """A resource as an ARM template writes it: location from the parameter (where it has one),
    dependsOn listed."""
    out = dict(resource)
    if "location" in out:
        out["location"] = "[parameters('location')]"
    if depends_on:
        out["dependsOn"] = depends_on
    return out


def arm_deployment(templates: int, warnings: bool = False) -> dict[str, Any]:
    """One deployment template holding every resource, with ids as resourceId() expressions."""
    galleries = gallery_count(templates)
    resources = [_in_arm(_identity(), []), _in_arm(_role_assignment(), [_IDENTITY_ID])]
    for resource in _galleries(galleries):
        depends_on = []
        if resource["type"] == "Microsoft.Compute/galleries/images":
            gallery = resource["name"].split("/")[0]
            depends_on = [f"[resourceId('Microsoft.Compute/galleries', '{gallery}')]"]
        resources.append(_in_arm(resource, depends_on))
    for index in range(templates):
        template = _template(index, galleries, warnings)
        gallery, definition = template["properties"]["distribute"][0]["galleryImageId"].split("/")[-3::2]
        image_id = f"[resourceId('Microsoft.Compute/galleries/images', '{gallery}', '{definition}')]"
        template["identity"] = {
            "type": "UserAssigned",
            "userAssignedIdentities": {"[variables('identityId')]": {}},
        }
        template["properties"]["distribute"][0]["galleryImageId"] = image_id
        resources.append(_in_arm(template, ["[variables('identityId')]", image_id]))
    return _deployment(resources, {"identityId": _IDENTITY_ID})


def copy_deployment(templates: int, warnings: bool = False) -> dict[str, Any]:
    """One deployment template whose galleries, image definitions and templates are copy loops."""
    galleries = gallery_count(templates)
    definitions = galleries * DEFINITIONS_PER_GALLERY
    gallery = _galleries(1)[0]
    gallery["name"] = "[format('gal{0}', padLeft(copyIndex(), 4, '0'))]"
    gallery["properties"]["description"] = "[format('Golden images, batch {0}', copyIndex())]"
    gallery["copy"] = {"name": "galleries", "count": galleries}
    definition = _galleries(1)[1]
    of_gallery = "format('gal{0}', padLeft(div(copyIndex(), 5), 4, '0'))"
    definition["name"] = f"[format('{{0}}/def{{1}}', {of_gallery}, mod(copyIndex(), 5))]"
    definition["properties"]["identifier"]["offer"] = (
        f"[format('{{0}}-def{{1}}', {of_gallery}, mod(copyIndex(), 5))]"
    )
    definition["copy"] = {"name": "definitions", "count": definitions}
    definition_dependency = f"[resourceId('Microsoft.Compute/galleries', {of_gallery})]"
    template = _template(0, galleries, warnings)
    name = "format('t{0}', padLeft(copyIndex(), 5, '0'))"
    image_id = (
        "[resourceId('Microsoft.Compute/galleries/images', format('gal{0}', padLeft(div(mod(copyIndex(), "
        "variables('definitions')), 5), 4, '0')), format('def{0}', mod(copyIndex(), 5)))]"
    )
    template["name"] = f"[{name}]"
    template["tags"] = {"imagebuilderTemplate": f"[{name}]", "owner": "platform-team"}
    template["identity"] = {
        "type": "UserAssigned",
        "userAssignedIdentities": {"[variables('identityId')]": {}},
    }
    properties = template["properties"]
    properties["customize"][1]["inline"] = [
        "[format('echo ''built by template {0}'' | sudo tee /etc/motd', copyIndex())]"
    ]
    target = properties["distribute"][0]
    target["galleryImageId"] = image_id
    target["runOutputName"] = f"[format('{{0}}-sig', {name})]"
    target["artifactTags"] = {"template": f"[{name}]"}
    template["copy"] = {"name": "templates", "count": templates}
    resources = [
        _in_arm(_identity(), []),
        _in_arm(_role_assignment(), [_IDENTITY_ID]),
        *_in_chunks(_in_arm(gallery, [])),
        *_in_chunks(_in_arm(definition, [definition_dependency])),
        *_in_chunks(_in_arm(template, ["[variables('identityId')]", image_id])),
    ]
    return _deployment(resources, {"identityId": _IDENTITY_ID, "definitions": definitions})


# ARM's largest copy count (AIB0031): a longer loop is written as several, each starting where the last ended.
MAX_COPY = 800


def _in_chunks(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """`resource`'s copy loop as loops of at most MAX_COPY, `copyIndex(START)` giving each its own indexes
    (the loops `NAME`, `NAME1`, `NAME2`, ...)."""
    loop = resource["copy"]
    if loop["count"] <= MAX_COPY:
        return [resource]
    chunks = []
    for number, start in enumerate(range(0, loop["count"], MAX_COPY)):
        text = json.dumps(resource).replace("copyIndex()", f"copyIndex({start})")
        chunk = json.loads(text)
        chunk["copy"] = {
            "name": loop["name"] if number == 0 else f"{loop['name']}{number}",
            "count": min(MAX_COPY, loop["count"] - start),
        }
        chunks.append(chunk)
    return chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("templates", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--layout", choices=LAYOUTS, default="files")
    parser.add_argument("--warnings", action="store_true", help="one warning (AIB3408) in every template")
    parser.add_argument("--latency-ms", type=float, default=None)
    args = parser.parse_args()
    config = {"local": {"latencyMs": args.latency_ms}} if args.latency_ms is not None else None
    generate_stack(args.folder, args.templates, config=config, layout=args.layout, warnings=args.warnings)
    print(
        f"{args.folder}: {resource_count(args.templates)} resources ({args.templates} templates, "
        f"layout {args.layout})"
    )


if __name__ == "__main__":
    main()
