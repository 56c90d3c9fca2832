"""The dependency graph: an edge A → B means A must exist before B, and every edge says why.

Nodes are resource addresses (`imageTemplate.ubuntu`), external references no resource declares
(`data.identity.shared`) and regions (`region.westus2`). Deleting walks the resource edges backwards.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
from .kept_graph import GRAPH_FORMAT, graph_from_document
from .model import Resource, Stack
from .order import (
    ORDER_KEY,
    RESOURCE,
    dependencies,
    find_cycles,
    keep_order,
    resource_subgraph,
    topological_addresses,
)

if TYPE_CHECKING:
    import networkx as nx

# networkx is imported where a graph is drawn: what only reads a graph, or this module's names, does not
# need it (stack.kept_graph).

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
    "RESOURCE",
    "ROLE_DEFINITION",
    "SCOPE",
    "SOURCE",
    "SUBNET",
    "dependencies",
    "find_cycles",
    "graph_from_document",
    "resource_subgraph",
    "topological_addresses",
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
    graph, diagnostics, _edges = drawn_graph(stack)
    return graph, diagnostics


def drawn_graph(stack: Stack) -> tuple[nx.DiGraph, list[Diagnostic], list[tuple[str, str]]]:
    """build_graph, with the edges in the order they were added (what graph_document keeps)."""
    drawing = _Drawing(stack)
    diagnostics: list[Diagnostic] = []
    by_id = drawing.by_id
    loops: dict[str, list[Resource]] = {name.lower(): [] for name in stack.copy_loops}
    for resource in stack.resources:
        if resource.copy is not None:
            loops.setdefault(resource.copy.loop.lower(), []).append(resource)
    _add_serial_batches(drawing, loops)
    unmanaged_ids = set()
    for other in stack.unmanaged:
        unmanaged_ids.add(other.name.lower())
        unmanaged_ids.add(f"{other.arm_type}/{other.name}".lower())

    for resource in stack.resources:
        address = resource.address
        own = parse_resource_id(resource.arm_id)
        parent = own.parent() if own else None
        if parent is not None:
            drawing.link(parent, resource, PARENT, ("name",))
        if own is not None and own.scope is not None:
            drawing.link(own.scope, resource, SCOPE, ("scope",))
        for ref in references(resource):
            rid = parse_resource_id(ref.arm_id)
            if rid is None:
                continue
            drawing.link(target_of(rid, ref), resource, ref.reason, ref.path)
        for path, unknown in resource.known_after_apply:
            for target in sorted(unknown.targets, key=lambda t: t.resource):
                rid = parse_resource_id(target.resource)
                if rid is not None:  # a name that names nothing is reported by the loader (AIB1003)
                    drawing.link(rid, resource, REFERENCE, path)
        _add_regions(drawing, resource)
        for index, entry in enumerate(resource.depends_on):
            target_resource = _resolve_depends_on(entry, resource, stack, by_id)
            if target_resource is None and entry.lower() in loops:
                # A copy loop's name: every instance of it (none when its count is 0).
                for instance in loops[entry.lower()]:
                    if instance is not resource:
                        drawing.edge(instance.address, address, DEPENDS_ON)
                continue
            if target_resource is resource:
                diagnostics.append(
                    Diagnostic(
                        "AIB1001",
                        Severity.ERROR,
                        f"dependency cycle: dependsOn '{entry}' names {address} itself",
                        address=address,
                        path=("dependsOn", index),
                        hint="remove it: a resource cannot wait for itself",
                    )
                )
            elif target_resource is not None:
                drawing.edge(target_resource.address, address, DEPENDS_ON)
            elif entry.lower() not in unmanaged_ids and not _is_unmanaged_id(entry, stack):
                names = [r.name for r in stack.resources] + [r.address for r in stack.resources]
                close = difflib.get_close_matches(entry.rsplit("/", 1)[-1], names, n=1)
                diagnostics.append(
                    Diagnostic(
                        "AIB1002",
                        Severity.ERROR,
                        f"dependsOn '{entry}' matches no resource in the stack",
                        address=address,
                        path=("dependsOn", index),
                        hint=f"did you mean '{close[0]}'?"
                        if close
                        else "name a resource declared in this stack",
                    )
                )
    graph = drawing.done()
    edges = [*drawing.edges, *_add_applied_before(graph, stack)]
    if not keep_order(graph):
        diagnostics.extend(find_cycles(graph))
    return graph, diagnostics, edges


# -- the graph kept with the rules' findings --------------------------------------------------------------
#
# The graph is a function of the stack alone, so it is kept beside the rules' findings under their key
# (rules.cache) and made again from the kept nodes and edges when the stack did not change: at 5,600
# resources drawing it takes about 0.2 s, making it from what was kept about 0.06 s. The nodes and the
# edges are added in the order they were first added, so that every order networkx gives (the nodes, each
# node's successors and predecessors) is the order of the graph drawn from the stack. What is made again
# is a stack.kept_graph.KeptGraph (graph_from_document): the plan of an unchanged stack needs no networkx.


def graph_document(graph: nx.DiGraph, edges: list[tuple[str, str]]) -> dict[str, Any]:
    """What is kept of an acyclic graph drawn by drawn_graph (`edges`: its edges in the order they were
    added): its nodes with their data, its edges with theirs, and the order of its managed resources."""
    kept = graph.graph.get(ORDER_KEY)
    if any(type(value) is not str for _node, data in graph.nodes(data=True) for value in data.values()):
        raise ValueError("a node with data that is not text")
    return {
        "format": GRAPH_FORMAT,
        "nodes": [[node, data] for node, data in graph.nodes(data=True)],
        "edges": [[before, after, *_edge_data(graph.edges[before, after])] for before, after in edges],
        "order": list(kept[1]) if kept is not None else None,
    }


def _edge_data(data: dict[str, Any]) -> tuple[list[str], list[str | int]]:
    if set(data) != {"reasons", "path"}:
        raise ValueError("an edge with other data than its reasons and path")
    return list(data["reasons"]), list(data["path"])


class _Drawing:
    """A graph being drawn. Nodes are added as they are met (so they keep that order); edges are gathered
    in the order they are found, each with its reasons (sorted) and the path of its first one, and added
    at once by `done` (networkx's add_edge, one at a time, costs more than finding them)."""

    def __init__(self, stack: Stack) -> None:
        import networkx as nx

        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(
            (r.address, {"role": RESOURCE, "kind": r.kind, "arm_id": r.arm_id}) for r in stack.resources
        )
        self.by_id = {fold_id(resource.arm_id): resource for resource in stack.resources}
        self.edges: dict[tuple[str, str], dict[str, Any]] = {}
        self.regions: dict[str, str] = {}  # a location as written -> its node

    def edge(self, before: str, after: str, reason: str, path: JsonPath = ()) -> None:
        data = self.edges.get((before, after))
        if data is None:
            self.edges[before, after] = {"reasons": (reason,), "path": path}
        elif reason not in data["reasons"]:
            data["reasons"] = tuple(sorted((*data["reasons"], reason)))

    def link(self, target: ResourceId, resource: Resource, reason: str, path: JsonPath) -> None:
        """An edge to `resource` from what `target` names: a resource of the stack, else an external node."""
        declared = self.by_id.get(_folded(target))
        if declared is not None:
            if declared.address != resource.address:
                self.edge(declared.address, resource.address, reason, path)
            return
        node = external_address(target)
        if node not in self.graph:
            self.graph.add_node(node, role=EXTERNAL, arm_id=str(target), arm_type=target.arm_type)
        self.edge(node, resource.address, reason, path)

    def region(self, address: str, location: str, reason: str) -> None:
        """An edge from `address` to the region `location` names."""
        node = self.regions.get(location)
        if node is None:
            node = self.regions[location] = region_node(location)
            if node not in self.graph:
                self.graph.add_node(node, role=REGION, location=fold_location(location))
        self.edge(address, node, reason)

    def done(self) -> nx.DiGraph:
        self.graph.add_edges_from((before, after, data) for (before, after), data in self.edges.items())
        return self.graph


@functools.lru_cache(maxsize=65536)
def _folded(rid: ResourceId) -> str:
    """The id in the form ids are compared in (a big stack names the same few ids thousands of times)."""
    return fold_id(str(rid))


def _add_serial_batches(drawing: _Drawing, loops: dict[str, list[Resource]]) -> None:
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
                    drawing.edge(before, after, COPY_SERIAL)


def _add_applied_before(graph: nx.DiGraph, stack: Stack) -> list[tuple[str, str]]:
    """The catalog's `applied_before`: each resource of a kind that says so before every resource of the
    kinds it names, unless that one already comes first (a role assignment on a template's own scope).
    Returns the edges added, in order."""
    import networkx as nx

    added: list[tuple[str, str]] = []
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
                    if graph.has_edge(resource.address, later):
                        data = graph.edges[resource.address, later]
                        if PERMISSION not in data["reasons"]:
                            data["reasons"] = tuple(sorted((*data["reasons"], PERMISSION)))
                    else:
                        graph.add_edge(resource.address, later, reasons=(PERMISSION,), path=())
                        added.append((resource.address, later))
    return added


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


def _add_regions(drawing: _Drawing, resource: Resource) -> None:
    """The region a resource lives in, and the regions it sends things to (the catalog's other region
    paths: a template's replication and target regions, a managed image's location)."""
    if resource.location:
        drawing.region(resource.address, resource.location, LOCATION)
    rtype = BY_KIND.get(resource.kind)
    for pattern in rtype.location_paths if rtype is not None else ():
        if pattern == ("location",):
            continue
        for _path, region in values_at(resource.body, pattern):
            if isinstance(region, str) and region:
                drawing.region(resource.address, region, REPLICATION)
