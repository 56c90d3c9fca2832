"""The stack's graph kept beside the rules' findings (planner.rules.cache, stack.graph.graph_document).

A graph made again from what was kept is the graph drawn from the stack, in every order networkx gives
(nodes, edges, each node's successors and predecessors) and with the same data; a kept graph that is not
one of the stack is drawn again; a graph with findings, or one of a stack with a secret, is never kept.
A hit is told from a miss by drawing: the test makes drawing fail once the graph is kept. What is made
again is a KeptGraph (planner.stack.kept_graph: no networkx), and as networkx's graph it is the one drawn.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from planner.rules.cache import CACHE_FILE, GRAPH_FILE
from planner.rules.validate import Checked, check_stack
from planner.stack import graph as graph_module
from planner.stack.graph import PERMISSION
from planner.stack.kept_graph import KeptGraph, as_networkx
from tests.helpers import EXAMPLES, FIXTURES, Run, write_stack

EXAMPLE_STACKS = ["quickstart", "base-and-app", "arm-deployment"]

IDENTITY = {
    "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "apiVersion": "2023-01-31",
    "name": "builder",
    "location": "westeurope",
}


def _example(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(EXAMPLES / name, root, ignore=shutil.ignore_patterns(".aibplan", "*.state.json*"))
    return root


def _check(root: Path) -> Checked:
    checked = check_stack(root, cache="create")
    assert checked.stack is not None and checked.graph is not None
    return checked


def _graph_file(root: Path) -> Path:
    found = list((root / ".aibplan").rglob(GRAPH_FILE))
    assert len(found) <= 1
    return found[0] if found else root / ".aibplan" / GRAPH_FILE


def _no_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(stack: Any) -> Any:
        raise AssertionError("the graph was drawn again")

    monkeypatch.setattr(graph_module, "drawn_graph", refuse)


def _assert_same(drawn: nx.DiGraph, kept: Any) -> None:
    assert isinstance(drawn, nx.DiGraph)
    _assert_same_orders(drawn, kept)
    again = as_networkx(kept)
    assert isinstance(again, nx.DiGraph)
    _assert_same_orders(drawn, again)
    assert [(a, b) for a, b in kept.edges] == list(drawn.edges)
    assert (kept.number_of_nodes(), kept.number_of_edges()) == (len(drawn), drawn.number_of_edges())
    assert {node: dict(after) for node, after in kept.adj.items()} == {
        node: dict(after) for node, after in drawn.adj.items()
    }
    for before, after in drawn.edges:
        assert kept.has_edge(before, after) and (before, after) in kept.edges
        assert kept.edges[before, after] == drawn.edges[before, after]
    assert list(kept.nodes(data="role")) == list(drawn.nodes(data="role"))


def _assert_same_orders(drawn: nx.DiGraph, kept: Any) -> None:
    assert list(kept.nodes(data=True)) == list(drawn.nodes(data=True))
    assert list(kept.edges(data=True)) == list(drawn.edges(data=True))
    for node in drawn:
        assert list(kept.successors(node)) == list(drawn.successors(node)), node
        assert list(kept.predecessors(node)) == list(drawn.predecessors(node)), node
    assert kept.graph == drawn.graph
    for _before, _after, data in kept.edges(data=True):
        assert type(data["reasons"]) is tuple and type(data["path"]) is tuple


@pytest.mark.parametrize("name", EXAMPLE_STACKS)
def test_a_kept_graph_is_the_graph_drawn_from_the_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    root = _example(tmp_path, name)
    drawn = _check(root)
    assert _graph_file(root).is_file()
    _no_drawing(monkeypatch)
    kept = _check(root)
    assert isinstance(kept.graph, KeptGraph)
    _assert_same(drawn.graph, kept.graph)
    assert kept.diagnostics == drawn.diagnostics


# The rules that read the graph: across resources (AIB5xxx) and the identities' permissions (AIB91xx).
GRAPH_RULES = sorted(
    path.parent.parent.name
    for path in (FIXTURES / "rules").glob("AIB[59]*/fail/aibplan.json")
    if path.parent.parent.name.startswith(("AIB5", "AIB91"))
)


@pytest.mark.parametrize("code", GRAPH_RULES)
def test_the_rules_find_over_a_kept_graph_what_they_find_over_the_drawn_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    root = tmp_path / code
    shutil.copytree(FIXTURES / "rules" / code / "fail", root)
    drawn = _check(root)
    assert code in {d.code for d in drawn.diagnostics}
    found = list((root / ".aibplan").rglob(CACHE_FILE))
    assert len(found) == 1 and _graph_file(root).is_file()
    found[0].unlink()  # the rules run again, over the graph read back
    _no_drawing(monkeypatch)
    kept = _check(root)
    assert isinstance(kept.graph, KeptGraph)
    assert kept.diagnostics == drawn.diagnostics


def test_the_edges_the_catalog_adds_are_kept_in_their_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _example(tmp_path, "quickstart")
    drawn = _check(root).graph
    assert drawn is not None
    assert any(PERMISSION in data["reasons"] for _a, _b, data in drawn.edges(data=True))
    _no_drawing(monkeypatch)
    kept = _check(root).graph
    assert kept is not None
    assert [(a, b) for a, b, d in kept.edges(data=True) if PERMISSION in d["reasons"]] == [
        (a, b) for a, b, d in drawn.edges(data=True) if PERMISSION in d["reasons"]
    ]


def test_the_graph_view_is_the_same_from_a_kept_graph(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = _example(tmp_path, "base-and-app")
    (root / ".aibplan").mkdir()
    first = cli("graph", "-C", str(root))
    assert first.exit_code == 0, first.stderr
    assert _graph_file(root).is_file()
    assert cli("graph", "-C", str(root)).stdout == first.stdout


def test_a_targeted_plan_is_the_same_from_a_kept_graph(tmp_path: Path, cli: Callable[..., Run]) -> None:
    """--target asks networkx what the target depends on: the kept graph is handed to it as networkx's."""
    root = _example(tmp_path, "base-and-app")
    (root / ".aibplan").mkdir()
    first = cli("plan", "--target", "imageTemplate.webapp", str(root))
    assert first.exit_code == 0, first.stderr
    assert _graph_file(root).is_file()
    again = cli("plan", "--target", "imageTemplate.webapp", str(root))
    assert again.exit_code == 0, again.stderr
    assert again.stdout == first.stdout
    assert "identity.aibLayered" in first.stdout and "imageTemplate.base" not in first.stdout


def test_a_changed_stack_draws_its_graph_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _example(tmp_path, "quickstart")
    _check(root)
    before = json.loads(_graph_file(root).read_text())
    (root / "another.json").write_text(json.dumps({**IDENTITY, "name": "another"}))
    drawn = check_stack(root, cache="off").graph
    kept = _check(root).graph
    assert drawn is not None and kept is not None and "identity.another" in kept
    _assert_same(drawn, kept)
    after = json.loads(_graph_file(root).read_text())
    assert after["key"] != before["key"] and len(after["graph"]["nodes"]) > len(before["graph"]["nodes"])
    _no_drawing(monkeypatch)
    again = _check(root).graph
    assert isinstance(again, KeptGraph)
    _assert_same(drawn, again)


def _tampered(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def tamper(file: Path) -> None:
        document = json.loads(file.read_text())
        change(document["graph"])
        file.write_text(json.dumps(document))

    return tamper


def _drop_resource(graph: dict[str, Any]) -> None:
    graph["nodes"] = [node for node in graph["nodes"] if node[1].get("role") != "resource"][:-1] + [
        node for node in graph["nodes"] if node[1].get("role") == "resource"
    ][1:]


TAMPERED: dict[str, Callable[[Path], object]] = {
    "not JSON": lambda file: file.write_text("{ not json"),
    "empty": lambda file: file.write_bytes(b""),
    "another format": _tampered(lambda graph: graph.update(format=99)),
    "a resource missing": _tampered(_drop_resource),
    "an edge to a node not kept": _tampered(
        lambda graph: graph["edges"].append(["x", "y", ["dependsOn"], []])
    ),
    "an edge twice": _tampered(lambda graph: graph["edges"].append(graph["edges"][0])),
    "an edge of the wrong shape": _tampered(lambda graph: graph["edges"].append([1])),
    "node data not an object": _tampered(
        lambda graph: graph["nodes"].__setitem__(0, [graph["nodes"][0][0], 1])
    ),
    "reasons that are not text": _tampered(lambda graph: graph["edges"][0].__setitem__(2, "dependsOn")),
    "a path step that is not a key or an index": _tampered(
        lambda graph: graph["edges"][0].__setitem__(3, [1.5])
    ),
    "an order of other resources": _tampered(lambda graph: graph["order"].pop()),
    "no order": _tampered(lambda graph: graph.update(order=None)),
    "nested too deep": lambda file: file.write_bytes(b"[" * 100_000),
}


@pytest.mark.parametrize("how", sorted(TAMPERED))
def test_a_kept_graph_that_is_not_one_of_the_stack_is_drawn_again(tmp_path: Path, how: str) -> None:
    root = _example(tmp_path, "base-and-app")
    drawn = _check(root)
    TAMPERED[how](_graph_file(root))
    again = _check(root)
    _assert_same(drawn.graph, again.graph)
    assert again.diagnostics == drawn.diagnostics
    assert json.loads(_graph_file(root).read_text())["graph"]["format"] == 1  # written anew


def test_a_graph_with_findings_is_never_kept_and_they_are_found_every_time(tmp_path: Path) -> None:
    dangling = {**IDENTITY, "dependsOn": ["nowhere"]}
    root = write_stack(tmp_path / "stack", {"identity.json": dangling})
    for _ in range(2):
        checked = check_stack(root, cache="create")
        assert any(d.code == "AIB1002" for d in checked.diagnostics)
    assert not _graph_file(root).exists()


SECRET = "Xk9vPlainAdm1nPw"


def test_the_graph_of_a_stack_with_a_secret_is_never_kept(tmp_path: Path, cli: Callable[..., Run]) -> None:
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"where": {"type": "securestring"}},
        "resources": [{**IDENTITY, "location": "[parameters('where')]"}],
    }
    root = write_stack(tmp_path / "stack", {"template.json": template})
    (root / ".aibplan").mkdir()
    for _ in range(2):
        cli("validate", "--var", f"where={SECRET}", str(root))
    assert not _graph_file(root).exists()
    for file in (root / ".aibplan").rglob("*"):
        assert SECRET not in file.read_text(errors="replace"), file
