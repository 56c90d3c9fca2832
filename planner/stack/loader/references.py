"""reference() in a stack's values: the values known only after apply, kept beside a resource's body, and
`reference('name')` bound to the resource it names.

A value that holds an `Unknown` is kept in the body as its expression text (so everything that reads
bodies reads JSON, and rules skip the path as unresolved) and, typed, in `Resource.known_after_apply`.
Only the body may hold one: the name, type, api version, condition, scope and dependsOn of a resource
must be known before apply, as ARM requires (AIB0004).

A name is bound once every file is loaded: to the resource of that name in the same file, else to the
only one in the stack. A name that matches nothing, or several, and an id of a resource outside the
stack given without its api version, are AIB1003 (ARM needs the api version to read a resource it does
not deploy).
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from typing import Any

from providers.catalog.arm_ids import fold_id, parse_resource_id

from ...diagnostics import JsonPath, Severity
from ..expressions import ReferenceTarget, Unknown
from ..expressions.unknown import rebind, replace_unknowns, unknown_leaves
from ..model import Resource, with_value_at
from .loading import Loading

CODE = "AIB1003"


def split_unknowns(value: Any, path: JsonPath) -> tuple[Any, list[tuple[JsonPath, Unknown]]]:
    """`value` with each unknown replaced by its expression text, and the unknowns by path."""
    found = [((*path, *inner), unknown) for inner, unknown in unknown_leaves(value)]
    if not found:
        return value, []
    return replace_unknowns(value, str), found


def bind_names(loading: Loading) -> None:
    """Bind every `reference('name')` to the id of the resource it names (see the module's docstring)."""
    resources = loading.resources
    if not any(r.known_after_apply for r in resources):
        return
    by_id = {fold_id(r.arm_id): r for r in resources}
    for index, resource in enumerate(resources):
        if not resource.known_after_apply:
            continue
        bound: list[tuple[JsonPath, Unknown]] = []
        body = resource.body
        reported: set[ReferenceTarget] = set()
        for path, unknown in resource.known_after_apply:
            binding: dict[ReferenceTarget, ReferenceTarget] = {}
            for target in unknown.targets:
                found = _bind(target, resource, resources, by_id)
                if isinstance(found, str):
                    if target not in reported:
                        reported.add(target)
                        loading.add(
                            CODE,
                            Severity.ERROR,
                            found,
                            file=resource.source.file,
                            path=path,
                            pointer=resource.source.pointer,
                            address=resource.address,
                            hint=_hint(target, resources),
                        )
                    continue
                binding[target] = found
            if any(new != old for old, new in binding.items()):
                unknown = rebind(unknown, binding.get)
                body = with_value_at(body, path, str(unknown))
            bound.append((path, unknown))
        resources[index] = replace(resource, body=body, known_after_apply=tuple(bound))


def _bind(
    target: ReferenceTarget, resource: Resource, resources: list[Resource], by_id: dict[str, Resource]
) -> ReferenceTarget | str:
    """The target with the id it names, or why it names nothing."""
    rid = parse_resource_id(target.resource)
    if rid is not None:
        if fold_id(str(rid)) not in by_id and target.api_version is None:
            return (
                f"reference('{target.resource}') names a resource outside the stack without its api "
                "version; ARM cannot read it without one"
            )
        return target
    name = target.resource.lower()
    matches = [r for r in resources if r.name.lower() == name]
    if len(matches) > 1:
        same_file = [r for r in matches if r.source.file == resource.source.file]
        matches = same_file if len(same_file) == 1 else matches
    if len(matches) == 1:
        return ReferenceTarget(matches[0].arm_id, target.api_version, target.full)
    if matches:
        named = ", ".join(sorted(r.address for r in matches))
        return f"reference('{target.resource}') could name {named}; give the resource id"
    return f"reference('{target.resource}') names no resource in the stack"


def _hint(target: ReferenceTarget, resources: list[Resource]) -> str:
    if parse_resource_id(target.resource) is not None:
        return f"reference('{target.resource}', 'API-VERSION')"
    close = difflib.get_close_matches(target.resource, [r.name for r in resources], n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return "name a resource of the stack, or give a resource id: reference(resourceId('TYPE', 'NAME'), 'API')"
