"""What builds leave behind: gallery image versions and managed images.

aibplan never plans these (a build makes them), but the clouds serve them for reads, and deleting an
image definition is refused while it still holds versions.
"""

from __future__ import annotations

from .arm_ids import Scope
from .behaviour import ServiceFacts
from .essentials_schema import GALLERY_API_VERSIONS
from .types import ARM_ENVELOPE, ResourceType

IMAGE_VERSION = ResourceType(
    kind="imageVersion",
    title="image version",
    arm_type="Microsoft.Compute/galleries/images/versions",
    scopes=(Scope.RESOURCE_GROUP,),
    api_versions=GALLERY_API_VERSIONS,
    default_api_version="2024-03-03",
    schema=None,
    parent_kind="imageDefinition",
    name_segments=3,
    references=(),
    cascades={},
    defaults={},
    create_only=(),
    read_only=(*ARM_ENVELOPE, ("properties",)),
    location_paths=(("location",),),
    service=ServiceFacts(),
)

MANAGED_IMAGE = ResourceType(
    kind="managedImage",
    title="managed image",
    arm_type="Microsoft.Compute/images",
    scopes=(Scope.RESOURCE_GROUP,),
    api_versions=(
        "2021-11-01",
        "2022-03-01",
        "2022-08-01",
        "2022-11-01",
        "2023-03-01",
        "2023-09-01",
        "2024-03-01",
    ),
    default_api_version="2024-03-01",
    schema=None,
    references=(),
    cascades={},
    defaults={},
    create_only=(),
    read_only=(*ARM_ENVELOPE, ("properties",)),
    location_paths=(("location",),),
    service=ServiceFacts(),
)

ARTIFACT_TYPES: tuple[ResourceType, ...] = (IMAGE_VERSION, MANAGED_IMAGE)
_BY_ARM_TYPE = {t.arm_type.lower(): t for t in ARTIFACT_TYPES}


def artifact_type(arm_type: str) -> ResourceType | None:
    """The catalog entry of a build artifact type, or None."""
    return _BY_ARM_TYPE.get(arm_type.lower())
