"""Microsoft.ManagedIdentity/userAssignedIdentities: the identity an image template builds as."""

from __future__ import annotations

from .types import ResourceType

IDENTITY = ResourceType(
    kind="identity",
    arm_type="Microsoft.ManagedIdentity/userAssignedIdentities",
    api_versions=("2018-11-30", "2022-01-31-preview", "2023-01-31", "2023-07-31-preview", "2024-11-30"),
    default_api_version="2023-01-31",
    empty_is_omitted=(("tags",),),
    location_paths=(("location",),),
    create_only=(("location",),),
)
