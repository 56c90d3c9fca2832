"""AIB4xxx: galleries, image definitions, identities, and the names of every managed resource."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from providers.catalog.essentials_schema import (
    GALLERY_NAME_PATTERN,
    GALLERY_NAME_RULE,
    IDENTITY_NAME_PATTERN,
    IDENTITY_NAME_RULE,
    IMAGE_DEFINITION_NAME_PATTERN,
    IMAGE_DEFINITION_NAME_RULE,
)
from providers.catalog.template_schema import NAME_PATTERN, NAME_PATTERN_NO_DOT, NAME_RULE

from ..diagnostics import Severity
from ..stack.model import Resource
from . import Finding, Rule, RuleContext, get
from .fields import findings_for

_TEMPLATE_NAME = re.compile(NAME_PATTERN)
_TEMPLATE_NAME_2018 = re.compile(NAME_PATTERN_NO_DOT)
_GALLERY_NAME = re.compile(GALLERY_NAME_PATTERN)
_DEFINITION_NAME = re.compile(IMAGE_DEFINITION_NAME_PATTERN)
_IDENTITY_NAME = re.compile(IDENTITY_NAME_PATTERN)
_ESSENTIAL = ("gallery", "imageDefinition", "identity")


def check_template_name(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    pattern = _TEMPLATE_NAME_2018 if resource.api_version == "2018-02-01-preview" else _TEMPLATE_NAME
    if not pattern.match(resource.name):
        yield Finding(f"image template name '{resource.name}': {NAME_RULE}", ("name",))


def check_gallery_name(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    if not _GALLERY_NAME.match(resource.name):
        yield Finding(f"gallery name '{resource.name}': {GALLERY_NAME_RULE}", ("name",))


def check_definition_name(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    name = resource.name.split("/")[-1]
    if not _DEFINITION_NAME.match(name):
        yield Finding(f"image definition name '{name}': {IMAGE_DEFINITION_NAME_RULE}", ("name",))


def check_identity_name(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    if not _IDENTITY_NAME.match(resource.name):
        yield Finding(f"identity name '{resource.name}': {IDENTITY_NAME_RULE}", ("name",))


def check_definition_values(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    props = resource.properties
    recommended = props.get("recommended")
    if isinstance(recommended, dict):
        for key, value in recommended.items():
            low, high = get(value, "min"), get(value, "max")
            if type(low) is int and type(high) is int and low > high:
                yield Finding(
                    f"recommended.{key}: min {low} is above max {high}", ("properties", "recommended", key)
                )
            for bound in (low, high):
                if type(bound) is int and bound < 1:
                    yield Finding(
                        f"recommended.{key}: {bound} must be at least 1", ("properties", "recommended", key)
                    )
                    break
    end = props.get("endOfLifeDate")
    if isinstance(end, str) and end:
        try:
            date.fromisoformat(end[:10])
        except ValueError:
            yield Finding(
                f"endOfLifeDate '{end}' is not a date (YYYY-MM-DD or an ISO 8601 time)",
                ("properties", "endOfLifeDate"),
            )
    identifier = props.get("identifier")
    if isinstance(identifier, dict):
        for key in ("publisher", "offer", "sku"):
            value = identifier.get(key)
            if isinstance(value, str) and (len(value) > 128 or not value.strip()):
                yield Finding(
                    f"identifier.{key} must be 1 to 128 characters", ("properties", "identifier", key)
                )


RULES = (
    Rule(
        "AIB4001",
        Severity.ERROR,
        "image template names are 1 to 64 letters, digits, '-', '_' or '.'",
        "create-an-azure-image-builder-template",
        ("imageTemplate",),
        check_template_name,
        example='"name": "ubuntu 22.04"',
    ),
    Rule(
        "AIB4002",
        Severity.ERROR,
        "gallery names are 1 to 80 letters, digits, '_', '-', '.', start with a "
        "letter or digit, and do not end with '-' or '.'",
        "distribute-sharedimage",
        ("gallery",),
        check_gallery_name,
        example='"name": "_corpImages"',
    ),
    Rule(
        "AIB4003",
        Severity.ERROR,
        "image definition names are 1 to 80 letters, digits, '_', '-', '.', and start "
        "and end with a letter or digit",
        "distribute-sharedimage",
        ("imageDefinition",),
        check_definition_name,
        example='"name": "corpImages/ubuntu-"',
    ),
    Rule(
        "AIB4004",
        Severity.ERROR,
        "identity names are 3 to 128 letters, digits, '-' or '_', starting with a letter or digit",
        "identity",
        ("identity",),
        check_identity_name,
        example='"name": "id"',
    ),
    Rule(
        "AIB4010",
        Severity.ERROR,
        "an image definition has osType, osState and identifier (publisher, offer, sku)",
        "distribute-sharedimage",
        ("imageDefinition",),
        findings_for("AIB4010"),
        example='"properties": {"osType": "Linux"}',
    ),
    Rule(
        "AIB4011",
        Severity.ERROR,
        "osType, osState, hyperVGeneration, architecture and sharing permissions are allowed values",
        "distribute-sharedimage",
        _ESSENTIAL,
        findings_for("AIB4011"),
        example='"osState": "Generalised"',
    ),
    Rule(
        "AIB4020",
        Severity.ERROR,
        "no unknown fields in galleries and image definitions (Compute rejects them); "
        "a warning for identities",
        "distribute-sharedimage",
        _ESSENTIAL,
        findings_for("AIB4020"),
        example='"properties": {"hyperVGen": "V2"}',
    ),
    Rule(
        "AIB4021",
        Severity.WARNING,
        "read-only fields are not sent",
        "distribute-sharedimage",
        _ESSENTIAL,
        findings_for("AIB4021"),
        example='"properties": {"provisioningState": "Succeeded"}',
    ),
    Rule(
        "AIB4022",
        Severity.ERROR,
        "values have the JSON type the api expects",
        "distribute-sharedimage",
        _ESSENTIAL,
        findings_for("AIB4022"),
        example='"softDeletePolicy": {"isSoftDeleteEnabled": "yes"}',
    ),
    Rule(
        "AIB4023",
        Severity.ERROR,
        "an image definition's recommended ranges, end-of-life date and identifier are well formed",
        "distribute-sharedimage",
        ("imageDefinition",),
        check_definition_values,
        example='"recommended": {"vCPUs": {"min": 8, "max": 2}}',
    ),
)
