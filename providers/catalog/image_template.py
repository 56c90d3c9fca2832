"""Microsoft.VirtualMachineImages/imageTemplates: the AIB image template."""

from __future__ import annotations

import re
from typing import Any

from .arm_ids import Scope
from .behaviour import PATCH, Computed, Made, Rewrite, ServiceFacts
from .references import BUILD_IDENTITY, DISTRIBUTE, IDENTITY, SOURCE, SUBNET, Reference
from .template_schema import IMAGE_TEMPLATE_SCHEMA, PREVIEW_API_VERSIONS, STABLE_API_VERSIONS
from .types import ResourceType

_VERSIONS = ("Microsoft.Compute/galleries/images/versions",)
_RESOLVED = re.compile(r"^(latest) \(.+\)$", re.IGNORECASE)


def _latest_as_sent(value: Any) -> Any:
    """`latest (16.04.202004290)` (the version the service resolved, in brackets) back to `latest`."""
    if isinstance(value, str):
        found = _RESOLVED.match(value)
        if found:
            return found.group(1)
    return value


_VM_PROFILE_PATCHABLE = (
    ("properties", "vmProfile", "vmSize"),
    ("properties", "vmProfile", "osDiskSizeGB"),
    ("properties", "vmProfile", "userAssignedIdentities"),
    ("properties", "vmProfile", "vnetConfig", "subnetId"),
    ("properties", "vmProfile", "vnetConfig", "containerInstanceSubnetId"),
)

IMAGE_TEMPLATE = ResourceType(
    kind="imageTemplate",
    title="image template",
    arm_type="Microsoft.VirtualMachineImages/imageTemplates",
    scopes=(Scope.RESOURCE_GROUP,),
    schema=IMAGE_TEMPLATE_SCHEMA,
    builds=True,
    api_versions=STABLE_API_VERSIONS,
    preview_api_versions=PREVIEW_API_VERSIONS,
    default_api_version="2024-02-01",
    defaults={
        ("properties", "buildTimeoutInMinutes"): (0, 240),
        ("properties", "vmProfile", "vmSize"): ("",),
        ("properties", "vmProfile", "osDiskSizeGB"): (0,),
        ("properties", "vmProfile", "vnetConfig", "proxyVmSize"): ("",),
        ("properties", "customize", "[]", "sha256Checksum"): ("",),
        ("properties", "customize", "[]", "runElevated"): (False,),
        ("properties", "customize", "[]", "runAsSystem"): (False,),
        ("properties", "customize", "[]", "validExitCodes"): ([0],),
        ("properties", "customize", "[]", "restartTimeout"): ("5m",),
        ("properties", "customize", "[]", "updateLimit"): (0, 1000),
        ("properties", "validate", "inVMValidations", "[]", "sha256Checksum"): ("",),
        ("properties", "validate", "inVMValidations", "[]", "runElevated"): (False,),
        ("properties", "validate", "inVMValidations", "[]", "runAsSystem"): (False,),
        ("properties", "validate", "inVMValidations", "[]", "validExitCodes"): ([0],),
        ("properties", "validate", "continueDistributeOnFailure"): (False,),
        ("properties", "validate", "sourceValidationOnly"): (False,),
        ("properties", "distribute", "[]", "excludeFromLatest"): (False,),
        ("properties", "distribute", "[]", "targetRegions", "[]", "replicaCount"): (1,),
        ("properties", "distribute", "[]", "versioning", "major"): (-1,),
        ("properties", "distribute", "[]", "replicationMode"): ("Full",),
        ("properties", "errorHandling", "onCustomizerError"): ("cleanup",),
        ("properties", "errorHandling", "onValidationError"): ("cleanup",),
        ("properties", "stagingResourceGroup"): ("",),
        ("properties", "autoRun", "state"): ("Disabled",),
    },
    empty_is_omitted=(
        ("tags",),
        ("properties", "vmProfile"),
        ("properties", "vmProfile", "vnetConfig"),
        ("properties", "vmProfile", "userAssignedIdentities"),
        ("properties", "customize"),
        ("properties", "validate"),
        ("properties", "validate", "inVMValidations"),
        ("properties", "optimize"),
        ("properties", "errorHandling"),
        ("properties", "autoRun"),
        ("properties", "managedResourceTags"),
        ("properties", "distribute", "[]", "artifactTags"),
    ),
    references=(
        Reference(
            ("identity", "userAssignedIdentities"),
            IDENTITY,
            ("identity",),
            in_keys=True,
            checked_on_create=True,
        ),
        Reference(("properties", "source", "imageId"), SOURCE, ("managedImage",), through_parent=_VERSIONS),
        Reference(
            ("properties", "source", "imageVersionId"),
            SOURCE,
            ("imageVersion",),
            through_parent=_VERSIONS,
        ),
        Reference(("properties", "vmProfile", "userAssignedIdentities", "[]"), BUILD_IDENTITY, ("identity",)),
        Reference(("properties", "vmProfile", "vnetConfig", "subnetId"), SUBNET, ("subnet",)),
        Reference(
            ("properties", "vmProfile", "vnetConfig", "containerInstanceSubnetId"), SUBNET, ("subnet",)
        ),
        Reference(
            ("properties", "distribute", "[]", "galleryImageId"),
            DISTRIBUTE,
            ("imageDefinition", "imageVersion"),
            only_when=(("type", "SharedImage"),),
            through_parent=_VERSIONS,
            output=True,
            checked_on_create=True,
        ),
    ),
    cascades={
        DISTRIBUTE: "the image definition it distributes to, {origin}, is replaced",
        SOURCE: "the image definition it builds from, {origin}, is replaced",
        IDENTITY: "the identity it uses, {origin}, is replaced; a template keeps the principal of the "
        "identity it was created with",
        BUILD_IDENTITY: "the build VM identity it uses, {origin}, is replaced",
    },
    create_only=(),
    # Ids that are not references: where a build writes a managed image, the staging resource group.
    id_paths=(
        ("properties", "distribute", "[]", "imageId"),
        ("properties", "stagingResourceGroup"),
    ),
    location_paths=(
        ("location",),
        ("properties", "distribute", "[]", "location"),
        ("properties", "distribute", "[]", "replicationRegions", "[]"),
        ("properties", "distribute", "[]", "targetRegions", "[]", "name"),
    ),
    unordered_lists=(
        ("properties", "vmProfile", "userAssignedIdentities"),
        ("properties", "distribute", "[]", "replicationRegions"),
        ("properties", "distribute", "[]", "targetRegions"),
    ),
    # A PUT of an existing template fails; only these fields can be PATCHed, per api version.
    patchable_since=(
        ("2018-02-01-preview", (("tags",), ("identity",))),
        ("2023-07-01", (("tags",), ("identity",), ("properties", "distribute"))),
        ("2024-02-01", (("tags",), ("identity",), ("properties", "distribute"), *_VM_PROFILE_PATCHABLE)),
    ),
    service=ServiceFacts(
        computed=(
            Computed(
                ("properties", "provisioningState"),
                Made.CONSTANT,
                "recorded:azure-cli/image_builder_basic_2021-10-01.json#3,#6",
                value="Succeeded",
            ),
            Computed(
                ("identity", "userAssignedIdentities", "*"),
                Made.IDENTITY_IDS,
                "recorded:azure-sdk-for-python/imagebuilder_2020-02-14.json#0,#2",
            ),
        ),
        rewrites=(
            Rewrite(
                ("properties", "source", "version"),
                _latest_as_sent,
                "recorded:azure-sdk-for-python/imagebuilder_2020-02-14.json#0,#2",
                since="2020-02-14",
                until="2021-10-01",
            ),
        ),
        update_verb=PATCH,
        second_put_refused=True,
        actions=("run", "cancel"),
        failed_is_replaced=True,
    ),
)
