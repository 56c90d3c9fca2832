"""Microsoft.ManagedIdentity/userAssignedIdentities: the identity an image template builds as."""

from __future__ import annotations

from .arm_ids import Scope
from .behaviour import Computed, Made, ServiceFacts
from .essentials_schema import IDENTITY_API_VERSIONS, IDENTITY_SCHEMA
from .types import ResourceType

_CREATE = "recorded:azure-cli/identity_management_2022-01-31-preview.json#0"

IDENTITY = ResourceType(
    kind="identity",
    title="identity",
    arm_type="Microsoft.ManagedIdentity/userAssignedIdentities",
    scopes=(Scope.RESOURCE_GROUP,),
    api_versions=IDENTITY_API_VERSIONS,
    default_api_version="2023-01-31",
    schema=IDENTITY_SCHEMA,
    references=(),
    cascades={},
    defaults={},
    empty_is_omitted=(("tags",),),
    location_paths=(("location",),),
    create_only=(("location",),),
    service=ServiceFacts(
        computed=(
            Computed(("properties", "tenantId"), Made.TENANT, _CREATE),
            Computed(("properties", "principalId"), Made.GUID, _CREATE, value="principal"),
            Computed(("properties", "clientId"), Made.GUID, _CREATE, value="client"),
        ),
        # 201 with the body at once, no polling headers; delete 200 at once.
        synchronous=True,
    ),
)
