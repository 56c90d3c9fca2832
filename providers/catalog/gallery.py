"""Microsoft.Compute/galleries (Azure Compute Gallery) and galleries/images (image definitions)."""

from __future__ import annotations

from .types import ResourceType

GALLERY_API_VERSIONS = (
    "2019-03-01",
    "2019-07-01",
    "2019-12-01",
    "2020-09-30",
    "2021-07-01",
    "2021-10-01",
    "2022-01-03",
    "2022-03-03",
    "2022-08-03",
    "2023-07-03",
    "2024-03-03",
    "2025-03-03",
    "2026-03-03",
)

GALLERY = ResourceType(
    kind="gallery",
    arm_type="Microsoft.Compute/galleries",
    api_versions=GALLERY_API_VERSIONS,
    default_api_version="2024-03-03",
    defaults={("properties", "description"): ("",)},
    empty_is_omitted=(("tags",), ("properties",)),
    location_paths=(("location",),),
    create_only=(("location",),),
)

IMAGE_DEFINITION = ResourceType(
    kind="imageDefinition",
    arm_type="Microsoft.Compute/galleries/images",
    api_versions=GALLERY_API_VERSIONS,
    default_api_version="2024-03-03",
    parent_kind="gallery",
    name_segments=2,
    defaults={
        ("properties", "hyperVGeneration"): ("V1",),
        ("properties", "architecture"): ("x64",),
        ("properties", "description"): ("",),
    },
    empty_is_omitted=(("tags",),),
    location_paths=(("location",),),
    create_only=(
        ("location",),
        ("properties", "identifier"),
        ("properties", "osType"),
        ("properties", "osState"),
        ("properties", "hyperVGeneration"),
        ("properties", "architecture"),
        ("properties", "features"),
        ("properties", "purchasePlan"),
    ),
)
