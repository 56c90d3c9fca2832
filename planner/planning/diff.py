"""Attribute-level differences between two normalised bodies, computed with deepdiff.

A field the service fills in when a request leaves it out (the catalog's `Computed` facts with
`only_when_omitted`, Terraform's Optional+Computed) is no difference when the configuration leaves it
out: the cloud has the value the service chose, and sending the body again would get the same one. In a
plan the configuration is the desired body; in drift, which compares two cloud bodies, it is the body
aibplan sent (`sent`: the state's applied body), so a checksum the service chose is never drift either.
One the configuration sets is compared like any other field. A field the service sets to a constant when
it is left out (an image definition's `hyperVGeneration: V1`) is known, so the cloud's value is compared
with that constant (a definition made V2 and now declared without it is a change)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from providers.catalog import ResourceType
from providers.catalog.behaviour import Made
from providers.catalog.types import matches

from ..diagnostics import JsonPath
from ..plans.diff import ABSENT, AttributeDiff
from ..stack.expressions.unknown import has_unknown, replace_unknowns, unknown_leaves

# What an unknown is compared as: a text no body holds, so it differs from every value before it.
_UNKNOWN = "\x00(known after apply)\x00"


def planned_after(after: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[JsonPath, ...]]:
    """A desired body as a plan keeps it: each value known only after apply as null, and their paths."""
    paths = tuple(path for path, _ in unknown_leaves(after))
    if not paths:
        return dict(after), ()
    return replace_unknowns(dict(after), lambda _unknown: None), paths


def _only_computed_left_out(
    before: Mapping[str, Any], after: Mapping[str, Any], rtype: ResourceType, api_version: str, at: JsonPath
) -> bool:
    """Whether the two bodies differ only in fields `after` leaves out and the service fills in (what the
    diff below drops): a cloud's answer with its defaults filled in compares as unchanged without the cost
    of deepdiff (a no-op plan never imports it). False means "maybe different": the full diff decides."""
    if any(key not in before for key in after):
        return False
    for key, old in before.items():
        path = (*at, key)
        if key not in after:
            fact = rtype.computed_when_omitted(path, api_version)
            # As below: a default the service fills in is no change, unless the cloud holds another value.
            if fact is None or (fact.made is Made.CONSTANT and not _same(old, fact.value)):
                return False
            continue
        if not _same_but_computed(old, after[key], rtype, api_version, path):
            return False
    return True


def _same_but_computed(old: Any, new: Any, rtype: ResourceType, api_version: str, path: JsonPath) -> bool:
    """`_only_computed_left_out` for any two values: objects compared key by key, lists item by item (a
    distribute target's `versioning: null`), anything else equal or not."""
    if old == new:
        return True
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        return _only_computed_left_out(old, new, rtype, api_version, path)
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return all(
            _same_but_computed(a, b, rtype, api_version, (*path, index))
            for index, (a, b) in enumerate(zip(old, new, strict=True))
        )
    return False


def diff_bodies(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    rtype: ResourceType,
    api_version: str,
    *,
    sent: Mapping[str, Any] | None = None,
) -> tuple[AttributeDiff, ...]:
    """Every changed path, ordered by path; empty when the two bodies are equal. Without `sent`, `after`
    is what the configuration says. A value of `after` known only after apply (an `Unknown`) differs from
    whatever was there: its diff has `after_unknown`, and it forces replacement where a known new value
    would (Terraform does the same: it cannot be proven equal)."""
    if before == after or (sent is None and _only_computed_left_out(before, after, rtype, api_version, ())):
        return ()
    if has_unknown(after):
        compared = replace_unknowns(dict(after), lambda _unknown: _UNKNOWN)
        return tuple(
            replace(d, after=None, after_unknown=True) if d.after == _UNKNOWN else d
            for d in diff_bodies(before, compared, rtype, api_version, sent=sent)
        )
    unordered = rtype.unordered_lists

    def ignore_order(level: Any) -> bool:
        # Lists whose order carries no meaning (replication regions) diff as sets: an added region is
        # shown as added, not as every later item changing places.
        path = tuple(level.path(output_format="list"))
        return any(matches(pattern, path) for pattern in unordered)

    # Imported here: deepdiff takes a noticeable part of every command's start, and a no-op plan never
    # gets this far (equal bodies return above).
    from deepdiff import DeepDiff
    from deepdiff.helper import NotPresent

    tree = DeepDiff(
        dict(before),
        dict(after),
        ignore_order=False,
        ignore_order_func=ignore_order if unordered else None,
        verbose_level=2,
        view="tree",
        threshold_to_diff_deeper=0,
    )
    out: list[AttributeDiff] = []
    for levels in tree.values():
        for level in levels:
            path = tuple(level.path(output_format="list"))
            old_present = not isinstance(level.t1, NotPresent)
            new_present = not isinstance(level.t2, NotPresent)
            left_out = not new_present if sent is None else not _holds(sent, path)
            fact = rtype.computed_when_omitted(path, api_version) if left_out else None
            if fact is not None:
                # The cloud's side: `before` in a plan, `after` in drift.
                cloud = level.t1 if sent is None else level.t2
                if fact.made is not Made.CONSTANT or _same(cloud, fact.value):
                    continue
            out.append(
                AttributeDiff(
                    path=path,
                    before=level.t1 if old_present else ABSENT,
                    after=level.t2 if new_present else ABSENT,
                    forces_replacement=rtype.forces_replacement(path, api_version),
                    before_present=old_present,
                    after_present=new_present,
                )
            )
    out.sort(key=lambda d: [(0, p) if isinstance(p, int) else (1, p) for p in d.path])
    return tuple(out)


def _holds(body: Mapping[str, Any], path: tuple[Any, ...]) -> bool:
    """True when `body` has a value at `path` (keys and list indexes)."""
    node: Any = body
    for part in path:
        found = (isinstance(node, list) and isinstance(part, int) and part < len(node)) or (
            isinstance(node, Mapping) and isinstance(part, str) and part in node
        )
        if not found:
            return False
        node = node[part]
    return True


def _same(value: Any, constant: Any) -> bool:
    return type(value) is type(constant) and value == constant
