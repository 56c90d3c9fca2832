"""AIB30xx-33xx: an image template's fields, vmProfile, source and build timeout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..diagnostics import Severity
from ..model import Resource
from . import Finding, Rule, RuleContext, get
from .facts import (
    IDENTITY_ID,
    MANAGED_IMAGE_ID,
    RESOURCE_GROUP_ID,
    SOURCE_VERSION_ID,
    SUBNET_ID,
    WINDOWS,
    distribute_targets,
    source,
    source_generation,
    source_os,
    version_at_least,
)
from .fields import findings_for

_T = ("imageTemplate",)
_VNET = ("properties", "vmProfile", "vnetConfig")
_SMALL_WINDOWS_SIZES = (
    "standard_d1_v2",
    "standard_ds1_v2",
    "standard_a1_v2",
    "standard_b1s",
    "standard_b1ms",
)


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


def check_subnets(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for key in ("subnetId", "containerInstanceSubnetId"):
        value = get(resource.body, *_VNET, key)
        if isinstance(value, str) and value and not SUBNET_ID.match(value):
            yield Finding(
                f"'{value}' is not a subnet id",
                (*_VNET, key),
                hint="/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/"
                "VNET/subnets/SUBNET",
            )


def check_build_identities(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    values = _props(resource, "vmProfile", "userAssignedIdentities")
    if not isinstance(values, list):
        return
    seen: set[str] = set()
    for index, value in enumerate(values):
        path = ("properties", "vmProfile", "userAssignedIdentities", index)
        if not isinstance(value, str):
            continue  # the schema reports the type
        if not IDENTITY_ID.match(value):
            yield Finding(f"'{value}' is not a user-assigned identity id", path)
        elif value.lower() in seen:
            yield Finding("this build VM identity is listed twice", path)
        seen.add(value.lower())


def check_vnet_combination(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    vnet = get(resource.body, *_VNET)
    if not isinstance(vnet, dict):
        return
    subnet, container, proxy = (
        vnet.get("subnetId"),
        vnet.get("containerInstanceSubnetId"),
        vnet.get("proxyVmSize"),
    )
    if container and not subnet:
        yield Finding(
            "containerInstanceSubnetId may only be given together with subnetId",
            (*_VNET, "containerInstanceSubnetId"),
        )
    elif isinstance(container, str) and isinstance(subnet, str):
        a, b = SUBNET_ID.match(subnet), SUBNET_ID.match(container)
        if a and b and subnet.lower().split("/subnets/")[0] != container.lower().split("/subnets/")[0]:
            yield Finding(
                "containerInstanceSubnetId must be on the same virtual network as subnetId",
                (*_VNET, "containerInstanceSubnetId"),
            )
        if subnet.lower() == container.lower() and a:
            yield Finding(
                "the container instance subnet must be another subnet than the build VM's",
                (*_VNET, "containerInstanceSubnetId"),
            )
    if proxy and container:
        yield Finding(
            "proxyVmSize must not be given with containerInstanceSubnetId (there is no proxy VM then)",
            (*_VNET, "proxyVmSize"),
        )
    elif proxy and not subnet:
        yield Finding(
            "proxyVmSize only applies with subnetId (a build in your virtual network)",
            (*_VNET, "proxyVmSize"),
        )


def check_windows_vm_size(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    if source_os(resource, context) != WINDOWS:
        return
    size = _props(resource, "vmProfile", "vmSize")
    if isinstance(size, str) and size.lower() in _SMALL_WINDOWS_SIZES:
        yield Finding(
            f"{size} is too small for a Windows build",
            ("properties", "vmProfile", "vmSize"),
            hint="use Standard_D2_v2 or larger (the reference asks for it on Windows)",
        )
    elif (size is None or size == "") and source_generation(resource, context) == "V1":
        yield Finding(
            "a Windows build on the default VM size (Standard_D1_v2 for Gen1 sources) is too small",
            ("properties", "vmProfile")
            if isinstance(_props(resource, "vmProfile"), dict)
            else ("properties",),
            hint='set "vmProfile": {"vmSize": "Standard_D2_v2"} or larger',
        )


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


def _schema_rule(code: str, severity: Severity, summary: str, section: str, example: str, **kw: Any) -> Rule:
    return Rule(code, severity, summary, section, _T, findings_for(code), example=example, **kw)


RULES = (
    _schema_rule(
        "AIB2010",
        Severity.ERROR,
        "properties, properties.source and properties.distribute are present",
        "create-an-azure-image-builder-template",
        "a template without properties.source",
    ),
    _schema_rule(
        "AIB3001",
        Severity.ERROR,
        "no unknown fields (error from 2024-02-01, which rejects them; warning before)",
        "api-fields",
        '"aritfactTags": {...}',
    ),
    _schema_rule(
        "AIB3002",
        Severity.ERROR,
        "field names are spelled with the api's case (error from 2024-02-01; warning before)",
        "api-fields",
        '"imageVersionID": "..."',
    ),
    _schema_rule(
        "AIB3003",
        Severity.ERROR,
        "a field exists in the template's api version (names the version that introduced it)",
        "api-fields",
        '"validate": {...} with "apiVersion": "2021-10-01"',
    ),
    _schema_rule(
        "AIB3004",
        Severity.WARNING,
        "read-only fields are not sent",
        "api-fields",
        '"source": {"exactVersion": "22.04.202401010", ...}',
    ),
    _schema_rule(
        "AIB3005",
        Severity.ERROR,
        "values have the JSON type the api expects",
        "api-fields",
        '"inline": "apt-get update"',
    ),
    _schema_rule(
        "AIB3006",
        Severity.ERROR,
        "values are among the allowed ones (enums; case)",
        "api-fields",
        '"errorHandling": {"onCustomizerError": "stop"}',
    ),
    _schema_rule(
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
    _schema_rule(
        "AIB3101",
        Severity.ERROR,
        "vmProfile.osDiskSizeGB is 0 (the source's size) or more",
        "osdisksizegb",
        '"osDiskSizeGB": -1',
        also=("vmprofile",),
    ),
    Rule(
        "AIB3102",
        Severity.ERROR,
        "vnetConfig subnet ids are subnet resource ids",
        "vnetconfig",
        _T,
        check_subnets,
        example='"subnetId": "my-subnet"',
        also=("vmprofile",),
    ),
    Rule(
        "AIB3103",
        Severity.ERROR,
        "build VM identities are user-assigned identity ids, each once",
        "identity",
        _T,
        check_build_identities,
        versions=">= 2021-10-01",
        example='"vmProfile": {"userAssignedIdentities": ["buildIdentity"]}',
    ),
    Rule(
        "AIB3104",
        Severity.ERROR,
        "containerInstanceSubnetId needs subnetId on the same VNet; proxyVmSize only with subnetId and "
        "without containerInstanceSubnetId",
        "vnetconfig",
        _T,
        check_vnet_combination,
        example='"vnetConfig": {"containerInstanceSubnetId": "..."} without subnetId',
    ),
    Rule(
        "AIB3105",
        Severity.WARNING,
        "a Windows build does not use the default or Standard_D1_v2 VM size",
        "buildvm",
        _T,
        check_windows_vm_size,
        example='Windows source with "vmSize": "Standard_D1_v2"',
        also=("vmprofile",),
    ),
    _schema_rule(
        "AIB3201",
        Severity.ERROR,
        "source.type is PlatformImage, ManagedImage or SharedImageVersion (per api version)",
        "properties-source",
        '"source": {"type": "MarketplaceImage"}',
    ),
    _schema_rule(
        "AIB3202",
        Severity.ERROR,
        "the source has the fields its type needs (imageId, imageVersionId)",
        "properties-source",
        '"source": {"type": "ManagedImage"}',
    ),
    _schema_rule(
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
