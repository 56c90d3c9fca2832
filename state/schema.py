"""What a state file must hold, checked field by field before any of it is used.

A state aibplan cannot fully understand is refused, untouched: a `"resources": null` read as "nothing
managed" would make the next apply create everything again and orphan what exists, and an entry whose
type and id disagree (a "gallery" whose id is an identity) would let an edit of the state aim a delete at
an arbitrary resource. So every field's type is checked here, where every backend's text is parsed
(state.store.state_from_json), and the first problem is reported in one line naming the field.

Each format version is checked as it was written (state.store checks before it upgrades): up to version
2 a top-level `serial` (and an optional `last_saved_plan`); from version 3 no top-level serial, each entry
with its own `serial` and optional `saved_plan`, and a removed resource as `{"address", "removed": true,
"serial"}` in its entry's place; up to version 3 each entry's `observed` body whole, in version 4 an
optional `observed_changes` in its place (state.observed: `set`, pointers to values, and `removed`, a
list of pointers; whether they fit the applied body is checked as the entry is read), from version 5
those two as the entry's optional `observed_set` and `observed_removed`, and `type` optional (left out
where the id spells it).

Which ARM type each address kind has is the catalog's to say (this package imports nothing of it): plan
checks that an entry's kind and type agree (planner.planning.identities, AIB8006) before it plans anything.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .observed import check_pointer

# Up to format 2: a serial for the whole state, and the id of the last saved plan applied.
TOP_LEVEL_V2 = ("format_version", "lineage", "resources", "serial")
TOP_LEVEL_OPTIONAL_V2 = ("last_saved_plan",)
OPTIONAL_V2 = ("tainted", "extra")
# From format 3: a serial and the saved plan that last changed it on each entry; removed entries.
TOP_LEVEL = ("format_version", "lineage", "resources")
OPTIONAL = ("tainted", "extra", "serial", "saved_plan")
REMOVED = ("address", "removed", "serial")
REQUIRED_V3 = ("address", "type", "id", "api_version", "applied", "observed", "dependencies")
# Format 4: the observed body as what differs from the applied body.
REQUIRED_V4 = ("address", "type", "id", "api_version", "applied", "dependencies")
OPTIONAL_V4 = (*OPTIONAL, "observed_changes")
# From format 5: those changes as two fields, and the type only where the id does not spell it.
REQUIRED = ("address", "id", "api_version", "applied", "dependencies")
OPTIONAL_V5 = (*OPTIONAL, "type", "observed_set", "observed_removed")

_ADDRESS_RE = re.compile(r"^(?P<kind>[A-Za-z]+)\.(?P<name>[^\s.][^\s]*)$")
# A resource group's, a subscription's, or (after another resource's id) an extension resource's.
_ID_RE = re.compile(
    r"^/subscriptions/[^/\s]+(?:/resourceGroups/[^/\s]+)?/providers/(?P<rest>\S+)$", re.IGNORECASE
)


class StateSchemaError(Exception):
    """One field of the state is not what aibplan writes: `where` names it, the message says what."""

    def __init__(self, where: str, message: str, *, address: str | None = None) -> None:
        super().__init__(f"{where} {message}")
        self.where = where
        self.address = address


def check_document(data: Mapping[str, Any], version: int = 5) -> None:
    """Raise StateSchemaError for the first field that is missing, unknown or of the wrong type, as
    format `version` writes it."""
    per_entry = version >= 3
    top_level = TOP_LEVEL if per_entry else TOP_LEVEL_V2
    optional = () if per_entry else TOP_LEVEL_OPTIONAL_V2
    for key in data:
        if key not in top_level and key not in optional:
            raise StateSchemaError(json.dumps(key), "is not a field of an aibplan state file")
    for key in top_level:
        if key not in data:
            raise StateSchemaError(f'"{key}"', "is missing")
    lineage, resources = data["lineage"], data["resources"]
    if not per_entry and not _is_count(data["serial"]):
        raise StateSchemaError(
            '"serial"', f"must be a whole number, 0 or more; found {_shown(data['serial'])}"
        )
    if not isinstance(lineage, str) or not lineage.strip():
        raise StateSchemaError('"lineage"', f"must be a non-empty string; found {_shown(lineage)}")
    if not isinstance(resources, list):
        raise StateSchemaError('"resources"', f"must be a list ([] when empty); found {_shown(resources)}")
    saved_plan = data.get("last_saved_plan")
    if saved_plan is not None and not isinstance(saved_plan, str):
        raise StateSchemaError('"last_saved_plan"', f"must be a string; found {_shown(saved_plan)}")
    seen: dict[str, int] = {}
    for index, entry in enumerate(resources):
        if per_entry and isinstance(entry, dict) and "removed" in entry:
            check_removed(entry, index)
            continue  # a removal may stand beside the entry a merge brought back
        if version >= 5:
            address = check_entry(entry, index, OPTIONAL_V5, REQUIRED)
        elif version == 4:
            address = check_entry(entry, index, OPTIONAL_V4, REQUIRED_V4)
        else:
            address = check_entry(entry, index, OPTIONAL if per_entry else OPTIONAL_V2, REQUIRED_V3)
        if address in seen:
            raise StateSchemaError(
                f"resources[{index}] ({address})",
                f"appears twice, also as resources[{seen[address]}] (a bad merge?); keep one entry",
                address=address,
            )
        seen[address] = index


def check_removed(entry: Mapping[str, Any], index: int) -> None:
    """A removed resource's entry: its address, `"removed": true` and the serial of its removal."""
    address = entry.get("address")
    if not isinstance(address, str) or _ADDRESS_RE.match(address) is None:
        raise StateSchemaError(
            f"resources[{index}].address", f"must be an address KIND.NAME; found {_shown(address)}"
        )
    where = f"resources[{index}] ({address})"
    for key in entry:
        if key not in REMOVED:
            raise StateSchemaError(
                where, f"is a removed resource and has a field it cannot hold: {key!r}", address=address
            )
    if entry["removed"] is not True:
        raise StateSchemaError(
            f"{where}.removed", f"must be true; found {_shown(entry['removed'])}", address=address
        )
    if not _is_count(entry.get("serial")) or entry["serial"] == 0:
        raise StateSchemaError(
            f"{where}.serial",
            f"must be a whole number, 1 or more; found {_shown(entry.get('serial'))}",
            address=address,
        )


def check_entry(
    entry: Any, index: int, optional: tuple[str, ...] = OPTIONAL_V5, required: tuple[str, ...] = REQUIRED
) -> str:
    """Check one resource entry (with the `required` and `optional` fields of its format); returns its
    address."""
    where = f"resources[{index}]"
    if not isinstance(entry, dict):
        raise StateSchemaError(where, f"must be an object; found {_shown(entry)}")
    address = entry.get("address")
    if not isinstance(address, str):
        raise StateSchemaError(f"{where}.address", f"must be a string KIND.NAME; found {_shown(address)}")
    if _ADDRESS_RE.match(address) is None:
        message = f"{_shown(address)} is not an address, KIND.NAME"
        raise StateSchemaError(f"{where}.address", message, address=address)
    where = f"resources[{index}] ({address})"

    def refuse(key: str, message: str) -> StateSchemaError:
        return StateSchemaError(f"{where}.{key}" if key else where, message, address=address)

    for key in entry:
        if key not in required and key not in optional:
            raise refuse("", f"has a field aibplan does not know: {key!r}")
    for key in required:
        if key not in entry:
            raise refuse(key, "is missing")
    for key in ("type", "id", "api_version"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key]):
            raise refuse(key, f"must be a non-empty string; found {_shown(entry[key])}")
    for key in ("applied", "observed", "extra", "observed_changes"):
        if key in entry and not isinstance(entry[key], dict):
            raise refuse(key, f"must be an object; found {_shown(entry[key])}")
    if "observed_changes" in entry:
        _check_changes(entry["observed_changes"], refuse)
    _check_set(entry.get("observed_set", {}), "observed_set", refuse)
    _check_removed(entry.get("observed_removed", []), "observed_removed", refuse)
    dependencies = entry["dependencies"]
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise refuse("dependencies", f"must be a list of addresses; found {_shown(dependencies)}")
    if "tainted" in entry and not isinstance(entry["tainted"], bool):
        raise refuse("tainted", f"must be true or false; found {_shown(entry['tainted'])}")
    if "serial" in entry and not _is_count(entry["serial"]):
        raise refuse("serial", f"must be a whole number, 0 or more; found {_shown(entry['serial'])}")
    if "saved_plan" in entry and not isinstance(entry["saved_plan"], str):
        raise refuse("saved_plan", f"must be a string; found {_shown(entry['saved_plan'])}")
    _check_identity(where, entry.get("type"), entry["id"], address)
    return address


def _check_changes(changes: Mapping[str, Any], refuse: Callable[[str, str], StateSchemaError]) -> None:
    """Format 4's `observed_changes`: `set`, an object of JSON pointers, and `removed`, a list of them."""
    for key in changes:
        if key not in ("set", "removed"):
            raise refuse("observed_changes", f"has a field aibplan does not know: {key!r} (set, removed)")
    _check_set(changes.get("set", {}), "observed_changes.set", refuse)
    _check_removed(changes.get("removed", []), "observed_changes.removed", refuse)


def _check_set(values: Any, field: str, refuse: Callable[[str, str], StateSchemaError]) -> None:
    """An object whose keys are JSON pointers (format 5's `observed_set`)."""
    if not isinstance(values, dict):
        raise refuse(field, f"must be an object; found {_shown(values)}")
    for pointer in values:
        problem = check_pointer(pointer)
        if problem is not None:
            raise refuse(field, f"key {_shown(pointer)} {problem}")


def _check_removed(removed: Any, field: str, refuse: Callable[[str, str], StateSchemaError]) -> None:
    """A list of JSON pointers (format 5's `observed_removed`)."""
    if not isinstance(removed, list):
        raise refuse(field, f"must be a list of JSON pointers; found {_shown(removed)}")
    for pointer in removed:
        problem = check_pointer(pointer)
        if problem is not None:
            raise refuse(field, f"item {_shown(pointer)} {problem}")


def _check_identity(where: str, arm_type: str | None, arm_id: str, address: str) -> None:
    """The type and the type the id encodes must be one ARM type (compared without case, as Azure compares
    them): a state edit must not aim a gallery's delete at an identity. Without a type (format 5 leaves
    it out where the id spells it), the id must still be one."""
    id_type = id_arm_type(arm_id)
    if id_type is None:
        raise StateSchemaError(
            f"{where}.id",
            f"{_shown(arm_id)} is not an ARM resource id "
            "(/subscriptions/SUB/resourceGroups/GROUP/providers/NAMESPACE/TYPE/NAME)",
            address=address,
        )
    if arm_type is not None and id_type.lower() != arm_type.lower():
        raise StateSchemaError(
            f"{where}.id", f"names a {id_type}, but the entry's type is {arm_type}: {arm_id}", address=address
        )


@functools.lru_cache(maxsize=16384)
def id_arm_type(arm_id: str) -> str | None:
    """The ARM type an id encodes (its last provider's namespace and type segments; `providers` at a type
    position starts an extension resource); None when it is not an id. (Asked of each entry each time it
    is checked or written: remembered for the ids of a big state.)"""
    match = _ID_RE.match(arm_id)
    if match is None:
        return None
    segments = match["rest"].rstrip("/").split("/")
    namespace, index = segments[0], 1
    types: list[str] = []
    while index < len(segments):
        if segments[index].lower() == "providers" and index + 2 < len(segments):
            namespace, index = segments[index + 1], index + 2
            types = []
            continue
        if index + 1 >= len(segments) or not segments[index] or not segments[index + 1]:
            return None
        types.append(segments[index])
        index += 2
    return "/".join((namespace, *types)) if namespace and types else None


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _shown(value: Any) -> str:
    """A value as the file holds it (cut short), or what kind of value it is."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int) and abs(value) > 10**30:
        return "a number of more than 30 digits"
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
