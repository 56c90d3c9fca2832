"""Microsoft.ManagedIdentity/userAssignedIdentities: the identity an image template builds as."""

from __future__ import annotations

from .types import ResourceType

IDENTITY = ResourceType(
    kind="identity",
    arm_type="Microsoft.ManagedIdentity/userAssignedIdentities",
    api_versions=(
        "2018-11-30",
        "2021-09-30-preview",
        "2022-01-31-preview",
        "2023-01-31",
        "2023-07-31-preview",
        "2024-11-30",
        "2025-05-31-preview",
    ),
    default_api_version="2023-01-31",
    empty_is_omitted=(("tags",),),
    location_paths=(("location",),),
    create_only=(("location",),),
)
