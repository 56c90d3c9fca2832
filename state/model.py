"""State values: frozen, sorted by address, equal states serialise to equal bytes.

The state has no single line that every write changes (docs/state.md, "Merging states in git"): each
entry carries the `serial` at which it last changed, a removed resource leaves a small `removed` entry
with the serial of its removal in its place, and the state's serial is the highest of them. So two
branches that apply different resources change different lines, and git merges them.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from .jsontext import dumps_indented
from .observed import ObservedChangesError, apply_changes, base_body, observed_changes
from .schema import id_arm_type

# 1: the walking skeleton's format. 2: secrets are fingerprints (state.redact); upgrading redacts.
# 3: serials per entry and removed entries (no top-level serial); a saved plan's id on each entry it changed.
# 4: the observed body stored as what differs from the applied body (`observed_changes`, state.observed).
# 5: `applied` is the body as sent (not normalised: ids as the stack spells them) and `id` as the service
#    spells it in its answer, so neither is kept again among the observed changes; those are written as
#    `observed_set` and `observed_removed`; `type` only where the id does not spell it.
FORMAT_VERSION = 5


@dataclass(frozen=True)
class ResourceState:
    """One managed resource as aibplan last left it."""

    address: str
    arm_type: str
    # The resource's id; where the observed body's `id` names the same resource spelt in another case (an
    # image template's or an identity's `/resourcegroups/`), that spelling (see __post_init__).
    arm_id: str
    api_version: str
    # The body aibplan last sent, as sent (what plan --no-refresh diffs against, once normalised: ids as the
    # stack spells them, so the service's echo of them is no change to keep in `observed_changes`). A state
    # written before format 5, an import and a refresh-only apply hold it normalised, which compares the same.
    applied: Mapping[str, Any]
    # What the provider returned afterwards, read-only fields included (what drift compares against); the
    # file holds it as what differs from `applied` (observed_changes), read back whole.
    observed: Mapping[str, Any]
    # Addresses this resource was applied after; deletion walks them in reverse.
    dependencies: tuple[str, ...] = ()
    # A half-made resource that the next apply replaces.
    tainted: bool = False
    # Facts that are not desired state (last build, run outputs), kept per resource kind.
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The state's serial when this entry last changed (0: not written yet; set by the write).
    serial: int = 0
    # The id of the saved plan (`aibplan plan --out`) that last changed this entry: a saved plan applies once.
    saved_plan: str | None = None

    def __post_init__(self) -> None:
        # Azure compares ids without case, and the service answers some in its own spelling: keep that one
        # as the entry's id, so the file holds it once (not again as the observed body's `id`). Nothing
        # compares ids with case (planner.planning.identities folds them), and an import does the same.
        answered = self.observed.get("id") if self.observed else None
        if isinstance(answered, str) and answered != self.arm_id and answered.lower() == self.arm_id.lower():
            object.__setattr__(self, "arm_id", answered)

    @cached_property
    def state_text(self) -> str:
        """This entry as it appears in the state file (indented two levels), written once per entry: an
        apply compacts the state several times and most entries are unchanged between writes."""
        return "    " + dumps_indented(self.to_json(), 2)

    @cached_property
    def observed_changes(self) -> dict[str, Any]:
        """What the file holds of `observed`: what differs from the applied body (state.observed)."""
        return observed_changes(base_body(self.applied, self.arm_id, self.arm_type), self.observed)

    def sharing(self) -> ResourceState:
        """This entry with its observed body rebuilt from the applied body and `observed_changes`, as
        `from_json` makes it: what the two bodies have in common is held once, not twice. What it has
        computed (its changes, its text) carries over: the content is the same. (Changes that did not fit
        their own base would be a bug; the entry is then kept as it is.)"""
        changes = self.observed_changes
        try:
            observed = apply_changes(base_body(self.applied, self.arm_id, self.arm_type), changes)
        except ObservedChangesError:
            return self
        out = replace(self, observed=observed)
        for computed in ("observed_changes", "state_text"):
            if computed in self.__dict__:
                out.__dict__[computed] = self.__dict__[computed]
        return out

    def to_json(self) -> dict[str, Any]:
        """The entry as the state file holds it."""
        out = self.content_json()
        if self.serial:
            out["serial"] = self.serial
        return out

    def content_json(self) -> dict[str, Any]:
        """The entry without its serial, as the file holds it: `type` only where the id does not spell it
        exactly, the observed body as `observed_set` and `observed_removed` (state.observed)."""
        out: dict[str, Any] = {
            "address": self.address,
            "id": self.arm_id,
            "api_version": self.api_version,
            "applied": self.applied,
            "dependencies": sorted(self.dependencies),
        }
        if id_arm_type(self.arm_id) != self.arm_type:
            out["type"] = self.arm_type
        changes = self.observed_changes
        if "set" in changes:
            out["observed_set"] = changes["set"]
        if "removed" in changes:
            out["observed_removed"] = changes["removed"]
        if self.tainted:
            out["tainted"] = True
        if self.extra:
            out["extra"] = self.extra
        if self.saved_plan is not None:
            out["saved_plan"] = self.saved_plan
        return out

    def shown_json(self) -> dict[str, Any]:
        """The entry as people read it (`state show`): its type, the observed body whole, no serial."""
        out = {k: v for k, v in self.content_json().items() if k not in ("observed_set", "observed_removed")}
        out["type"] = self.arm_type
        out["observed"] = self.observed
        return out

    def same_content(self, other: ResourceState) -> bool:
        """Everything but the serial is the same: saving one over the other would change nothing."""
        return self is other or (
            self.address == other.address
            and self.arm_type == other.arm_type
            and self.arm_id == other.arm_id
            and self.api_version == other.api_version
            and sorted(self.dependencies) == sorted(other.dependencies)
            and self.tainted == other.tainted
            and self.saved_plan == other.saved_plan
            and self.applied == other.applied
            and self.observed == other.observed
            and self.extra == other.extra
        )

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> ResourceState:
        """An entry as a state file or a journal line holds it, in any format's form: `observed_set` and
        `observed_removed` (format 5; `type` left out where the id spells it), `observed_changes` (format
        4) or `observed` whole (format 3). ObservedChangesError when the changes do not fit the applied
        body."""
        applied = dict(data.get("applied") or {})
        arm_id = str(data["id"])
        arm_type = str(data["type"]) if "type" in data else id_arm_type(arm_id) or ""
        if "observed" in data:
            observed = dict(data["observed"] or {})
        else:
            changes = data.get("observed_changes") or {
                "set": data.get("observed_set") or {},
                "removed": data.get("observed_removed") or [],
            }
            observed = apply_changes(base_body(applied, arm_id, arm_type), changes)
        return ResourceState(
            address=str(data["address"]),
            arm_type=arm_type,
            arm_id=arm_id,
            api_version=str(data["api_version"]),
            applied=applied,
            observed=observed,
            dependencies=tuple(sorted(str(d) for d in data.get("dependencies") or ())),
            tainted=bool(data.get("tainted", False)),
            extra=dict(data.get("extra") or {}),
            serial=int(data.get("serial") or 0),
            saved_plan=str(data["saved_plan"]) if data.get("saved_plan") is not None else None,
        )


@dataclass(frozen=True)
class State:
    """The whole state: format version, lineage, the resources sorted by address, and the addresses
    removed from it with the serial of their removal."""

    lineage: str
    resources: tuple[ResourceState, ...] = ()
    format_version: int = FORMAT_VERSION
    # Addresses no longer in the state, each with the serial at which it left (written in its place).
    removed: Mapping[str, int] = field(default_factory=dict)

    @staticmethod
    def new() -> State:
        return State(lineage=str(uuid.uuid4()))

    @cached_property
    def serial(self) -> int:
        """The serial of the last write: the highest serial of an entry or a removal (0: never written).
        It grows by one with each write that changes the content."""
        return max(
            (*(r.serial for r in self.resources), *self.removed.values()),
            default=0,
        )

    @cached_property
    def digest(self) -> str:
        """A hash of the state as stored: what a saved plan was made against. A state read from a backend
        has the hash of the bytes read; one made in memory, of the bytes it would be written as (those of
        state.store.dumps_state, made here without each entry's cached text)."""
        return text_digest((dumps_indented(self.to_json()) + "\n").encode("utf-8"))

    def stored_as(self, text: str) -> State:
        """This state, known to be stored as `text` (its digest is that text's hash)."""
        return self.with_digest(text_digest(text.encode("utf-8")))

    def with_digest(self, digest: str) -> State:
        """This state, known to be stored as bytes whose `text_digest` is `digest`."""
        self.__dict__["digest"] = digest
        return self

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
        """Equal lineage and resources (serials aside): saving would not change anything."""
        if self.lineage != other.lineage or len(self.resources) != len(other.resources):
            return False
        # Entries carried over unchanged are the same objects: no need to compare their contents.
        return all(
            mine.address == theirs.address and mine.same_content(theirs)
            for mine, theirs in zip(self.resources, other.resources, strict=True)
        )

    def to_json(self) -> dict[str, Any]:
        """The document as written: entries and removals together, sorted by address."""
        return {
            "format_version": self.format_version,
            "lineage": self.lineage,
            "resources": [item for _, item in sorted(_items(self), key=lambda pair: pair[0])],
        }


def text_digest(data: bytes) -> str:
    """The digest of a state's stored bytes (State.digest)."""
    return digest_of(hashlib.sha256(data))


def digest_of(hashed: hashlib._Hash) -> str:
    """`text_digest` of the bytes fed to `hashed` (a sha256), for bytes hashed a piece at a time."""
    return "sha256:" + hashed.hexdigest()


def removed_json(address: str, serial: int) -> dict[str, Any]:
    """A removed resource as it stands in the state's list, in place of its entry."""
    return {"address": address, "removed": True, "serial": serial}


def _items(state: State) -> Iterable[tuple[str, dict[str, Any]]]:
    for r in state.resources:
        yield r.address, r.to_json()
    for address, serial in state.removed.items():
        if address not in state.by_address:
            yield address, removed_json(address, serial)
