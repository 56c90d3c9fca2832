"""Facts about the Azure resource types aibplan manages, shared by the validator, the diff and the clouds.

`RESOURCE_TYPES` is the registry: one `ResourceType` per kind, each declared in its own module
(`types.py` says what a declaration holds, `checklist.py` what makes one complete). Everything else reads
the kinds through the lookups here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .artifacts import ARTIFACT_TYPES, IMAGE_VERSION, artifact_type
from .external import SUBNET_API_VERSION, SUBNET_TYPE
from .gallery import GALLERY, IMAGE_DEFINITION
from .identity import IDENTITY
from .image_template import IMAGE_TEMPLATE
from .references import ROLE_DEFINITION as ROLE_DEFINITION_REASON
from .role_assignment import ROLE_ASSIGNMENT
from .role_definition import ROLE_DEFINITION
from .schema import Schema, read_only_fields
from .types import PathPattern, ResourceType, api_version_key

if TYPE_CHECKING:
    from .compiled import CompiledSchema, SchemaCache

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    IDENTITY,
    GALLERY,
    IMAGE_DEFINITION,
    IMAGE_TEMPLATE,
    ROLE_DEFINITION,
    ROLE_ASSIGNMENT,
)
BY_KIND: dict[str, ResourceType] = {t.kind: t for t in RESOURCE_TYPES}
BY_ARM_TYPE: dict[str, ResourceType] = {t.arm_type.lower(): t for t in RESOURCE_TYPES}

# The kind image builds run from (run, cancel, lastRunStatus, run outputs).
(BUILDABLE,) = (t for t in RESOURCE_TYPES if t.builds)
# The kind that grants a role to a principal (the service looks the principal up), and the kind of the
# roles it grants: what permission checks read.
(ROLE_GRANTS,) = (t for t in RESOURCE_TYPES if t.service.principal_lookup is not None)
(ROLES,) = (
    BY_KIND[kind] for r in ROLE_GRANTS.references if r.reason == ROLE_DEFINITION_REASON for kind in r.kinds
)
# Kinds whose resources are principals: the service gives each a principalId (a managed identity).
PRINCIPAL_ID: tuple[str, ...] = ("properties", "principalId")
PRINCIPALS: tuple[ResourceType, ...] = tuple(
    t for t in RESOURCE_TYPES if any(c.path == PRINCIPAL_ID for c in t.service.computed)
)

# Kinds that appear as data sources in graphs (read, never changed by aibplan), by ARM type.
EXTERNAL_KINDS: dict[str, str] = {
    SUBNET_TYPE: "subnet",
    **{t.arm_type.lower(): t.kind for t in (*ARTIFACT_TYPES, *RESOURCE_TYPES)},
}
# The api version a plan reads each of them at, when a stack refers to one it does not declare.
EXTERNAL_API_VERSIONS: dict[str, str] = {
    SUBNET_TYPE: SUBNET_API_VERSION,
    **{
        t.arm_type.lower(): t.default_api_version
        for t in (*ARTIFACT_TYPES, *RESOURCE_TYPES)
        if t.checked_when_referenced
    },
}
_TITLES = {t.arm_type.lower(): t.title for t in (*ARTIFACT_TYPES, *RESOURCE_TYPES)}


def for_arm_type(arm_type: str) -> ResourceType | None:
    return BY_ARM_TYPE.get(arm_type.lower())


def recognised(arm_type: str, body: Mapping[str, Any]) -> ResourceType | None:
    """The kind a resource typed with its namespace only (`Microsoft.VirtualMachineImages`) is, told by
    the fields it holds; None when the type is a full one, or no kind (or more than one) fits."""
    if "/" in arm_type:
        return None
    fitting = [
        t
        for t in RESOURCE_TYPES
        if t.recognised_by
        and t.arm_type.split("/", 1)[0].lower() == arm_type.lower()
        and all(_holds(body, path) for path in t.recognised_by)
    ]
    return fitting[0] if len(fitting) == 1 else None


def _holds(body: Mapping[str, Any], path: PathPattern) -> bool:
    value: Any = body
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return False
        value = value[key]
    return True


def is_buildable(kind: str) -> bool:
    """True for the kind image builds run from."""
    return kind == BUILDABLE.kind


def title_of(arm_type: str) -> str:
    """A type in words ("image definition"); the ARM type itself for a type the catalog does not know."""
    return _TITLES.get(arm_type.lower(), "subnet" if arm_type.lower() == SUBNET_TYPE else arm_type)


_READ_ONLY: dict[str, tuple[PathPattern, ...]] = {}


def read_only_paths(rtype: ResourceType) -> tuple[PathPattern, ...]:
    """Every path the service fills in for `rtype`, in any api version: the ARM envelope (and what else the
    type lists) with the read-only fields of its schema, which the validator reports from the same table."""
    found = _READ_ONLY.get(rtype.arm_type)
    if found is None:
        extra = read_only_fields(rtype.schema) if rtype.schema is not None else ()
        found = _READ_ONLY[rtype.arm_type] = tuple(dict.fromkeys((*rtype.read_only, *extra)))
    return found


def schema_for(kind: str, api_version: str) -> CompiledSchema | None:
    """The compiled schema of `kind` at `api_version` (the closest earlier known version if unknown)."""
    return _schemas().get(kind, api_version)


@functools.cache
def _schemas() -> SchemaCache:
    """The fields each kind's body may hold, for all api versions, compiled per api version on first use
    (providers.catalog.compiled: only what checks bodies imports it)."""
    from .compiled import SchemaCache

    return SchemaCache({t.kind: t.schema for t in RESOURCE_TYPES if t.schema is not None})


__all__ = [
    "BUILDABLE",
    "BY_ARM_TYPE",
    "BY_KIND",
    "EXTERNAL_API_VERSIONS",
    "EXTERNAL_KINDS",
    "IMAGE_VERSION",
    "PRINCIPALS",
    "PRINCIPAL_ID",
    "RESOURCE_TYPES",
    "ROLES",
    "ROLE_GRANTS",
    "ResourceType",
    "Schema",
    "api_version_key",
    "artifact_type",
    "for_arm_type",
    "is_buildable",
    "read_only_paths",
    "recognised",
    "schema_for",
    "title_of",
]
