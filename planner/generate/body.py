"""The part of a resource body as the cloud returns it that a person would write in a resource file.

Left out, from the catalog's facts about the type: what the service fills in (`read_only_paths`: ids,
provisioning states, principal ids, a template's last run), values equal to the service default
(`defaults`: an empty `vmSize`, a `buildTimeoutInMinutes` of 0) and containers that are empty once that is
gone (`empty_is_omitted`). The normaliser drops the same things before a plan compares two bodies, so the
file plans the same as the cloud's body: "No changes".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.catalog import ResourceType, read_only_paths
from providers.catalog.types import matches

from ..stack.model import BODY_KEYS

Path = tuple[str | int, ...]
_DROP = object()


def declared_body(rtype: ResourceType, body: Mapping[str, Any]) -> dict[str, Any]:
    """The REST keys of `body` without what the service fills in, its defaults and what is left empty."""
    facts = _Facts(rtype)
    out: dict[str, Any] = {}
    for key in BODY_KEYS:
        if key in body and body[key] is not None:
            value = facts.prune(body[key], (key,))
            if value is not _DROP:
                out[key] = value
    return out


class _Facts:
    def __init__(self, rtype: ResourceType) -> None:
        self.read_only = read_only_paths(rtype)
        self.defaults = rtype.defaults
        self.empty = rtype.empty_is_omitted

    def prune(self, value: Any, path: Path) -> Any:
        if any(matches(p, path) for p in self.read_only):
            return _DROP
        if isinstance(value, dict):
            kept = ((k, self.prune(v, (*path, k))) for k, v in value.items())
            value = {k: v for k, v in kept if v is not _DROP}
        elif isinstance(value, list):
            items = (self.prune(v, (*path, i)) for i, v in enumerate(value))
            value = [v for v in items if v is not _DROP]
        for pattern, defaults in self.defaults.items():
            if matches(pattern, path) and any(value == d and type(value) is type(d) for d in defaults):
                return _DROP
        if value in ({}, [], None) and any(matches(p, path) for p in self.empty):
            return _DROP
        return value
