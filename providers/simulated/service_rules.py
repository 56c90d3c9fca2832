"""What the simulated service refuses and what it adds, as Azure does, from the catalog's facts about
each kind: ids, types and api versions it knows, a parent before its children and a scope before what is
attached to it, what a resource refers to before the resource when the service checks it, no second PUT
where the service refuses one, no change of a create-only field, no PATCH of a field the api version
cannot change, no move to another region; and the values the service fills in (`simulated.computed`).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..catalog import RESOURCE_TYPES, for_arm_type
from ..catalog.arm_ids import ResourceId, fold_id, fold_location, parse_resource_id
from ..catalog.artifacts import artifact_type
from ..catalog.references import referenced_ids
from ..catalog.types import ResourceType, has_prefix
from .api_versions import check_for_type
from .computed import TENANT_ID, fill_computed
from .errors import ServiceError
from .store import Body, ResourceStore, Row

__all__ = ["TENANT_ID", "ServiceError"]


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
    rtype: ResourceType,
    api_version: str,
    body: Body,
    existing: Row | None,
    now: float,
) -> Body:
    """The body a PUT stores (with what the service adds), or the ServiceError Azure answers with."""
    stored = body  # put() passes a copy of its own (request_body)
    if existing is not None:
        current = json.loads(existing[2])
        if rtype.service.second_put_refused:
            raise ServiceError(
                409,
                "Conflict",
                f"Update/Upgrade of {rtype.title}s is currently not supported. Delete the {rtype.title} "
                f"'{rid.name}' first or submit it under another name.",
            )
        if rtype.located and fold_location(current.get("location", "")) != fold_location(
            str(stored.get("location", ""))
        ):
            raise ServiceError(
                400,
                "InvalidResourceLocation",
                f"The resource '{rid.name}' already exists in location "
                f"'{current.get('location')}'. A resource with the same name cannot be "
                f"created in location '{stored['location']}'.",
            )
        _check_create_only(rtype, rid, current, stored)
    parent = rid.parent()
    if rtype.parent_kind is not None and (parent is None or store.row(str(parent)) is None):
        raise ServiceError(
            404,
            "ParentResourceNotFound",
            f"Can not perform requested operation on nested resource. Parent resource "
            f"'{rid.names[0]}' not found.",
        )
    if rid.scope is not None and store.row(str(rid.scope)) is None:
        raise not_found(str(rid.scope))
    _check_references(store, rid, rtype, stored)
    fill_computed(store, rid, rtype, api_version, stored, now)
    return stored


def _check_create_only(rtype: ResourceType, rid: ResourceId, current: Body, new: Body) -> None:
    """A PUT over an existing resource keeps the fields that can only be set at creation."""
    refusal = rtype.service.create_only_refusal
    for pattern in rtype.create_only:
        if pattern == ("location",):
            continue  # a move answers InvalidResourceLocation, above
        old, sent = _at(current, pattern), _at(new, pattern)
        if old is not None and _fold(old) != _fold(sent):
            field = pattern[-1]
            raise ServiceError(
                refusal.status,
                refusal.code,
                refusal.message.format(field=field, name=rid.name),
                target=field,
            )


def _at(body: Any, pattern: tuple[str, ...]) -> Any:
    for key in pattern:
        body = body.get(key) if isinstance(body, dict) else None
    return body


def _check_references(store: ResourceStore, rid: ResourceId, rtype: ResourceType, body: Body) -> None:
    """What the resource refers to exists, where the service checks it (a template's identity and the
    image definitions it distributes to)."""
    for reference in rtype.references:
        if not reference.checked_on_create:
            continue
        for arm_id, path in referenced_ids(body, reference):
            # An id that is a key is named by the field holding the map (as the service does: "identity").
            shown = str(path[0]) if reference.in_keys else _shown(path)
            target = parse_resource_id(arm_id)
            if target is None:
                raise ServiceError(
                    400, "InvalidParameter", f"{shown} is not a resource id: '{arm_id}'.", target=shown
                )
            needed = target
            if target.arm_type.lower() in (t.lower() for t in reference.through_parent):
                needed = target.parent() or target
            if store.row(str(needed)) is None:
                kind = for_arm_type(needed.arm_type) or artifact_type(needed.arm_type)
                what = kind.title if kind is not None else needed.arm_type
                raise ServiceError(
                    400,
                    "InvalidParameter",
                    f"The {what} '{needed}' that {rtype.title} '{rid.name}' uses at {shown} does not "
                    f"exist; create it before the {rtype.title}.",
                    target=shown,
                )


def refuse_blocked_delete(store: ResourceStore, rid: ResourceId, rtype: ResourceType) -> None:
    """A resource that another one names where the service keeps them together (a role definition that
    is still assigned) cannot be deleted."""
    folded = fold_id(str(rid))
    for other in RESOURCE_TYPES:
        for reference in other.references:
            if not reference.blocks_delete or rtype.kind not in reference.kinds:
                continue
            for row in store.all_of_type(other.arm_type):
                for arm_id, _path in referenced_ids(json.loads(row[2]), reference):
                    if fold_id(arm_id) == folded:
                        raise ServiceError(
                            409,
                            "CannotDeleteResource",
                            f"The {rtype.title} '{rid.name}' cannot be deleted: {other.title} "
                            f"'{row[0].rsplit('/', 1)[-1]}' still uses it.",
                        )


def check_patch(rtype: ResourceType, api_version: str, patch: Body) -> None:
    """A PATCH changes only what its api version lets it change."""
    allowed = rtype.patchable_prefixes(api_version)
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


def _shown(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, dict):
        return {k.lower(): _fold(v) for k, v in value.items()}
    return value
