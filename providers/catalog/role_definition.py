"""Microsoft.Authorization/roleDefinitions: a custom role, such as the "Image Creation" role the AIB
docs give the build identity (the actions to read images and write image versions, on the resource
groups in `assignableScopes`).

An extension resource at a subscription or a resource group; its name is a GUID. It can be changed in
place (a whole PUT), and the service refuses to delete it while a role assignment still grants it, so
the assignments go first.
"""

from __future__ import annotations

from .arm_ids import Scope
from .behaviour import PUT, Computed, Made, ServiceFacts
from .role_schema import (
    ROLE_DEFINITION_API_VERSIONS,
    ROLE_DEFINITION_PREVIEW_API_VERSIONS,
    ROLE_DEFINITION_SCHEMA,
)
from .types import ResourceType

# The built-in Contributor role as listed at 2018-01-01-preview: the bookkeeping fields every role
# definition answers with.
_LISTED = "recorded:azure-cli/image_builder_basic_2021-10-01.json#1"
_CREATE = "docs:https://learn.microsoft.com/rest/api/authorization/role-definitions/create-or-update"
_PERMISSION_LISTS = tuple(
    ("properties", "permissions", "[]", name)
    for name in ("actions", "notActions", "dataActions", "notDataActions")
)

ROLE_DEFINITION = ResourceType(
    kind="roleDefinition",
    title="role definition",
    arm_type="Microsoft.Authorization/roleDefinitions",
    scopes=(Scope.SUBSCRIPTION, Scope.RESOURCE_GROUP),
    located=False,
    api_versions=ROLE_DEFINITION_API_VERSIONS,
    preview_api_versions=ROLE_DEFINITION_PREVIEW_API_VERSIONS,
    default_api_version="2022-04-01",
    schema=ROLE_DEFINITION_SCHEMA,
    # A role definition named but not declared (a built-in role, a custom one made elsewhere) is read at
    # plan time (AIB8001 when it does not exist); the simulated clouds serve the built-in roles by id.
    references=(),
    cascades={},
    defaults={("properties", "description"): ("",)},
    create_only=(),
    id_paths=(("properties", "assignableScopes", "[]"),),
    unordered_lists=(("properties", "assignableScopes"), *_PERMISSION_LISTS),
    empty_is_omitted=_PERMISSION_LISTS,
    service=ServiceFacts(
        computed=(
            Computed(("properties", "createdOn"), Made.NOW, _LISTED),
            Computed(("properties", "updatedOn"), Made.NOW, _LISTED),
            Computed(("properties", "createdBy"), Made.CALLER, _CREATE),
            Computed(("properties", "updatedBy"), Made.CALLER, _CREATE),
            Computed(
                ("properties", "type"), Made.CONSTANT, _CREATE, value="CustomRole", only_when_omitted=True
            ),
        ),
        synchronous=True,
        update_verb=PUT,
    ),
)
