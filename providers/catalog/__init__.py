"""Facts about the Azure resource types aibplan manages, shared by the validator, the diff and the clouds."""

from __future__ import annotations

from .essentials_schema import GALLERY_SCHEMA, IDENTITY_SCHEMA, IMAGE_DEFINITION_SCHEMA
from .gallery import GALLERY, IMAGE_DEFINITION
from .identity import IDENTITY
from .image_template import IMAGE_TEMPLATE
from .schema import CompiledSchema, Schema, SchemaCache, read_only_fields
from .template_schema import IMAGE_TEMPLATE_SCHEMA
from .types import PathPattern, ResourceType, api_version_key

RESOURCE_TYPES: tuple[ResourceType, ...] = (IDENTITY, GALLERY, IMAGE_DEFINITION, IMAGE_TEMPLATE)
BY_KIND: dict[str, ResourceType] = {t.kind: t for t in RESOURCE_TYPES}
BY_ARM_TYPE: dict[str, ResourceType] = {t.arm_type.lower(): t for t in RESOURCE_TYPES}

# Read-only external kinds that appear as data sources in graphs (never changed by aibplan).
EXTERNAL_KINDS: dict[str, str] = {
    "microsoft.network/virtualnetworks/subnets": "subnet",
    "microsoft.compute/images": "managedImage",
    "microsoft.compute/galleries/images/versions": "imageVersion",
    "microsoft.managedidentity/userassignedidentities": "identity",
    "microsoft.compute/galleries": "gallery",
    "microsoft.compute/galleries/images": "imageDefinition",
}


def for_arm_type(arm_type: str) -> ResourceType | None:
    return BY_ARM_TYPE.get(arm_type.lower())


# The fields each kind's body may hold, for all api versions.
_SCHEMAS: dict[str, Schema] = {
    "imageTemplate": IMAGE_TEMPLATE_SCHEMA,
    "gallery": GALLERY_SCHEMA,
    "imageDefinition": IMAGE_DEFINITION_SCHEMA,
    "identity": IDENTITY_SCHEMA,
}
# ... compiled per api version on first use, then shared.
SCHEMAS = SchemaCache(_SCHEMAS)
_READ_ONLY: dict[str, tuple[PathPattern, ...]] = {}


def read_only_paths(rtype: ResourceType) -> tuple[PathPattern, ...]:
    """Every path the service fills in for `rtype`, in any api version: the ARM envelope (and what else the
    type lists) with the read-only fields of its schema, which the validator reports from the same table."""
    found = _READ_ONLY.get(rtype.arm_type)
    if found is None:
        schema = _SCHEMAS.get(rtype.kind)
        extra = read_only_fields(schema) if schema is not None else ()
        found = _READ_ONLY[rtype.arm_type] = tuple(dict.fromkeys((*rtype.read_only, *extra)))
    return found


def schema_for(kind: str, api_version: str) -> CompiledSchema | None:
    """The compiled schema of `kind` at `api_version` (the closest earlier known version if unknown)."""
    return SCHEMAS.get(kind, api_version)


__all__ = [
    "BY_ARM_TYPE",
    "BY_KIND",
    "EXTERNAL_KINDS",
    "GALLERY",
    "IDENTITY",
    "IMAGE_DEFINITION",
    "IMAGE_TEMPLATE",
    "RESOURCE_TYPES",
    "CompiledSchema",
    "ResourceType",
    "api_version_key",
    "for_arm_type",
    "read_only_paths",
    "schema_for",
]
