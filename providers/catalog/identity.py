"""Microsoft.ManagedIdentity/userAssignedIdentities: the identity an image template builds as."""

from __future__ import annotations

from .arm_ids import Scope
from .behaviour import Computed, Made, Rewrite, ServiceFacts
from .essentials_schema import IDENTITY_API_VERSIONS, IDENTITY_SCHEMA
from .types import ResourceType

_CREATE = "recorded:azure-cli/identity_management_2022-01-31-preview.json#0"
# The oldest recorded identity create: `tags: {}` answered for a request without tags.
_CREATE_2021 = "recorded:azure-cli/image_builder_basic_2021-10-01.json#0"


def _as_sent(value: object) -> object:
    return value


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
            Computed(
                ("tags",),
                Made.CONSTANT,
                _CREATE_2021,
                value={},
                only_when_omitted=True,
                since="2021-09-30-preview",
            ),
        ),
        # The answer's id spells `/resourcegroups/` (and so does the create's `location` header).
        rewrites=(Rewrite(("id",), _as_sent, _CREATE, made=Made.GROUPS_LOWER_CASED),),
        # 201 with the body at once, no polling headers; delete 200 at once.
        synchronous=True,
    ),
)
