"""The stack's lifecycle guardrails in a plan (docs/guardrails.md).

- `ignoreChanges`: before a resource is compared with the cloud, each ignored path takes the cloud's
  value (or is left out where the cloud has none), so its drift is shown (the drift section compares the
  state with the cloud) but never planned back, and an update's PATCH carries the cloud's value there.
  A resource that does not exist yet is created as the stack says.
- `preventDestroy`: a plan that would delete or replace the resource is refused (AIB8010), naming it and
  why the plan would do it; nothing else stops it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from state.redact import FINGERPRINT_RE

from ..diagnostics import Diagnostic, JsonPath, Severity, format_path
from ..plans.plan import REASON_DESTROY, REASON_REMOVED, Action, Change
from ..stack.model import Lifecycle, Resource, Stack

PREVENT_DESTROY = "AIB8010"


def with_ignored_changes(
    resource: Resource, cloud: Mapping[str, Any] | None, lifecycle: Lifecycle
) -> Resource:
    """`resource` with each path of `lifecycle.ignore_changes` as the cloud has it (`cloud` None: as is)."""
    if cloud is None or not lifecycle.ignore_changes:
        return resource
    body = copy.deepcopy(dict(resource.body))
    for path in lifecycle.ignore_changes:
        _take(body, cloud, path)
    # A value known only after apply at an ignored path is not the stack's to send: the cloud's stays.
    kept = tuple(
        (path, unknown)
        for path, unknown in resource.known_after_apply
        if not any(path[: len(ignored)] == tuple(ignored) for ignored in lifecycle.ignore_changes)
    )
    return replace(resource, body=body, known_after_apply=kept)


def _take(body: dict[str, Any], cloud: Mapping[str, Any], path: JsonPath) -> None:
    """Set `path` in `body` to the cloud's value there, or remove it where the cloud has none. Where the
    body read from the state (a plan without refresh) holds a secret's fingerprint, the stack's value
    stays: a fingerprint must never be sent."""
    found, value = _lookup(cloud, path)
    if found and FINGERPRINT_RE.search(json.dumps(value, default=str)):
        return
    node: Any = body
    for depth, part in enumerate(path[:-1]):
        if isinstance(node, dict) and isinstance(part, str):
            if not isinstance(node.get(part), (dict, list)):
                # The stack leaves the container out: made for a value the cloud has (an object only).
                if not found or not isinstance(path[depth + 1], str):
                    return
                node[part] = {}
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str):
        if found:
            node[last] = copy.deepcopy(value)
        else:
            node.pop(last, None)
    elif isinstance(node, list) and isinstance(last, int) and last < len(node) and found:
        node[last] = copy.deepcopy(value)


def _lookup(body: Any, path: JsonPath) -> tuple[bool, Any]:
    """(whether `path` exists in `body`, its value there)."""
    node = body
    for part in path:
        if isinstance(part, str):
            if not isinstance(node, dict) or part not in node:
                return False, None
            node = node[part]
        else:
            if not isinstance(node, list) or part >= len(node):
                return False, None
            node = node[part]
    return True, node


def prevent_destroy_errors(changes: Iterable[Change], stack: Stack) -> list[Diagnostic]:
    """AIB8010 for each delete or replace of a resource whose lifecycle says preventDestroy."""
    found = []
    for change in changes:
        if change.action not in (Action.DELETE, Action.REPLACE):
            continue
        lifecycle = stack.lifecycle(change.address)
        if not lifecycle.prevent_destroy:
            continue
        verb = "delete" if change.action is Action.DELETE else "replace"
        found.append(
            Diagnostic(
                PREVENT_DESTROY,
                Severity.ERROR,
                f"{change.address} has lifecycle.preventDestroy ({lifecycle.source}), and this plan would "
                f"{verb} it: {_why(change)}; the plan is refused and nothing is changed",
                address=change.address,
                hint="if it really must go, remove preventDestroy first (a reviewed change of its own); "
                "otherwise change the stack so the plan keeps it",
            )
        )
    return found


def _why(change: Change) -> str:
    if change.reasons:
        return "; ".join(change.reasons)
    if change.action_reason == REASON_REMOVED:
        return "it is no longer in the configuration"
    if change.action_reason == REASON_DESTROY:
        return "a destroy deletes everything in the state"
    paths = [format_path(d.path) for d in change.attribute_diffs if d.forces_replacement]
    return f"{', '.join(paths)} cannot be updated in place" if paths else str(change.action_reason)
