"""AIB32xx: an image template's source: its type and fields, image ids and versions, and what a Gen2
source can be distributed as."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..diagnostics import Severity
from ..stack.model import Resource
from . import Finding, Rule, RuleContext
from .facts import (
    MANAGED_IMAGE_ID,
    SOURCE_VERSION_ID,
    distribute_targets,
    source,
    source_generation,
    version_at_least,
)
from .template import schema_rule

_T = ("imageTemplate",)


def check_platform_fields(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    src = source(resource)
    if src.get("type") != "PlatformImage":
        return
    missing = [key for key in ("publisher", "offer", "sku", "version") if not src.get(key)]
    if missing:
        yield Finding(
            f"a PlatformImage source needs {', '.join(missing)} to build",
            ("properties", "source"),
            hint="az vm image list --publisher P --offer O --all --output table shows them",
            severity=Severity.WARNING,
        )


def check_source_ids(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    src = source(resource)
    kind = src.get("type")
    if kind == "ManagedImage" and isinstance(src.get("imageId"), str):
        if not MANAGED_IMAGE_ID.match(src["imageId"]):
            yield Finding(
                f"'{src['imageId']}' is not a managed image id",
                ("properties", "source", "imageId"),
                hint="/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Compute/images/NAME",
            )
    elif (
        kind == "SharedImageVersion"
        and isinstance(src.get("imageVersionId"), str)
        and not SOURCE_VERSION_ID.match(src["imageVersionId"])
    ):
        yield Finding(
            f"'{src['imageVersionId']}' is not an image version id",
            ("properties", "source", "imageVersionId"),
            hint="/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Compute/galleries/G/images/"
            "DEF/versions/1.0.0 (or versions/latest from 2022-07-01)",
        )


def check_latest(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    src = source(resource)
    if src.get("type") == "SharedImageVersion" and isinstance(src.get("imageVersionId"), str):
        match = SOURCE_VERSION_ID.match(src["imageVersionId"])
        if match is None:
            return
        version = match["version"]
        path = ("properties", "source", "imageVersionId")
        if version.lower() == "latest" and not version_at_least(resource, "2022-07-01"):
            yield Finding(
                "versions/latest as a source needs api version 2022-07-01 or later",
                path,
                hint="name the version (versions/1.0.0) or use a newer apiVersion",
            )
        elif version.lower() != "latest" and not re.fullmatch(r"\d+\.\d+\.\d+", version):
            yield Finding(f"'{version}' is not an image version (MAJOR.MINOR.PATCH or latest)", path)
    elif src.get("type") == "PlatformImage" and isinstance(src.get("version"), str):
        version = src["version"]
        if version.lower() != "latest" and not re.fullmatch(r"\d+(\.\d+)+", version):
            yield Finding(
                f"'{version}' is not a marketplace image version: use 'latest' or a version such as "
                "22.04.202401010",
                ("properties", "source", "version"),
            )
        elif version != "latest" and version.lower() == "latest":
            yield Finding(
                f"'{version}' is written 'latest'",
                ("properties", "source", "version"),
                severity=Severity.WARNING,
            )


def check_gen2_distribution(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    if resource.api_version != "2020-02-14" or source_generation(resource, context) != "V2":
        return
    for path, target in distribute_targets(resource):
        if target.get("type") in ("ManagedImage", "SharedImage"):
            yield Finding(
                f"a Gen2 source distributed as {target['type']}: with api version 2020-02-14 Image Builder "
                "makes Gen1 images there",
                (*path, "type"),
                hint="distribute to a VHD and create the Gen2 image from it, or use a newer apiVersion",
            )


RULES = (
    schema_rule(
        "AIB3201",
        Severity.ERROR,
        "source.type is PlatformImage, ManagedImage or SharedImageVersion (per api version)",
        "properties-source",
        '"source": {"type": "MarketplaceImage"}',
    ),
    schema_rule(
        "AIB3202",
        Severity.ERROR,
        "the source has the fields its type needs (imageId, imageVersionId)",
        "properties-source",
        '"source": {"type": "ManagedImage"}',
    ),
    schema_rule(
        "AIB3203",
        Severity.ERROR,
        "planInfo gives planName, planProduct and planPublisher together",
        "support-for-market-place-plan-information",
        '"planInfo": {"planName": "rhel-lvm75"}',
        versions=">= 2020-02-14",
    ),
    Rule(
        "AIB3204",
        Severity.ERROR,
        "source image ids have the shape of a managed image or image version id",
        "managedimage-source",
        _T,
        check_source_ids,
        example='"imageId": "/subscriptions/.../images"',
    ),
    Rule(
        "AIB3205",
        Severity.ERROR,
        "'latest' only where the api version allows it; versions are version numbers",
        "sharedimageversion-source",
        _T,
        check_latest,
        example='".../versions/latest" with "apiVersion": "2020-02-14"',
    ),
    Rule(
        "AIB3206",
        Severity.WARNING,
        "a Gen2 source is distributed only as a VHD with api version 2020-02-14",
        "properties-source",
        _T,
        check_gen2_distribution,
        versions="2020-02-14",
        example='"sku": "22_04-lts-gen2" with a SharedImage target and "apiVersion": "2020-02-14"',
    ),
    Rule(
        "AIB3207",
        Severity.WARNING,
        "a PlatformImage source names publisher, offer, sku and version",
        "platformimage-source",
        _T,
        check_platform_fields,
        example='"source": {"type": "PlatformImage", "publisher": "Canonical"}',
    ),
)
