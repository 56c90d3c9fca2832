"""State values: frozen, sorted by address, equal states serialise to equal bytes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from .jsontext import dumps_indented

# 1: the walking skeleton's format. 2: secrets are fingerprints (state.redact); upgrading redacts.
FORMAT_VERSION = 2


@dataclass(frozen=True)
class ResourceState:
    """One managed resource as aibplan last left it."""

    address: str
    arm_type: str
    arm_id: str
    api_version: str
    # The normalised body aibplan last sent (what plan --no-refresh diffs against).
    applied: Mapping[str, Any]
    # What the provider returned afterwards, read-only fields included (what drift compares against).
    observed: Mapping[str, Any]
    # Addresses this resource was applied after; deletion walks them in reverse.
    dependencies: tuple[str, ...] = ()
    # A half-made resource that the next apply replaces.
    tainted: bool = False
    # Facts that are not desired state (last build, run outputs), kept per resource kind.
    extra: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def state_text(self) -> str:
        """This entry as it appears in the state file (indented two levels), written once per entry: an
        apply compacts the state several times and most entries are unchanged between writes."""
        return "    " + dumps_indented(self.to_json(), 2)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "address": self.address,
            "type": self.arm_type,
            "id": self.arm_id,
            "api_version": self.api_version,
            "applied": self.applied,
            "observed": self.observed,
            "dependencies": sorted(self.dependencies),
        }
        if self.tainted:
            out["tainted"] = True
        if self.extra:
            out["extra"] = self.extra
        return out

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> ResourceState:
        return ResourceState(
            address=str(data["address"]),
            arm_type=str(data["type"]),
            arm_id=str(data["id"]),
            api_version=str(data["api_version"]),
            applied=dict(data.get("applied") or {}),
            observed=dict(data.get("observed") or {}),
            dependencies=tuple(sorted(str(d) for d in data.get("dependencies") or ())),
            tainted=bool(data.get("tainted", False)),
            extra=dict(data.get("extra") or {}),
        )


@dataclass(frozen=True)
class State:
    """The whole state: format version, serial, lineage and resources sorted by address."""

    lineage: str
    # Serial is incremented each time the content changes; a saved plan remembers it to detect staleness.
    serial: int = 0
    resources: tuple[ResourceState, ...] = ()
    format_version: int = FORMAT_VERSION
    # The id of the last saved plan (`aibplan plan --out`) applied to this state: a saved plan applies once,
    # and recording its id makes the content, and so the serial, change even when nothing else did.
    last_saved_plan: str | None = None

    @staticmethod
    def new() -> State:
        return State(lineage=str(uuid.uuid4()))

    @cached_property
    def by_address(self) -> dict[str, ResourceState]:
        return {r.address: r for r in self.resources}

    def get(self, address: str) -> ResourceState | None:
        return self.by_address.get(address)

    def with_resources(self, resources: Iterable[ResourceState]) -> State:
        return replace(self, resources=tuple(sorted(resources, key=lambda r: r.address)))

    def with_resource(self, resource: ResourceState) -> State:
        others = [r for r in self.resources if r.address != resource.address]
        return self.with_resources([*others, resource])

    def without(self, address: str) -> State:
        return self.with_resources(r for r in self.resources if r.address != address)

    def same_content(self, other: State) -> bool:
        """Equal lineage, resources and last saved plan: saving would not change anything but the serial."""
        if (
            self.lineage != other.lineage
            or self.last_saved_plan != other.last_saved_plan
            or len(self.resources) != len(other.resources)
        ):
            return False
        # Entries carried over unchanged are the same objects: no need to compare their contents.
        return all(
            mine is theirs or mine.to_json() == theirs.to_json()
            for mine, theirs in zip(self.resources, other.resources, strict=True)
        )

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "format_version": self.format_version,
            "serial": self.serial,
            "lineage": self.lineage,
            "resources": [r.to_json() for r in self.resources],
        }
        if self.last_saved_plan is not None:
            document["last_saved_plan"] = self.last_saved_plan
        return document
