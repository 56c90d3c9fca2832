"""The dependency graph: an edge A → B means A must exist before B, and every edge says why.

Nodes are resource addresses (`imageTemplate.ubuntu`), external references no resource declares
(`data.identity.shared`) and regions (`region.westus2`). Deleting walks the resource edges backwards.
"""

from __future__ import annotations

import difflib
import functools
import heapq
from collections.abc import Iterator
from dataclasses import dataclass

import networkx as nx

from providers.catalog import BY_KIND, EXTERNAL_KINDS
from providers.catalog.arm_ids import ResourceId, fold_id, fold_location, parse_resource_id
from providers.catalog.references import (
    BUILD_IDENTITY,
    DISTRIBUTE,
    IDENTITY,
    PARENT,
    PERMISSION,
    REFERENCE,
    ROLE_DEFINITION,
    SCOPE,
    SOURCE,
    SUBNET,
    referenced_ids,
    values_at,
)

from ..diagnostics import Diagnostic, JsonPath, Severity
from .model import Resource, Stack

RESOURCE = "resource"
EXTERNAL = "external"
REGION = "region"

# Reasons an edge exists: `dependsOn` and the regions here; the rest come from the catalog's references.
DEPENDS_ON = "dependsOn"
# A serial copy loop's batch waits for the batch before it.
COPY_SERIAL = "copy (serial)"
LOCATION = "location"
REPLICATION = "replicationRegion"
__all__ = [
    "BUILD_IDENTITY",
    "COPY_SERIAL",
    "DEPENDS_ON",
    "DISTRIBUTE",
    "IDENTITY",
    "LOCATION",
    "PARENT",
    "PERMISSION",
    "REFERENCE",
    "REPLICATION",
    "ROLE_DEFINITION",
    "SCOPE",
    "SOURCE",
    "SUBNET",
]


@dataclass(frozen=True)
class Reference:
    """One reference from a resource body to an ARM id, with the reason and where it is written."""

    arm_id: str
    reason: str
    path: JsonPath
    # ARM types whose ids stand for their parent here (an image version for its image definition).
    through_parent: tuple[str, ...] = ()
    # The id names what a build will make: only what holds it must exist beforehand.
    output: bool = False


def references(resource: Resource) -> tuple[Reference, ...]:
    """Every ARM id a resource's body points at, with the reason the edge exists (the catalog's
    references of the resource's kind); found once per resource (the graph and the plan's check of what
    the stack refers to both ask)."""
    found = resource.derived.get(_REFERENCES)
    if found is None:
        found = resource.derived[_REFERENCES] = tuple(_references(resource))
    return found


_REFERENCES = "stack.graph.references"


def _references(resource: Resource) -> Iterator[Reference]:
    rtype = BY_KIND.get(resource.kind)
    if rtype is None:
        return
    for declared in rtype.references:
        for arm_id, path in referenced_ids(resource.body, declared):
            yield Reference(arm_id, declared.reason, path, declared.through_parent, declared.output)


def target_of(rid: ResourceId, reference: Reference) -> ResourceId:
    """What a reference's edge starts from: the id itself, or its parent for the types that stand for it."""
    if reference.through_parent and rid.arm_type.lower() in (t.lower() for t in reference.through_parent):
        parent = rid.parent()
        if parent is not None:
            return parent
    return rid


def external_address(rid: ResourceId) -> str:
    kind = EXTERNAL_KINDS.get(rid.arm_type.lower(), rid.arm_type)
    return f"data.{kind}.{rid.name}"


def region_node(location: str) -> str:
    return f"region.{fold_location(location)}"


def build_graph(stack: Stack) -> tuple[nx.DiGraph, list[Diagnostic]]:
    """The stack's graph and the problems found while building it (dangling dependsOn, cycles)."""
    graph = nx.DiGraph()
    diagnostics: list[Diagnostic] = []
    by_id: dict[str, Resource] = {}
    for resource in stack.resources:
        graph.add_node(resource.address, role=RESOURCE, kind=resource.kind, arm_id=resource.arm_id)
        by_id[fold_id(resource.arm_id)] = resource
    loops: dict[str, list[Resource]] = {name.lower(): [] for name in stack.copy_loops}
    for resource in stack.resources:
        if resource.copy is not None:
            loops.setdefault(resource.copy.loop.lower(), []).append(resource)
    _add_serial_batches(graph, loops)
    unmanaged_ids = set()
    for other in stack.unmanaged:
        unmanaged_ids.add(other.name.lower())
        unmanaged_ids.add(f"{other.arm_type}/{other.name}".lower())

    for resource in stack.resources:
        own = parse_resource_id(resource.arm_id)
        parent = own.parent() if own else None
        if parent is not None:
            _link(graph, by_id, parent, resource, PARENT, ("name",))
        if own is not None and own.scope is not None:
            _link(graph, by_id, own.scope, resource, SCOPE, ("scope",))
        for ref in references(resource):
            rid = parse_resource_id(ref.arm_id)
            if rid is None:
                continue
            _link(graph, by_id, target_of(rid, ref), resource, ref.reason, ref.path)
        for path, unknown in resource.known_after_apply:
            for target in sorted(unknown.targets, key=lambda t: t.resource):
                rid = parse_resource_id(target.resource)
                if rid is not None:  # a name that names nothing is reported by the loader (AIB1003)
                    _link(graph, by_id, rid, resource, REFERENCE, path)
        _add_regions(graph, resource)
        for index, entry in enumerate(resource.depends_on):
            target_resource = _resolve_depends_on(entry, resource, stack, by_id)
            if target_resource is None and entry.lower() in loops:
                # A copy loop's name: every instance of it (none when its count is 0).
                for instance in loops[entry.lower()]:
                    if instance is not resource:
                        _add_edge(graph, instance.address, resource.address, DEPENDS_ON)
                continue
            if target_resource is resource:
                diagnostics.append(
                    Diagnostic(
                        "AIB1001",
                        Severity.ERROR,
                        f"dependency cycle: dependsOn '{entry}' names {resource.address} itself",
                        address=resource.address,
                        path=("dependsOn", index),
                        hint="remove it: a resource cannot wait for itself",
                    )
                )
            elif target_resource is not None:
                _add_edge(graph, target_resource.address, resource.address, DEPENDS_ON)
            elif entry.lower() not in unmanaged_ids and not _is_unmanaged_id(entry, stack):
                names = [r.name for r in stack.resources] + [r.address for r in stack.resources]
                close = difflib.get_close_matches(entry.rsplit("/", 1)[-1], names, n=1)
                diagnostics.append(
                    Diagnostic(
                        "AIB1002",
                        Severity.ERROR,
                        f"dependsOn '{entry}' matches no resource in the stack",
                        address=resource.address,
                        path=("dependsOn", index),
                        hint=f"did you mean '{close[0]}'?"
                        if close
                        else "name a resource declared in this stack",
                    )
                )
    _add_applied_before(graph, stack)
    order = _resource_order(graph)
    if order is None:
        diagnostics.extend(find_cycles(graph))
    else:
        graph.graph[_ORDER] = (_shape(graph), tuple(order))
    return graph, diagnostics


def _add_serial_batches(graph: nx.DiGraph, loops: dict[str, list[Resource]]) -> None:
    """A serial copy loop deploys its instances batch by batch: each instance of a batch after every one of
    the batch before it (so a destroy removes them in the reverse order)."""
    for instances in loops.values():
        batches: dict[int, list[str]] = {}
        for resource in instances:
            if resource.copy is not None and resource.copy.serial:
                batches.setdefault(resource.copy.batch, []).append(resource.address)
        for batch, addresses in batches.items():
            for before in batches.get(batch - 1, ()):
                for after in addresses:
                    _add_edge(graph, before, after, COPY_SERIAL)


def _add_applied_before(graph: nx.DiGraph, stack: Stack) -> None:
    """The catalog's `applied_before`: each resource of a kind that says so before every resource of the
    kinds it names, unless that one already comes first (a role assignment on a template's own scope)."""
    by_kind: dict[str, list[str]] = {}
    for resource in stack.resources:
        by_kind.setdefault(resource.kind, []).append(resource.address)
    for resource in stack.resources:
        rtype = BY_KIND.get(resource.kind)
        if rtype is None or not rtype.applied_before:
            continue
        # What comes before it now: the edges added below start at it, so they add nothing to this.
        before = nx.ancestors(graph, resource.address)
        for kind in rtype.applied_before:
            for later in by_kind.get(kind, ()):
                if later != resource.address and later not in before:
                    _add_edge(graph, resource.address, later, PERMISSION)


def _is_unmanaged_id(entry: str, stack: Stack) -> bool:
    rid = parse_resource_id(entry)
    if rid is None:
        return False
    return any(
        u.arm_type.lower() == rid.arm_type.lower() and u.name.lower() == rid.name.lower()
        for u in stack.unmanaged
    )


def _resolve_depends_on(
    entry: str, resource: Resource, stack: Stack, by_id: dict[str, Resource]
) -> Resource | None:
    """dependsOn may name a resource, give `type/name`, or hold a full id from resourceId()."""
    folded = fold_id(entry)
    if folded in by_id:
        return by_id[folded]
    rid = parse_resource_id(entry)
    if rid is not None:
        return by_id.get(fold_id(str(rid)))
    candidates = [
        r
        for r in stack.resources
        if r is not resource
        and (
            f"{r.arm_type}/{r.name}".lower() == folded
            or r.name.lower() == folded
            or r.address.lower() == folded
        )
    ]
    return candidates[0] if len(candidates) == 1 else None


def _link(
    graph: nx.DiGraph,
    by_id: dict[str, Resource],
    target: ResourceId,
    resource: Resource,
    reason: str,
    path: JsonPath,
) -> None:
    declared = by_id.get(_folded(target))
    if declared is not None:
        if declared.address != resource.address:
            _add_edge(graph, declared.address, resource.address, reason, path)
        return
    node = external_address(target)
    if node not in graph:
        graph.add_node(node, role=EXTERNAL, arm_id=str(target), arm_type=target.arm_type)
    _add_edge(graph, node, resource.address, reason, path)


@functools.lru_cache(maxsize=65536)
def _folded(rid: ResourceId) -> str:
    """The id in the form ids are compared in (a big stack names the same few ids thousands of times)."""
    return fold_id(str(rid))


def _add_regions(graph: nx.DiGraph, resource: Resource) -> None:
    """The region a resource lives in, and the regions it sends things to (the catalog's other region
    paths: a template's replication and target regions, a managed image's location)."""
    if resource.location:
        _add_region_edge(graph, resource.address, resource.location, LOCATION)
    rtype = BY_KIND.get(resource.kind)
    for pattern in rtype.location_paths if rtype is not None else ():
        if pattern == ("location",):
            continue
        for _path, region in values_at(resource.body, pattern):
            if isinstance(region, str) and region:
                _add_region_edge(graph, resource.address, region, REPLICATION)


def _add_region_edge(graph: nx.DiGraph, address: str, location: str, reason: str) -> None:
    node = region_node(location)
    if node not in graph:
        graph.add_node(node, role=REGION, location=fold_location(location))
    _add_edge(graph, address, node, reason)


def _add_edge(graph: nx.DiGraph, before: str, after: str, reason: str, path: JsonPath = ()) -> None:
    if graph.has_edge(before, after):
        data = graph.edges[before, after]
        if reason not in data["reasons"]:
            data["reasons"] = tuple(sorted((*data["reasons"], reason)))
        return
    graph.add_edge(before, after, reasons=(reason,), path=path)


def resource_subgraph(graph: nx.DiGraph) -> nx.DiGraph:
    """Only the managed resources and the edges between them: the order apply walks."""
    nodes = [n for n, role in graph.nodes(data="role") if role == RESOURCE]
    return graph.subgraph(nodes)


def find_cycles(graph: nx.DiGraph) -> list[Diagnostic]:
    """A diagnostic for each group of managed resources that depend on each other in a circle, naming one
    circle through them: the first found from the smallest address, following the edges in the order
    they were drawn (the same circle every run)."""
    sub = resource_subgraph(graph)
    out = []
    for component in nx.strongly_connected_components(sub):
        if len(component) < 2:
            continue
        inside = nx.DiGraph((a, b) for a, b in graph.edges(sorted(component)) if b in component)
        cycle = nx.find_cycle(inside, source=min(component))
        order = [edge[0] for edge in cycle]
        shown = " → ".join([*order, order[0]])
        reasons = {reason for edge in cycle for reason in graph.edges[edge[0], edge[1]].get("reasons", ())}
        hint = "remove one of the dependsOn entries on this cycle"
        if REFERENCE in reasons:
            hint = (
                "a reference() value exists only once the resource it names is made: remove one of the "
                "reference() calls or dependsOn entries on this cycle"
            )
        out.append(
            Diagnostic(
                "AIB1001",
                Severity.ERROR,
                f"dependency cycle: {shown}",
                address=sorted(component)[0],
                hint=hint,
            )
        )
    return out


def dependencies(graph: nx.DiGraph, address: str) -> tuple[str, ...]:
    """The managed resources `address` is applied after (direct predecessors)."""
    return tuple(sorted(p for p in graph.predecessors(address) if graph.nodes[p].get("role") == RESOURCE))


def topological_addresses(graph: nx.DiGraph) -> list[str]:
    """Managed resources in a stable dependency order (ties broken by address): the order build_graph
    found, unless the graph changed since. Raises networkx.NetworkXUnfeasible on a cycle."""
    kept = graph.graph.get(_ORDER)
    if kept is not None and kept[0] == _shape(graph):
        return list(kept[1])
    order = _resource_order(graph)
    if order is None:
        raise nx.NetworkXUnfeasible("the managed resources' dependencies form a cycle")
    return order


# Where build_graph keeps the order of an acyclic graph, with the graph's shape then (_shape).
_ORDER = "aibplan.resource_order"


def _shape(graph: nx.DiGraph) -> tuple[int, int]:
    """Node and edge counts: an order kept for a graph is used only while they are the same (nothing
    changes the stack's graph once built; a copy that someone changes gets its own order)."""
    return graph.number_of_nodes(), graph.number_of_edges()


def _resource_order(graph: nx.DiGraph) -> list[str] | None:
    """The managed resources, each after those it depends on, the smallest address first among those
    ready (what networkx's lexicographical_topological_sort gives on resource_subgraph, without a
    subgraph view); None when some of them form a cycle."""
    waiting = {node: 0 for node, role in graph.nodes(data="role") if role == RESOURCE}
    successors = graph.adj
    for node in waiting:
        for after in successors[node]:
            if after in waiting:
                waiting[after] += 1
    ready = [node for node, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for after in successors[node]:
            if after in waiting:
                waiting[after] -= 1
                if waiting[after] == 0:
                    heapq.heappush(ready, after)
    return order if len(order) == len(waiting) else None
