"""The rules every resource must pass before a plan can be made: known api version, required fields."""

from __future__ import annotations

from collections.abc import Iterator

from providers.catalog import BY_KIND

from ..diagnostics import Severity
from ..model import Resource
from . import Finding, Rule, RuleContext, get

_REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "imageTemplate": (("identity",), ("properties",), ("properties", "source"), ("properties", "distribute")),
    "imageDefinition": (
        ("properties",),
        ("properties", "osType"),
        ("properties", "osState"),
        ("properties", "identifier"),
        ("properties", "identifier", "publisher"),
        ("properties", "identifier", "offer"),
        ("properties", "identifier", "sku"),
    ),
    "gallery": (),
    "identity": (),
}


def check_api_version(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    rtype = BY_KIND[resource.kind]
    if resource.api_version not in rtype.all_api_versions():
        yield Finding(
            f"apiVersion '{resource.api_version}' is not a known version of {rtype.arm_type}",
            ("apiVersion",),
            hint=f"known versions: {', '.join(rtype.api_versions)}",
        )


def check_required(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path in _REQUIRED.get(resource.kind, ()):
        parent = get(resource.body, *path[:-1]) if len(path) > 1 else resource.body
        if not isinstance(parent, dict):
            continue  # the missing parent is reported on its own
        if path[-1] not in parent or parent[path[-1]] in (None, "", {}):
            yield Finding(
                f"'{'.'.join(path)}' is required for {resource.arm_type}", path[:-1], hint=f"add '{path[-1]}'"
            )


def check_location(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    if not isinstance(resource.body.get("location"), str) or not resource.body["location"].strip():
        yield Finding("'location' must be a region name", ("location",))


RULES = (
    Rule(
        "AIB2002",
        Severity.ERROR,
        "apiVersion is a known version of the resource type",
        "type-and-api-version",
        ("*",),
        check_api_version,
    ),
    Rule(
        "AIB2010",
        Severity.ERROR,
        "required fields are present",
        "create-an-azure-image-builder-template",
        ("*",),
        check_required,
    ),
    Rule("AIB2020", Severity.ERROR, "location is a region name", "location", ("*",), check_location),
)
