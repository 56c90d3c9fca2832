"""The shape of a catalog entry: facts about one ARM resource type, with no behaviour beyond lookups.

Paths are tuples of keys; in patterns, "*" matches any object key and "[]" matches any list item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PathPattern = tuple[str, ...]
Path = tuple[str | int, ...]

# What ARM fills in around every resource body.
ARM_ENVELOPE: tuple[PathPattern, ...] = (("id",), ("type",), ("name",), ("systemData",))


def matches(pattern: PathPattern, path: Path) -> bool:
    """True when `path` matches `pattern` exactly (same length)."""
    if len(pattern) != len(path):
        return False
    return all(_segment_matches(p, s) for p, s in zip(pattern, path, strict=True))


def has_prefix(path: Path, prefix: PathPattern) -> bool:
    """True when `path` starts with something `prefix` matches."""
    if len(path) < len(prefix):
        return False
    return all(_segment_matches(p, s) for p, s in zip(prefix, path, strict=False))


def _segment_matches(pattern: str, segment: str | int) -> bool:
    if pattern == "[]":
        return isinstance(segment, int)
    if pattern == "*":
        return isinstance(segment, str)
    return pattern == segment


@dataclass(frozen=True)
class ResourceType:
    """What aibplan knows about one ARM resource type: names, versions, and how to diff and update it."""

    kind: str
    arm_type: str
    api_versions: tuple[str, ...]
    default_api_version: str
    parent_kind: str | None = None
    preview_api_versions: tuple[str, ...] = ()
    # Paths the service fills in (never sent, never diffed) that the type's schema does not describe; the
    # schema's read-only fields are added by catalog.read_only_paths.
    read_only: tuple[PathPattern, ...] = ARM_ENVELOPE
    # Values that mean the same as leaving the field out.
    defaults: Mapping[PathPattern, tuple[object, ...]] = field(default_factory=dict)
    # Containers that, when empty, mean the same as leaving them out.
    empty_is_omitted: tuple[PathPattern, ...] = ()
    # ARM ids compared without case.
    id_paths: tuple[PathPattern, ...] = ()
    # Region names compared without case or spaces ("West US 2" is westus2).
    location_paths: tuple[PathPattern, ...] = ()
    # Objects whose keys are ARM ids (identity.userAssignedIdentities).
    id_keyed_maps: tuple[PathPattern, ...] = ()
    # Lists whose order carries no meaning.
    unordered_lists: tuple[PathPattern, ...] = ()
    # For a name "a/b", how many segments the name has (child types have one per level).
    name_segments: int = 1
    # (first api version, prefixes a PATCH can change from that version on). When empty, every path
    # except those in `create_only` can change in place.
    patchable_since: tuple[tuple[str, tuple[PathPattern, ...]], ...] = ()
    create_only: tuple[PathPattern, ...] = ()

    def all_api_versions(self) -> tuple[str, ...]:
        return self.preview_api_versions + self.api_versions

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


def api_version_key(api_version: str) -> tuple[str, int]:
    """Order api versions by date; a preview sorts before the stable version of the same date."""
    return (api_version[:10], 0 if api_version.endswith("-preview") else 1)
