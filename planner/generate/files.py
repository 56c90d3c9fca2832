"""One resource file per generated resource (its name, its text), and the stack's aibplan.json.

A file holds one resource object as the loader reads it (type, apiVersion, name, then the body), after a
comment saying where it came from. Its name is `<kind>.<name>.json` (a child's `/` written as `.`), made
safe for the loader, which skips hidden files and names ending in `.parameters.json`, `.plan.json` or
`.state.json`; two resources that would share a name get `-2`, `-3`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from providers.catalog import ResourceType, for_arm_type
from providers.catalog.arm_ids import build_resource_id, fold_id, parse_resource_id

from ..normalize import normalize_body
from .body import declared_body
from .references import resource_id_expression, rewrite_references

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_SKIPPED_SUFFIXES = (".parameters", ".plan", ".state")


@dataclass(frozen=True)
class GeneratedFile:
    """A resource file to write: its name in the stack folder, the resource's address and id, its text."""

    name: str
    address: str
    arm_id: str
    location: str | None
    text: str


def generated_files(
    bodies: Iterable[Mapping[str, Any]], *, subscription: str, resource_group: str
) -> list[GeneratedFile]:
    """A file for each body of a managed kind (others are left out), in address order. Ids of the other
    generated resources become `resourceId(...)` expressions of a stack in `subscription`/`resource_group`."""
    found: list[tuple[ResourceType, str, Mapping[str, Any]]] = []
    for body in bodies:
        rid = parse_resource_id(str(body.get("id", "")))
        rtype = for_arm_type(rid.arm_type) if rid is not None else None
        if rid is not None and rtype is not None:
            found.append((rtype, rid.name, body))
    found.sort(key=lambda item: (item[0].kind, item[1].lower()))
    expressions = {}
    for rtype, name, _body in found:
        canonical = build_resource_id(subscription, resource_group, rtype.arm_type, name)
        expressions[fold_id(canonical)] = (canonical, resource_id_expression(canonical))
    files: list[GeneratedFile] = []
    taken: set[str] = set()
    for rtype, name, body in found:
        declared = declared_body(rtype, body)

        def same_for_plan(a: dict[str, Any], b: dict[str, Any], rtype: ResourceType = rtype) -> bool:
            return normalize_body(rtype, a) == normalize_body(rtype, b)

        declared = rewrite_references(declared, expressions, same_for_plan)
        document = {
            "type": rtype.arm_type,
            "apiVersion": rtype.default_api_version,
            "name": name,
            **_type_and_name_first(declared),
        }
        arm_id = str(body["id"])
        text = (
            f"// Written by `aibplan generate` from {arm_id}.\n"
            + json.dumps(document, indent=2, ensure_ascii=False)
            + "\n"
        )
        location = body.get("location")
        files.append(
            GeneratedFile(
                _file_name(rtype.kind, name, taken),
                f"{rtype.kind}.{name}",
                arm_id,
                location if isinstance(location, str) else None,
                text,
            )
        )
    return files


def config_text(subscription: str, resource_group: str, location: str, provider: str) -> str:
    """aibplan.json for a generated stack."""
    config = {
        "subscriptionId": subscription,
        "resourceGroup": resource_group,
        "location": location,
        "provider": provider,
    }
    return json.dumps(config, indent=2) + "\n"


def main_location(files: Iterable[GeneratedFile]) -> str | None:
    """The region most generated resources live in (the first by name on a tie): the stack's default."""
    counted = Counter(f.location for f in files if f.location)
    if not counted:
        return None
    return min(counted, key=lambda region: (-counted[region], region))


def _type_and_name_first(value: Any) -> Any:
    """Objects with their `type` and `name` first (a customizer reads "type: Shell, name: ..."), the rest
    in the cloud's order."""
    if isinstance(value, dict):
        first = [k for k in ("type", "name") if k in value]
        keys = first + [k for k in value if k not in first]
        return {k: _type_and_name_first(value[k]) for k in keys}
    if isinstance(value, list):
        return [_type_and_name_first(v) for v in value]
    return value


def _file_name(kind: str, name: str, taken: set[str]) -> str:
    stem = _UNSAFE.sub("_", f"{kind}.{name.replace('/', '.')}")
    if stem.endswith(_SKIPPED_SUFFIXES):
        stem += ".resource"
    candidate, number = f"{stem}.json", 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{stem}-{number}.json"
    taken.add(candidate.lower())
    return candidate
