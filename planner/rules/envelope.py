"""AIB2xxx: the resource envelope: api version, location, identity, tags, top-level keys."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator
from typing import Any

from providers.catalog import BY_KIND, RESOURCE_TYPES, api_version_key
from providers.catalog.arm_ids import Scope, fold_location, parse_resource_id
from providers.catalog.regions import AIB_REGIONS, AZURE_REGIONS
from providers.catalog.schema import nearest_version

from ..diagnostics import Severity
from ..stack.model import BODY_KEYS, Resource
from . import Finding, Rule, RuleContext
from .facts import IDENTITY_ID, version_at_least

_TEMPLATE = ("imageTemplate",)
_ALL = ("*",)
# Kinds whose body has a region (the catalog says which; extension resources often have none).
_LOCATED = tuple(t.kind for t in RESOURCE_TYPES if t.located)
_ARM_KEYS = ("type", "apiVersion", "name", "dependsOn", "condition", "copy", "resources", "comments", "scope")


def check_api_version(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    rtype = BY_KIND[resource.kind]
    known = rtype.all_api_versions()
    if resource.api_version not in known:
        nearest = nearest_version(known, resource.api_version)
        yield Finding(
            f"apiVersion '{resource.api_version}' is not a known version of {rtype.arm_type}; "
            f"the fields were checked as of {nearest}",
            ("apiVersion",),
            hint=f"known versions: {', '.join(known)}",
        )


def check_preview(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    rtype = BY_KIND[resource.kind]
    if resource.api_version in rtype.preview_api_versions:
        yield Finding(
            f"apiVersion '{resource.api_version}' is a deprecated preview of {rtype.arm_type}",
            ("apiVersion",),
            hint=f"use a stable version such as {rtype.default_api_version}",
        )


@functools.cache
def _current_versions(kind: str) -> tuple[str, ...]:
    return tuple(sorted(BY_KIND[kind].api_versions, key=api_version_key)[-2:])


def check_recent(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    rtype = BY_KIND[resource.kind]
    current = _current_versions(resource.kind)
    if resource.api_version in rtype.api_versions and resource.api_version not in current:
        yield Finding(
            f"apiVersion '{resource.api_version}' is old; the current versions are {' and '.join(current)}",
            ("apiVersion",),
            hint="newer versions add fields and reject unknown or mis-cased ones (from 2024-02-01)",
        )


def check_api_version_in_body(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    if resource.name_from_file and resource.api_version_given:
        yield Finding(
            "apiVersion inside a bare template body: aibplan reads it, but the service advises against "
            "sending it in a request body",
            ("apiVersion",),
            hint="with az resource create --is-full-object, pass --api-version instead",
        )


def check_extra_keys(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    known = (*BODY_KEYS, *_ARM_KEYS)
    for key in resource.extra_keys:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.7)
        yield Finding(
            f"unknown top-level key '{key}' is ignored",
            (key,),
            hint=f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}",
        )


def check_scope_allowed(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    """A resource lives at a scope its kind allows: `scope` (or a nested `providers/` type) only on
    extension resources, and only the scopes the catalog gives the kind."""
    rtype = BY_KIND[resource.kind]
    rid = parse_resource_id(resource.arm_id)
    if rid is None or rid.scope_kind in rtype.scopes:
        return
    allowed = " or ".join(_SCOPE_WORDS[s] for s in rtype.scopes)
    yield Finding(
        f"{rtype.a_title} lives {allowed}, not {_SCOPE_WORDS[rid.scope_kind]} ({rid.scope_id})",
        ("scope",),
        hint="leave 'scope' out" if rtype.scopes == (Scope.RESOURCE_GROUP,) else None,
    )


_SCOPE_WORDS = {
    Scope.RESOURCE_GROUP: "in a resource group",
    Scope.SUBSCRIPTION: "in a subscription",
    Scope.RESOURCE: "on a resource",
}


def check_location(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    if "location" not in resource.body:
        yield Finding("'location' is required: the region the resource lives in", (), hint='add "location"')
    elif not isinstance(resource.body["location"], str) or not resource.body["location"].strip():
        yield Finding("'location' must be a region name", ("location",))


def check_region(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    location = resource.body.get("location")
    if not isinstance(location, str) or not location.strip():
        return
    yield from region_findings(location, ("location",), aib=resource.kind == "imageTemplate")


def region_findings(location: str, path: tuple[str | int, ...], *, aib: bool) -> Iterator[Finding]:
    folded = fold_location(location)
    if folded not in AZURE_REGIONS:
        close = difflib.get_close_matches(folded, sorted(AZURE_REGIONS), n=1, cutoff=0.75)
        yield Finding(
            f"'{location}' is not an Azure region",
            path,
            hint=f"did you mean '{close[0]}'?" if close else "use a region name such as westus2",
            severity=Severity.ERROR,
        )
    elif aib and folded not in AIB_REGIONS:
        close = difflib.get_close_matches(folded, sorted(AIB_REGIONS), n=1, cutoff=0.75)
        yield Finding(
            f"Image Builder does not run in '{location}' (as documented)",
            path,
            hint=f"build in a supported region such as '{close[0] if close else 'westus2'}' and "
            "replicate the image to this one",
            severity=Severity.WARNING,
        )


def _identity(resource: Resource) -> Any:
    return resource.body.get("identity")


def check_identity_required(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    if _identity(resource) is None and version_at_least(resource, "2020-02-14"):
        yield Finding(
            "'identity' is required: Image Builder works as a user-assigned identity",
            (),
            hint='add "identity": {"type": "UserAssigned", "userAssignedIdentities": {"<identity id>": {}}}',
        )


def check_identity_type(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    identity = _identity(resource)
    if not isinstance(identity, dict):
        if identity is not None:
            yield Finding("'identity' must be an object", ("identity",))
        return
    kind = identity.get("type")
    if kind != "UserAssigned":
        shown = "missing" if kind is None else repr(kind)
        hint = (
            "did you mean 'UserAssigned'?"
            if isinstance(kind, str) and kind.lower() == "userassigned"
            else None
        )
        yield Finding(
            f"identity.type is {shown}: Image Builder needs 'UserAssigned' (no system-assigned identity)",
            ("identity", "type") if kind is not None else ("identity",),
            hint=hint or 'set "type": "UserAssigned"',
        )


def check_identity_count(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    identity = _identity(resource)
    if not isinstance(identity, dict) or identity.get("type") not in ("UserAssigned", None):
        return
    identities = identity.get("userAssignedIdentities")
    if not isinstance(identities, dict) or not identities:
        yield Finding(
            "identity.userAssignedIdentities must name exactly one identity",
            ("identity", "userAssignedIdentities") if identities is not None else ("identity",),
            hint='"userAssignedIdentities": {"/subscriptions/.../userAssignedIdentities/NAME": {}}',
        )
    elif len(identities) > 1:
        yield Finding(
            f"Image Builder supports a single identity; {len(identities)} are given",
            ("identity", "userAssignedIdentities"),
            hint="keep one; give build VM identities in properties.vmProfile.userAssignedIdentities",
        )


def check_identity_id(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    identities = (
        (_identity(resource) or {}).get("userAssignedIdentities")
        if isinstance(_identity(resource), dict)
        else None
    )
    if not isinstance(identities, dict):
        return
    for key, value in identities.items():
        path = ("identity", "userAssignedIdentities", key)
        if not IDENTITY_ID.match(key):
            yield Finding(
                f"'{key}' is not a user-assigned identity id",
                path,
                hint="/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ManagedIdentity/"
                "userAssignedIdentities/NAME, or [resourceId('Microsoft.ManagedIdentity/"
                "userAssignedIdentities', 'NAME')]",
            )
        elif not isinstance(value, dict):
            yield Finding("the value for an identity must be an object ({})", path)


def check_tags(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    tags = resource.body.get("tags")
    if tags is None:
        return
    if not isinstance(tags, dict):
        yield Finding("'tags' must be an object of name/value strings", ("tags",))
        return
    if len(tags) > 50:
        yield Finding(f"{len(tags)} tags: a resource takes at most 50", ("tags",))
    for key, value in tags.items():
        if not isinstance(value, str):
            hint = f'write "{value}" as a string' if isinstance(value, (int, float, bool)) else None
            yield Finding(f"tag '{key}' must have a string value", ("tags", key), hint=hint)
        elif len(value) > 256:
            yield Finding(f"tag '{key}' has a value longer than 256 characters", ("tags", key))
        if len(key) > 512:
            yield Finding("a tag name is longer than 512 characters", ("tags", key))


RULES = (
    Rule(
        "AIB2002",
        Severity.ERROR,
        "apiVersion is a known version of the resource type",
        "type-and-api-version",
        _ALL,
        check_api_version,
        example='"apiVersion": "2024-01-01"',
    ),
    Rule(
        "AIB2003",
        Severity.WARNING,
        "apiVersion is not a deprecated preview",
        "type-and-api-version",
        _TEMPLATE,
        check_preview,
        versions="2018-02-01-preview, 2019-02-01-preview, 2019-05-01-preview",
        example='"apiVersion": "2019-05-01-preview"',
    ),
    Rule(
        "AIB2004",
        Severity.INFO,
        "apiVersion is one of the current versions",
        "type-and-api-version",
        _TEMPLATE,
        check_recent,
        versions="< 2024-02-01",
        example='"apiVersion": "2020-02-14"',
    ),
    Rule(
        "AIB2005",
        Severity.INFO,
        "a bare template body does not carry apiVersion (the service advises against it)",
        "type-and-api-version",
        _ALL,
        check_api_version_in_body,
        example='{"type": "Microsoft.VirtualMachineImages/imageTemplates", "apiVersion": "2024-02-01", ...} '
        "in a file without a name",
    ),
    Rule(
        "AIB2006",
        Severity.WARNING,
        "top-level keys are ARM template keys or part of the resource body",
        "create-an-azure-image-builder-template",
        _ALL,
        check_extra_keys,
        example='"propertes": {...}',
    ),
    Rule(
        "AIB2020",
        Severity.ERROR,
        "location is a region name",
        "location",
        _LOCATED,
        check_location,
        example='"location": ""',
    ),
    Rule(
        "AIB2021",
        Severity.ERROR,
        "location is an Azure region (error) where Image Builder runs (warning)",
        "location",
        _LOCATED,
        check_region,
        example='"location": "westus22"',
    ),
    Rule(
        "AIB2030",
        Severity.ERROR,
        "an image template has an identity",
        "identity",
        _TEMPLATE,
        check_identity_required,
        versions=">= 2020-02-14",
        example="a template without an identity",
    ),
    Rule(
        "AIB2031",
        Severity.ERROR,
        "identity.type is UserAssigned",
        "identity",
        _TEMPLATE,
        check_identity_type,
        example='"identity": {"type": "SystemAssigned"}',
    ),
    Rule(
        "AIB2032",
        Severity.ERROR,
        "exactly one user-assigned identity",
        "identity",
        _TEMPLATE,
        check_identity_count,
        example='"userAssignedIdentities": {"<id1>": {}, "<id2>": {}}',
    ),
    Rule(
        "AIB2033",
        Severity.ERROR,
        "the identity key is a userAssignedIdentities resource id",
        "identity",
        _TEMPLATE,
        check_identity_id,
        example='"userAssignedIdentities": {"aibBuilder": {}}',
    ),
    Rule(
        "AIB2050",
        Severity.ERROR,
        "a resource lives where its kind may (the catalog's scopes: a resource group, a subscription, on a "
        "resource); only extension resources take a `scope`",
        "api-scope",
        _ALL,
        check_scope_allowed,
        example="\"scope\": \"[resourceId('Microsoft.Compute/galleries', 'g')]\" on a gallery",
    ),
    Rule(
        "AIB2040",
        Severity.ERROR,
        "tags are an object of string values (at most 50)",
        "tags",
        _ALL,
        check_tags,
        example='"tags": {"build": 42}',
    ),
)
