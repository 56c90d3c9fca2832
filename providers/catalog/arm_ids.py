"""ARM resource ids: build them from a type and a name, parse them, compare them without case.

An id names a resource at one of three scopes:

- a resource group: `/subscriptions/S/resourceGroups/G/providers/NS/type1/name1[/type2/name2...]`;
- a subscription: `/subscriptions/S/providers/NS/type/name` (a custom role definition);
- another resource, for an extension resource: the scope's id, then `/providers/NS/type/name`
  (`.../galleries/x/providers/Microsoft.Authorization/roleAssignments/<guid>`).

`providers` at a type position marks where an extension resource starts (a resource may be named
"providers"; only the position tells).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import Enum

_PREFIX_RE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)(?:/resourceGroups/(?P<rg>[^/]+))?/providers/(?P<rest>.+)$",
    re.IGNORECASE,
)


class Scope(Enum):
    """Where a resource may live: in a resource group, in a subscription, or on another resource."""

    RESOURCE_GROUP = "resource group"
    SUBSCRIPTION = "subscription"
    RESOURCE = "resource"


@dataclass(frozen=True)
class ResourceId:
    """A parsed ARM id. `resource_group` is "" at subscription scope; `scope` is the resource an extension
    resource is attached to (its subscription and resource group are then the scope's)."""

    subscription: str
    resource_group: str
    namespace: str
    types: tuple[str, ...]
    names: tuple[str, ...]
    scope: ResourceId | None = None

    @property
    def arm_type(self) -> str:
        return "/".join((self.namespace, *self.types))

    @property
    def name(self) -> str:
        return "/".join(self.names)

    @property
    def scope_kind(self) -> Scope:
        if self.scope is not None:
            return Scope.RESOURCE
        return Scope.RESOURCE_GROUP if self.resource_group else Scope.SUBSCRIPTION

    @property
    def scope_id(self) -> str:
        """The id of what the resource lives in: its resource group, its subscription, or its resource."""
        if self.scope is not None:
            return str(self.scope)
        return _container(self.subscription, self.resource_group)

    def parent(self) -> ResourceId | None:
        """The resource this one is nested in (an image definition's gallery); an extension resource's
        scope is not its parent."""
        if len(self.types) < 2:
            return None
        return ResourceId(
            self.subscription,
            self.resource_group,
            self.namespace,
            self.types[:-1],
            self.names[:-1],
            self.scope,
        )

    def __str__(self) -> str:
        pairs = "/".join(f"{t}/{n}" for t, n in zip(self.types, self.names, strict=True))
        return f"{self.scope_id}/providers/{self.namespace}/{pairs}"


def _container(subscription: str, resource_group: str) -> str:
    if resource_group:
        return f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
    return f"/subscriptions/{subscription}"


def parse_resource_id(value: str) -> ResourceId | None:
    """Parse an ARM id at resource-group, subscription or resource scope; None when `value` is not one."""
    return _parse_resource_id(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=65536)
def _parse_resource_id(value: str) -> ResourceId | None:
    # Cached: a big stack names the same identity and image definitions thousands of times.
    m = _PREFIX_RE.match(value.strip())
    if not m:
        return None
    segments = m.group("rest").strip("/").split("/")
    if any(not s for s in segments):
        return None
    found: ResourceId | None = None
    start = 0
    # namespace, then type/name pairs; "providers" where a type would be starts an extension resource.
    while start < len(segments):
        namespace = segments[start]
        types: list[str] = []
        names: list[str] = []
        index = start + 1
        while index < len(segments) and not (segments[index].lower() == "providers" and types):
            if index + 1 >= len(segments):
                return None
            types.append(segments[index])
            names.append(segments[index + 1])
            index += 2
        if not types:
            return None
        found = ResourceId(m.group("sub"), m.group("rg") or "", namespace, tuple(types), tuple(names), found)
        start = index + 1
        if index < len(segments) and start >= len(segments):
            return None  # a trailing "providers"
    return found


def build_resource_id(subscription: str, resource_group: str, arm_type: str, name: str) -> str:
    """The id of `name` of `arm_type` (e.g. "Microsoft.Compute/galleries/images", "gal/def") in a group
    (or, with `resource_group` "", in the subscription)."""
    return resource_id_at(_container(subscription, resource_group), arm_type, name)


def resource_id_at(scope: str, arm_type: str, name: str) -> str:
    """The id of `name` of `arm_type` at `scope`: a subscription, a resource group or a resource id."""
    ns, *types = arm_type.split("/")
    names = name.split("/")
    if len(types) != len(names):
        raise ValueError(f"type {arm_type} needs {len(types)} name segment(s), got {name!r}")
    pairs = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    return f"{scope.rstrip('/')}/providers/{ns}/{pairs}"


def scope_from(value: str, subscription: str, resource_group: str) -> str | None:
    """The scope id an ARM template's `scope` names: a subscription or resource group id, a resource id,
    or a resource relative to the resource group ("Microsoft.Compute/galleries/corpImages"); None when
    `value` is none of these."""
    text = value.strip().rstrip("/")
    container = re.match(r"^/subscriptions/[^/]+(/resourceGroups/[^/]+)?$", text, re.IGNORECASE)
    if container:
        return text
    if text.startswith("/"):
        rid = parse_resource_id(text)
        return str(rid) if rid is not None else None
    namespace, *rest = text.split("/")
    if "." not in namespace or len(rest) < 2 or len(rest) % 2:
        return None
    types, names = rest[0::2], rest[1::2]
    return build_resource_id(subscription, resource_group, "/".join((namespace, *types)), "/".join(names))


def split_extension(arm_type: str, name: str) -> tuple[str, str, str, str] | None:
    """An extension resource written as a nested type: `Microsoft.Compute/galleries/providers/
    roleAssignments` named `corpImages/Microsoft.Authorization/<guid>` is (scope type, scope name,
    "Microsoft.Authorization/roleAssignments", "<guid>"); None for any other type."""
    parts = arm_type.split("/")
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered[1:]:
        return None
    at = lowered.index("providers", 1)
    scope_type, extension_types = "/".join(parts[:at]), parts[at + 1 :]
    scope_names = at - 1
    names = name.split("/")
    if not extension_types or len(names) != scope_names + 1 + len(extension_types):
        return None
    namespace = names[scope_names]
    return (
        scope_type,
        "/".join(names[:scope_names]),
        "/".join((namespace, *extension_types)),
        "/".join(names[scope_names + 1 :]),
    )


def fold_id(value: str) -> str:
    """The form two ARM ids are compared in: lower case, no trailing slash."""
    return value.strip().rstrip("/").lower()


def fold_location(value: str) -> str:
    """The form two regions are compared in: "West US 2" and "westus2" are the same region."""
    return value.replace(" ", "").lower()
