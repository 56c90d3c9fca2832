"""Microsoft.VirtualMachineImages/imageTemplates: the AIB image template."""

from __future__ import annotations

from .types import ResourceType

STABLE_API_VERSIONS = (
    "2020-02-14",
    "2021-10-01",
    "2022-02-14",
    "2022-07-01",
    "2023-07-01",
    "2024-02-01",
    "2025-10-01",
)
PREVIEW_API_VERSIONS = ("2018-02-01-preview", "2019-02-01-preview", "2019-05-01-preview")

_VM_PROFILE_PATCHABLE = (
    ("properties", "vmProfile", "vmSize"),
    ("properties", "vmProfile", "osDiskSizeGB"),
    ("properties", "vmProfile", "userAssignedIdentities"),
    ("properties", "vmProfile", "vnetConfig", "subnetId"),
    ("properties", "vmProfile", "vnetConfig", "containerInstanceSubnetId"),
)

IMAGE_TEMPLATE = ResourceType(
    kind="imageTemplate",
    arm_type="Microsoft.VirtualMachineImages/imageTemplates",
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
    id_paths=(
        ("properties", "vmProfile", "userAssignedIdentities", "[]"),
        ("properties", "vmProfile", "vnetConfig", "subnetId"),
        ("properties", "vmProfile", "vnetConfig", "containerInstanceSubnetId"),
        ("properties", "source", "imageId"),
        ("properties", "source", "imageVersionId"),
        ("properties", "distribute", "[]", "imageId"),
        ("properties", "distribute", "[]", "galleryImageId"),
        ("properties", "stagingResourceGroup"),
    ),
    location_paths=(
        ("location",),
        ("properties", "distribute", "[]", "location"),
        ("properties", "distribute", "[]", "replicationRegions", "[]"),
        ("properties", "distribute", "[]", "targetRegions", "[]", "name"),
    ),
    id_keyed_maps=(("identity", "userAssignedIdentities"),),
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
)
