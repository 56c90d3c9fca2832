"""A syntax check of Mermaid flowcharts, for the statements aibplan writes (graph, plan and drift charts).

It follows Mermaid's flowchart grammar for: the `flowchart DIR` header; nodes `id["label"]`, `id(("label"))`,
`id[/"label"/]`; links `a --> b` and `a -->|"label"| b`; `classDef name prop:value,...`; `class a,b name`.
Beyond the grammar it checks what makes a chart render wrong without a syntax error: a link or class to a
node never declared, a node declared twice, a class never defined, an id Mermaid reserves (`end`,
`graph`, ...), a label that would close its quotes early.
"""

from __future__ import annotations

import re

_DIRECTIONS = ("LR", "RL", "TB", "TD", "BT")
_ID = r"[A-Za-z_][A-Za-z0-9_]*"
_NODE = re.compile(
    rf'^(?P<id>{_ID})(?:\["(?P<label>[^"]*)"\]|\(\("(?P<label2>[^"]*)"\)\)|\[/"(?P<label3>[^"]*)"/\])$'
)
_LINK = re.compile(rf'^(?P<a>{_ID}) -->(?:\|"(?P<label>[^"|]*)"\|)? (?P<b>{_ID})$')
_CLASSDEF = re.compile(
    rf"^classDef (?P<name>{_ID}) (?P<styles>[a-z-]+:[#A-Za-z0-9.%-]+(?:,[a-z-]+:[#A-Za-z0-9.%-]+)*)$"
)
_CLASS = re.compile(rf"^class (?P<ids>{_ID}(?:,{_ID})*) (?P<name>{_ID})$")
_RESERVED = {
    "end",
    "graph",
    "flowchart",
    "subgraph",
    "class",
    "classDef",
    "click",
    "style",
    "linkStyle",
    "direction",
}
_LABEL_MARKUP = re.compile(r"<(?!br/>)[^>]*>")


class MermaidSyntaxError(AssertionError):
    pass


def check_flowchart(text: str) -> dict[str, str]:
    """Check a flowchart; returns its nodes (id → label). Raises MermaidSyntaxError with the line."""
    lines = [line.strip() for line in text.strip("\n").split("\n")]
    header = lines[0].split()
    if len(header) != 2 or header[0] != "flowchart" or header[1] not in _DIRECTIONS:
        raise MermaidSyntaxError(f"line 1: expected `flowchart LR|TD|...`, got {lines[0]!r}")
    nodes: dict[str, str] = {}
    links: list[tuple[int, str, str]] = []
    classes: list[tuple[int, list[str], str]] = []
    defined: set[str] = set()
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        if m := _CLASSDEF.match(line):
            defined.add(m["name"])
        elif m := _CLASS.match(line):
            classes.append((number, m["ids"].split(","), m["name"]))
        elif m := _LINK.match(line):
            links.append((number, m["a"], m["b"]))
        elif m := _NODE.match(line):
            node = m["id"]
            label = m["label"] or m["label2"] or m["label3"] or ""
            if node in nodes:
                raise MermaidSyntaxError(f"line {number}: node {node} declared twice")
            if node in _RESERVED:
                raise MermaidSyntaxError(f"line {number}: {node!r} is a Mermaid keyword")
            if _LABEL_MARKUP.search(label):
                raise MermaidSyntaxError(f"line {number}: markup in label {label!r}")
            nodes[node] = label
        else:
            raise MermaidSyntaxError(f"line {number}: not a flowchart statement: {line!r}")
    for number, a, b in links:
        for end in (a, b):
            if end not in nodes:
                raise MermaidSyntaxError(f"line {number}: link to undeclared node {end}")
    for number, ids, name in classes:
        if name not in defined:
            raise MermaidSyntaxError(f"line {number}: class {name} has no classDef")
        for node in ids:
            if node not in nodes:
                raise MermaidSyntaxError(f"line {number}: class for undeclared node {node}")
    return nodes
