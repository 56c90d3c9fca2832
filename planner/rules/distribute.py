"""AIB36xx: distribute targets: types, required fields, run output names, ids, regions, versioning."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from providers.catalog.arm_ids import fold_location

from ..diagnostics import Severity
from ..stack.model import Resource
from . import Finding, Rule, RuleContext, combined
from .envelope import region_findings
from .facts import (
    DEFINITION_ID,
    INT32_MAX,
    MANAGED_IMAGE_ID,
    VERSION_NUMBER,
    definition_for_id,
    distribute_targets,
    region_list,
    resource_for_id,
)
from .fields import findings_for

_T = ("imageTemplate",)


def check_not_empty(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    value = resource.properties.get("distribute")
    if isinstance(value, list) and not value:
        yield Finding("distribute needs at least one target", ("properties", "distribute"))
    for path, target in distribute_targets(resource):
        regions = target.get("replicationRegions")
        if target.get("type") == "SharedImage" and regions == [] and not target.get("targetRegions"):
            yield Finding(
                "replicationRegions is empty: name at least the gallery's region",
                (*path, "replicationRegions"),
            )


def check_unique_outputs(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    seen: set[str] = set()
    for path, target in distribute_targets(resource):
        name = target.get("runOutputName")
        if isinstance(name, str) and name:
            if name.lower() in seen:
                yield Finding(
                    f"runOutputName '{name}' is used by another target",
                    (*path, "runOutputName"),
                    hint="every distribute target needs its own runOutputName",
                )
            seen.add(name.lower())


def check_managed_image_id(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, target in distribute_targets(resource):
        value = target.get("imageId")
        if (
            target.get("type") == "ManagedImage"
            and isinstance(value, str)
            and not MANAGED_IMAGE_ID.match(value)
        ):
            yield Finding(
                f"'{value}' is not a managed image id",
                (*path, "imageId"),
                hint="/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Compute/images/NAME "
                "(the resource group must exist)",
            )


def check_gallery_image_id(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, target in distribute_targets(resource):
        value = target.get("galleryImageId")
        if target.get("type") != "SharedImage" or not isinstance(value, str):
            continue
        at = (*path, "galleryImageId")
        match = DEFINITION_ID.match(value)
        if match is None:
            yield Finding(
                f"'{value}' is not an image definition id",
                at,
                hint="/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Compute/galleries/G/images/"
                "DEF (versions are numbered automatically) or .../images/DEF/versions/1.0.0",
            )
            continue
        version = match["version"]
        if version is None:
            continue
        numbers = VERSION_NUMBER.match(version)
        if numbers is None:
            yield Finding(
                f"'{version}' is not an image version: use MAJOR.MINOR.PATCH (such as 1.0.0)",
                at,
                hint="or leave out /versions/... to let Image Builder number versions",
            )
        elif any(int(n) > INT32_MAX for n in numbers.groups()):
            yield Finding(
                f"'{version}': each part of a version is a 32-bit integer (at most {INT32_MAX})", at
            )


def _gallery_region(target: Any, context: RuleContext) -> tuple[str, str] | None:
    """(region, what) of the gallery a SharedImage target writes to, when the stack knows it."""
    definition = definition_for_id(target.get("galleryImageId"), context)
    if definition is None:
        return None
    gallery = resource_for_id(definition.arm_id.rsplit("/images/", 1)[0], context)
    for holder in (gallery, definition):
        if holder is not None and holder.location:
            return holder.location, holder.address
    return None


def check_gallery_region(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, target in distribute_targets(resource):
        if target.get("type") != "SharedImage":
            continue
        regions = region_list(target)
        found = _gallery_region(target, context)
        if not regions or found is None:
            continue
        region, holder = found
        if fold_location(region) not in {fold_location(r) for _, r in regions}:
            key = "replicationRegions" if "replicationRegions" in target else "targetRegions"
            yield Finding(
                f"the regions must include the gallery's region '{region}' ({holder})",
                (*path, key),
                hint=f"add '{region}'",
            )


def check_exclusive_regions(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, target in distribute_targets(resource):
        if target.get("replicationRegions") and target.get("targetRegions"):
            yield Finding(
                "give replicationRegions or targetRegions, not both",
                (*path, "targetRegions"),
                hint="targetRegions supersedes replicationRegions (deprecated)",
            )


def check_storage_type(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, target in distribute_targets(resource):
        if (
            target.get("type") == "SharedImage"
            and target.get("storageAccountType")
            and target.get("targetRegions")
        ):
            yield Finding(
                "storageAccountType may only be given with replicationRegions",
                (*path, "storageAccountType"),
                hint="with targetRegions, give storageAccountType on each target region",
            )


def check_versioning(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, target in distribute_targets(resource):
        value = target.get("galleryImageId")
        if target.get("type") != "SharedImage" or not isinstance(target.get("versioning"), dict):
            continue
        match = DEFINITION_ID.match(value) if isinstance(value, str) else None
        if match is not None and match["version"] is not None:
            yield Finding(
                "versioning does not apply when galleryImageId names a version",
                (*path, "versioning"),
                hint="drop /versions/... from galleryImageId, or drop versioning",
            )


def check_regions(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, target in distribute_targets(resource):
        if target.get("type") == "ManagedImage" and isinstance(target.get("location"), str):
            yield from region_findings(target["location"], (*path, "location"), aib=False)
        seen: set[tuple[str | int, str]] = set()
        for sub, region in region_list(target):
            yield from region_findings(region, (*path, *sub), aib=False)
            key = (sub[0], fold_location(region))  # per list: both lists at once is AIB3608's business
            if key in seen:
                yield Finding(f"'{region}' is listed twice", (*path, *sub), severity=Severity.WARNING)
            seen.add(key)


def check_vhd_uri(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, target in distribute_targets(resource):
        value = target.get("uri")
        if target.get("type") == "VHD" and isinstance(value, str) and value:
            parts = urlsplit(value)
            if parts.scheme != "https" or not parts.netloc:
                yield Finding(
                    f"'{value}' is not an https:// blob URL",
                    (*path, "uri"),
                    hint="https://ACCOUNT.blob.core.windows.net/CONTAINER/NAME.vhd, or leave it out",
                )


def _rule(
    code: str, severity: Severity, summary: str, section: str, check: Any, example: str, **kw: Any
) -> Rule:
    return Rule(code, severity, summary, section, _T, check, example=example, **kw)


RULES = (
    _rule(
        "AIB3601",
        Severity.ERROR,
        "distribute types are ManagedImage, SharedImage or VHD (per api version)",
        "properties-distribute",
        findings_for("AIB3601"),
        '"type": "Gallery"',
    ),
    _rule(
        "AIB3602",
        Severity.ERROR,
        "distribute targets have their required fields, and there is at least one",
        "properties-distribute",
        combined(findings_for("AIB3602"), check_not_empty),
        '{"type": "ManagedImage", "runOutputName": "img"} without imageId and location',
    ),
    _rule(
        "AIB3603",
        Severity.ERROR,
        "runOutputName is 1 to 64 letters, digits, '-', '_' or '.'",
        "properties-distribute",
        findings_for("AIB3603"),
        '"runOutputName": "my output"',
    ),
    _rule(
        "AIB3604",
        Severity.ERROR,
        "runOutputName is unique across distribute targets",
        "properties-distribute",
        check_unique_outputs,
        'two targets with "runOutputName": "ubuntu"',
    ),
    _rule(
        "AIB3605",
        Severity.ERROR,
        "a managedImage target's imageId is a managed image id",
        "distribute-managedimage",
        check_managed_image_id,
        '"imageId": "myImage"',
    ),
    _rule(
        "AIB3606",
        Severity.ERROR,
        "galleryImageId is an image definition id, or a version id with MAJOR.MINOR.PATCH 32-bit numbers",
        "distribute-sharedimage",
        check_gallery_image_id,
        '".../images/ubuntu/versions/latest"',
    ),
    _rule(
        "AIB3607",
        Severity.ERROR,
        "replication regions include the gallery's region",
        "distribute-sharedimage",
        check_gallery_region,
        '"replicationRegions": ["eastus"] for a gallery in westus2',
    ),
    _rule(
        "AIB3608",
        Severity.ERROR,
        "replicationRegions and targetRegions are not both given",
        "distribute-sharedimage",
        check_exclusive_regions,
        '"replicationRegions": [...], "targetRegions": [...]',
        versions=">= 2022-07-01",
    ),
    _rule(
        "AIB3609",
        Severity.ERROR,
        "storageAccountType is Standard_LRS, Standard_ZRS or Premium_LRS (from "
        "2022-07-01), and only with replicationRegions",
        "distribute-sharedimage",
        combined(findings_for("AIB3609"), check_storage_type),
        '"storageAccountType": "Premium_LRS" (2020-02-14)',
        also=("zone-redundancy",),
    ),
    _rule(
        "AIB3610",
        Severity.ERROR,
        "versioning has scheme Latest (major >= -1) or Source, and no explicit version",
        "distribute-sharedimage",
        combined(findings_for("AIB3610"), check_versioning),
        '"versioning": {"scheme": "Newest"}',
        versions=">= 2022-07-01",
    ),
    _rule(
        "AIB3611",
        Severity.ERROR,
        "distribution regions are Azure regions, each once",
        "properties-distribute",
        check_regions,
        '"replicationRegions": ["eastus", "west-us"]',
    ),
    _rule(
        "AIB3612",
        Severity.ERROR,
        "a VHD target's uri is an https:// blob URL",
        "distribute-vhd",
        check_vhd_uri,
        '"uri": "stgimages/vhds/x.vhd"',
        versions=">= 2022-07-01",
    ),
)
