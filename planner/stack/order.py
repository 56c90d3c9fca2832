"""The order the managed resources of a graph are applied in, the cycles that leave them none, and what each
waits for (stack.graph builds the graph and keeps its order on it)."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from providers.catalog.references import REFERENCE

from ..diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    import networkx as nx

    from .kept_graph import DependencyGraph

RESOURCE = "resource"


def resource_subgraph(graph: nx.DiGraph) -> nx.DiGraph:
    """Only the managed resources and the edges between them: the order apply walks."""
    nodes = [n for n, role in graph.nodes(data="role") if role == RESOURCE]
    return graph.subgraph(nodes)


def find_cycles(graph: nx.DiGraph) -> list[Diagnostic]:
    """A diagnostic for each group of managed resources that depend on each other in a circle, naming one
    circle through them: the first found from the smallest address, following the edges in the order
    they were drawn (the same circle every run)."""
    import networkx as nx

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


def dependencies(graph: DependencyGraph, address: str) -> tuple[str, ...]:
    """The managed resources `address` is applied after (direct predecessors)."""
    return tuple(sorted(p for p in graph.predecessors(address) if graph.nodes[p].get("role") == RESOURCE))


def topological_addresses(graph: DependencyGraph) -> list[str]:
    """Managed resources in a stable dependency order (ties broken by address): the order build_graph
    found, unless the graph changed since. Raises networkx.NetworkXUnfeasible on a cycle."""
    kept = graph.graph.get(ORDER_KEY)
    if kept is not None and kept[0] == _shape(graph):
        return list(kept[1])
    order = _resource_order(graph)
    if order is None:
        import networkx as nx

        raise nx.NetworkXUnfeasible("the managed resources' dependencies form a cycle")
    return order


# Where build_graph keeps the order of an acyclic graph, with the graph's shape then (_shape).
ORDER_KEY = "aibplan.resource_order"


def _shape(graph: DependencyGraph) -> tuple[int, int]:
    """Node and edge counts: an order kept for a graph is used only while they are the same (nothing
    changes the stack's graph once built; a copy that someone changes gets its own order)."""
    return graph.number_of_nodes(), graph.number_of_edges()


def _resource_order(graph: DependencyGraph) -> list[str] | None:
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


def keep_order(graph: nx.DiGraph) -> bool:
    """Find the order of the graph's managed resources and keep it on the graph for topological_addresses;
    False when they form a cycle (find_cycles says where)."""
    order = _resource_order(graph)
    if order is None:
        return False
    graph.graph[ORDER_KEY] = (_shape(graph), tuple(order))
    return True
