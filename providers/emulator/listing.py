"""List operations: every collection of a type the emulator serves, in the shape ARM answers them.

A collection path names a type without a name at the end:

    /subscriptions/S/providers/NS/TYPE                                       the subscription's
    /subscriptions/S/resourceGroups/G/providers/NS/TYPE                      the group's
    /subscriptions/S/resourceGroups/G/providers/NS/TYPE/NAME/CHILD[/N/GRANDCHILD]   a parent's children

The answer is `{"value": [...]}`, each item the body a GET of it returns; when more than a page is left,
a `nextLink` (the same URL with `$skiptoken`) says where the rest is, and there is no `nextLink` key at
all on the last page (recorded: azure-cli/image_builder_basic_2021-10-01.json#9,
azure-sdk-for-python/imagebuilder_lists_2024-02-01.json#0; the MSI spec example shows the nextLink).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

Body = dict[str, Any]


@dataclass(frozen=True)
class Collection:
    """The items of one type under one scope (a subscription, a resource group or a parent resource)."""

    subscription: str
    arm_type: str
    resource_group: str | None = None
    parent_id: str | None = None  # for child types: the parent resource's id

    @property
    def scope_prefix(self) -> str:
        """The id prefix every item of the collection has."""
        if self.parent_id is not None:
            return self.parent_id.rstrip("/") + "/"
        if self.resource_group is not None:
            return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/"
        return f"/subscriptions/{self.subscription}/"


def parse_collection(segments: list[str]) -> Collection | None:
    """The collection a path's segments name, or None when they name something else."""
    lowered = [s.lower() for s in segments]
    if len(segments) < 5 or lowered[0] != "subscriptions":
        return None
    subscription = segments[1]
    if lowered[2] == "providers" and len(segments) == 5:
        return Collection(subscription, f"{segments[3]}/{segments[4]}")
    if lowered[2] != "resourcegroups" or len(segments) < 7 or lowered[4] != "providers":
        return None
    rest = segments[5:]
    # namespace, then type/name pairs, then one more type: an even count from the namespace on.
    if len(rest) < 2 or len(rest) % 2 != 0:
        return None
    namespace, types, names = rest[0], rest[1::2], rest[2::2]
    arm_type = "/".join((namespace, *types))
    if not names:
        return Collection(subscription, arm_type, resource_group=segments[3])
    parent = "/".join(segments[:-1])
    return Collection(subscription, arm_type, resource_group=segments[3], parent_id="/" + parent)


def page(items: list[Body], *, skip: int, size: int, url: str, api_version: str) -> Body:
    """One page of `items` from `skip`; `nextLink` only while more are left."""
    chosen = items[skip : skip + size]
    answer: Body = {"value": chosen}
    if skip + size < len(items):
        answer["nextLink"] = f"{url}?api-version={quote(api_version)}&%24skiptoken={skip + size}"
    return answer


def skip_of(token: str | None) -> int:
    """Where a `$skiptoken` says the page starts (0 for none or one the emulator did not make)."""
    try:
        return max(0, int(token)) if token else 0
    except ValueError:
        return 0
