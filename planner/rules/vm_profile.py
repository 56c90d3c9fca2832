"""AIB31xx: an image template's vmProfile: the build VM's size, disk, identities and virtual network."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Severity
from ..stack.model import Resource
from . import Finding, Rule, RuleContext, get
from .facts import IDENTITY_ID, SUBNET_ID, WINDOWS, source_generation, source_os
from .template import schema_rule

_T = ("imageTemplate",)
_VM = ("properties", "vmProfile")
_VNET = (*_VM, "vnetConfig")
_SMALL_WINDOWS_SIZES = (
    "standard_d1_v2",
    "standard_ds1_v2",
    "standard_a1_v2",
    "standard_b1s",
    "standard_b1ms",
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
    values = get(resource.body, *_VM, "userAssignedIdentities")
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
    size = get(resource.body, *_VM, "vmSize")
    if isinstance(size, str) and size.lower() in _SMALL_WINDOWS_SIZES:
        yield Finding(
            f"{size} is too small for a Windows build",
            ("properties", "vmProfile", "vmSize"),
            hint="use Standard_D2_v2 or larger (the reference asks for it on Windows)",
        )
    elif (size is None or size == "") and source_generation(resource, context) == "V1":
        yield Finding(
            "a Windows build on the default VM size (Standard_D1_v2 for Gen1 sources) is too small",
            ("properties", "vmProfile") if isinstance(get(resource.body, *_VM), dict) else ("properties",),
            hint='set "vmProfile": {"vmSize": "Standard_D2_v2"} or larger',
        )


RULES = (
    schema_rule(
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
)
