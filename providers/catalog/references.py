"""Where a kind's body holds the ARM ids of other resources: the graph's edges, declared per kind.

A `Reference` names a path (keys, "*" for any key, "[]" for any list item), the kinds it may name and
the reason the edge exists. The graph draws an edge for each id found; the normaliser compares the ids
without case; the simulated cloud refuses a create when a reference it checks names nothing.

Two edges come from the id itself rather than the body: `parent` (a gallery before its image
definitions) and `scope` (a gallery before a role assignment on it); one from the expressions: `reference`
(an identity before the role assignment whose principal is `reference(identity).principalId`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .paths import Path, PathPattern

# Reasons an edge exists (what `aibplan graph` prints on it).
PARENT = "parent"
SCOPE = "scope"
IDENTITY = "identity"
BUILD_IDENTITY = "buildIdentity"
SOURCE = "source"
DISTRIBUTE = "distribute"
SUBNET = "subnet"
ROLE_DEFINITION = "roleDefinition"
PERMISSION = "permission"  # from a kind's `applied_before`, not from a path
REFERENCE = "reference"  # a value computed with reference() of another resource, not from a path


@dataclass(frozen=True)
class Reference:
    """A path in a kind's body that holds the id of another resource: one graph edge per id found."""

    path: PathPattern
    reason: str
    # The kinds it may name (managed or external kinds), for messages and the declaration checks.
    kinds: tuple[str, ...]
    # The ids are the keys of the object at `path` (identity.userAssignedIdentities).
    in_keys: bool = False
    # Sibling values the object holding the id must have for it to count (a SharedImage target).
    only_when: tuple[tuple[str, object], ...] = ()
    # ARM types whose ids stand for their parent here (an image version for its image definition).
    through_parent: tuple[str, ...] = ()
    # The id names what a build of this resource will make (a distribution target): only what holds it
    # must exist beforehand.
    output: bool = False
    # The service refuses a create when the resource named does not exist.
    checked_on_create: bool = False
    # The service refuses to delete the resource named while this one names it.
    blocks_delete: bool = False


def values_at(body: Any, pattern: PathPattern) -> list[tuple[Path, Any]]:
    """Every (path, value) in `body` that `pattern` matches, in document order; shapes that do not fit are
    skipped. The graph asks this for every reference of every resource, and most bodies lack most paths:
    a step that finds nothing ends the search there."""
    if _plain(pattern):
        value = body
        for head in pattern:
            if type(value) is not dict or head not in value:
                return []
            value = value[head]
        return [(pattern, value)]
    found: list[tuple[Path, Any]] = []
    _collect(body, pattern, 0, (), found)
    return found


def _collect(value: Any, pattern: PathPattern, step: int, path: Path, found: list[tuple[Path, Any]]) -> None:
    """Add to `found` what `pattern[step:]` matches in `value` (found at `path`)."""
    while step < len(pattern):
        head = pattern[step]
        step += 1
        if head == "[]":
            if type(value) is list:
                for index, item in enumerate(value):
                    _collect(item, pattern, step, (*path, index), found)
            return
        if type(value) is not dict:
            return
        if head == "*":
            for key, item in value.items():
                _collect(item, pattern, step, (*path, key), found)
            return
        if head not in value:
            return
        value = value[head]
        path = (*path, head)
    found.append((path, value))


_PLAIN: dict[PathPattern, bool] = {}


def _plain(pattern: PathPattern) -> bool:
    """The pattern names one path (no "*" or "[]")."""
    found = _PLAIN.get(pattern)
    if found is None:
        found = _PLAIN[pattern] = "*" not in pattern and "[]" not in pattern
    return found


def referenced_ids(body: Mapping[str, Any], reference: Reference) -> Iterator[tuple[str, Path]]:
    """The ids `reference` finds in `body`, each with the path it is written at (non-empty strings only)."""
    if reference.in_keys:
        for path, value in values_at(body, reference.path):
            if isinstance(value, dict):
                for key in value:
                    if isinstance(key, str) and key:
                        yield key, (*path, key)
        return
    if reference.only_when:
        holder_pattern, last = reference.path[:-1], reference.path[-1]
        for path, holder in values_at(body, holder_pattern):
            if not isinstance(holder, dict) or any(holder.get(k) != v for k, v in reference.only_when):
                continue
            value = holder.get(last)
            if isinstance(value, str) and value:
                yield value, (*path, last)
        return
    for path, value in values_at(body, reference.path):
        if isinstance(value, str) and value:
            yield value, path
