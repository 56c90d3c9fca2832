"""AIB2010, AIB30xx and AIB33xx: an image template's fields, its staging resource group and its build
timeout. The vmProfile's rules (AIB31xx) are in `vm_profile`, the source's (AIB32xx) in `image_source`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..diagnostics import Severity
from ..stack.model import Resource
from . import Finding, Rule, RuleContext, get
from .facts import RESOURCE_GROUP_ID, WINDOWS, source_os
from .fields import findings_for

_T = ("imageTemplate",)


def _props(resource: Resource, *path: str) -> Any:
    return get(resource.body, "properties", *path)


def check_staging_group(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    value = _props(resource, "stagingResourceGroup")
    if not isinstance(value, str) or not value:
        return
    match = RESOURCE_GROUP_ID.match(value)
    path = ("properties", "stagingResourceGroup")
    if match is None:
        yield Finding(
            f"'{value}' is not a resource group id",
            path,
            hint="/subscriptions/SUB/resourceGroups/NAME (it is created when it does not exist)",
        )
    elif not re.fullmatch(r"[-\w.()]{1,90}", match["rg"]) or match["rg"].endswith("."):
        yield Finding(f"'{match['rg']}' is not a valid resource group name", path)
    elif (
        context.stack.config.subscription_id
        and match["sub"].lower() != context.stack.config.subscription_id.lower()
    ):
        yield Finding(
            "the staging resource group must be in the template's subscription "
            f"({context.stack.config.subscription_id})",
            path,
        )


def check_build_timeout(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    value = _props(resource, "buildTimeoutInMinutes")
    if type(value) is not int:
        return
    path = ("properties", "buildTimeoutInMinutes")
    if value < 0:
        yield Finding(
            f"{value} minutes: the timeout cannot be negative", path, hint="0 means the default, 240"
        )
    elif 1 <= value <= 5:
        yield Finding(f"{value} minutes fails: the smallest timeout is 6 (0 means the default, 240)", path)
    elif value > 960:
        yield Finding(f"{value} minutes is above the maximum of 960 (16 hours)", path)


def check_windows_timeout(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    value = _props(resource, "buildTimeoutInMinutes")
    if type(value) is int and 6 <= value < 60 and source_os(resource, context) == WINDOWS:
        yield Finding(
            f"{value} minutes is short for a Windows build",
            ("properties", "buildTimeoutInMinutes"),
            hint="the reference advises at least 60 minutes on Windows",
        )


def schema_rule(code: str, severity: Severity, summary: str, section: str, example: str, **kw: Any) -> Rule:
    """A rule over image templates whose findings all come from the schema walk."""
    return Rule(code, severity, summary, section, _T, findings_for(code), example=example, **kw)


RULES = (
    schema_rule(
        "AIB2010",
        Severity.ERROR,
        "properties, properties.source and properties.distribute are present",
        "create-an-azure-image-builder-template",
        "a template without properties.source",
    ),
    schema_rule(
        "AIB3001",
        Severity.ERROR,
        "no unknown fields (error from 2024-02-01, which rejects them; warning before)",
        "api-fields",
        '"aritfactTags": {...}',
    ),
    schema_rule(
        "AIB3002",
        Severity.ERROR,
        "field names are spelled with the api's case (error from 2024-02-01; warning before)",
        "api-fields",
        '"imageVersionID": "..."',
    ),
    schema_rule(
        "AIB3003",
        Severity.ERROR,
        "a field exists in the template's api version (names the version that introduced it)",
        "api-fields",
        '"validate": {...} with "apiVersion": "2021-10-01"',
    ),
    schema_rule(
        "AIB3004",
        Severity.WARNING,
        "read-only fields are not sent",
        "api-fields",
        '"source": {"exactVersion": "22.04.202401010", ...}',
    ),
    schema_rule(
        "AIB3005",
        Severity.ERROR,
        "values have the JSON type the api expects",
        "api-fields",
        '"inline": "apt-get update"',
    ),
    schema_rule(
        "AIB3006",
        Severity.ERROR,
        "values are among the allowed ones (enums; case)",
        "api-fields",
        '"errorHandling": {"onCustomizerError": "stop"}',
    ),
    schema_rule(
        "AIB3007",
        Severity.ERROR,
        "numbers are within their ranges",
        "api-fields",
        '"targetRegions": [{"name": "eastus", "replicaCount": 0}]',
        also=("windows-update-customizer",),
    ),
    Rule(
        "AIB3010",
        Severity.ERROR,
        "stagingResourceGroup is a resource group id in the template's subscription",
        "api-staging-resource-group",
        _T,
        check_staging_group,
        versions=">= 2022-02-14",
        example='"stagingResourceGroup": "rg-staging"',
    ),
    Rule(
        "AIB3301",
        Severity.ERROR,
        "buildTimeoutInMinutes is 0 (the default, 240) or 6 to 960",
        "properties-buildtimeoutinminutes",
        _T,
        check_build_timeout,
        example='"buildTimeoutInMinutes": 5',
    ),
    Rule(
        "AIB3302",
        Severity.WARNING,
        "a Windows build has at least 60 minutes",
        "properties-buildtimeoutinminutes",
        _T,
        check_windows_timeout,
        example='Windows source with "buildTimeoutInMinutes": 30',
    ),
)
