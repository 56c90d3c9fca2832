"""The quickstart's permissions through the Azure provider and the ARM emulator (real SDK, real TLS): the
role resources apply, build and destroy in order; without the custom role's assignment the plan warns
(the role assignments listed from the cloud), `run` refuses, and a build started anyway fails at
Distributing with Image Builder's authorization text."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.stack.jsonc import load_jsonc
from tests.helpers import SUBSCRIPTION, Emulator, Run


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIBPLAN_BUILD_POLL_SECONDS", "0.01")


def _drop_image_creation(root: Path) -> None:
    path = root / "permissions.json"
    document = load_jsonc(path.read_text(), str(path))
    document["resources"] = [
        r
        for r in document["resources"]
        if not (r["type"] == "Microsoft.Authorization/roleAssignments" and "imageCreationRole" in r["name"])
    ]
    path.write_text(json.dumps(document, indent=2))


def test_the_quickstart_with_and_without_its_role_assignment_on_the_emulator(
    azure_quickstart: Callable[..., Path], azure_env: Emulator, cli: Callable[..., Run]
) -> None:
    root = azure_quickstart()
    applied = cli("apply", "--auto-approve", "--run", str(root))
    assert applied.exit_code == 0, applied.stderr
    assert "Apply complete! Resources: 7 added" in applied.stdout
    assert "imageTemplate.ubuntu2204: Succeeded after" in applied.stderr
    plan = cli("plan", "--detailed-exitcode", str(root))
    assert plan.exit_code == 0 and "AIB91" not in plan.stdout + plan.stderr

    _drop_image_creation(root)
    plan = cli("plan", str(root))
    warnings = [line for line in (plan.stdout + plan.stderr).splitlines() if " warning AIB9102 " in line]
    assert len(warnings) == 1 and "no role assignment in the stack or the cloud grants" in warnings[0]
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0

    refused = cli("run", str(root))
    assert refused.exit_code == 1 and "--ignore-permissions" in refused.stderr
    built = cli("run", "--ignore-permissions", str(root))
    assert "PartiallySucceeded" in built.stdout
    assert "Distribution failed: ubuntu2204-sig: Not authorized to access the resource: " in built.stdout
    assert "Please check the user assigned identity has the correct permissions." in built.stdout

    # Destroy: the image versions the builds published go first (Azure keeps the definition while it
    # holds any), then the template before the role assignments, and those before the identity.
    service = azure_env.server.service
    group = json.loads((root / "aibplan.json").read_text())["resourceGroup"]
    definition = (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.Compute/galleries/"
        "corpImages/images/ubuntu2204"
    )
    for version in service.child_ids(definition):
        service.raw_delete(version)
    destroyed = cli("destroy", "--auto-approve", "--allow-vhd-loss", str(root))
    assert destroyed.exit_code == 0, destroyed.stderr
    assert "Destroy complete! Resources: 6 destroyed." in destroyed.stdout
    lines = destroyed.stderr.splitlines()
    gone = {line.split(":")[0]: i for i, line in enumerate(lines) if ": Destruction complete" in line}
    began = {line.split(":")[0]: i for i, line in enumerate(lines) if line.endswith("Destroying...")}
    (assignment,) = [a for a in gone if a.startswith("roleAssignment.")]
    assert (
        gone["imageTemplate.ubuntu2204"] < began[assignment] < gone[assignment] < began["identity.aibBuilder"]
    )


def test_a_network_the_identity_may_not_join_fails_the_create_as_recorded(
    azure_quickstart: Callable[..., Path], azure_env: Emulator, cli: Callable[..., Run]
) -> None:
    root = azure_quickstart()
    group = json.loads((root / "aibplan.json").read_text())["resourceGroup"]
    providers = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers"
    network = f"{providers}/Microsoft.Network/virtualNetworks/vnet"
    service = azure_env.server.service
    service.raw_write(network, {"location": "westus2"})
    service.raw_write(f"{network}/subnets/build", {"properties": {"addressPrefix": "10.0.1.0/24"}})
    path = root / "ubuntu2204.json"
    body = load_jsonc(path.read_text(), str(path))
    body["properties"]["vmProfile"]["vnetConfig"] = {"subnetId": f"{network}/subnets/build"}
    path.write_text(json.dumps(body, indent=2))

    applied = cli("apply", "--auto-approve", str(root))
    assert applied.exit_code == 1
    # PUT 201, then the operation ends Failed with the service's Unauthorized, naming the network.
    assert (
        f"imageTemplate.ubuntu2204: create failed: Unauthorized: Not authorized to access the resource: "
        f"{network}. Please check the user assigned identity has the correct permissions." in applied.stderr
    )
    template = f"{providers}/Microsoft.VirtualMachineImages/imageTemplates/ubuntu2204"
    props = service.get(template, "2024-02-01")["properties"]
    assert props["provisioningState"] == "Failed"
    assert props["provisioningError"]["provisioningErrorCode"] == "Other"
    replan = cli("plan", str(root))
    assert (
        "imageTemplate.ubuntu2204: adopted and tainted" in replan.stderr and "1 to replace" in replan.stdout
    )
