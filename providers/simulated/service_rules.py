"""What the simulated service refuses and what it adds, as Azure does for the four managed types: ids,
types and api versions it knows, a gallery before its image definitions, the image definition and the
identities before a template that uses them, no second PUT of an image template, no PATCH of a field the
api version cannot change, no move to another region; principal and client ids, provisioningState.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from ..catalog import IMAGE_TEMPLATE, for_arm_type
from ..catalog.arm_ids import ResourceId, fold_id, fold_location, parse_resource_id
from ..catalog.artifacts import artifact_type
from ..catalog.types import has_prefix
from .api_versions import check_for_type
from .errors import ServiceError
from .store import Body, ResourceStore, Row

TEMPLATE_UPDATE_REFUSED = "Update/Upgrade of image templates is currently not supported"
_NS = uuid.UUID("6b0c4f64-4a51-4b9e-9f0b-5f3a0d7c2e11")
TENANT_ID = "72f988bf-0000-4000-8000-000000000001"


def parse_request(arm_id: str, api_version: str) -> tuple[ResourceId, Any]:
    """The resource id and its type, refused when either or the api version is not one the service knows."""
    rid = parse_resource_id(arm_id)
    if rid is None:
        raise ServiceError(400, "InvalidResourceId", f"'{arm_id}' is not a valid resource id.")
    rtype = for_arm_type(rid.arm_type) or artifact_type(rid.arm_type)
    if rtype is None:
        raise ServiceError(
            400,
            "InvalidResourceType",
            f"The resource type '{rid.arm_type}' is not supported by this service.",
        )
    check_for_type(rtype.arm_type, api_version, None)
    return rid, rtype


def refuse_artifact_write(rtype: Any) -> None:
    if artifact_type(rtype.arm_type) is not None:
        raise ServiceError(
            400,
            "OperationNotAllowed",
            f"This simulated service makes {rtype.arm_type} only by building image templates; "
            "it does not accept them written directly.",
        )


def admit_put(
    store: ResourceStore,
    rid: ResourceId,
    kind: str,
    api_version: str,
    body: Body,
    existing: Row | None,
) -> Body:
    """The body a PUT stores (with what the service adds), or the ServiceError Azure answers with."""
    stored = body  # put() passes a copy of its own (request_body)
    props = stored.setdefault("properties", {}) if kind != "identity" else None
    if existing is not None:
        current = json.loads(existing[2])
        if kind == "imageTemplate":
            raise ServiceError(
                409,
                "Conflict",
                f"{TEMPLATE_UPDATE_REFUSED}. Delete the template "
                f"'{rid.name}' first or submit it under another name.",
            )
        if fold_location(current.get("location", "")) != fold_location(stored["location"]):
            raise ServiceError(
                400,
                "InvalidResourceLocation",
                f"The resource '{rid.name}' already exists in location "
                f"'{current.get('location')}'. A resource with the same name cannot be "
                f"created in location '{stored['location']}'.",
            )
        if kind == "imageDefinition":
            old_props = current.get("properties") or {}
            for field in ("osType", "osState", "hyperVGeneration", "architecture", "identifier"):
                if field in old_props and _fold(old_props.get(field)) != _fold((props or {}).get(field)):
                    raise ServiceError(
                        409,
                        "PropertyChangeNotAllowed",
                        f"Changing property '{field}' is not allowed.",
                        target=field,
                    )
    if kind == "identity":
        principal = str(uuid.uuid5(_NS, fold_id(str(rid)) + "/principal"))
        client = str(uuid.uuid5(_NS, fold_id(str(rid)) + "/client"))
        stored["properties"] = {"tenantId": TENANT_ID, "principalId": principal, "clientId": client}
    elif kind == "gallery":
        assert props is not None
        props["identifier"] = {"uniqueName": f"{rid.subscription}-{rid.names[-1].upper()}"}
        props["provisioningState"] = "Succeeded"
    elif kind == "imageDefinition":
        assert props is not None
        parent = rid.parent()
        if parent is None or store.row(str(parent)) is None:
            raise ServiceError(
                404,
                "ParentResourceNotFound",
                f"Can not perform requested operation on nested resource. Parent resource "
                f"'{rid.names[0]}' not found.",
            )
        props["provisioningState"] = "Succeeded"
    elif kind == "imageTemplate":
        assert props is not None
        _check_template_references(store, rid, stored)
        props["provisioningState"] = "Succeeded"
    return stored


def _check_template_references(store: ResourceStore, rid: ResourceId, body: Body) -> None:
    """The identities and image definitions a template uses exist; the identities' ids are filled in."""
    identities = (body.get("identity") or {}).get("userAssignedIdentities") or {}
    for identity_id in identities:
        identity_row = store.row(identity_id)
        if identity_row is None:
            raise ServiceError(
                400,
                "InvalidParameter",
                f"The user-assigned identity '{identity_id}' of image template '{rid.name}' does not exist.",
                target="identity",
            )
        identity = json.loads(identity_row[2])
        identities[identity_id] = {
            "principalId": identity["properties"]["principalId"],
            "clientId": identity["properties"]["clientId"],
        }
    for index, target in enumerate((body.get("properties") or {}).get("distribute") or []):
        if not isinstance(target, dict) or target.get("type") != "SharedImage":
            continue
        gallery_image = parse_resource_id(str(target.get("galleryImageId", "")))
        if gallery_image is None:
            raise ServiceError(
                400,
                "InvalidParameter",
                f"distribute[{index}].galleryImageId is not a gallery image id.",
                target=f"properties.distribute[{index}].galleryImageId",
            )
        definition = gallery_image if len(gallery_image.types) == 2 else gallery_image.parent()
        if definition is None or store.row(str(definition)) is None:
            raise ServiceError(
                400,
                "InvalidParameter",
                f"The gallery image definition '{definition or gallery_image}' in "
                f"distribute[{index}] does not exist; create the gallery and the image "
                f"definition before the image template.",
                target=f"properties.distribute[{index}].galleryImageId",
            )


def check_template_patch(api_version: str, patch: Body) -> None:
    """A PATCH of an image template changes only what its api version lets it change."""
    allowed = IMAGE_TEMPLATE.patchable_prefixes(api_version)
    for path in _leaf_paths(patch):
        if not any(has_prefix(path, p) or has_prefix(p, path) for p in allowed):  # type: ignore[arg-type]
            shown = ".".join(str(p) for p in path)
            raise ServiceError(
                400,
                "InvalidRequestContent",
                f"The property '{shown}' cannot be updated with api-version {api_version}; "
                f"only {', '.join('.'.join(p) for p in allowed)} can.",
                target=shown,
            )


def not_found(arm_id: str) -> ServiceError:
    rid = parse_resource_id(arm_id)
    what = f"{rid.arm_type}/{rid.name}" if rid else arm_id
    group = rid.resource_group if rid else "?"
    return ServiceError(
        404, "ResourceNotFound", f"The Resource '{what}' under resource group '{group}' was not found."
    )


def request_body(body: Body) -> Body:
    """Only the writable envelope of a request, as a copy of its own; ARM ignores id/name/type in bodies.

    Copied through JSON (C speed; a request body is JSON) rather than copy.deepcopy (a big apply makes
    thousands of these)."""
    ignored = ("id", "name", "type", "apiVersion", "systemData", "dependsOn")
    kept = {k: v for k, v in body.items() if k not in ignored}
    copied: Body = json.loads(json.dumps(kept))
    return copied


def merge_patch(current: Body, patch: Body) -> Body:
    """A PATCH applied: top-level and properties keys replaced (vmProfile one level deeper); null removes."""
    merged = copy.deepcopy(current)
    for key, value in patch.items():
        if key == "properties" and isinstance(value, dict) and isinstance(merged.get("properties"), dict):
            props = merged["properties"]
            for pkey, pvalue in value.items():
                if (
                    pkey == "vmProfile"
                    and isinstance(pvalue, dict)
                    and isinstance(props.get("vmProfile"), dict)
                ):
                    props["vmProfile"] = {**props["vmProfile"], **copy.deepcopy(pvalue)}
                elif pvalue is None:
                    props.pop(pkey, None)
                else:
                    props[pkey] = copy.deepcopy(pvalue)
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _leaf_paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(value, dict) and value and not (prefix and prefix[-1] in ("tags", "identity")):
        out: list[tuple[str | int, ...]] = []
        for k, v in value.items():
            out.extend(_leaf_paths(v, (*prefix, k)))
        return out
    return [prefix]


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, dict):
        return {k.lower(): _fold(v) for k, v in value.items()}
    return value
