"""An entry's observed body stored as what differs from its applied body (state format 4).

What the provider returns after a call is mostly what aibplan sent: the service adds its read-only
fields (`provisioningState`, a gallery's `identifier`, an identity's `principalId`), the ARM envelope
(`id`, `name`, `type`) and rewrites a few values (the case of ids). Storing both bodies in full made the
state file about three times the size of the stack's resource files. So the file holds the applied body
and `observed_changes`: JSON pointers (RFC 6901) into the body, with

- `set`: pointer → the observed value there (a field the service added, or a value it changed; where
  the applied body has an object at that place and so has the observed body, only the fields inside
  that differ are listed, unless the whole value is shorter to write, as when only the case of a key
  changed; two lists of the same length are compared element by element, any other difference sets the
  whole value), and
- `removed`: the pointers of fields the applied body has and the observed body has not.

The base the changes apply to is the applied body with the envelope every ARM read returns: the entry's
`id`, `type` and the id's last name, where the applied body has none of its own. Removals are applied
first, then the values in the order of their pointers (a parent sorts before its children). The form is
deterministic (pointers sorted, values as the state writes every value) and its lines change only where
the observed body changes, so it stays small in git diffs.

Rebuilding copies only the objects along the pointers: the rest of the observed body is shared with the
applied body, which nothing changes in place (the state's bodies are read-only mappings).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast


class ObservedChangesError(ValueError):
    """`observed_changes` does not fit the applied body: `pointer` names where, the message says why."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"{pointer!r} {message}")
        self.pointer = pointer


def envelope(arm_id: str, arm_type: str) -> dict[str, str]:
    """The fields every ARM read returns around a body: its id, name (the id's last segment) and type."""
    return {"id": arm_id, "name": arm_id.rstrip("/").rsplit("/", 1)[-1], "type": arm_type}


def base_body(applied: Mapping[str, Any], arm_id: str, arm_type: str) -> dict[str, Any]:
    """What `observed_changes` apply to: the applied body over the envelope."""
    return {**envelope(arm_id, arm_type), **applied}


def observed_changes(base: Mapping[str, Any], observed: Mapping[str, Any]) -> dict[str, Any]:
    """The changes that turn `base` into `observed`: {"set": {pointer: value}, "removed": [pointer]},
    either part left out when empty ({} when they are the same)."""
    values: dict[str, Any] = {}
    removed: list[str] = []
    if not same_json(base, observed):
        _diff(base, observed, "", values, removed)
    out: dict[str, Any] = {}
    if values:
        out["set"] = dict(sorted(values.items()))
    if removed:
        out["removed"] = sorted(removed)
    return out


def _diff(old: Any, new: Any, pointer: str, values: dict[str, Any], removed: list[str]) -> int:
    """Add the changes from `old` to `new` under `pointer`; the room they take in the file (compact
    JSON, the indentation being alike for both): each level weighs its changes against its whole value
    from the sizes its children found, not by writing each change out again at every level above it.
    Called only where `same_json` said the two differ (most of an answered body is the applied body:
    compared at C speed, not walked)."""
    if isinstance(old, dict) and isinstance(new, dict):
        inner: dict[str, Any] = {}
        gone = [f"{pointer}/{escape(key)}" for key in old if key not in new]
        size = sum(len(p) for p in gone)
        for key, value in new.items():
            if key in old:
                before = old[key]
                if not same_json(before, value):
                    size += _diff(before, value, f"{pointer}/{escape(key)}", inner, gone)
            else:
                where = f"{pointer}/{escape(key)}"
                inner[where] = value
                size += len(where) + _text_size(value)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        inner, gone, size = {}, [], 0
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            if not same_json(before, after):
                size += _diff(before, after, f"{pointer}/{index}", inner, gone)
    else:
        values[pointer] = new
        return len(pointer) + _text_size(new)
    if pointer and (inner or gone):
        whole = _size_below(new, size - len(pointer))
        if whole is not None:
            values[pointer] = new  # the whole value is shorter than what changed inside it (a key's case)
            return len(pointer) + whole
    values.update(inner)
    removed.extend(gone)
    return size


def same_json(old: Any, new: Any) -> bool:
    """`same_value`, told without a walk for the values a body mostly holds (texts, numbers, equal
    objects): equal, of the same types, and objects and lists written alike."""
    if old is new:
        return True
    kind = type(new)
    if kind is not type(old) or old != new:
        return False
    return kind not in (dict, list) or _same_json(old, new)


def _text_size(value: Any) -> int:
    if type(value) is str and '"' not in value and "\\" not in value and value.isprintable():
        return len(value) + 2  # nothing in it is escaped
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _size_below(value: dict[str, Any] | list[Any], room: int) -> int | None:
    """`_text_size(value)` when it is less than `room`, else None. Written out only when a lower bound of
    its size stays below `room`: each text, key and bracket counted, walked until the count reaches
    `room` (the changes inside a body's `properties` are a few short fields; the object is long)."""
    least, pending = 0, [cast(Any, value)]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str:
            least += len(item) + 2
        elif kind is dict:
            least += 1 + len(item) + sum(len(key) + 3 for key in item)  # {"key":v,...}, v counted below
            pending.extend(item.values())
        elif kind is list:
            least += 1 + len(item)
            pending.extend(item)
        else:
            least += 1
        if least >= room:
            return None
    size = _text_size(value)
    return size if size < room else None


def _same_json(one: Any, other: Any) -> bool:
    """`same_value` of two objects or two lists, the common case at C speed: Python's == first (it
    rejects most differences), then their JSON text with sorted keys, which tells `1`, `1.0` and `true`
    apart where == does not."""
    if one != other:
        return False
    if repr(one) == repr(other):
        # Equal, and written alike in the same order: the same types everywhere (1, 1.0 and True are
        # written apart). Half the cost of writing both as sorted JSON, which other orders still take.
        return True
    try:
        return json.dumps(one, sort_keys=True) == json.dumps(other, sort_keys=True)
    except (TypeError, ValueError):
        return same_value(one, other)


def same_value(one: Any, other: Any) -> bool:
    """Equal as JSON text is equal: `1`, `1.0` and `true` are three values (Python's == says one)."""
    if type(one) is not type(other):
        return False
    if isinstance(one, dict):
        return one.keys() == other.keys() and all(same_value(v, other[k]) for k, v in one.items())
    if isinstance(one, list):
        return len(one) == len(other) and all(same_value(a, b) for a, b in zip(one, other, strict=True))
    return bool(one == other)


def apply_changes(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The observed body: `base` with `changes` applied (ObservedChangesError when they do not fit it)."""
    body = dict(base)
    copied: set[int] = {id(body)}
    removed = changes.get("removed")
    for pointer in sorted(removed) if removed else ():
        parent, key = _parent(body, pointer, copied)
        if not isinstance(parent, dict) or key not in parent:
            raise ObservedChangesError(pointer, "is removed, but the applied body has no such field")
        del parent[key]
    values = changes.get("set")
    for pointer, value in sorted(values.items()) if values else ():
        parent, key = _parent(body, pointer, copied)
        if isinstance(parent, dict):
            parent[key] = value
        elif isinstance(parent, list) and _is_index(key, len(parent)):
            parent[int(key)] = value
        else:
            raise ObservedChangesError(pointer, "is set, but the body has no object or list item there")
    return body


def _parent(body: dict[str, Any], pointer: str, copied: set[int]) -> tuple[Any, str]:
    """The container that holds `pointer`'s last step (each one on the way copied once, so the base's own
    objects are never changed) and that step."""
    if not pointer.startswith("/"):
        raise ObservedChangesError(pointer, "is not a JSON pointer (it starts with /)")
    steps = pointer[1:].split("/")
    if "~" in pointer:  # most pointers escape nothing
        steps = [unescape(step, pointer) for step in steps]
    last = steps.pop()
    node: Any = body
    for step in steps:
        if isinstance(node, dict) and step in node:
            child = node[step]
            slot: Any = step
        elif isinstance(node, list) and _is_index(step, len(node)):
            slot = int(step)
            child = node[slot]
        else:
            raise ObservedChangesError(pointer, f"goes through {step!r}, which the body does not have")
        if isinstance(child, _CONTAINERS) and id(child) not in copied:
            child = dict(child) if isinstance(child, dict) else list(child)
            copied.add(id(child))
            node[slot] = child
        node = child
    return node, last


# A tuple, not `dict | list`: isinstance with a union written in the call makes the union every time.
_CONTAINERS = (dict, list)


def _is_index(step: str, length: int) -> bool:
    return step.isdigit() and (step == "0" or not step.startswith("0")) and int(step) < length


def escape(key: str) -> str:
    """A key as one step of a JSON pointer (RFC 6901: `~` is `~0`, `/` is `~1`)."""
    return key.replace("~", "~0").replace("/", "~1")


def unescape(step: str, pointer: str) -> str:
    if "~" in step:
        if any(step[i + 1 : i + 2] not in ("0", "1") for i, c in enumerate(step) if c == "~"):
            raise ObservedChangesError(pointer, "has a ~ that is not ~0 or ~1")
        return step.replace("~1", "/").replace("~0", "~")
    return step


def check_pointer(pointer: Any) -> str | None:
    """Why `pointer` is not a JSON pointer to a field (None when it is one)."""
    if not isinstance(pointer, str):
        return "must be a string"
    if not pointer.startswith("/"):
        return "must be a JSON pointer, starting with /"
    if "~" not in pointer:
        return None
    try:
        for step in pointer[1:].split("/"):
            unescape(step, pointer)
    except ObservedChangesError:
        return "has a ~ that is not ~0 or ~1"
    return None
