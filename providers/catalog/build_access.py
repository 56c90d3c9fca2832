"""What an image build needs its template's identity to be allowed to do, read from the template alone.

Image Builder acts as the template's user-assigned identity when it reads the source image, writes image
versions and managed images, joins a subnet, hands identities to the build VM and downloads scripts; the
AIB permission guides (docs:https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-permissions-cli)
give each of these as actions on a scope. Each `Need` names the actions, the scope they are checked at,
where in the template the need comes from, and the step at which the service fails without them: the
create itself for a virtual network (recorded:azure-cli/image_builder_vm_profile_2023-07-01.json#1, an
`Unauthorized` naming the network), otherwise the build step that uses the resource.

A staging resource group the template names must let the identity create the build's resources there
(the reference asks for Contributor or Owner on a group that exists). Left out, the service makes the
group itself and gives the identity Contributor on it (image-builder-json, stagingResourceGroup), so
nothing is needed. A platform image source needs nothing, nor does a VHD left in the staging account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .arm_ids import parse_resource_id
from .rbac import BlobTarget, blob_target

# What each need is about (the planner's rules are one per topic).
SOURCE = "source"
GALLERY = "gallery"
IMAGE_OUTPUT = "imageOutput"
STAGING = "staging"
SUBNET = "subnet"
BUILD_IDENTITY = "buildIdentity"
SCRIPT = "script"

# Where the service fails: the create, or the runSubState of the build step.
AT_CREATE = "create"
BUILDING = "Building"
CUSTOMIZING = "Customizing"
VALIDATING = "Validating"
DISTRIBUTING = "Distributing"

READ_IMAGE = "Microsoft.Compute/images/read"
READ_VERSION = "Microsoft.Compute/galleries/images/versions/read"
WRITE_VERSIONS = (
    "Microsoft.Compute/galleries/images/read",
    "Microsoft.Compute/galleries/images/versions/read",
    "Microsoft.Compute/galleries/images/versions/write",
)
WRITE_IMAGE = (
    "Microsoft.Compute/images/write",
    "Microsoft.Compute/images/read",
    "Microsoft.Compute/images/delete",
)
STAGING_WRITES = (
    "Microsoft.Compute/virtualMachines/write",
    "Microsoft.Compute/disks/write",
    "Microsoft.Network/networkInterfaces/write",
    "Microsoft.Storage/storageAccounts/write",
)
READ_NETWORK = "Microsoft.Network/virtualNetworks/read"
JOIN_SUBNET = "Microsoft.Network/virtualNetworks/subnets/join/action"
ASSIGN_IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
READ_BLOB = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
WRITE_BLOB = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Need:
    """Actions the identity needs at a scope: the ARM id they are checked at (or, for a blob, its URL and
    storage target), where the template asks for it, and the step that fails without them."""

    topic: str
    actions: tuple[str, ...]
    scope: str
    path: Path
    step: str
    data: bool = False
    blob: BlobTarget | None = None
    purpose: str = ""  # in words: "write image versions into it"


def needs_of(body: Mapping[str, Any]) -> list[Need]:
    """Every need of an image template body, in the order the template names them."""
    props = body.get("properties")
    if not isinstance(props, dict):
        return []
    found: list[Need] = []
    found += _source(props)
    found += _distribute(props)
    staging = props.get("stagingResourceGroup")
    if isinstance(staging, str) and staging.strip():
        found.append(
            Need(
                STAGING,
                STAGING_WRITES,
                staging,
                ("properties", "stagingResourceGroup"),
                AT_CREATE,
                purpose="create the build's virtual machine, disk, network interface and storage in the "
                "staging resource group",
            )
        )
    found += _vm_profile(props)
    found += _scripts(props)
    return found


def _source(props: Mapping[str, Any]) -> list[Need]:
    source = props.get("source")
    if not isinstance(source, dict):
        return []
    kind = source.get("type")
    if kind == "ManagedImage" and _is_id(source.get("imageId")):
        return [
            Need(SOURCE, (READ_IMAGE,), source["imageId"], ("properties", "source", "imageId"), BUILDING,
                 purpose="read the source image")
        ]  # fmt: skip
    if kind == "SharedImageVersion" and _is_id(source.get("imageVersionId")):
        path = ("properties", "source", "imageVersionId")
        return [
            Need(SOURCE, (READ_VERSION,), source["imageVersionId"], path, BUILDING,
                 purpose="read the source image version")
        ]  # fmt: skip
    return []


def _distribute(props: Mapping[str, Any]) -> list[Need]:
    targets = props.get("distribute")
    found: list[Need] = []
    for index, target in enumerate(targets if isinstance(targets, list) else ()):
        if not isinstance(target, dict):
            continue
        at: Path = ("properties", "distribute", index)
        kind = target.get("type")
        if kind == "SharedImage" and _is_id(target.get("galleryImageId")):
            rid = parse_resource_id(target["galleryImageId"])
            definition = (
                str(rid.parent()) if rid is not None and len(rid.types) == 3 else target["galleryImageId"]
            )
            found.append(
                Need(GALLERY, WRITE_VERSIONS, definition, (*at, "galleryImageId"), DISTRIBUTING,
                     purpose="write image versions into the image definition")
            )  # fmt: skip
        elif kind == "ManagedImage" and _is_id(target.get("imageId")):
            found.append(
                Need(IMAGE_OUTPUT, WRITE_IMAGE, target["imageId"], (*at, "imageId"), DISTRIBUTING,
                     purpose="write the managed image")
            )  # fmt: skip
        elif kind == "VHD":
            blob = blob_target(target.get("uri"))
            if blob is not None and not blob.signed:
                found.append(
                    Need(IMAGE_OUTPUT, (WRITE_BLOB,), target["uri"], (*at, "uri"), DISTRIBUTING,
                         data=True, blob=blob, purpose="write the VHD blob")
                )  # fmt: skip
    return found


def _vm_profile(props: Mapping[str, Any]) -> list[Need]:
    profile = props.get("vmProfile")
    if not isinstance(profile, dict):
        return []
    found: list[Need] = []
    vnet = profile.get("vnetConfig")
    if isinstance(vnet, dict):
        for field in ("subnetId", "containerInstanceSubnetId"):
            subnet = vnet.get(field)
            rid = parse_resource_id(subnet) if isinstance(subnet, str) else None
            if rid is None or len(rid.types) != 2:
                continue
            path: Path = ("properties", "vmProfile", "vnetConfig", field)
            network = str(rid.parent())
            found.append(Need(SUBNET, (READ_NETWORK,), network, path, AT_CREATE, purpose="read the network"))
            found.append(
                Need(SUBNET, (JOIN_SUBNET,), str(subnet), path, AT_CREATE, purpose="join the subnet")
            )
    identities = profile.get("userAssignedIdentities")
    for index, identity in enumerate(identities if isinstance(identities, list) else ()):
        if _is_id(identity):
            found.append(
                Need(BUILD_IDENTITY, (ASSIGN_IDENTITY,), identity,
                     ("properties", "vmProfile", "userAssignedIdentities", index), BUILDING,
                     purpose="give this identity to the build VM")
            )  # fmt: skip
    return found


def _scripts(props: Mapping[str, Any]) -> list[Need]:
    found: list[Need] = []
    steps = props.get("customize")
    for index, step in enumerate(steps if isinstance(steps, list) else ()):
        found += _script_need(step, ("properties", "customize", index), CUSTOMIZING)
    validate = props.get("validate")
    checks = validate.get("inVMValidations") if isinstance(validate, dict) else None
    for index, step in enumerate(checks if isinstance(checks, list) else ()):
        found += _script_need(step, ("properties", "validate", "inVMValidations", index), VALIDATING)
    return found


def _script_need(step: Any, at: Path, when: str) -> list[Need]:
    if not isinstance(step, dict):
        return []
    for field in ("scriptUri", "sourceUri"):
        blob = blob_target(step.get(field))
        if blob is not None and not blob.signed:
            return [
                Need(SCRIPT, (READ_BLOB,), step[field], (*at, field), when, data=True, blob=blob,
                     purpose="download this file")
            ]  # fmt: skip
    return []


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and parse_resource_id(value) is not None
