"""Microsoft.Compute/galleries (Azure Compute Gallery) and galleries/images (image definitions)."""

from __future__ import annotations

from .arm_ids import Scope
from .behaviour import Computed, Dropped, Made, Refusal, ServiceFacts
from .essentials_schema import GALLERY_API_VERSIONS, GALLERY_SCHEMA, IMAGE_DEFINITION_SCHEMA
from .references import PARENT
from .types import ResourceType

# `Creating` in the PUT answer, `Succeeded` once the operation ends (the simulated service ends it at once).
_GALLERIES = "recorded:azure-sdk-for-python/compute_galleries_2022-03-03.json"

GALLERY = ResourceType(
    kind="gallery",
    title="gallery",
    arm_type="Microsoft.Compute/galleries",
    scopes=(Scope.RESOURCE_GROUP,),
    api_versions=GALLERY_API_VERSIONS,
    default_api_version="2024-03-03",
    schema=GALLERY_SCHEMA,
    references=(),
    cascades={},
    defaults={("properties", "description"): ("",)},
    empty_is_omitted=(("tags",), ("properties",)),
    location_paths=(("location",),),
    create_only=(("location",),),
    service=ServiceFacts(
        computed=(
            Computed(
                ("properties", "identifier", "uniqueName"),
                Made.GALLERY_UNIQUE_NAME,
                f"{_GALLERIES}#0",
            ),
            Computed(
                ("properties", "provisioningState"), Made.CONSTANT, f"{_GALLERIES}#0,#2", value="Succeeded"
            ),
        ),
        delete_blocked_by=("Microsoft.Compute/galleries/images",),
    ),
)

IMAGE_DEFINITION = ResourceType(
    kind="imageDefinition",
    title="image definition",
    arm_type="Microsoft.Compute/galleries/images",
    scopes=(Scope.RESOURCE_GROUP,),
    api_versions=GALLERY_API_VERSIONS,
    default_api_version="2024-03-03",
    schema=IMAGE_DEFINITION_SCHEMA,
    parent_kind="gallery",
    name_segments=2,
    references=(),
    cascades={
        PARENT: "its gallery {origin} is replaced, and a gallery can only be deleted once its image "
        "definitions are gone",
    },
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
    service=ServiceFacts(
        computed=(
            Computed(
                ("properties", "provisioningState"), Made.CONSTANT, f"{_GALLERIES}#3,#4", value="Succeeded"
            ),
        ),
        dropped_when_empty=(
            Dropped(
                ("properties", "disallowed"),
                "recorded:azure-cli/gallery_e2e_2025-03-03.json#4",
                since="2021-10-01",
            ),
        ),
        create_only_refusal=Refusal(
            409, "PropertyChangeNotAllowed", "Changing property '{field}' is not allowed."
        ),
        delete_blocked_by=("Microsoft.Compute/galleries/images/versions",),
    ),
)
