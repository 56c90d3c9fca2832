"""The examples validate without errors, and the quickstart rewritten with each mistake the issue lists
produces the matching diagnostic at the matching path (issue 3, acceptance 2)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planner.diagnostics import Severity, format_path, has_errors
from planner.rules.validate import validate_paths
from tests.helpers import EXAMPLES, edit_json

Edit = Callable[[Any], None]
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-golden-images"
UAI = f"{SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
SUBNET = f"{SUB}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/"
DEFINITION = f"{SUB}/providers/Microsoft.Compute/galleries/corpImages/images/ubuntu2204"


def props(edit: Callable[[dict[str, Any]], None]) -> Edit:
    return lambda body: edit(body["properties"])


def step(index: int, **values: Any) -> Edit:
    return props(lambda p: p["customize"][index].update(values))


def target(index: int, **values: Any) -> Edit:
    return props(lambda p: p["distribute"][index].update(values))


def windows(p: dict[str, Any]) -> None:
    p["source"] = {"type": "PlatformImage", "publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                   "sku": "2022-datacenter", "version": "latest"}  # fmt: skip
    p["customize"] = [{"type": "PowerShell", "name": "iis", "inline": ["Install-WindowsFeature Web-Server"]}]
    p["distribute"] = [{"type": "VHD", "runOutputName": "windows-vhd"}]


def definition(**values: Any) -> Edit:
    return lambda resources: resources[1]["properties"].update(values)


T = "ubuntu2204.json"
G = "gallery.json"
# (rule, file, edit, path of the expected diagnostic)
MISTAKES: list[tuple[str, str, Edit, str]] = [
    ("AIB2001", T, lambda b: b.update(type="Microsoft.VirtualMachineImages/imageTemplate"), "type"),
    ("AIB2002", T, lambda b: b.update(apiVersion="2024-02-02"), "apiVersion"),
    ("AIB2003", T, lambda b: b.update(apiVersion="2019-05-01-preview"), "apiVersion"),
    ("AIB2021", T, lambda b: b.update(location="westus22"), "location"),
    ("AIB2030", T, lambda b: b.pop("identity"), ""),
    ("AIB2031", T, lambda b: b.update(identity={"type": "SystemAssigned"}), "identity.type"),
    (
        "AIB2032",
        T,
        lambda b: b["identity"]["userAssignedIdentities"].update({UAI + "second": {}}),
        "identity.userAssignedIdentities",
    ),
    (
        "AIB2033",
        T,
        lambda b: b["identity"].update(userAssignedIdentities={"aibBuilder": {}}),
        "identity.userAssignedIdentities.aibBuilder",
    ),
    ("AIB2040", T, lambda b: b["tags"].update(build=42), "tags.build"),
    ("AIB3001", T, target(0, aritfactTags={"a": "b"}), "properties.distribute[0].aritfactTags"),
    (
        "AIB3002",
        T,
        props(
            lambda p: p.update(
                source={"type": "SharedImageVersion", "imageVersionID": DEFINITION + "/versions/1.0.0"}
            )
        ),
        "properties.source.imageVersionID",
    ),
    (
        "AIB3003",
        T,
        lambda b: (
            b.update(apiVersion="2021-10-01"),
            b["properties"].update(validate={"sourceValidationOnly": False}),
        ),
        "properties.validate",
    ),
    (
        "AIB3004",
        T,
        props(lambda p: p["source"].update(exactVersion="22.04.202401010")),
        "properties.source.exactVersion",
    ),
    ("AIB3004", T, props(lambda p: p.update(provisioningState="Succeeded")), "properties.provisioningState"),
    ("AIB3005", T, step(0, inline="sudo apt-get update"), "properties.customize[0].inline"),
    (
        "AIB3101",
        T,
        props(lambda p: p["vmProfile"].update(osDiskSizeGB=-1)),
        "properties.vmProfile.osDiskSizeGB",
    ),
    (
        "AIB3102",
        T,
        props(lambda p: p["vmProfile"].update(vnetConfig={"subnetId": "subnet1"})),
        "properties.vmProfile.vnetConfig.subnetId",
    ),
    (
        "AIB3103",
        T,
        props(lambda p: p["vmProfile"].update(userAssignedIdentities=["buildVm"])),
        "properties.vmProfile.userAssignedIdentities[0]",
    ),
    (
        "AIB3104",
        T,
        props(lambda p: p["vmProfile"].update(vnetConfig={"containerInstanceSubnetId": SUBNET + "aci"})),
        "properties.vmProfile.vnetConfig.containerInstanceSubnetId",
    ),
    (
        "AIB3104",
        T,
        props(
            lambda p: p["vmProfile"].update(
                vnetConfig={
                    "subnetId": SUBNET + "build",
                    "containerInstanceSubnetId": SUBNET + "aci",
                    "proxyVmSize": "Standard_A1_v2",
                }
            )
        ),
        "properties.vmProfile.vnetConfig.proxyVmSize",
    ),
    (
        "AIB3105",
        T,
        props(lambda p: (windows(p), p["vmProfile"].update(vmSize="Standard_D1_v2"))),
        "properties.vmProfile.vmSize",
    ),
    ("AIB3201", T, props(lambda p: p["source"].update(type="Marketplace")), "properties.source.type"),
    ("AIB3202", T, props(lambda p: p.update(source={"type": "ManagedImage"})), "properties.source"),
    (
        "AIB3203",
        T,
        props(lambda p: p["source"].update(planInfo={"planName": "x"})),
        "properties.source.planInfo",
    ),
    (
        "AIB3205",
        T,
        lambda b: (
            b.update(apiVersion="2020-02-14"),
            b["properties"].update(
                source={"type": "SharedImageVersion", "imageVersionId": DEFINITION + "/versions/latest"}
            ),
        ),
        "properties.source.imageVersionId",
    ),
    (
        "AIB3206",
        T,
        lambda b: (
            b.update(apiVersion="2020-02-14"),
            b["properties"].update(
                distribute=[
                    {
                        "type": "SharedImage",
                        "galleryImageId": DEFINITION,
                        "runOutputName": "sig",
                        "replicationRegions": ["westus2"],
                    }
                ]
            ),
        ),
        "properties.distribute[0].type",
    ),
    ("AIB3301", T, props(lambda p: p.update(buildTimeoutInMinutes=3)), "properties.buildTimeoutInMinutes"),
    ("AIB3301", T, props(lambda p: p.update(buildTimeoutInMinutes=1000)), "properties.buildTimeoutInMinutes"),
    (
        "AIB3302",
        T,
        props(lambda p: (windows(p), p.update(buildTimeoutInMinutes=30))),
        "properties.buildTimeoutInMinutes",
    ),
    ("AIB3401", T, step(0, type="Bash"), "properties.customize[0].type"),
    ("AIB3402", T, step(1, name="updatePackages"), "properties.customize[1].name"),
    ("AIB3403", T, step(0, scriptUri="https://example.com/a.sh"), "properties.customize[0]"),
    (
        "AIB3404",
        T,
        props(lambda p: p["customize"].append({"type": "WindowsRestart"})),
        "properties.customize[4].type",
    ),
    (
        "AIB3405",
        T,
        props(
            lambda p: (windows(p), p["customize"].append({"type": "WindowsRestart", "restartTimeout": "5"}))
        ),
        "properties.customize[1].restartTimeout",
    ),
    ("AIB3406", T, step(2, destination="/etc/motd"), "properties.customize[2].destination"),
    ("AIB3407", T, step(1, sha256Checksum="not-a-checksum"), "properties.customize[1].sha256Checksum"),
    (
        "AIB3408",
        T,
        props(lambda p: p["customize"][1].pop("sha256Checksum")),
        "properties.customize[1].scriptUri",
    ),
    (
        "AIB3409",
        T,
        step(1, scriptUri="http://stgoldenimages.blob.core.windows.net/scripts/install-tools.sh"),
        "properties.customize[1].scriptUri",
    ),
    (
        "AIB3410",
        T,
        step(0, inline=["echo 'password=Sup3rS3cret!' > /tmp/x"]),
        "properties.customize[0].inline[0]",
    ),
    (
        "AIB3411",
        T,
        props(lambda p: (windows(p), p["customize"][0].update(runAsSystem=True))),
        "properties.customize[0].runAsSystem",
    ),
    ("AIB3412", T, step(0, inline=["apt-get update"]), "properties.customize[0].inline[0]"),
    (
        "AIB3501",
        T,
        props(lambda p: p.update(validate={"inVMValidations": [{"type": "WindowsUpdate", "name": "x"}]})),
        "properties.validate.inVMValidations[0].type",
    ),
    (
        "AIB3503",
        T,
        props(lambda p: p.update(validate={"inVMValidations": [{"type": "Shell", "name": "check"}]})),
        "properties.validate.inVMValidations[0]",
    ),
    ("AIB3601", T, target(1, type="Vhd2"), "properties.distribute[1].type"),
    ("AIB3602", T, props(lambda p: p["distribute"][0].pop("galleryImageId")), "properties.distribute[0]"),
    ("AIB3603", T, target(1, runOutputName="ubuntu vhd"), "properties.distribute[1].runOutputName"),
    ("AIB3604", T, target(1, runOutputName="ubuntu2204-sig"), "properties.distribute[1].runOutputName"),
    (
        "AIB3605",
        T,
        props(
            lambda p: p["distribute"].append(
                {"type": "ManagedImage", "runOutputName": "img", "imageId": "ubuntu", "location": "westus2"}
            )
        ),
        "properties.distribute[2].imageId",
    ),
    (
        "AIB3606",
        T,
        target(0, galleryImageId=DEFINITION + "/versions/latest"),
        "properties.distribute[0].galleryImageId",
    ),
    ("AIB3607", T, target(0, replicationRegions=["eastus"]), "properties.distribute[0].replicationRegions"),
    ("AIB3608", T, target(0, targetRegions=[{"name": "eastus"}]), "properties.distribute[0].targetRegions"),
    (
        "AIB3609",
        T,
        props(
            lambda p: (
                p["distribute"][0].pop("replicationRegions"),
                p["distribute"][0].update(targetRegions=[{"name": "westus2"}]),
            )
        ),
        "properties.distribute[0].storageAccountType",
    ),
    ("AIB3610", T, target(0, versioning={"scheme": "Newest"}), "properties.distribute[0].versioning.scheme"),
    (
        "AIB3611",
        T,
        target(0, replicationRegions=["westus2", "east-us"]),
        "properties.distribute[0].replicationRegions[1]",
    ),
    ("AIB3612", T, target(1, uri="vhds/ubuntu.vhd"), "properties.distribute[1].uri"),
    ("AIB4001", T, lambda b: b.update(name="ubuntu 22.04"), "name"),
    ("AIB4002", G, lambda r: r[0].update(name="_corpImages"), "name"),
    ("AIB4003", G, lambda r: r[1].update(name="corpImages/ubuntu2204-"), "name"),
    ("AIB4010", G, lambda r: r[1]["properties"].pop("osState"), "properties"),
    ("AIB4011", G, definition(osState="Generalised"), "properties.osState"),
    ("AIB4004", "identity.json", lambda b: b.update(name="id"), "name"),
    (
        "AIB5001",
        G,
        lambda r: [x.update(location="eastus") for x in r],
        "properties.distribute[0].galleryImageId",
    ),
    (
        "AIB5002",
        T,
        props(
            lambda p: p["distribute"].append(
                {
                    "type": "ManagedImage",
                    "runOutputName": "img",
                    "location": "eastus",
                    "imageId": f"{SUB}/providers/Microsoft.Compute/images/ubuntu",
                }
            )
        ),
        "properties.distribute[2].location",
    ),
    ("AIB5003", G, definition(osType="Windows"), "properties.distribute[0].galleryImageId"),
    ("AIB5004", G, definition(osState="Specialized"), "properties.distribute[0].galleryImageId"),
    ("AIB5005", G, definition(hyperVGeneration="V1"), "properties.distribute[0].galleryImageId"),
    (
        "AIB5010",
        T,
        target(0, galleryImageId=DEFINITION.replace("rg-golden-images", "rg-shared")),
        "properties.distribute[0].galleryImageId",
    ),
]


@pytest.mark.parametrize("example", ["quickstart", "arm-deployment", "base-and-app"])
def test_the_examples_validate_without_errors(example: str) -> None:
    if not (EXAMPLES / example / "aibplan.json").exists():
        pytest.skip(f"no example {example}")
    result = validate_paths([EXAMPLES / example])
    assert not has_errors(result.diagnostics), [d.message for d in result.diagnostics]


@pytest.mark.parametrize(("rule", "file", "edit", "path"), MISTAKES, ids=[f"{m[0]}-{m[3]}" for m in MISTAKES])
def test_the_quickstart_with_a_mistake(rule: str, file: str, edit: Edit, path: str, tmp_path: Path) -> None:
    root = tmp_path / "quickstart"
    shutil.copytree(EXAMPLES / "quickstart", root, ignore=shutil.ignore_patterns(".aibplan", "*.state.json*"))
    edit_json(root / file, edit)
    found = [(d.code, format_path(d.path), d.severity) for d in validate_paths([root]).diagnostics]
    assert any(code == rule and shown == path for code, shown, _ in found), found
    # The mistake is all that is wrong: nothing else besides infos and what the mistake causes.
    others = [
        f for f in found if f[0] != rule and f[2] is not Severity.INFO and f[0] not in _ALSO.get(rule, ())
    ]
    assert not others


# What a mistake brings along, legitimately.
_ALSO = {
    "AIB2001": ("AIB1002",),  # the template is left out, so what depends on it dangles
    "AIB2003": ("AIB3003",),  # the preview lacks fields the quickstart uses (osDiskSizeGB, ...)
    "AIB2021": ("AIB5001",),  # the template is no longer in its image definition's region
    "AIB3003": ("AIB3520",),  # an empty validate block validates nothing
    "AIB3104": ("AIB9105",),  # the identity has no rights on the new subnet's network
    "AIB3205": ("AIB3206",),  # the Gen2 definition's versions, distributed with 2020-02-14
    "AIB3403": ("AIB3408",),  # the added scriptUri has no checksum
    "AIB3608": ("AIB3609",),  # storageAccountType stays with targetRegions
    "AIB4002": ("AIB1002",),  # renamed resources: the template's dependsOn dangles
    "AIB4003": ("AIB1002", "AIB5010"),
    "AIB4004": ("AIB1002",),
    "AIB5010": ("AIB9102",),  # the identity's role is on the stack's resource group, not the other one
}


def test_a_trailing_comma_is_named_with_file_line_and_column(tmp_path: Path) -> None:
    root = tmp_path / "quickstart"
    shutil.copytree(EXAMPLES / "quickstart", root, ignore=shutil.ignore_patterns(".aibplan", "*.state.json*"))
    text = (root / T).read_text()
    (root / T).write_text(text.replace('"version": "latest"\n', '"version": "latest",\n', 1))
    (found,) = [d for d in validate_paths([root]).diagnostics if d.code == "AIB0001"]
    assert (found.file, found.line, found.column) == (T, 22, 26)
    assert "trailing comma" in found.message
