"""The order between builds: a template that builds from what another template distributes waits for it.

A SharedImageVersion source in an image definition that another template distributes to (its latest
version, or the explicit version that template publishes), or a ManagedImage source that another
template distributes to, makes an edge `producer → consumer` carrying the reason in words.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import networkx as nx

from providers.catalog.arm_ids import ResourceId, fold_id, parse_resource_id


class BuildOrderError(Exception):
    """The templates build from each other in a circle; no order exists."""


def _published(body: Mapping[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(kind, folded image definition or managed image id, explicit version or None) per target."""
    props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
    assert isinstance(props, dict)
    for target in props.get("distribute") or []:
        if not isinstance(target, dict):
            continue
        kind = str(target.get("type", "")).lower()
        if kind == "sharedimage":
            rid = parse_resource_id(str(target.get("galleryImageId", "")))
            if rid is not None and len(rid.types) in (2, 3):
                yield "shared", _definition(rid), rid.names[2] if len(rid.types) == 3 else None
        elif kind == "managedimage" and isinstance(target.get("imageId"), str):
            yield "managed", fold_id(target["imageId"]), None


def _consumed(body: Mapping[str, Any]) -> tuple[str, str, str | None, str] | None:
    """What a template builds from, when another template could make it: (kind, folded id, version,
    the name as written)."""
    props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
    assert isinstance(props, dict)
    source = props.get("source") if isinstance(props.get("source"), dict) else {}
    assert isinstance(source, dict)
    kind = str(source.get("type", ""))
    if kind == "SharedImageVersion":
        rid = parse_resource_id(str(source.get("imageVersionId", "")))
        if rid is not None and len(rid.types) in (2, 3):
            version = rid.names[2] if len(rid.types) == 3 else None
            return "shared", _definition(rid), version, "/".join(rid.names[:2])
    if kind == "ManagedImage" and isinstance(source.get("imageId"), str):
        rid = parse_resource_id(source["imageId"])
        return "managed", fold_id(source["imageId"]), None, rid.name if rid else source["imageId"]
    return None


def _definition(rid: ResourceId) -> str:
    return fold_id(str(rid.parent() if len(rid.types) == 3 and rid.parent() else rid))


def build_order(templates: Mapping[str, Mapping[str, Any]]) -> nx.DiGraph:
    """A graph over template addresses; an edge A → B (attribute `reason`) means A is built before B."""
    graph = nx.DiGraph()
    graph.add_nodes_from(templates)
    producers = {address: list(_published(body)) for address, body in templates.items()}
    for consumer, body in templates.items():
        wanted = _consumed(body)
        if wanted is None:
            continue
        kind, target, version, shown = wanted
        for producer, targets in producers.items():
            if producer == consumer:
                continue
            for made_kind, made, made_version in targets:
                if made_kind != kind or made != target:
                    continue
                if kind == "shared" and version and version.lower() != "latest" and made_version != version:
                    continue
                what = "the managed image" if kind == "managed" else "the image definition"
                graph.add_edge(
                    producer,
                    consumer,
                    reason=f"it builds from {what} {shown} that {producer} distributes to",
                )
    cycles = list(nx.simple_cycles(graph))
    if cycles:
        shown = " → ".join([*cycles[0], cycles[0][0]])
        raise BuildOrderError(f"the templates build from each other in a circle: {shown}")
    return graph
