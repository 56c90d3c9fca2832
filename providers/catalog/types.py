"""The shape of a catalog entry: everything aibplan knows about one kind, declared in one place.

A kind's module builds one `ResourceType`. The parts without a default are what every kind must declare
(the constructor names any that are left out, and `catalog.checklist` says what is inconsistent); the
parts with a default are facts most kinds share. The graph, the normaliser and diff, the plan's
consequences and targets, the validator, the simulated cloud and the emulator read these facts; none of
them asks for a kind by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .arm_ids import Scope
from .behaviour import Computed, ServiceFacts
from .paths import Path, PathPattern, api_version_key, has_prefix, in_force, matches
from .references import Reference
from .schema import Schema

__all__ = [
    "ARM_ENVELOPE",
    "Path",
    "PathPattern",
    "ResourceType",
    "api_version_key",
    "has_prefix",
    "matches",
]

# What ARM fills in around every resource body.
ARM_ENVELOPE: tuple[PathPattern, ...] = (("id",), ("type",), ("name",), ("systemData",))


_COMPUTED_WHEN_OMITTED: dict[tuple[str, Path, str | None], Computed | None] = {}


@dataclass(frozen=True, kw_only=True)
class ResourceType:
    """One kind: its names, where it lives, its versions and fields, its edges, how it diffs and updates,
    and what the service does with it."""

    # -- who it is ---------------------------------------------------------------------------------
    kind: str  # the address prefix: `imageTemplate.web`
    title: str  # the kind in words, for messages: "image template"
    arm_type: str
    scopes: tuple[Scope, ...]  # where it may live (a role assignment: a resource group or a resource)
    parent_kind: str | None = None
    # For a name "a/b", how many segments the name has (child types have one per level).
    name_segments: int = 1
    located: bool = True  # the body has a region (`location`)

    # -- versions and fields -----------------------------------------------------------------------
    api_versions: tuple[str, ...]
    preview_api_versions: tuple[str, ...] = ()
    default_api_version: str
    # The fields of each api version (read-only ones marked there); None for kinds aibplan never writes.
    schema: Schema | None

    # -- edges -------------------------------------------------------------------------------------
    # Kinds every resource of this one is created before and deleted after, in the same stack (a role
    # assignment before the image templates whose builds need it); the edge's reason is `permission`.
    applied_before: tuple[str, ...] = ()
    # When a stack refers to one it does not declare, a plan reads it to check it exists (AIB8001).
    checked_when_referenced: bool = True
    references: tuple[Reference, ...]
    # Edge reason -> why replacing what this resource refers to for that reason replaces it too
    # ("{origin}" is the replaced resource's address). Reasons not listed do not cascade.
    cascades: Mapping[str, str]

    # -- how it diffs and changes ------------------------------------------------------------------
    # Values that mean the same as leaving the field out.
    defaults: Mapping[PathPattern, tuple[object, ...]]
    # Paths that cannot change in place (delete + create). When `patchable_since` is given, everything
    # outside its prefixes is create-only for that api version instead.
    create_only: tuple[PathPattern, ...]
    # (first api version, prefixes a PATCH can change from that version on).
    patchable_since: tuple[tuple[str, tuple[PathPattern, ...]], ...] = ()
    # Paths the service fills in (never sent, never diffed) that the schema does not describe; the
    # schema's read-only fields are added by catalog.read_only_paths.
    read_only: tuple[PathPattern, ...] = ARM_ENVELOPE
    # Containers that, when empty, mean the same as leaving them out.
    empty_is_omitted: tuple[PathPattern, ...] = ()
    # ARM ids compared without case that are not references (a staging resource group).
    id_paths: tuple[PathPattern, ...] = ()
    # Region names compared without case or spaces ("West US 2" is westus2). The first, ("location",),
    # is where the resource lives; the others are where it sends things (replication regions).
    location_paths: tuple[PathPattern, ...] = ()
    # Lists whose order carries no meaning.
    unordered_lists: tuple[PathPattern, ...] = ()

    # -- the service -------------------------------------------------------------------------------
    service: ServiceFacts
    # Image builds run from it (run, cancel, lastRunStatus, run outputs).
    builds: bool = False
    # Fields only a body of this kind holds in its namespace: a resource whose `type` names the namespace
    # alone (`Microsoft.VirtualMachineImages`, as published AIB bodies do) is recognised by them.
    recognised_by: tuple[PathPattern, ...] = ()

    _ids: dict[str, tuple[PathPattern, ...]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def a_title(self) -> str:
        """The title with its article, for sentences: "an image definition", "a gallery"."""
        return f"{'an' if self.title[:1] in 'aeiou' else 'a'} {self.title}"

    def all_api_versions(self) -> tuple[str, ...]:
        return self.preview_api_versions + self.api_versions

    def folded_id_paths(self) -> tuple[PathPattern, ...]:
        """Every path whose value is an ARM id compared without case: references and other ids."""
        found = self._ids.get("values")
        if found is None:
            refs = tuple(r.path for r in self.references if not r.in_keys)
            found = self._ids["values"] = tuple(dict.fromkeys((*refs, *self.id_paths)))
        return found

    def id_keyed_maps(self) -> tuple[PathPattern, ...]:
        """Objects whose keys are ARM ids (identity.userAssignedIdentities)."""
        found = self._ids.get("keys")
        if found is None:
            found = self._ids["keys"] = tuple(r.path for r in self.references if r.in_keys)
        return found

    def cascade(self, reason: str) -> str | None:
        """Why a replace of what this kind refers to for `reason` replaces it too; None when it does not."""
        return self.cascades.get(reason)

    def patchable_prefixes(self, api_version: str) -> tuple[PathPattern, ...]:
        """Paths that a PATCH can change for this api version (only for types with `patchable_since`)."""
        chosen: tuple[PathPattern, ...] = ()
        for since, prefixes in self.patchable_since:
            if api_version_key(api_version) >= api_version_key(since):
                chosen = prefixes
        return chosen

    def forces_replacement(self, path: Path, api_version: str) -> bool:
        """True when a change at `path` cannot be made in place and needs delete + create."""
        if self.patchable_since:
            return not any(has_prefix(path, p) for p in self.patchable_prefixes(api_version))
        return any(has_prefix(path, p) for p in self.create_only)

    def computed_when_omitted(self, path: Path, api_version: str | None) -> Computed | None:
        """The fact that the service fills `path` in when a request leaves it out, if there is one."""
        key = (self.arm_type, path, api_version)
        if key not in _COMPUTED_WHEN_OMITTED:
            # Asked for the same few paths of every resource of a plan: remembered (a catalog never changes).
            _COMPUTED_WHEN_OMITTED[key] = self._computed_when_omitted(path, api_version)
        return _COMPUTED_WHEN_OMITTED[key]

    def _computed_when_omitted(self, path: Path, api_version: str | None) -> Computed | None:
        for fact in self.service.computed:
            if (
                fact.only_when_omitted
                and matches(fact.path, path)
                and in_force(fact.since, fact.until, api_version)
            ):
                return fact
        return None
