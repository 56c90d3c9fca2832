"""What the services refuse in a request body before they act on it, read from the catalog's schemas (the
same ones the validator checks stacks with), so that the simulated cloud refuses what Azure refuses:

- a required field left out (an image template with no `source` or no `distribute`; a distribution
  target without its `runOutputName`; an image definition without `osType`), in a PUT anywhere and in a
  PATCH inside list items (a PATCH names the fields it changes, but each distribution target whole);
- an unknown or mis-cased field, from the api version the service became strict (Image Builder from
  2024-02-01: "If you send an API request ... with incorrect case or unrecognized fields, the service
  rejects it"; Compute always: it cannot deserialise a member it does not know);
- a union (`source`, `customize[]`, `distribute[]`, ...) without its `type`, or with one the version does
  not take;
- tags that are not an object of strings, or longer than ARM allows (names 512, values 256 characters).

Read-only fields in a request are ignored, as ARM ignores them. Messages follow each service's shape:
Image Builder's "Validation failed: 'ImageTemplate.<path>': Missing field '<name>'. Please review
http://aka.ms/azvmimagebuildertmplref ..." (its troubleshooting guide and issue threads; the error code is
not documented: InvalidParameter here), Compute's "Required parameter '<name>' is missing (null)."
(InvalidParameter) and "Could not find member ..." (InvalidRequestFormat).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..catalog import read_only_paths, schema_for
from ..catalog.compiled import CArr, CMap, CNode, CObj, CUnion
from ..catalog.types import ResourceType
from .errors import ServiceError

# Keys ARM itself takes at the top of any resource body; the resource provider never sees them as fields.
ARM_TOP_LEVEL = frozenset({"plan", "kind", "managedBy", "sku", "zones", "extendedLocation", "etag", "scale"})
_TEMPLATE_REFERENCE = "Please review http://aka.ms/azvmimagebuildertmplref for details on fields required in the Image Builder Template."  # noqa: E501


@dataclass(frozen=True)
class Problem:
    """What is wrong in a request body: a field missing or unknown, or a variant not taken."""

    what: str  # missing | unknown | variant
    path: tuple[str | int, ...]  # where: the object holding the field (for a variant: its type field)
    name: str  # the field (or, for a variant, the value of the discriminator)


def check_request(rtype: ResourceType, api_version: str, body: dict[str, Any], *, patch: bool) -> None:
    """Raise the ServiceError the service answers a bad request with (the first problem found)."""
    _check_tags(body.get("tags"))
    schema = schema_for(rtype.kind, api_version)
    if schema is None:
        return
    walker = _Walker(strict=schema.strict, patch=patch)
    found = next(walker.node(schema.root, body, (), in_list=False), None)
    if found is not None:
        raise _refusal(rtype, found)


Path = tuple[str | int, ...]


@dataclass(frozen=True)
class _Walker:
    """One request's walk: `strict` refuses unknown fields; `patch` checks required fields only inside
    list items (a PATCH names what it changes, but sends each list item whole)."""

    strict: bool
    patch: bool

    def node(self, node: CNode, value: Any, path: Path, *, in_list: bool) -> Iterator[Problem]:
        if isinstance(node, CArr):
            if isinstance(value, list):
                for index, item in enumerate(value):
                    yield from self.node(node.items, item, (*path, index), in_list=True)
        elif isinstance(node, CMap):
            if isinstance(value, dict):
                for key, item in value.items():
                    yield from self.node(node.values, item, (*path, key), in_list=in_list)
        elif isinstance(node, CUnion):
            if isinstance(value, dict):
                yield from self.union(node, value, path, in_list=in_list)
        elif isinstance(node, CObj) and isinstance(value, dict):
            yield from self.obj(node, value, path, in_list=in_list)

    def union(self, node: CUnion, value: dict[str, Any], path: Path, *, in_list: bool) -> Iterator[Problem]:
        tag = value.get(node.key)
        if not isinstance(tag, str):
            if not self.patch or in_list:
                yield Problem("missing", path, node.key)
            return
        variant = node.variants.get(tag)
        if variant is None and not self.strict:
            variant = node.variants.get(node.variants_lower.get(tag.lower(), ""))
        if variant is None:
            yield Problem("variant", (*path, node.key), tag)
            return
        yield from self.obj(variant, value, path, in_list=in_list)

    def obj(self, node: CObj, value: dict[str, Any], path: Path, *, in_list: bool) -> Iterator[Problem]:
        # Unknown fields first: a mis-cased required field is said to be unknown, not missing.
        yield from self.fields(node, value, path, in_list=in_list)
        if not self.patch or in_list:
            for name, _code in node.required:
                if value.get(name) is None:
                    yield Problem("missing", path, name)

    def fields(self, node: CObj, value: dict[str, Any], path: Path, *, in_list: bool) -> Iterator[Problem]:
        for key, item in value.items():
            field = node.fields.get(key)
            if field is None:
                if self.strict and not (not path and key in ARM_TOP_LEVEL):
                    yield Problem("unknown", path, key)
                continue
            if not field.read_only:
                yield from self.node(field.node, item, (*path, key), in_list=in_list)


def _check_tags(tags: Any) -> None:
    if tags is None:
        return
    if not isinstance(tags, dict):
        raise ServiceError(
            400, "InvalidRequestContent", "The request content was invalid: 'tags' must be an object."
        )
    for name, value in tags.items():
        if not isinstance(value, str):
            raise ServiceError(
                400,
                "InvalidRequestContent",
                f"The request content was invalid: the value of tag '{name}' must be a string.",
                target=f"tags.{name}",
            )
        if len(name) > 512:
            raise ServiceError(
                400,
                "InvalidTagNameLength",
                f"The tag name '{name[:40]}...' exceeds the maximum length of '512' characters.",
            )
        if len(value) > 256:
            raise ServiceError(
                400,
                "InvalidTagValueLength",
                f"The value of tag '{name}' exceeds the maximum length of '256' characters.",
            )


def _refusal(rtype: ResourceType, problem: Problem) -> ServiceError:
    where = _dotted(problem.path)
    field_path = f"{where}.{problem.name}" if where else problem.name
    if rtype.arm_type.lower().startswith("microsoft.virtualmachineimages/"):
        holder = f"ImageTemplate.{where}" if where else "ImageTemplate"
        if problem.what == "missing":
            text = f"Missing field '{problem.name}'"
        elif problem.what == "unknown":
            text = f'unknown field "{problem.name}"'
        else:
            text = f"Field '{_dotted(problem.path[-1:])}' has a bad value: '{problem.name}'"
        message = f"Validation failed: '{holder}': {text}. {_TEMPLATE_REFERENCE}"
        return ServiceError(400, "InvalidParameter", message, target=field_path)
    if problem.what == "missing":
        return ServiceError(
            400,
            "InvalidParameter",
            f"Required parameter '{problem.name}' is missing (null).",
            target=field_path,
        )
    if problem.what == "unknown":
        return ServiceError(
            400,
            "InvalidRequestFormat",
            f"Cannot parse the request. Could not find member '{problem.name}'. Path '{field_path}'.",
            target=field_path,
        )
    return ServiceError(
        400,
        "InvalidParameter",
        f"The value '{problem.name}' of parameter '{where}' is not valid.",
        target=where,
    )


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def keep_read_only(rtype: ResourceType, current: dict[str, Any], merged: dict[str, Any]) -> dict[str, Any]:
    """`merged` (a PATCH applied to `current`) with every read-only field as `current` has it: a PATCH
    cannot set, change or drop what the service owns (an identity's principalId and clientId, a
    template's provisioningState and lastRunStatus)."""
    for path in read_only_paths(rtype):
        if any(part in ("*", "[]") for part in path):
            continue
        old = _holder(current, path)
        if old is not None and path[-1] in old:
            new = _holder(merged, path, create=True)
            if new is not None:
                new[path[-1]] = copy.deepcopy(old[path[-1]])
        else:
            new = _holder(merged, path)
            if new is not None:
                new.pop(path[-1], None)
    return merged


def _holder(body: dict[str, Any], path: tuple[str, ...], *, create: bool = False) -> dict[str, Any] | None:
    """The object that holds the last key of `path` (made on the way when `create`), or None."""
    node: Any = body
    for part in path[:-1]:
        child = node.get(part) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            if not create or not isinstance(node, dict):
                return None
            child = node[part] = {}
        node = child
    return node if isinstance(node, dict) else None
