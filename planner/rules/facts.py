"""What rules infer about an image template: the source's OS and Hyper-V generation, the image
definitions it distributes to, the shapes of the ARM ids it holds. Inference stays modest: when a fact
cannot be known offline the answer is None, and rules that need it say nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from providers.catalog import api_version_key
from providers.catalog.arm_ids import ResourceId, fold_id, parse_resource_id

from ..diagnostics import JsonPath
from ..stack.model import Resource
from . import RuleContext, get

_ID = r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
IDENTITY_ID = re.compile(rf"^{_ID}Microsoft\.ManagedIdentity/userAssignedIdentities/[^/]+$", re.IGNORECASE)
SUBNET_ID = re.compile(
    rf"^{_ID}Microsoft\.Network/virtualNetworks/(?P<vnet>[^/]+)/subnets/[^/]+$", re.IGNORECASE
)
MANAGED_IMAGE_ID = re.compile(rf"^{_ID}Microsoft\.Compute/images/[^/]+$", re.IGNORECASE)
DEFINITION_ID = re.compile(
    rf"^{_ID}Microsoft\.Compute/galleries/[^/]+/images/[^/]+(?:/versions/(?P<version>[^/]+))?$", re.IGNORECASE
)
SOURCE_VERSION_ID = re.compile(
    rf"^(?:{_ID}Microsoft\.Compute/galleries|/sharedGalleries)/[^/]+/images/[^/]+/versions/(?P<version>[^/]+)$",
    re.IGNORECASE,
)
RESOURCE_GROUP_ID = re.compile(r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)$", re.IGNORECASE)
VERSION_NUMBER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
INT32_MAX = 2**31 - 1

WINDOWS = "Windows"
LINUX = "Linux"
_WINDOWS_WORDS = (
    "windows",
    "win10",
    "win11",
    "win-",
    "-ws20",
    "ws20",
    "datacenter",
    "office-365",
    "visualstudio",
)
_LINUX_WORDS = (
    "ubuntu", "rhel", "redhat", "centos", "debian", "sles", "suse", "linux", "alma", "rocky", "mariner",
    "flatcar", "oracle", "jammy", "focal", "noble",
)  # fmt: skip
_LINUX_PUBLISHERS = ("canonical", "redhat", "openlogic", "suse", "debian", "almalinux", "kinvolk", "resf")
_WINDOWS_PUBLISHERS = ("microsoftwindowsserver", "microsoftwindowsdesktop", "microsoftvisualstudio")
# Publishers whose Gen2 images carry a marker in the SKU (so an unmarked SKU is Gen1), with the
# exceptions: Azure Edition images are Gen2 only, and Canonical's newer offers (ubuntu-24_04-lts) name
# their Gen2 SKU plainly ("server") and mark the Gen1 one ("server-gen1").
_MARKED_GEN2 = ("canonical", "microsoftwindowsserver", "redhat", "openlogic", "suse", "debian")
_GEN2_MARKS = ("gen2", "-g2", "gensecond", "azure-edition")


def version_at_least(resource: Resource, version: str) -> bool:
    return api_version_key(resource.api_version) >= api_version_key(version)


def source(resource: Resource) -> Mapping[str, Any]:
    value = resource.properties.get("source")
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value.lower() if isinstance(value, str) else ""


def definition_for_id(arm_id: Any, context: RuleContext) -> Resource | None:
    """The image definition in the stack that an image definition or image version id points at."""
    if not isinstance(arm_id, str):
        return None
    found: dict[str, Resource | None] = context.remember("definition_for_id", dict)
    if arm_id not in found:
        found[arm_id] = _definition_for_id(arm_id, context)
    return found[arm_id]


def _definition_for_id(arm_id: str, context: RuleContext) -> Resource | None:
    rid = parse_resource_id(arm_id)
    if rid is None or len(rid.types) < 2 or rid.types[:2] != ("galleries", "images"):
        return None
    definition = ResourceId(rid.subscription, rid.resource_group, rid.namespace, rid.types[:2], rid.names[:2])
    wanted = fold_id(str(definition))
    return _by_id(context).get(wanted)


def resource_for_id(arm_id: Any, context: RuleContext) -> Resource | None:
    return _by_id(context).get(fold_id(arm_id)) if isinstance(arm_id, str) else None


def _by_id(context: RuleContext) -> dict[str, Resource]:
    return context.remember("by_id", lambda: {fold_id(r.arm_id): r for r in context.stack.resources})


def source_definition(resource: Resource, context: RuleContext) -> Resource | None:
    """The image definition in the stack a SharedImageVersion source comes from."""
    src = source(resource)
    return (
        definition_for_id(src.get("imageVersionId"), context)
        if src.get("type") == "SharedImageVersion"
        else None
    )


def source_os(resource: Resource, context: RuleContext) -> str | None:
    """Windows or Linux, when the source says so (a marketplace image's names, a known definition)."""
    src = source(resource)
    kind = src.get("type")
    if kind == "PlatformImage":
        publisher = _text(src.get("publisher"))
        words = " ".join((_text(src.get("offer")), _text(src.get("sku"))))
        if publisher in _WINDOWS_PUBLISHERS:
            return WINDOWS
        if publisher in _LINUX_PUBLISHERS:
            return LINUX
        if any(w in words for w in _LINUX_WORDS):
            return LINUX
        if any(w in words for w in _WINDOWS_WORDS):
            return WINDOWS
        return None
    definition = source_definition(resource, context) or produced_by_template(resource, context)
    if definition is not None:
        os_type = get(definition.body, "properties", "osType")
        if os_type in (WINDOWS, LINUX):
            return str(os_type)
        if definition.kind == "imageTemplate" and definition is not resource:
            return source_os(definition, context)
    return None


def intended_os(resource: Resource, context: RuleContext) -> str | None:
    """The source's OS, or else the OS of the image definitions the template distributes to."""
    found = source_os(resource, context)
    if found is not None:
        return found
    kinds = {
        get(d.body, "properties", "osType") for _, _, d in distributed_definitions(resource, context)
    } & {WINDOWS, LINUX}
    return str(kinds.pop()) if len(kinds) == 1 else None


def source_generation(resource: Resource, context: RuleContext) -> str | None:
    """V1 or V2 when the source says so: a Gen2 marker in a marketplace SKU, or a known definition."""
    src = source(resource)
    if src.get("type") == "PlatformImage":
        sku = _text(src.get("sku"))
        if any(mark in sku for mark in _GEN2_MARKS):
            return "V2"
        if "gen1" in sku:
            return "V1"
        if _text(src.get("offer")).startswith("ubuntu-"):
            return None  # the newer Canonical offers: the unmarked SKU is Gen2, but only for those
        return "V1" if _text(src.get("publisher")) in _MARKED_GEN2 else None
    definition = source_definition(resource, context)
    if definition is not None:
        generation = get(definition.body, "properties", "hyperVGeneration") or "V1"
        return str(generation) if generation in ("V1", "V2") else None
    return None


def produced_by_template(resource: Resource, context: RuleContext) -> Resource | None:
    """For a ManagedImage source: the template in the stack that distributes to that managed image."""
    src = source(resource)
    if src.get("type") != "ManagedImage" or not isinstance(src.get("imageId"), str):
        return None
    wanted = fold_id(src["imageId"])
    for other in context.stack.resources:
        if other.kind != "imageTemplate" or other is resource:
            continue
        for _, target in distribute_targets(other):
            if target.get("type") == "ManagedImage" and fold_id(str(target.get("imageId", ""))) == wanted:
                return other
    return None


def managed_image_location(resource: Resource, context: RuleContext) -> str | None:
    """Where the stack makes the managed image a ManagedImage source names (another template's target)."""
    src = source(resource)
    producer = produced_by_template(resource, context)
    if producer is None:
        return None
    for _, target in distribute_targets(producer):
        if target.get("type") == "ManagedImage" and fold_id(str(target.get("imageId", ""))) == fold_id(
            str(src.get("imageId"))
        ):
            location = target.get("location")
            return location if isinstance(location, str) else None
    return None


def distribute_targets(resource: Resource) -> Iterator[tuple[JsonPath, Mapping[str, Any]]]:
    targets = resource.properties.get("distribute")
    if isinstance(targets, list):
        for index, target in enumerate(targets):
            if isinstance(target, dict):
                yield ("properties", "distribute", index), target


def distributed_definitions(
    resource: Resource, context: RuleContext
) -> Iterator[tuple[JsonPath, Mapping[str, Any], Resource]]:
    """(path, target, image definition) for each SharedImage target whose definition is in the stack."""
    for path, target in distribute_targets(resource):
        if target.get("type") == "SharedImage":
            definition = definition_for_id(target.get("galleryImageId"), context)
            if definition is not None:
                yield path, target, definition


def script_steps(
    resource: Resource, where: str, context: RuleContext | None = None
) -> list[tuple[JsonPath, Mapping[str, Any]]]:
    """The customizers (`where` = "customize") or in-VM validators (`where` = "validate"); with a context,
    found once per resource and run."""
    if context is not None:
        return context.remember(("steps", resource.address, where), lambda: script_steps(resource, where))
    base: JsonPath
    if where == "customize":
        steps, base = resource.properties.get("customize"), ("properties", "customize")
    else:
        steps = get(resource.body, "properties", "validate", "inVMValidations")
        base = ("properties", "validate", "inVMValidations")
    if not isinstance(steps, list):
        return []
    return [((*base, index), step) for index, step in enumerate(steps) if isinstance(step, dict)]


def region_list(target: Mapping[str, Any]) -> list[tuple[JsonPath, str]]:
    """The regions a SharedImage target replicates to: (path relative to the target, region)."""
    out: list[tuple[JsonPath, str]] = []
    regions = target.get("replicationRegions")
    if isinstance(regions, list):
        out += [(("replicationRegions", i), r) for i, r in enumerate(regions) if isinstance(r, str)]
    targets = target.get("targetRegions")
    if isinstance(targets, list):
        for i, entry in enumerate(targets):
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                out.append((("targetRegions", i, "name"), entry["name"]))
    return out
