"""AIB5xxx: rules across resources, answered from the stack's graph: regions of a template and its
image definition, a definition that suits the source, source images in the template's region, external
galleries and image definitions that cannot be confirmed offline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from providers.catalog.arm_ids import fold_location

from ..diagnostics import Severity
from ..stack.graph import DISTRIBUTE, EXTERNAL, SOURCE
from ..stack.model import Resource
from . import Finding, Rule, RuleContext, get
from .facts import (
    DEFINITION_ID,
    distribute_targets,
    distributed_definitions,
    managed_image_location,
    produced_by_template,
    region_list,
    source,
    source_definition,
    source_generation,
    source_os,
)

_T = ("imageTemplate",)


def _same_region(a: Any, b: Any) -> bool:
    return not (isinstance(a, str) and isinstance(b, str)) or fold_location(a) == fold_location(b)


def _graph_edges(
    resource: Resource, context: RuleContext, reason: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(node, node data) of what the template depends on for `reason` (distribute, source)."""
    graph = context.graph
    if graph is None or resource.address not in graph:
        return
    for node in graph.predecessors(resource.address):
        if reason in graph.edges[node, resource.address]["reasons"]:
            yield node, graph.nodes[node]


def check_definition_region(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, _, definition in distributed_definitions(resource, context):
        if not _same_region(definition.location, resource.location):
            yield Finding(
                f"{definition.address} is in {definition.location} and the template in {resource.location}: "
                "the build takes longer (the image version is made in the definition's region first)",
                (*path, "galleryImageId"),
                hint="keep the image definition and the template in the same region",
            )


def check_managed_image_region(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, target in distribute_targets(resource):
        if target.get("type") == "ManagedImage" and not _same_region(
            target.get("location"), resource.location
        ):
            yield Finding(
                f"the managed image is made in {target.get('location')}, the template is in "
                f"{resource.location}: distributing to another region takes longer",
                (*path, "location"),
            )


def check_definition_os(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    os_name = source_os(resource, context)
    if os_name is None:
        return
    for path, _, definition in distributed_definitions(resource, context):
        declared = get(definition.body, "properties", "osType")
        if isinstance(declared, str) and declared != os_name:
            yield Finding(
                f"the source is {os_name}, and {definition.address} has osType {declared}",
                (*path, "galleryImageId"),
            )


def check_definition_state(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    for path, _, definition in distributed_definitions(resource, context):
        state = get(definition.body, "properties", "osState")
        if state == "Specialized":
            yield Finding(
                f"{definition.address} is Specialized; Image Builder makes generalized images only",
                (*path, "galleryImageId"),
                hint="distribute to an image definition with osState Generalized",
            )


def check_definition_generation(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    generation = source_generation(resource, context)
    if generation is None:
        return
    for path, _, definition in distributed_definitions(resource, context):
        declared = get(definition.body, "properties", "hyperVGeneration") or "V1"
        if declared in ("V1", "V2") and declared != generation:
            yield Finding(
                f"the source is a {generation} (Gen{generation[1]}) image and {definition.address} has "
                f"hyperVGeneration {declared}",
                (*path, "galleryImageId"),
                hint="use an image definition of the source's generation",
            )


def check_source_region(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    src = source(resource)
    if src.get("type") == "ManagedImage":
        location = managed_image_location(resource, context)
        producer = produced_by_template(resource, context)
        if location is not None and producer is not None and not _same_region(location, resource.location):
            yield Finding(
                f"the source managed image is made in {location} by {producer.address}; it must be in the "
                f"template's region ({resource.location})",
                ("properties", "source", "imageId"),
                severity=Severity.ERROR,
            )
    elif src.get("type") == "SharedImageVersion":
        definition = source_definition(resource, context)
        if definition is None or resource.location is None:
            return
        for other in context.stack.resources:
            if other.kind != "imageTemplate" or other is resource:
                continue
            for _, target, made in distributed_definitions(other, context):
                if made is not definition:
                    continue
                regions = [r for _, r in region_list(target)] or [other.location or ""]
                if fold_location(resource.location) not in {fold_location(r) for r in regions}:
                    yield Finding(
                        f"{other.address} replicates {definition.address} to {', '.join(regions)}, not to "
                        f"this template's region ({resource.location})",
                        ("properties", "source", "imageVersionId"),
                        hint=f"add '{resource.location}' to {other.address}'s replication regions",
                    )


def check_external(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    declared_galleries: dict[str, Resource] = context.remember(
        "galleries", lambda: {r.arm_id.lower(): r for r in context.stack.resources if r.kind == "gallery"}
    )
    for reason, what in ((DISTRIBUTE, "distributes to"), (SOURCE, "builds from")):
        for node, data in _graph_edges(resource, context, reason):
            if data.get("role") != EXTERNAL or not str(data.get("arm_type", "")).lower().endswith(
                "galleries/images"
            ):
                continue
            arm_id = str(data.get("arm_id", ""))
            path = _path_of(resource, arm_id, reason)
            gallery = declared_galleries.get(arm_id.rsplit("/images/", 1)[0].lower())
            if gallery is not None and reason == DISTRIBUTE:
                yield Finding(
                    f"the template {what} image definition '{node.removeprefix('data.imageDefinition.')}', "
                    f"which is not in this stack although its gallery ({gallery.address}) is",
                    path,
                    hint="declare the image definition in the stack",
                    severity=Severity.WARNING,
                )
            else:
                yield Finding(
                    f"the template {what} {node}, which is not in this stack: its existence, region, osType "
                    "and generation cannot be confirmed offline",
                    path,
                )


def _path_of(resource: Resource, arm_id: str, reason: str) -> tuple[str | int, ...]:
    if reason == SOURCE:
        return ("properties", "source", "imageVersionId")
    for path, target in distribute_targets(resource):
        value = target.get("galleryImageId")
        if isinstance(value, str) and DEFINITION_ID.match(value) and value.lower().startswith(arm_id.lower()):
            return (*path, "galleryImageId")
    return ("properties", "distribute")


RULES = (
    Rule(
        "AIB5001",
        Severity.WARNING,
        "a template and the image definition it distributes to are in one region",
        "distribute-sharedimage",
        _T,
        check_definition_region,
        example="template in westus2, image definition in eastus",
    ),
    Rule(
        "AIB5002",
        Severity.WARNING,
        "a managed image target is in the template's region",
        "distribute-managedimage",
        _T,
        check_managed_image_region,
        example='{"type": "ManagedImage", "location": "eastus"} from a westus2 template',
    ),
    Rule(
        "AIB5003",
        Severity.ERROR,
        "the image definition's osType is the source's OS",
        "distribute-sharedimage",
        _T,
        check_definition_os,
        example="Ubuntu source, image definition with osType Windows",
    ),
    Rule(
        "AIB5004",
        Severity.ERROR,
        "the image definition is Generalized (Image Builder makes generalized images)",
        "generalize",
        _T,
        check_definition_state,
        example='image definition with "osState": "Specialized"',
    ),
    Rule(
        "AIB5005",
        Severity.ERROR,
        "the image definition's hyperVGeneration is the source's generation",
        "properties-source",
        _T,
        check_definition_generation,
        example='"sku": "22_04-lts-gen2" distributed to a definition with "hyperVGeneration": "V1"',
    ),
    Rule(
        "AIB5006",
        Severity.WARNING,
        "a source image made in the stack is in the template's region",
        "managedimage-source",
        _T,
        check_source_region,
        example="a template building from an image version another template replicates only to eastus",
    ),
    Rule(
        "AIB5010",
        Severity.INFO,
        "galleries and image definitions outside the stack are reported (they cannot be confirmed offline)",
        "distribute-sharedimage",
        _T,
        check_external,
        example='"galleryImageId": "/subscriptions/.../galleries/shared/images/ubuntu" not in the stack',
    ),
)
