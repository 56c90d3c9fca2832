"""What builds leave behind: gallery image versions and managed images.

aibplan never plans these (a build makes them), but the clouds serve them for reads, and deleting an
image definition is refused while it still holds versions.
"""

from __future__ import annotations

from .arm_ids import Scope, fold_location
from .behaviour import Computed, Made, Rewrite, ServiceFacts
from .essentials_schema import GALLERY_API_VERSIONS
from .types import ARM_ENVELOPE, ResourceType

# A version PUT and the GET after it (the simulated cloud makes versions only by builds, with these facts).
_VERSION = "recorded:azure-sdk-for-python/compute_galleries_2022-03-03.json"
_PROFILE = ("properties", "publishingProfile")


def _as_sent(value: object) -> object:
    return fold_location(value) if isinstance(value, str) else value


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
    service=ServiceFacts(
        computed=(
            *(
                Computed(
                    (*_PROFILE, field), Made.CONSTANT, f"{_VERSION}#5,#7", value=value, only_when_omitted=True
                )
                for field, value in (
                    ("replicaCount", 1),
                    ("excludeFromLatest", False),
                    ("storageAccountType", "Standard_LRS"),
                )
            ),
            Computed((*_PROFILE, "publishedDate"), Made.NOW, f"{_VERSION}#5,#7"),
            Computed(
                ("properties", "provisioningState"), Made.CONSTANT, f"{_VERSION}#5,#7", value="Succeeded"
            ),
            Computed(
                ("properties", "safetyProfile"),
                Made.CONSTANT,
                f"{_VERSION}#5,#7",
                value={"reportedForPolicyViolation": False, "allowDeletionOfReplicatedLocations": False},
                since="2022-03-03",
            ),
        ),
        # Target regions sent as `eastus2` are answered as `East US 2`.
        rewrites=(
            Rewrite(
                (*_PROFILE, "targetRegions", "[]", "name"),
                _as_sent,
                f"{_VERSION}#5,#7",
                made=Made.REGION_DISPLAY_NAME,
            ),
        ),
    ),
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
