"""Azure's built-in roles that an image builder's identity is given, known by id with their permissions.

Built-in role definitions have the same GUID in every subscription and tenant; an assignment names one
as `/subscriptions/<s>/providers/Microsoft.Authorization/roleDefinitions/<guid>` (or without the
subscription). The permissions are facts from the built-in roles reference
(docs:https://learn.microsoft.com/azure/role-based-access-control/built-in-roles) and, for Contributor,
from the role definition the service answered in a recording (the list changes over time; this is the
recorded one). The simulated clouds serve these definitions by id and in lists, as Authorization does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .rbac import Permission

BUILT_IN_DOCS = "docs:https://learn.microsoft.com/azure/role-based-access-control/built-in-roles"
_CONTRIBUTOR_RECORDED = "recorded:azure-cli/image_builder_basic_2021-10-01.json#1"
ROLE_DEFINITIONS_TYPE = "Microsoft.Authorization/roleDefinitions"


@dataclass(frozen=True)
class BuiltInRole:
    """A built-in role: its GUID (the same everywhere), name, description, permissions and their source."""

    guid: str
    name: str
    description: str
    permissions: tuple[Permission, ...]
    citation: str

    def body(self, subscription: str | None) -> dict[str, Any]:
        """The role definition as Authorization answers it (at a subscription, or tenant-wide)."""
        prefix = f"/subscriptions/{subscription}" if subscription else ""
        return {
            "properties": {
                "roleName": self.name,
                "type": "BuiltInRole",
                "description": self.description,
                "assignableScopes": ["/"],
                "permissions": [
                    {
                        "actions": list(p.actions),
                        "notActions": list(p.not_actions),
                        "dataActions": list(p.data_actions),
                        "notDataActions": list(p.not_data_actions),
                    }
                    for p in self.permissions
                ],
                "createdOn": "2015-02-02T21:55:09.8806423Z",
                "updatedOn": "2021-11-11T20:13:28.6061853Z",
                "createdBy": None,
                "updatedBy": None,
            },
            "id": f"{prefix}/providers/{ROLE_DEFINITIONS_TYPE}/{self.guid}",
            "type": ROLE_DEFINITIONS_TYPE,
            "name": self.guid,
        }


_STORAGE_CONTAINERS = "Microsoft.Storage/storageAccounts/blobServices/containers"
_DELEGATION_KEY = "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"
_MANAGEMENT = (
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Support/*",
)

BUILT_IN_ROLES: tuple[BuiltInRole, ...] = (
    BuiltInRole(
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        "Owner",
        "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        (Permission(actions=("*",)),),
        BUILT_IN_DOCS,
    ),
    BuiltInRole(
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "Contributor",
        "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.",
        (
            Permission(
                actions=("*",),
                not_actions=(
                    "Microsoft.Authorization/*/Delete",
                    "Microsoft.Authorization/*/Write",
                    "Microsoft.Authorization/elevateAccess/Action",
                    "Microsoft.Blueprint/blueprintAssignments/write",
                    "Microsoft.Blueprint/blueprintAssignments/delete",
                    "Microsoft.Compute/galleries/share/action",
                ),
            ),
        ),
        _CONTRIBUTOR_RECORDED,
    ),
    BuiltInRole(
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "Reader",
        "View all resources, but does not allow you to make any changes.",
        (Permission(actions=("*/read",)),),
        BUILT_IN_DOCS,
    ),
    BuiltInRole(
        "f1a07417-d97a-45cb-824c-7a7467783830",
        "Managed Identity Operator",
        "Read and Assign User Assigned Identity",
        (
            Permission(
                actions=(
                    "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
                    "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
                    *_MANAGEMENT,
                )
            ),
        ),
        BUILT_IN_DOCS,
    ),
    BuiltInRole(
        "4d97b98b-1d4f-4787-a291-c67834d212e7",
        "Network Contributor",
        "Lets you manage networks, but not access to them.",
        (
            Permission(
                actions=(
                    "Microsoft.Authorization/*/read",
                    "Microsoft.Insights/alertRules/*",
                    "Microsoft.Network/*",
                    "Microsoft.ResourceHealth/availabilityStatuses/read",
                    "Microsoft.Resources/deployments/*",
                    "Microsoft.Resources/subscriptions/resourceGroups/read",
                    "Microsoft.Support/*",
                )
            ),
        ),
        BUILT_IN_DOCS,
    ),
    BuiltInRole(
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        "Storage Blob Data Reader",
        "Allows for read access to Azure Storage blob containers and data",
        (
            Permission(
                actions=(f"{_STORAGE_CONTAINERS}/read", _DELEGATION_KEY),
                data_actions=(f"{_STORAGE_CONTAINERS}/blobs/read",),
            ),
        ),
        BUILT_IN_DOCS,
    ),
    BuiltInRole(
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        "Storage Blob Data Contributor",
        "Allows for read, write and delete access to Azure Storage blob containers and data",
        (
            Permission(
                actions=(
                    f"{_STORAGE_CONTAINERS}/delete",
                    f"{_STORAGE_CONTAINERS}/read",
                    f"{_STORAGE_CONTAINERS}/write",
                    _DELEGATION_KEY,
                ),
                data_actions=(
                    f"{_STORAGE_CONTAINERS}/blobs/delete",
                    f"{_STORAGE_CONTAINERS}/blobs/read",
                    f"{_STORAGE_CONTAINERS}/blobs/write",
                    f"{_STORAGE_CONTAINERS}/blobs/move/action",
                    f"{_STORAGE_CONTAINERS}/blobs/add/action",
                ),
            ),
        ),
        BUILT_IN_DOCS,
    ),
    BuiltInRole(
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        "Storage Blob Data Owner",
        "Allows for full access to Azure Storage blob containers and data, including assigning POSIX access "
        "control.",
        (
            Permission(
                actions=(f"{_STORAGE_CONTAINERS}/*", _DELEGATION_KEY),
                data_actions=(f"{_STORAGE_CONTAINERS}/blobs/*",),
            ),
        ),
        BUILT_IN_DOCS,
    ),
)
_BY_GUID = {role.guid: role for role in BUILT_IN_ROLES}
_BY_NAME = {role.name.lower(): role for role in BUILT_IN_ROLES}


def built_in_role(role_definition_id: Any) -> BuiltInRole | None:
    """The built-in role a role definition id names (at any scope, without case); None for others."""
    if not isinstance(role_definition_id, str):
        return None
    text = role_definition_id.strip().rstrip("/")
    head, _, guid = text.rpartition("/")
    if not head.lower().endswith(f"/providers/{ROLE_DEFINITIONS_TYPE.lower()}"):
        return None
    return _BY_GUID.get(guid.lower())


def built_in_role_named(name: str) -> BuiltInRole | None:
    """The built-in role with this name ("Contributor"), without case."""
    return _BY_NAME.get(name.lower())
