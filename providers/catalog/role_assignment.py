"""Microsoft.Authorization/roleAssignments: what lets an image template's identity read its source,
write image versions into the gallery and use the staging resource group.

An extension resource: it lives on a resource group or on one resource (a gallery, an image definition),
its name is a GUID (usually `guid(...)`), and its principal, role and scope cannot change (a new one
replaces it). Its principal is an identity's `principalId`, usually `reference(identityId).principalId`:
known only after apply on a fresh stack, and the graph's `reference` edge creates the identity first.
"""

from __future__ import annotations

from .arm_ids import Scope
from .behaviour import PUT, Computed, Made, PrincipalLookup, Refusal, ServiceFacts
from .references import ROLE_DEFINITION, SCOPE, Reference
from .role_schema import (
    ROLE_ASSIGNMENT_API_VERSIONS,
    ROLE_ASSIGNMENT_PREVIEW_API_VERSIONS,
    ROLE_ASSIGNMENT_SCHEMA,
)
from .types import ResourceType

# PUT 201 at once (no polling headers) with scope, createdOn/updatedOn, createdBy null, updatedBy.
_AT_2018 = "recorded:azure-cli/image_template_basic_2019-05-01-preview.json#0"
_AT_2020 = "recorded:azure-cli/image_builder_basic_2021-10-01.json#2"


def _null_when_omitted(field: str) -> Computed:
    """From 2020-04-01-preview the answer names every optional field, null when it was not sent (and
    so at 2022-04-01: recorded:azure-cli/image_builder_cancel_2022-02-14.json#1)."""
    return Computed(
        ("properties", field),
        Made.CONSTANT,
        _AT_2020,
        value=None,
        only_when_omitted=True,
        since="2020-04-01-preview",
    )


ROLE_ASSIGNMENT = ResourceType(
    kind="roleAssignment",
    title="role assignment",
    arm_type="Microsoft.Authorization/roleAssignments",
    scopes=(Scope.RESOURCE_GROUP, Scope.RESOURCE),
    located=False,
    # Until reference() ties an assignment to its identity, every template of the stack waits for the
    # stack's role assignments (a create can fail Unauthorized without them) and goes before them.
    applied_before=("imageTemplate",),
    api_versions=ROLE_ASSIGNMENT_API_VERSIONS,
    preview_api_versions=ROLE_ASSIGNMENT_PREVIEW_API_VERSIONS,
    default_api_version="2022-04-01",
    schema=ROLE_ASSIGNMENT_SCHEMA,
    references=(
        Reference(
            ("properties", "roleDefinitionId"),
            ROLE_DEFINITION,
            ("roleDefinition",),
            blocks_delete=True,
        ),
    ),
    cascades={
        SCOPE: "the resource it is assigned on, {origin}, is replaced, and Azure deletes the role "
        "assignments on a resource with it",
        ROLE_DEFINITION: "the role definition it assigns, {origin}, is replaced; Azure refuses to delete "
        "a role definition that is still assigned",
    },
    defaults={},
    create_only=(("properties", "principalId"), ("properties", "roleDefinitionId")),
    id_paths=(("properties", "delegatedManagedIdentityResourceId"),),
    service=ServiceFacts(
        computed=(
            Computed(("properties", "scope"), Made.SCOPE, _AT_2018),
            Computed(("properties", "createdOn"), Made.NOW, _AT_2018),
            Computed(("properties", "updatedOn"), Made.NOW, _AT_2018),
            Computed(("properties", "createdBy"), Made.CONSTANT, _AT_2018, value=None),
            Computed(("properties", "updatedBy"), Made.CALLER, _AT_2018),
            Computed(
                ("properties", "principalType"),
                Made.CONSTANT,
                _AT_2018,
                value="ServicePrincipal",
                only_when_omitted=True,
                since="2018-09-01-preview",
            ),
            *(
                _null_when_omitted(field)
                for field in (
                    "condition",
                    "conditionVersion",
                    "delegatedManagedIdentityResourceId",
                    "description",
                )
            ),
        ),
        synchronous=True,
        update_verb=PUT,
        create_only_refusal=Refusal(
            400,
            "RoleAssignmentUpdateNotPermitted",
            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
        ),
        # The directory answers for a new identity's principal only after a few seconds; the message as
        # the service words it ({principal} is the id without dashes).
        principal_lookup=PrincipalLookup(
            ("properties", "principalId"),
            Refusal(
                400,
                "PrincipalNotFound",
                "Principal {principal} does not exist in the directory {tenant}. Check that you have the "
                "correct principal ID. If you are creating this principal and then immediately assigning a "
                "role, this error might be related to a replication delay. In this case, set the role "
                "assignment principalType property to a value, such as ServicePrincipal, User, or Group.  "
                "See https://aka.ms/docs-principaltype",
            ),
            "docs:https://learn.microsoft.com/azure/role-based-access-control/troubleshooting",
        ),
    ),
)
