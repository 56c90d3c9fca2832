"""ARM resource ids: build them from a type and a name, parse them, compare them without case."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_ID_RE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/(?P<ns>[^/]+)/(?P<rest>.+)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ResourceId:
    """A parsed ARM id: /subscriptions/S/resourceGroups/G/providers/NS/type1/name1[/type2/name2...]."""

    subscription: str
    resource_group: str
    namespace: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def arm_type(self) -> str:
        return "/".join((self.namespace, *self.types))

    @property
    def name(self) -> str:
        return "/".join(self.names)

    def parent(self) -> ResourceId | None:
        if len(self.types) < 2:
            return None
        return ResourceId(
            self.subscription, self.resource_group, self.namespace, self.types[:-1], self.names[:-1]
        )

    def __str__(self) -> str:
        parts = [
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/{self.namespace}"
        ]
        for t, n in zip(self.types, self.names, strict=True):
            parts.append(f"{t}/{n}")
        return "/".join(parts)


def parse_resource_id(value: str) -> ResourceId | None:
    """Parse a resource-group-scoped ARM id; None when `value` is not one."""
    return _parse_resource_id(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=65536)
def _parse_resource_id(value: str) -> ResourceId | None:
    # Cached: a big stack names the same identity and image definitions thousands of times.
    m = _ID_RE.match(value.strip())
    if not m:
        return None
    segments = m.group("rest").strip("/").split("/")
    if len(segments) % 2 != 0 or any(not s for s in segments):
        return None
    return ResourceId(
        m.group("sub"), m.group("rg"), m.group("ns"), tuple(segments[0::2]), tuple(segments[1::2])
    )


def build_resource_id(subscription: str, resource_group: str, arm_type: str, name: str) -> str:
    """The id of `name` of `arm_type` (e.g. "Microsoft.Compute/galleries/images", "gal/def") in a group."""
    ns, *types = arm_type.split("/")
    names = name.split("/")
    if len(types) != len(names):
        raise ValueError(f"type {arm_type} needs {len(types)} name segment(s), got {name!r}")
    rid = ResourceId(subscription, resource_group, ns, tuple(types), tuple(names))
    return str(rid)


def fold_id(value: str) -> str:
    """The form two ARM ids are compared in: lower case, no trailing slash."""
    return value.strip().rstrip("/").lower()


def fold_location(value: str) -> str:
    """The form two regions are compared in: "West US 2" and "westus2" are the same region."""
    return value.replace(" ", "").lower()
