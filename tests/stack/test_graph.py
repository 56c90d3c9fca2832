"""The dependency graph: edges and their reasons, external and region nodes, order, cycles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import networkx as nx
import pytest

from planner.render.graph import to_dot, to_mermaid
from planner.stack.graph import build_graph, references, topological_addresses
from planner.stack.loader import load_stack
from tests.helpers import write_stack
from tests.helpers.processes import aibplan

IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities"


def quickstart_graph(example: Callable[[str], Path]):  # type: ignore[no-untyped-def]
    stack, _ = load_stack(example("quickstart"))
    assert stack is not None
    graph, diagnostics = build_graph(stack)
    assert diagnostics == []
    return graph


def test_edges_carry_their_reasons(example: Callable[[str], Path]) -> None:
    graph = quickstart_graph(example)
    reasons = {(a, b): set(d["reasons"]) for a, b, d in graph.edges(data=True)}
    assert reasons[("gallery.corpImages", "imageDefinition.corpImages/ubuntu2204")] == {"parent", "dependsOn"}
    assert reasons[("identity.aibBuilder", "imageTemplate.ubuntu2204")] == {"identity", "dependsOn"}
    assert reasons[("imageDefinition.corpImages/ubuntu2204", "imageTemplate.ubuntu2204")] == {
        "distribute",
        "dependsOn",
    }
    assert reasons[("imageTemplate.ubuntu2204", "region.eastus")] == {"replicationRegion"}
    assert "location" in reasons[("imageTemplate.ubuntu2204", "region.westus2")]


def test_order_puts_gallery_and_definition_before_the_template(example: Callable[[str], Path]) -> None:
    order = topological_addresses(quickstart_graph(example))
    assert order.index("gallery.corpImages") < order.index("imageDefinition.corpImages/ubuntu2204")
    assert order.index("imageDefinition.corpImages/ubuntu2204") < order.index("imageTemplate.ubuntu2204")
    assert order.index("identity.aibBuilder") < order.index("imageTemplate.ubuntu2204")


def test_a_changed_copy_of_a_resource_has_the_references_of_its_own_body(
    example: Callable[[str], Path],
) -> None:
    stack, _ = load_stack(example("quickstart"))
    assert stack is not None
    template = stack.by_address["imageTemplate.ubuntu2204"]
    before = {(r.reason, r.arm_id.rsplit("/", 1)[-1]) for r in references(template)}
    assert ("identity", "aibBuilder") in before
    body = dict(template.body)
    body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {template.arm_id + "x": {}}}
    changed = replace(template, body=body)
    assert {(r.reason, r.arm_id.rsplit("/", 1)[-1]) for r in references(changed)} == (
        before - {("identity", "aibBuilder")}
    ) | {("identity", "ubuntu2204x")}
    assert {(r.reason, r.arm_id.rsplit("/", 1)[-1]) for r in references(template)} == before


def test_ids_no_resource_declares_become_external_nodes(tmp_path: Path) -> None:
    sub = "/subscriptions/s/resourceGroups/shared/providers"
    template = {
        "type": "Microsoft.VirtualMachineImages/imageTemplates",
        "name": "app",
        "identity": {
            "type": "UserAssigned",
            "userAssignedIdentities": {f"{sub}/Microsoft.ManagedIdentity/userAssignedIdentities/ops": {}},
        },
        "properties": {
            "source": {
                "type": "SharedImageVersion",
                "imageVersionId": f"{sub}/Microsoft.Compute/galleries/base/images/linux/versions/1.0.0",
            },
            "vmProfile": {
                "vnetConfig": {"subnetId": f"{sub}/Microsoft.Network/virtualNetworks/v/subnets/build"}
            },
            "distribute": [
                {
                    "type": "ManagedImage",
                    "imageId": f"{sub}/Microsoft.Compute/images/app",
                    "location": "eastus",
                    "runOutputName": "mi",
                }
            ],
        },
    }
    stack, _ = load_stack(write_stack(tmp_path, {"t.json": template}))
    assert stack is not None
    graph, diagnostics = build_graph(stack)
    assert diagnostics == []
    externals = {n: d for n, d in graph.nodes(data=True) if d["role"] == "external"}
    assert set(externals) == {"data.identity.ops", "data.imageDefinition.base/linux", "data.subnet.v/build"}
    assert graph.edges["data.subnet.v/build", "imageTemplate.app"]["reasons"] == ("subnet",)
    assert graph.edges["data.imageDefinition.base/linux", "imageTemplate.app"]["reasons"] == ("source",)
    assert "region.eastus" in graph


def test_depends_on_by_resource_id_and_by_type_and_name(tmp_path: Path) -> None:
    resources = [
        {"type": "Microsoft.Compute/galleries", "name": "g"},
        {
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "name": "a",
            "dependsOn": ["[resourceId('Microsoft.Compute/galleries', 'g')]"],
        },
        {
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "name": "b",
            "dependsOn": ["Microsoft.ManagedIdentity/userAssignedIdentities/a"],
        },
    ]
    stack, _ = load_stack(write_stack(tmp_path, {"r.json": resources}))
    assert stack is not None
    graph, diagnostics = build_graph(stack)
    assert diagnostics == []
    assert graph.has_edge("gallery.g", "identity.a") and graph.has_edge("identity.a", "identity.b")


def test_cycle_names_every_resource_on_it(tmp_path: Path) -> None:
    resources = [
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "name": n, "dependsOn": [d]}
        for n, d in (("a", "b"), ("b", "a"), ("c", "a"))
    ]
    stack, _ = load_stack(write_stack(tmp_path, {"r.json": resources}))
    assert stack is not None
    _, diagnostics = build_graph(stack)
    (d,) = diagnostics
    assert d.code == "AIB1001" and "identity.a" in d.message and "identity.b" in d.message
    assert "identity.c" not in d.message


def test_order_breaks_ties_by_address_and_follows_a_changed_graph(tmp_path: Path) -> None:
    resources = [
        {"type": IDENTITY, "name": name, "dependsOn": depends_on}
        for name, depends_on in (("delta", []), ("alpha", ["delta"]), ("charlie", []), ("bravo", []))
    ]
    stack, _ = load_stack(write_stack(tmp_path, {"r.json": resources}))
    assert stack is not None
    graph, diagnostics = build_graph(stack)
    assert diagnostics == []
    order = ["identity.bravo", "identity.charlie", "identity.delta", "identity.alpha"]
    assert topological_addresses(graph) == order
    # The order build_graph found is not kept for a graph changed since.
    changed = graph.copy()
    changed.add_edge("identity.charlie", "identity.bravo", reasons=("dependsOn",), path=())
    assert topological_addresses(changed) == [
        "identity.charlie",
        "identity.bravo",
        "identity.delta",
        "identity.alpha",
    ]
    changed.add_edge("identity.alpha", "identity.delta", reasons=("dependsOn",), path=())
    with pytest.raises(nx.NetworkXUnfeasible):
        topological_addresses(changed)


def test_a_cycle_is_named_the_same_way_in_every_run(tmp_path: Path) -> None:
    cycle = [("a", "b"), ("b", "c"), ("c", "a")]
    others = [(f"other{n:02d}", "a") for n in range(30)]  # many resources beside it, some waiting for it
    resources = [{"type": IDENTITY, "name": n, "dependsOn": [d]} for n, d in cycle + others]
    root = write_stack(tmp_path, {"r.json": resources})
    shown = set()
    for seed in ("1", "2", "3"):  # Python orders sets of strings differently in each of these runs
        done = aibplan("validate", ".", cwd=root, env={"PYTHONHASHSEED": seed})
        shown |= {line for line in done.stderr.splitlines() if "AIB1001" in line}
    assert shown == {
        "r.json:2:3: error AIB1001 dependency cycle: identity.a → identity.c → identity.b → identity.a "
        "(identity.a)"
    }


def test_dot_and_mermaid_show_reasons(example: Callable[[str], Path]) -> None:
    graph = quickstart_graph(example)
    dot = to_dot(graph)
    assert '"identity.aibBuilder" -> "imageTemplate.ubuntu2204" [label="dependsOn, identity"];' in dot
    mermaid = to_mermaid(graph)
    assert mermaid.startswith("flowchart LR\n")
    assert '-->|"dependsOn, distribute"|' in mermaid
