"""The imagebuilder REST spec (tests/fixtures/recorded/swagger) made loadable on its own, for the
conformance test: the definitions and parameters it takes from the spec's common types (which the corpus
does not copy) written out here from their published shape, and the 2024-02-01 file's known slips
tolerated, each said below.

Common types (Azure/azure-rest-api-specs `specification/common-types/resource-management/v3` and `v5`):
Resource (id, name, type, systemData, all read-only), TrackedResource (Resource + tags, location
required), ProxyResource (Resource), systemData, ErrorResponse/ErrorDetail/ErrorAdditionalInfo, and the
subscriptionId, resourceGroupName and api-version parameters.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from tests.helpers.recorded import SWAGGER

_READ_ONLY_STRING = {"type": "string", "readOnly": True}

COMMON_DEFINITIONS: dict[str, Any] = {
    "Resource": {
        "type": "object",
        "properties": {
            "id": _READ_ONLY_STRING,
            "name": _READ_ONLY_STRING,
            "type": _READ_ONLY_STRING,
            "systemData": {"$ref": "#/definitions/systemData", "readOnly": True},
        },
        "x-ms-azure-resource": True,
    },
    "TrackedResource": {
        "type": "object",
        "allOf": [{"$ref": "#/definitions/Resource"}],
        "properties": {
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "location": {"type": "string"},
        },
        "required": ["location"],
    },
    "ProxyResource": {"type": "object", "allOf": [{"$ref": "#/definitions/Resource"}]},
    "systemData": {
        "type": "object",
        "properties": {
            "createdBy": {"type": "string"},
            "createdByType": {"type": "string", "enum": ["User", "Application", "ManagedIdentity", "Key"]},
            "createdAt": {"type": "string", "format": "date-time"},
            "lastModifiedBy": {"type": "string"},
            "lastModifiedByType": {
                "type": "string",
                "enum": ["User", "Application", "ManagedIdentity", "Key"],
            },
            "lastModifiedAt": {"type": "string", "format": "date-time"},
        },
    },
    "ErrorResponse": {
        "type": "object",
        "properties": {"error": {"$ref": "#/definitions/ErrorDetail"}},
    },
    "ErrorDetail": {
        "type": "object",
        "properties": {
            "code": _READ_ONLY_STRING,
            "message": _READ_ONLY_STRING,
            "target": _READ_ONLY_STRING,
            "details": {"type": "array", "items": {"$ref": "#/definitions/ErrorDetail"}, "readOnly": True},
            "additionalInfo": {
                "type": "array",
                "items": {"$ref": "#/definitions/ErrorAdditionalInfo"},
                "readOnly": True,
            },
        },
    },
    "ErrorAdditionalInfo": {
        "type": "object",
        "properties": {"type": _READ_ONLY_STRING, "info": {"type": "object", "readOnly": True}},
    },
}

COMMON_PARAMETERS: dict[str, Any] = {
    "SubscriptionIdParameter": {
        "name": "subscriptionId",
        "in": "path",
        "required": True,
        "type": "string",
        "format": "uuid",
    },
    "ResourceGroupNameParameter": {
        "name": "resourceGroupName",
        "in": "path",
        "required": True,
        "type": "string",
        "minLength": 1,
        "maxLength": 90,
        "pattern": "^[-\\w\\._\\(\\)]+$",
        "x-ms-parameter-location": "method",
    },
    "ApiVersionParameter": {
        "name": "api-version",
        "in": "query",
        "required": True,
        "type": "string",
        "minLength": 1,
    },
}

_EXTERNAL = re.compile(
    r"^[./]*common-types/resource-management/v\d+/types\.json#/(definitions|parameters)/(\w+)$"
)
_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def swagger_files() -> list[Path]:
    return sorted(SWAGGER.glob("imagebuilder-*.json"))


def api_version_of(path: Path) -> str:
    return path.stem.removeprefix("imagebuilder-")


def load_swagger(path: Path) -> dict[str, Any]:
    """The swagger with the common types inlined and the known slips of its version tolerated."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    document = _inline(document)
    definitions = document.setdefault("definitions", {})
    for name, schema in COMMON_DEFINITIONS.items():
        definitions.setdefault(name, copy.deepcopy(schema))
    parameters = document.setdefault("parameters", {})
    for name, schema in COMMON_PARAMETERS.items():
        parameters.setdefault(name, copy.deepcopy(schema))
    tolerate_slips(api_version_of(path), definitions)
    return document


def tolerate_slips(api_version: str, definitions: dict[str, Any]) -> None:
    """The 2024-02-01 file, as published, types `artifactTags` (every distributor) and
    `managedResourceTags` as strings and keeps the identity map's item schema under a key named
    `userAssignedIdentity` instead of `additionalProperties`. The service answers maps for all three at
    every version (`artifactTags: {}` in every recording, tests/fixtures/recorded/README.md), and the
    2022-07-01 and 2025-10-01 files declare maps: a response is checked against the map here."""
    if api_version != "2024-02-01":
        return
    for schema in definitions.values():
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if not isinstance(properties, dict):
            continue
        for name in ("artifactTags", "managedResourceTags"):
            if isinstance(properties.get(name), dict) and properties[name].get("type") == "string":
                properties[name] = {**_MAP, "description": properties[name].get("description", "")}
    identities = definitions.get("UserAssignedIdentities")
    if isinstance(identities, dict) and "userAssignedIdentity" in identities:
        identities["additionalProperties"] = identities.pop("userAssignedIdentity")


def _inline(value: Any) -> Any:
    """Every `$ref` into the common types pointed at the copy this module adds."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and (match := _EXTERNAL.match(item)):
                out[key] = f"#/{match.group(1)}/{match.group(2)}"
            else:
                out[key] = _inline(item)
        return out
    if isinstance(value, list):
        return [_inline(item) for item in value]
    return value
