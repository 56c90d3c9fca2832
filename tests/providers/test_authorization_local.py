"""Microsoft.Authorization in the simulated cloud: built-in role definitions by id, role assignments and
definitions listed by scope and filter, a new identity's replication delay (PrincipalNotFound with the
service's text), and builds that fail, with the service's words, at the step that needs a permission the
template's identity lacks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.simulated.service import ServiceError, SimulatedAzure

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
RG = f"{SUB}/resourceGroups/rg-images"
P = f"{RG}/providers"
IDENTITY = f"{P}/Microsoft.ManagedIdentity/userAssignedIdentities/aibBuilder"
GALLERY = f"{P}/Microsoft.Compute/galleries/corpImages"
DEFINITION = f"{GALLERY}/images/ubuntu"
TEMPLATE = f"{P}/Microsoft.VirtualMachineImages/imageTemplates/ubuntu"
ROLES = "/providers/Microsoft.Authorization/roleDefinitions"
CONTRIBUTOR = f"{SUB}{ROLES}/b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = f"{SUB}{ROLES}/acdd72a7-3385-48ef-bd42-f606fba81ae7"
BLOB_READER = f"{SUB}{ROLES}/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
NOT_AUTHORIZED = "Not authorized to access the resource: {}. Please check the user assigned identity has the "
API = "2024-02-01"
RA_API = "2022-04-01"
SCRIPT = "https://stimages.blob.core.windows.net/scripts/install.sh"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cloud(tmp_path: Path, clock: Clock) -> Iterator[SimulatedAzure]:
    sim = SimulatedAzure(tmp_path / "cloud.db", clock=clock, build_minute=1.0, principal_delay=10.0)
    sim.put(GALLERY, "2024-03-03", {"location": "westus2"})
    sim.put(
        DEFINITION,
        "2024-03-03",
        {
            "location": "westus2",
            "properties": {
                "osType": "Linux",
                "osState": "Generalized",
                "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
            },
        },
    )
    yield sim
    sim.close()


def identity(cloud: SimulatedAzure, clock: Clock, arm_id: str = IDENTITY) -> str:
    """Make an identity and let the directory catch up; its principal id."""
    principal = cloud.put(arm_id, "2023-01-31", {"location": "westus2"})[1]["properties"]["principalId"]
    clock.now += 60
    return str(principal)


def assign(cloud: SimulatedAzure, scope: str, role: str, principal: str, name: str = "0") -> dict:  # type: ignore[type-arg]
    arm_id = (
        f"{scope}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-4000-8000-00000000000{name}"
    )
    return cloud.put(arm_id, RA_API, {"properties": {"roleDefinitionId": role, "principalId": principal}})[1]


def template(**props: object) -> dict:  # type: ignore[type-arg]
    return {
        "location": "westus2",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}},
        "properties": {
            "source": {
                "type": "PlatformImage",
                "publisher": "p",
                "offer": "o",
                "sku": "s",
                "version": "1.0.0",
            },
            "customize": [{"type": "Shell", "name": "x", "inline": ["true"]}],
            "distribute": [{"type": "VHD", "runOutputName": "vhd"}],
            **props,
        },
    }


def build(cloud: SimulatedAzure, clock: Clock, body: dict) -> dict:  # type: ignore[type-arg]
    """Create the template, run it to its end; its lastRunStatus."""
    cloud.put(TEMPLATE, API, body)
    cloud.post_action(TEMPLATE, API, "run")
    clock.now += 600
    return cloud.get(TEMPLATE, API)["properties"]["lastRunStatus"]  # type: ignore[no-any-return]


def test_built_in_role_definitions_are_served_by_id(cloud: SimulatedAzure) -> None:
    served = cloud.get(CONTRIBUTOR, RA_API)
    assert served["id"] == CONTRIBUTOR
    assert served["properties"]["roleName"] == "Contributor"
    assert served["properties"]["type"] == "BuiltInRole"
    with pytest.raises(ServiceError) as missing:
        cloud.get(f"{SUB}{ROLES}/00000000-0000-4000-8000-000000000999", RA_API)
    assert missing.value.status == 404


def test_role_assignments_are_listed_at_above_and_below_a_scope(cloud: SimulatedAzure, clock: Clock) -> None:
    principal = identity(cloud, clock)
    at_group = assign(cloud, RG, READER, principal, "1")
    on_gallery = assign(cloud, GALLERY, CONTRIBUTOR, principal, "2")
    someone_else = assign(cloud, RG, READER, "11111111-2222-4333-8444-555555555555", "3")
    ids = lambda found: sorted(b["id"] for b in found)  # noqa: E731
    assert on_gallery["properties"]["scope"] == GALLERY
    assert ids(cloud.list_role_assignments(DEFINITION)) == ids([at_group, on_gallery, someone_else])
    assert ids(cloud.list_role_assignments(RG, at_scope_only=True)) == ids([at_group, someone_else])
    assert ids(cloud.list_role_assignments(SUB, principal=principal.upper())) == ids([at_group, on_gallery])
    other_gallery = f"{P}/Microsoft.Compute/galleries/other"
    assert ids(cloud.list_role_assignments(other_gallery)) == ids([at_group, someone_else])


def test_role_definitions_are_listed_by_name_and_type(cloud: SimulatedAzure) -> None:
    custom = f"{RG}{ROLES}/0c1d2e3f-0000-4000-8000-00000000de01"
    cloud.put(
        custom,
        RA_API,
        {
            "properties": {
                "roleName": "Image Creation",
                "permissions": [{"actions": ["Microsoft.Compute/galleries/images/versions/write"]}],
                "assignableScopes": [RG],
            }
        },
    )
    contributor = cloud.list_role_definitions(RG, role_name="contributor")
    assert [b["id"] for b in contributor] == [CONTRIBUTOR]
    assert [b["properties"]["roleName"] for b in cloud.list_role_definitions(RG, role_type="CustomRole")] == [
        "Image Creation"
    ]
    assert cloud.list_role_definitions(f"{SUB}/resourceGroups/elsewhere", role_type="CustomRole") == []


def test_a_new_identity_is_not_found_until_the_directory_catches_up(
    cloud: SimulatedAzure, clock: Clock
) -> None:
    principal = cloud.put(IDENTITY, "2023-01-31", {"location": "westus2"})[1]["properties"]["principalId"]
    with pytest.raises(ServiceError) as refused:
        assign(cloud, RG, CONTRIBUTOR, principal)
    assert (refused.value.status, refused.value.code) == (400, "PrincipalNotFound")
    assert refused.value.message.startswith(
        f"Principal {principal.replace('-', '')} does not exist in the directory "
    )
    assert "this error might be related to a replication delay" in refused.value.message
    clock.now += 9
    with pytest.raises(ServiceError):
        assign(cloud, RG, CONTRIBUTOR, principal)
    clock.now += 1
    assert assign(cloud, RG, CONTRIBUTOR, principal)["properties"]["principalId"] == principal


def test_a_build_without_rights_on_the_gallery_fails_distributing_that_target(
    cloud: SimulatedAzure, clock: Clock
) -> None:
    principal = identity(cloud, clock)
    assign(cloud, RG, READER, principal)
    sig = {
        "type": "SharedImage",
        "galleryImageId": DEFINITION,
        "runOutputName": "sig",
        "targetRegions": [{"name": "westus2"}],
    }
    status = build(cloud, clock, template(distribute=[sig, {"type": "VHD", "runOutputName": "vhd"}]))
    assert (status["runState"], status["runSubState"]) == ("PartiallySucceeded", "Distributing")
    assert status["message"].startswith("Distribution failed: sig: " + NOT_AUTHORIZED.format(DEFINITION))
    outputs = {o["name"]: o["properties"] for o in cloud.list_run_outputs(TEMPLATE, API)}
    assert outputs["sig"] == {"provisioningState": "Failed"}
    assert outputs["vhd"]["artifactUri"].endswith(".vhd")
    assert cloud.store.child_ids(DEFINITION) == []


def test_contributor_on_the_gallery_lets_the_same_build_publish(cloud: SimulatedAzure, clock: Clock) -> None:
    principal = identity(cloud, clock)
    assign(cloud, GALLERY, CONTRIBUTOR, principal)
    sig = {
        "type": "SharedImage",
        "galleryImageId": DEFINITION,
        "runOutputName": "sig",
        "targetRegions": [{"name": "westus2"}],
    }
    status = build(cloud, clock, template(distribute=[sig]))
    assert (status["runState"], status["message"]) == ("Succeeded", "")
    assert len(cloud.store.child_ids(DEFINITION)) == 1


def test_a_script_the_identity_may_not_read_fails_the_customizing_step(
    cloud: SimulatedAzure, clock: Clock
) -> None:
    principal = identity(cloud, clock)
    step = {"type": "Shell", "name": "install", "scriptUri": SCRIPT}
    status = build(cloud, clock, template(customize=[step]))
    assert (status["runState"], status["runSubState"]) == ("Failed", "Customizing")
    assert status["message"] == (
        NOT_AUTHORIZED.format(SCRIPT)
        + "correct permissions. For more details, go to https://aka.ms/azvmimagebuilderts."
    )
    cloud.delete(TEMPLATE, API)
    assign(cloud, RG, BLOB_READER, principal)
    assert build(cloud, clock, template(customize=[step]))["runState"] == "Succeeded"


def test_a_source_image_and_build_vm_identities_the_identity_may_not_use_fail_the_building_step(
    cloud: SimulatedAzure, clock: Clock
) -> None:
    identity(cloud, clock)
    build_vm = f"{P}/Microsoft.ManagedIdentity/userAssignedIdentities/buildVm"
    identity(cloud, clock, build_vm)
    status = build(cloud, clock, template(vmProfile={"userAssignedIdentities": [build_vm]}))
    assert (status["runState"], status["runSubState"]) == ("Failed", "Building")
    assert status["message"].startswith(NOT_AUTHORIZED.format(build_vm))


def test_a_template_whose_identity_may_not_join_its_subnet_is_left_failed_by_its_create(
    cloud: SimulatedAzure, clock: Clock
) -> None:
    principal = identity(cloud, clock)
    network = f"{P}/Microsoft.Network/virtualNetworks/vnet-build"
    body = template(vmProfile={"vnetConfig": {"subnetId": f"{network}/subnets/build"}})
    with pytest.raises(ServiceError) as refused:
        cloud.put(TEMPLATE, API, body)
    assert (refused.value.code, refused.value.accepted) == ("Unauthorized", True)
    # The recorded words, naming the network (recorded: image_builder_vm_profile_2023-07-01.json#1, #2).
    expected = (
        NOT_AUTHORIZED.format(network)
        + "correct permissions. For more details, go to https://aka.ms/azvmimagebuilderts."
    )
    assert refused.value.message == expected
    props = cloud.get(TEMPLATE, API)["properties"]
    assert props["provisioningState"] == "Failed"
    assert props["provisioningError"] == {"provisioningErrorCode": "Other", "message": expected}
    with pytest.raises(ServiceError) as failed:
        cloud.post_action(TEMPLATE, API, "run")
    assert "failed state" in failed.value.message
    cloud.delete(TEMPLATE, API)
    network_contributor = f"{SUB}{ROLES}/4d97b98b-1d4f-4787-a291-c67834d212e7"
    cloud.raw_write(network, {"location": "westus2"})  # the network, made elsewhere
    assign(cloud, network, network_contributor, principal)
    assert cloud.put(TEMPLATE, API, body)[1]["properties"]["provisioningState"] == "Succeeded"
