"""Role assignments and role definitions in the simulated cloud: what it adds (as recorded), what it
refuses, and that an extension resource goes with the resource it is attached to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.base import ConflictError, NotFoundError, PermanentError, ProviderError, ResourceRef
from providers.simulated.local import LocalProvider

SUB = "/subscriptions/s"
RG = f"{SUB}/resourceGroups/rg"
GALLERY = ResourceRef(
    f"{RG}/providers/Microsoft.Compute/galleries/gal", "Microsoft.Compute/galleries", "2024-03-03"
)
ASSIGNMENTS = "Microsoft.Authorization/roleAssignments"
DEFINITIONS = "Microsoft.Authorization/roleDefinitions"
ON_GALLERY = ResourceRef(
    f"{GALLERY.arm_id}/providers/{ASSIGNMENTS}/0c1d2e3f-0000-4000-8000-000000000001",
    ASSIGNMENTS,
    "2022-04-01",
)
ROLE = ResourceRef(
    f"{SUB}/providers/{DEFINITIONS}/0c1d2e3f-0000-4000-8000-00000000de01", DEFINITIONS, "2022-04-01"
)
ON_GROUP = ResourceRef(
    f"{RG}/providers/{ASSIGNMENTS}/0c1d2e3f-0000-4000-8000-000000000002", ASSIGNMENTS, "2022-04-01"
)
READER = f"{SUB}/providers/{DEFINITIONS}/acdd72a7-3385-48ef-bd42-f606fba81ae7"
PRINCIPAL = "9c4f1e2a-7d3b-4c55-8e21-0a6b3f9d4e10"


def assignment(role: str = READER, principal: str = PRINCIPAL, **more: str) -> dict[str, object]:
    return {"properties": {"roleDefinitionId": role, "principalId": principal, **more}}


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalProvider]:
    provider = LocalProvider(tmp_path / ".aibplan")
    yield provider
    provider.close()


def test_a_role_assignment_answers_with_what_the_service_adds(cloud: LocalProvider) -> None:
    cloud.create(GALLERY, {"location": "westus2"})
    created = cloud.create(ON_GALLERY, assignment())
    props = created["properties"]
    assert created["type"] == ASSIGNMENTS and created["name"] == ON_GALLERY.arm_id.rsplit("/", 1)[1]
    assert props["scope"] == GALLERY.arm_id
    assert props["principalType"] == "ServicePrincipal"  # not sent, as recorded at 2018-09-01-preview
    assert props["createdBy"] is None and props["updatedBy"] and props["createdOn"].endswith("Z")
    # From 2020-04-01-preview the optional fields come back null when not sent.
    assert props["condition"] is None and props["description"] is None
    older = ResourceRef(ON_GROUP.arm_id, ASSIGNMENTS, "2018-01-01-preview")
    props = cloud.create(older, assignment())["properties"]
    assert "principalType" not in props and "condition" not in props
    assert props["scope"] == RG


def test_a_role_assignment_needs_its_scope_and_keeps_its_principal(cloud: LocalProvider) -> None:
    with pytest.raises(NotFoundError, match="galleries/gal"):
        cloud.create(ON_GALLERY, assignment())
    cloud.create(GALLERY, {"location": "westus2"})
    cloud.create(ON_GALLERY, assignment())
    with pytest.raises(PermanentError) as caught:
        cloud.create(ON_GALLERY, assignment(principal="0b7c6a55-2f1e-4d3a-9b8c-7e6f5d4c3b2a"))
    assert caught.value.code == "RoleAssignmentUpdateNotPermitted" and caught.value.status == 400
    # What can change is sent whole by PUT; PATCH is no verb of Microsoft.Authorization.
    assert cloud.create(ON_GALLERY, assignment(description="reads"))["properties"]["description"] == "reads"
    with pytest.raises(ProviderError) as refused:
        cloud.update(ON_GALLERY, {"properties": {"description": "x"}})
    assert refused.value.status == 405


def test_deleting_a_resource_deletes_the_role_assignments_on_it(cloud: LocalProvider) -> None:
    cloud.create(GALLERY, {"location": "westus2"})
    cloud.create(ON_GALLERY, assignment())
    cloud.create(ON_GROUP, assignment())
    cloud.delete(GALLERY)
    assert cloud.read(ON_GALLERY) is None
    assert cloud.read(ON_GROUP) is not None  # on the group, not on the gallery


def test_a_role_definition_at_subscription_scope_cannot_go_while_assigned(cloud: LocalProvider) -> None:
    body = {
        "properties": {
            "roleName": "Image Creation",
            "permissions": [{"actions": ["Microsoft.Compute/galleries/read"]}],
            "assignableScopes": [RG],
        }
    }
    created = cloud.create(ROLE, body)
    assert created["properties"]["type"] == "CustomRole" and created["id"] == ROLE.arm_id
    cloud.create(ON_GROUP, assignment(role=ROLE.arm_id))
    with pytest.raises(ConflictError, match="role assignment"):
        cloud.delete(ROLE)
    body["properties"]["permissions"] = [{"actions": ["*/read"]}]
    assert cloud.create(ROLE, body)["properties"]["permissions"] == [{"actions": ["*/read"]}]
    cloud.delete(ON_GROUP)
    cloud.delete(ROLE)
    assert cloud.read(ROLE) is None
