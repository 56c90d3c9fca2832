"""AIB91xx: what each image template's identity needs to be allowed to do, against the role assignments
that could allow it.

The needs come from the template alone (`providers.catalog.build_access`): read the source image, write
image versions into each gallery image it distributes to, write a managed image or VHD blob, use a
staging resource group it names, read and join a subnet, hand identities to the build VM, download
scripts from Azure Storage. A need is met when a role assignment to the identity, at the need's scope or
above it, has a role whose actions allow it (`access`). `validate` knows the stack's assignments; a plan
also knows the cloud's (the memo's `ACCESS`), so it warns only about what neither grants. Files
validated alone are not checked: a role assignment may live in any file of the stack.
"""

from __future__ import annotations

from collections.abc import Iterator

from providers.catalog import BUILDABLE
from providers.catalog.arm_ids import parse_resource_id
from providers.catalog.build_access import (
    BUILD_IDENTITY,
    GALLERY,
    IMAGE_OUTPUT,
    SCRIPT,
    SOURCE,
    STAGING,
    SUBNET,
    Need,
    needs_of,
)
from providers.catalog.references import IDENTITY, referenced_ids

from ..diagnostics import Severity
from ..stack.loader.alone import UNKNOWN_SUBSCRIPTION
from ..stack.model import Resource
from . import Finding, Rule, RuleContext
from .access import ACCESS, Access, stack_access

_T = ("imageTemplate",)
_SECTION = "api-permissions"
_HINTS = {
    SOURCE: "give the identity a role with read on the source image (Reader, or the AIB docs' custom role) "
    "at the image, its gallery or its resource group",
    GALLERY: "give the identity the AIB docs' custom role (galleries/images/versions/write and the reads) "
    "or Contributor at the image definition, its gallery or the resource group",
    IMAGE_OUTPUT: "give the identity a role that writes images (the AIB docs' custom role, or Contributor; "
    "Storage Blob Data Contributor for a VHD URL) where the output goes",
    STAGING: "give the identity Contributor (or Owner) on the staging resource group, or leave "
    "stagingResourceGroup out and let Image Builder make one",
    SUBNET: "give the identity Network Contributor, or a role with virtualNetworks/read and "
    "subnets/join/action, on the virtual network",
    BUILD_IDENTITY: "give the template's identity Managed Identity Operator on this identity",
    SCRIPT: "give the identity Storage Blob Data Reader on the storage account or container (not needed "
    "when the container is public, or with a SAS token in the URL)",
}


def _identity_of(resource: Resource) -> str | None:
    """The identity the template builds as (its id, when known)."""
    for reference in BUILDABLE.references:
        if reference.reason == IDENTITY:
            for arm_id, _path in referenced_ids(resource.body, reference):
                if parse_resource_id(arm_id) is not None:
                    return arm_id
    return None


def _access(context: RuleContext) -> Access:
    found = context.memo.get(ACCESS)
    if isinstance(found, Access):
        return found
    return context.remember(("permissions", "stack"), lambda: stack_access(context.stack, context.graph))


def _unmet(resource: Resource, context: RuleContext) -> list[tuple[Need, tuple[str, ...]]]:
    """Every need of the template its identity's grants do not meet, worked out once for all the rules."""

    def compute() -> list[tuple[Need, tuple[str, ...]]]:
        identity = _identity_of(resource)
        if identity is None:
            return []
        access = _access(context)
        found = []
        for need in needs_of(resource.body):
            missing = access.missing(identity, need)
            if missing:
                found.append((need, missing))
        return found

    return context.remember(("permissions", "unmet", resource.address), compute)


def _checker(topic: str):  # type: ignore[no-untyped-def]
    def check(resource: Resource, context: RuleContext) -> Iterator[Finding]:
        if context.stack.config.subscription_id in ("", UNKNOWN_SUBSCRIPTION):
            return  # files validated alone: the stack's other files may hold the role assignments
        unmet = _unmet(resource, context)
        if not unmet:
            return
        identity = _identity_of(resource) or ""
        where = "the stack or the cloud" if ACCESS in context.memo else "the stack"
        name = identity.rstrip("/").rsplit("/", 1)[-1]
        for need, missing in unmet:
            if need.topic == topic:
                yield Finding(
                    f"identity '{name}' may not {need.purpose}: no role assignment in {where} grants "
                    f"{', '.join(missing)} at {need.scope}",
                    need.path,
                    hint=_HINTS[topic],
                )

    return check


def _rule(rule_id: str, topic: str, summary: str, example: str) -> Rule:
    return Rule(rule_id, Severity.WARNING, summary, _SECTION, _T, _checker(topic), example=example)


RULES = (
    _rule(
        "AIB9101",
        SOURCE,
        "the template's identity can read its source image (a managed image or gallery image version)",
        '"source": {"type": "SharedImageVersion", ...} with no role assignment reading the gallery',
    ),
    _rule(
        "AIB9102",
        GALLERY,
        "the template's identity can write image versions into each gallery image it distributes to",
        '{"type": "SharedImage", "galleryImageId": ...} with no role assignment on the gallery',
    ),
    _rule(
        "AIB9103",
        IMAGE_OUTPUT,
        "the template's identity can write the managed image or the VHD blob it distributes to",
        '{"type": "ManagedImage", "imageId": ...} with no role assignment writing images there',
    ),
    _rule(
        "AIB9104",
        STAGING,
        "the template's identity can create the build's resources in the staging resource group it names",
        '"stagingResourceGroup": "/subscriptions/.../resourceGroups/rg-staging" without Contributor there',
    ),
    _rule(
        "AIB9105",
        SUBNET,
        "the template's identity can read the virtual network and join the build VM's subnet",
        '"vnetConfig": {"subnetId": ...} with no role assignment on the network',
    ),
    _rule(
        "AIB9106",
        BUILD_IDENTITY,
        "the template's identity can assign the build VM's identities (Managed Identity Operator)",
        '"vmProfile": {"userAssignedIdentities": [...]} without Managed Identity Operator on them',
    ),
    _rule(
        "AIB9107",
        SCRIPT,
        "the template's identity can read the scripts and files it downloads from Azure Storage",
        '"scriptUri": "https://account.blob.core.windows.net/scripts/setup.sh" with no blob reader role',
    ),
)
