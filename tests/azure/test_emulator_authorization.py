"""The emulator's Microsoft.Authorization surface through the Authorization SDK users list role assignments
with (azure-mgmt-authorization, over TLS): role assignments listed at a resource group and at a resource,
filtered by principal or to the scope itself, built-in and custom role definitions by id and by name, and
the PrincipalNotFound a role assignment gets while a new identity's principal is not replicated yet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.authorization import AuthorizationManagementClient

from providers.azure.auth import make_credential
from providers.azure.provider import AzureProvider
from tests.helpers import SUBSCRIPTION, Emulator

CONTRIBUTOR_GUID = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER_GUID = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
ROLES = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions"


@pytest.fixture
def client(emulator: Emulator) -> Iterator[AuthorizationManagementClient]:
    settings = emulator.settings()
    with AuthorizationManagementClient(
        make_credential(settings),
        SUBSCRIPTION,
        base_url=emulator.endpoint,
        credential_scopes=[settings.credential_scope],
        connection_verify=str(emulator.ca_file),
    ) as made:
        yield made


def _group(emulator: Emulator) -> tuple[str, str, str]:
    group = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{emulator.new_group()}"
    service = emulator.server.service
    identity = f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aibBuilder"
    principal = service.put(identity, "2023-01-31", {"location": "westus2"})[1]["properties"]["principalId"]
    gallery = f"{group}/providers/Microsoft.Compute/galleries/corpImages"
    service.put(gallery, "2024-03-03", {"location": "westus2"})
    return group, gallery, str(principal)


def test_role_assignments_are_listed_by_scope_and_filter(
    emulator: Emulator, client: AuthorizationManagementClient
) -> None:
    group, gallery, principal = _group(emulator)
    made = [
        client.role_assignments.create(
            scope,
            name,
            {
                "role_definition_id": f"{ROLES}/{role}",
                "principal_id": principal,
                "principal_type": "ServicePrincipal",
            },
        )
        for scope, name, role in (
            (group, "7a1c0e44-0000-4000-8000-000000000001", READER_GUID),
            (gallery, "7a1c0e44-0000-4000-8000-000000000002", CONTRIBUTOR_GUID),
        )
    ]
    assert [m.scope for m in made] == [group, gallery]
    at_group = client.role_assignments.list_for_scope(group, filter="atScope()")
    assert [a.name for a in at_group] == ["7a1c0e44-0000-4000-8000-000000000001"]
    below = sorted(a.name for a in client.role_assignments.list_for_scope(group))
    assert below == ["7a1c0e44-0000-4000-8000-000000000001", "7a1c0e44-0000-4000-8000-000000000002"]
    mine = client.role_assignments.list_for_scope(
        f"/subscriptions/{SUBSCRIPTION}", filter=f"principalId eq '{principal}'"
    )
    assert sorted(a.role_definition_id.rsplit("/", 1)[-1] for a in mine) == sorted(
        [READER_GUID, CONTRIBUTOR_GUID]
    )
    on_gallery = client.role_assignments.list_for_scope(gallery)
    assert sorted(a.scope for a in on_gallery) == sorted([group, gallery])


def test_role_definitions_are_read_by_id_and_found_by_name(
    emulator: Emulator, client: AuthorizationManagementClient
) -> None:
    group, _gallery, _principal = _group(emulator)
    contributor = client.role_definitions.get_by_id(f"{ROLES}/{CONTRIBUTOR_GUID}")
    assert (contributor.role_name, contributor.role_type) == ("Contributor", "BuiltInRole")
    assert contributor.permissions[0].actions == ["*"]
    found = list(client.role_definitions.list(group, filter="roleName eq 'Contributor'"))
    assert [d.id for d in found] == [f"{ROLES}/{CONTRIBUTOR_GUID}"]


def test_a_role_assignment_for_a_brand_new_principal_is_refused_until_it_replicates(
    emulator: Emulator, client: AuthorizationManagementClient
) -> None:
    service = emulator.server.service
    group = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{emulator.new_group()}"
    identity = f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fresh"
    principal = service.put(identity, "2023-01-31", {"location": "westus2"})[1]["properties"]["principalId"]
    delay, service.principal_delay = service.principal_delay, 3600.0
    try:
        with pytest.raises(HttpResponseError) as refused:
            client.role_assignments.create(
                group,
                "7a1c0e44-0000-4000-8000-000000000003",
                {"role_definition_id": f"{ROLES}/{READER_GUID}", "principal_id": principal},
            )
    finally:
        service.principal_delay = delay
    assert refused.value.status_code == 400
    assert refused.value.error is not None and refused.value.error.code == "PrincipalNotFound"
    assert f"Principal {principal.replace('-', '')} does not exist in the directory" in str(refused.value)


def test_the_azure_provider_lists_a_principals_assignments(
    emulator: Emulator, azure_provider: AzureProvider
) -> None:
    group, gallery, principal = _group(emulator)
    emulator.server.service.put(
        f"{gallery}/providers/Microsoft.Authorization/roleAssignments/7a1c0e44-0000-4000-8000-000000000004",
        "2022-04-01",
        {"properties": {"roleDefinitionId": f"{ROLES}/{READER_GUID}", "principalId": principal}},
    )
    listed = azure_provider.list_role_assignments(f"/subscriptions/{SUBSCRIPTION}", principal)
    assert [b["properties"]["scope"] for b in listed] == [gallery]
    assert azure_provider.list_role_assignments(group, "00000000-0000-4000-8000-0000000000ff") == []
