"""`aibplan graph`: the dependency graph as Graphviz dot or Mermaid, with the reasons on the edges."""

from __future__ import annotations

import json
import re

import networkx as nx

from ..stack.graph import EXTERNAL, REGION, RESOURCE

_SHAPES = {RESOURCE: "box", EXTERNAL: "box, style=dashed", REGION: "ellipse"}


def to_dot(graph: nx.DiGraph) -> str:
    lines = ["digraph aibplan {", "  rankdir=LR;"]
    for node, data in sorted(graph.nodes(data=True)):
        shape = _SHAPES.get(data.get("role", RESOURCE), "box")
        lines.append(f"  {json.dumps(node)} [shape={shape}];")
    for before, after, data in sorted(graph.edges(data=True)):
        label = ", ".join(data.get("reasons", ()))
        lines.append(f"  {json.dumps(before)} -> {json.dumps(after)} [label={json.dumps(label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def mermaid_id(node: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", node)


def to_mermaid(graph: nx.DiGraph, *, classes: dict[str, str] | None = None) -> str:
    lines = ["flowchart LR"]
    for node, data in sorted(graph.nodes(data=True)):
        role = data.get("role", RESOURCE)
        label = node.replace('"', "'")
        if role == REGION:
            lines.append(f'  {mermaid_id(node)}(("{label}"))')
        elif role == EXTERNAL:
            lines.append(f'  {mermaid_id(node)}[/"{label}"/]')
        else:
            lines.append(f'  {mermaid_id(node)}["{label}"]')
    for before, after, data in sorted(graph.edges(data=True)):
        label = ", ".join(data.get("reasons", ())).replace('"', "'")
        lines.append(f'  {mermaid_id(before)} -->|"{label}"| {mermaid_id(after)}')
    for node, css in sorted((classes or {}).items()):
        if node in graph:
            lines.append(f"  class {mermaid_id(node)} {css}")
    return "\n".join(lines) + "\n"
