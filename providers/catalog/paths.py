"""Paths into a resource body and the patterns the catalog writes them as, and api version order.

Paths are tuples of keys and list indexes; in patterns, "*" matches any object key and "[]" any list item.
"""

from __future__ import annotations

import functools

PathPattern = tuple[str, ...]
Path = tuple[str | int, ...]


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


def api_version_key(api_version: str) -> tuple[str, int]:
    """Order api versions by date; a preview sorts before the stable version of the same date."""
    return (api_version[:10], 0 if api_version.endswith("-preview") else 1)


@functools.lru_cache(maxsize=4096)
def in_force(since: str | None, until: str | None, api_version: str | None) -> bool:
    """True when something introduced in `since` and gone from `until` holds at `api_version` (either
    bound may be open; everything holds when the version is not known). Remembered: the catalog's facts
    have a few dozen bounds, and a plan or an apply asks about them for every resource."""
    if api_version is None:
        return True
    key = api_version_key(api_version)
    if since is not None and key < api_version_key(since):
        return False
    return until is None or key < api_version_key(until)
