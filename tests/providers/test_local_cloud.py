"""The simulated cloud refuses what Azure refuses, and returns what Azure adds."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.base import ConflictError, NotFoundError, PermanentError, ResourceRef
from providers.simulated.local import LocalProvider

RG = "/subscriptions/s/resourceGroups/rg/providers"
GALLERY = ResourceRef(f"{RG}/Microsoft.Compute/galleries/gal", "Microsoft.Compute/galleries", "2024-03-03")
DEFINITION = ResourceRef(
    f"{RG}/Microsoft.Compute/galleries/gal/images/linux", "Microsoft.Compute/galleries/images", "2024-03-03"
)
IDENTITY = ResourceRef(
    f"{RG}/Microsoft.ManagedIdentity/userAssignedIdentities/builder",
    "Microsoft.ManagedIdentity/userAssignedIdentities",
    "2023-01-31",
)
TEMPLATE = ResourceRef(
    f"{RG}/Microsoft.VirtualMachineImages/imageTemplates/t",
    "Microsoft.VirtualMachineImages/imageTemplates",
    "2022-07-01",
)
DEFINITION_BODY = {
    "location": "West US 2",
    "properties": {
        "osType": "Linux",
        "osState": "Generalized",
        "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
    },
}
TEMPLATE_BODY = {
    "location": "westus2",
    "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY.arm_id: {}}},
    "properties": {
        "source": {
            "type": "PlatformImage",
            "publisher": "Canonical",
            "offer": "o",
            "sku": "s",
            "version": "latest",
        },
        "distribute": [
            {
                "type": "SharedImage",
                "galleryImageId": DEFINITION.arm_id,
                "runOutputName": "sig",
                "replicationRegions": ["westus2"],
            }
        ],
    },
}


@pytest.fixture
def cloud(tmp_path: Path) -> LocalProvider:
    provider = LocalProvider(tmp_path / ".aibplan")
    yield provider  # type: ignore[misc]
    provider.close()


def test_image_definition_needs_its_gallery(cloud: LocalProvider) -> None:
    with pytest.raises(NotFoundError, match="Parent resource 'gal' not found"):
        cloud.create(DEFINITION, DEFINITION_BODY)
    cloud.create(GALLERY, {"location": "westus2"})
    created = cloud.create(DEFINITION, DEFINITION_BODY)
    assert created["location"] == "westus2"  # the service answers with the canonical region name
    assert created["properties"]["provisioningState"] == "Succeeded"


def test_template_needs_the_image_definition_it_distributes_to(cloud: LocalProvider) -> None:
    cloud.create(IDENTITY, {"location": "westus2"})
    with pytest.raises(PermanentError, match="does not exist"):
        cloud.create(TEMPLATE, TEMPLATE_BODY)
    cloud.create(GALLERY, {"location": "westus2"})
    cloud.create(DEFINITION, DEFINITION_BODY)
    created = cloud.create(TEMPLATE, TEMPLATE_BODY)
    principal = created["identity"]["userAssignedIdentities"][IDENTITY.arm_id]
    assert set(principal) == {"principalId", "clientId"}


def test_second_put_of_a_template_is_refused_but_tags_can_be_patched(cloud: LocalProvider) -> None:
    cloud.create(IDENTITY, {"location": "westus2"})
    cloud.create(GALLERY, {"location": "westus2"})
    cloud.create(DEFINITION, DEFINITION_BODY)
    cloud.create(TEMPLATE, TEMPLATE_BODY)
    with pytest.raises(ConflictError, match="Update/Upgrade of image templates is currently not supported"):
        cloud.create(TEMPLATE, TEMPLATE_BODY)
    assert cloud.update(TEMPLATE, {"tags": {"a": "b"}})["tags"] == {"a": "b"}
    with pytest.raises(PermanentError, match="cannot be updated with api-version 2022-07-01"):
        cloud.update(TEMPLATE, {"properties": {"vmProfile": {"vmSize": "Standard_D4s_v3"}}})


def test_gallery_with_image_definitions_cannot_be_deleted(cloud: LocalProvider) -> None:
    cloud.create(GALLERY, {"location": "westus2"})
    cloud.create(DEFINITION, DEFINITION_BODY)
    with pytest.raises(ConflictError, match="nested resources"):
        cloud.delete(GALLERY)
    cloud.delete(DEFINITION)
    cloud.delete(GALLERY)
    cloud.delete(GALLERY)  # deleting what is gone succeeds
    assert cloud.read(GALLERY) is None


def test_identity_gets_read_only_ids_and_unknown_api_versions_fail(cloud: LocalProvider) -> None:
    created = cloud.create(IDENTITY, {"location": "westus2"})
    assert set(created["properties"]) == {"principalId", "clientId", "tenantId"}
    # The service spells its ids `/resourcegroups/` (recorded: identity_management_2022-01-31-preview#0).
    assert created["id"] == IDENTITY.arm_id.replace("/resourceGroups/", "/resourcegroups/")
    assert created["name"] == "builder" and created["tags"] == {}
    with pytest.raises(PermanentError, match="The api-version '1999-01-01' is invalid"):
        cloud.create(ResourceRef(IDENTITY.arm_id, IDENTITY.arm_type, "1999-01-01"), {"location": "westus2"})
    # A version another type registers (a gallery's) has no provider for identities.
    with pytest.raises(PermanentError, match="No registered resource provider found") as caught:
        cloud.read(ResourceRef(IDENTITY.arm_id, IDENTITY.arm_type, "2024-03-03"))
    assert "The supported api-versions are '2025-05-31-preview, 2024-11-30," in str(caught.value)


def test_image_definition_identity_fields_are_immutable(cloud: LocalProvider) -> None:
    cloud.create(GALLERY, {"location": "westus2"})
    cloud.create(DEFINITION, DEFINITION_BODY)
    changed = {**DEFINITION_BODY, "properties": {**DEFINITION_BODY["properties"], "osType": "Windows"}}  # type: ignore[dict-item]
    with pytest.raises(ConflictError, match="Changing property 'osType' is not allowed"):
        cloud.create(DEFINITION, changed)


def test_a_bulk_read_and_its_fingerprint_come_from_the_same_rows(cloud: LocalProvider) -> None:
    cloud.create(GALLERY, {"location": "westus2"})
    cloud.create(DEFINITION, DEFINITION_BODY)
    refs = [GALLERY, DEFINITION, TEMPLATE]
    answer, fingerprint = cloud.read_many_fingerprinted(refs)
    assert answer == cloud.read_many(refs)
    assert answer[TEMPLATE.arm_id] is None and answer[GALLERY.arm_id]["name"] == "gal"  # type: ignore[index]
    # The plan cache compares the fingerprint of the cloud as it is later with the one kept.
    assert fingerprint == cloud.read_many_fingerprint(refs)
    cloud.update(GALLERY, {"tags": {"changed": "yes"}})
    assert cloud.read_many_fingerprint(refs) != fingerprint
    assert cloud.read_many_fingerprinted(refs)[1] == cloud.read_many_fingerprint(refs)
