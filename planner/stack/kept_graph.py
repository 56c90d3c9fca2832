"""The stack's graph read back from the rules' cache (rules.cache, `graph-cache.json`), without networkx.

A plan of a stack whose graph was kept asks it only simple questions: the order of the managed resources
(kept with it), what each resource waits for and what waits for it, and an edge's reasons. `KeptGraph`
answers them as networkx's DiGraph does, through the same names (`nodes`, `edges`, `adj`, `successors`,
`predecessors`, `graph`), in the same orders (nodes and edges in the order they were kept), so the
planning code takes either; importing networkx (a seventh of a thousand-template plan's time) is left to
what needs its algorithms, which call `as_networkx` first. The graph is read-only: nothing changes a
stack's graph once it is drawn.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from .model import Stack
from .order import ORDER_KEY, RESOURCE

if TYPE_CHECKING:
    import networkx as nx

GRAPH_FORMAT = 1

_Data = dict[str, Any]


class _Nodes:
    """`graph.nodes`: `nodes[name]` is a node's data; `nodes(data=...)` as networkx's NodeView."""

    def __init__(self, data: dict[str, _Data]) -> None:
        self._data = data

    def __getitem__(self, node: str) -> _Data:
        return self._data[node]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, node: object) -> bool:
        return node in self._data

    def __call__(self, data: bool | str = False, default: Any = None) -> Iterator[Any]:
        if data is False:
            return iter(self._data)
        if data is True:
            return iter(self._data.items())
        return ((node, values.get(data, default)) for node, values in self._data.items())


class _Edges:
    """`graph.edges`: `edges[before, after]` is an edge's data; `edges(data=...)` as networkx's EdgeView."""

    def __init__(self, succ: dict[str, dict[str, _Data]]) -> None:
        self._succ = succ

    def __getitem__(self, edge: tuple[str, str]) -> _Data:
        before, after = edge
        return self._succ[before][after]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((before, after) for before, nexts in self._succ.items() for after in nexts)

    def __len__(self) -> int:
        return sum(len(nexts) for nexts in self._succ.values())

    def __contains__(self, edge: object) -> bool:
        if not isinstance(edge, tuple) or len(edge) != 2:
            return False
        return edge[1] in self._succ.get(edge[0], {})

    def __call__(self, data: bool = False) -> Iterator[Any]:
        if not data:
            return iter(self)
        return ((b, a, values) for b, nexts in self._succ.items() for a, values in nexts.items())


class KeptGraph:
    """A directed graph of named nodes, each edge with its data, read back as it was kept."""

    def __init__(self) -> None:
        self._nodes: dict[str, _Data] = {}
        self._succ: dict[str, dict[str, _Data]] = {}
        self._pred: dict[str, dict[str, _Data]] = {}
        self._added: list[tuple[str, str]] = []  # the edges in the order they were added
        self.graph: dict[str, Any] = {}
        self.nodes = _Nodes(self._nodes)
        self.edges = _Edges(self._succ)

    def add_node(self, node: str, data: _Data) -> None:
        if node not in self._nodes:
            self._succ[node] = {}
            self._pred[node] = {}
        self._nodes[node] = data

    def add_edge(self, before: str, after: str, data: _Data) -> None:
        """An edge between two nodes already added (KeyError otherwise); a second one replaces the first."""
        nexts, previous = self._succ[before], self._pred[after]
        if after not in nexts:
            self._added.append((before, after))
        nexts[after] = previous[before] = data

    @property
    def adj(self) -> Mapping[str, Mapping[str, _Data]]:
        return self._succ

    def __contains__(self, node: object) -> bool:
        return node in self._nodes

    def __iter__(self) -> Iterator[str]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def successors(self, node: str) -> Iterator[str]:
        return iter(self._succ[node])

    def predecessors(self, node: str) -> Iterator[str]:
        return iter(self._pred[node])

    def has_edge(self, before: str, after: str) -> bool:
        return after in self._succ.get(before, {})

    def number_of_nodes(self) -> int:
        return len(self._nodes)

    def number_of_edges(self) -> int:
        return len(self._added)

    def to_networkx(self) -> nx.DiGraph:
        """The same graph as networkx's DiGraph: nodes and edges added in the same order, so that every
        order it gives (each node's successors and predecessors) is this graph's."""
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from(self._nodes.items())
        graph.add_edges_from((before, after, self._succ[before][after]) for before, after in self._added)
        graph.graph.update(self.graph)
        return graph


if TYPE_CHECKING:
    # What the planning code takes: the graph just drawn (networkx's), or the one read back.
    DependencyGraph: TypeAlias = "nx.DiGraph | KeptGraph"


def as_networkx(graph: DependencyGraph) -> nx.DiGraph:
    """`graph` for networkx's algorithms: itself when it is networkx's already."""
    return graph.to_networkx() if isinstance(graph, KeptGraph) else graph


def graph_from_document(document: Any, stack: Stack) -> KeptGraph | None:
    """The graph stack.graph.graph_document kept, made again; None when `document` is not one, or not one
    of `stack` (its managed resources are not the stack's). Each edge is checked as it is added (its ends
    kept nodes, not added twice, its reasons text, its path keys and indexes), in one loop: a
    5,600-resource stack's graph has 21,000 edges."""
    try:
        if not isinstance(document, dict) or document.get("format") != GRAPH_FORMAT:
            return None
        nodes, edges, order = document["nodes"], document["edges"], document["order"]
        if not (isinstance(nodes, list) and isinstance(edges, list) and isinstance(order, list)):
            return None
        graph = KeptGraph()
        for name, data in nodes:
            if not isinstance(name, str) or type(data) is not dict or name in graph:
                return None
            graph.add_node(name, data)
        resources = [n for n, role in graph.nodes(data="role") if role == RESOURCE]
        if resources != [r.address for r in stack.resources]:
            return None
        succ, pred, added = graph._succ, graph._pred, graph._added
        for before, after, reasons, path in edges:
            nexts, previous = succ[before], pred[after]  # KeyError: an edge to a node that was not kept
            if after in nexts or type(reasons) is not list or type(path) is not list:
                return None  # one edge twice, or not an edge's data
            if not all(type(reason) is str for reason in reasons):
                return None
            if not all(type(step) is str or type(step) is int for step in path):
                return None
            nexts[after] = previous[before] = {"reasons": tuple(reasons), "path": tuple(path)}
            added.append((before, after))
        if sorted(order) != sorted(resources):
            return None
        graph.graph[ORDER_KEY] = ((graph.number_of_nodes(), graph.number_of_edges()), tuple(order))
    except (TypeError, ValueError, KeyError):
        return None
    return graph
