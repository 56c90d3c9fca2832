"""ARM copy loops as a stack loads them: a resource loop's instances with their own addresses, property and
variable loops, copyIndex() with loop names and offsets, and the graph's edges (dependsOn a loop, serial
batches)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from planner.stack.expressions import Evaluator, ExpressionError, Scope
from planner.stack.graph import COPY_SERIAL, DEPENDS_ON, build_graph, topological_addresses
from planner.stack.loader import load_stack
from planner.stack.model import Stack
from tests.helpers import write_stack

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def template(resources: list[dict[str, Any]], **sections: Any) -> dict[str, Any]:
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", **sections, "resources": resources}


def identity(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "apiVersion": "2023-01-31",
        "name": name,
        **extra,
    }


def gallery(name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Microsoft.Compute/galleries", "apiVersion": "2022-03-03", "name": name, **extra}


def load(tmp_path: Path, document: dict[str, Any], *variables: tuple[str, str]) -> Stack:
    root = write_stack(tmp_path / "stack", {"main.json": document})
    stack, diagnostics = load_stack(root, variables=variables)
    assert stack is not None, [str(d) for d in diagnostics]
    assert not diagnostics, [str(d) for d in diagnostics]
    return stack


def test_a_resource_loop_makes_one_resource_per_index_each_with_its_own_address(tmp_path: Path) -> None:
    document = template(
        [
            identity(
                "[concat('id-', parameters('regions')[copyIndex()])]",
                location="[parameters('regions')[copyIndex()]]",
                tags={"ordinal": "[string(copyIndex(1))]"},
                copy={"name": "builders", "count": "[length(parameters('regions'))]"},
            )
        ],
        parameters={"regions": {"type": "array", "defaultValue": ["westeurope", "northeurope", "eastus"]}},
    )
    stack = load(tmp_path, document)
    assert [r.address for r in stack.resources] == [
        "identity.builders[0]",
        "identity.builders[1]",
        "identity.builders[2]",
    ]
    assert [r.name for r in stack.resources] == ["id-westeurope", "id-northeurope", "id-eastus"]
    assert [r.body["tags"]["ordinal"] for r in stack.resources] == ["1", "2", "3"]
    assert stack.resources[2].arm_id.endswith("/userAssignedIdentities/id-eastus")
    assert stack.resources[2].location == "eastus"


def test_the_count_follows_a_parameter_and_zero_makes_none(tmp_path: Path) -> None:
    document = template(
        [identity("[format('id-{0}', copyIndex())]", copy={"name": "ids", "count": "[parameters('n')]"})],
        parameters={"n": {"type": "int", "defaultValue": 2}},
    )
    assert len(load(tmp_path / "a", document).resources) == 2
    assert len(load(tmp_path / "b", document, ("n", "12")).resources) == 12
    empty = load(tmp_path / "c", document, ("n", "0"))
    assert empty.resources == () and empty.copy_loops == ("ids",)


def test_addresses_order_by_index(tmp_path: Path) -> None:
    document = template([identity("[format('id-{0}', copyIndex())]", copy={"name": "ids", "count": 11})])
    addresses = [r.address for r in load(tmp_path, document).resources]
    assert addresses[2] == "identity.ids[2]" and addresses[-1] == "identity.ids[10]"


def test_property_loops_build_arrays_inside_properties_with_the_resource_loop_around_them(
    tmp_path: Path,
) -> None:
    """A property loop nested in a resource loop: copyIndex() is the resource's index, copyIndex('name')
    the property loop's; a loop inside a loop's input sees both names."""
    inner = {
        "name": "ids",
        "count": "[add(copyIndex('groups'), 1)]",
        "input": "[format('{0}.{1}', copyIndex('groups'), copyIndex('ids'))]",
    }
    document = template(
        [
            gallery(
                "[format('gal{0}', copyIndex())]",
                properties={
                    "description": "[format('gallery {0}', copyIndex())]",
                    "sharingProfile": {
                        "copy": [
                            {
                                "name": "groups",
                                "count": 2,
                                "input": {
                                    "type": "[format('type-{0}-{1}', copyIndex(), copyIndex('groups'))]",
                                    "copy": [inner],
                                },
                            }
                        ]
                    },
                },
                copy={"name": "galleries", "count": 2},
            )
        ]
    )
    stack = load(tmp_path, document)
    second = stack.by_address["gallery.galleries[1]"]
    assert second.properties["description"] == "gallery 1"
    assert second.properties["sharingProfile"] == {
        "groups": [{"type": "type-1-0", "ids": ["0.0"]}, {"type": "type-1-1", "ids": ["1.0", "1.1"]}]
    }


def test_a_property_loop_in_a_file_without_expressions_is_still_made(tmp_path: Path) -> None:
    document = template(
        [
            gallery(
                "gal", properties={"sharingProfile": {"copy": [{"name": "groups", "count": 2, "input": {}}]}}
            )
        ]
    )
    stack = load(tmp_path, document)
    assert stack.resources[0].properties["sharingProfile"] == {"groups": [{}, {}]}


def test_variable_loops_at_the_top_and_inside_a_variable(tmp_path: Path) -> None:
    document = template(
        [identity("id", tags="[variables('shaped').labels]", properties={})],
        variables={
            "copy": [{"name": "names", "count": 3, "input": "[concat('n', copyIndex('names', 1))]"}],
            "shaped": {
                "copy": [{"name": "labels", "count": 2, "input": "[variables('names')[copyIndex('labels')]]"}]
            },
        },
    )
    document["resources"][0]["tags"] = {
        "all": "[string(variables('names'))]",
        "first": "[variables('shaped').labels[0]]",
    }
    tags = load(tmp_path, document).resources[0].body["tags"]
    assert tags == {"all": '["n1","n2","n3"]', "first": "n1"}


def test_depends_on_a_loop_name_waits_for_every_instance(tmp_path: Path) -> None:
    document = template(
        [
            identity("[format('id-{0}', copyIndex())]", copy={"name": "ids", "count": 3}),
            gallery("gal", dependsOn=["ids"]),
            gallery("gal2", dependsOn=["none"]),
            identity("[format('other-{0}', copyIndex())]", copy={"name": "none", "count": 0}),
        ]
    )
    stack = load(tmp_path, document)
    graph, problems = build_graph(stack)
    assert problems == []
    assert sorted(graph.predecessors("gallery.gal")) == [f"identity.ids[{i}]" for i in range(3)]
    assert graph.edges["identity.ids[1]", "gallery.gal"]["reasons"] == (DEPENDS_ON,)


@pytest.mark.parametrize(
    ("copy", "edges"),
    [
        ({"mode": "serial"}, {(0, 1), (1, 2), (2, 3)}),
        ({"mode": "Serial", "batchSize": 2}, {(0, 2), (0, 3), (1, 2), (1, 3)}),
        ({"mode": "parallel", "batchSize": 2}, set()),
        ({}, set()),
    ],
)
def test_a_serial_loop_applies_batch_after_batch(
    tmp_path: Path, copy: dict[str, Any], edges: set[tuple[int, int]]
) -> None:
    document = template(
        [identity("[format('id-{0}', copyIndex())]", copy={"name": "ids", "count": 4, **copy})]
    )
    graph, _ = build_graph(load(tmp_path, document))
    found = {
        (int(a[-2]), int(b[-2])) for a, b, reasons in graph.edges(data="reasons") if COPY_SERIAL in reasons
    }
    assert found == edges
    if edges:
        assert topological_addresses(graph)[0] == "identity.ids[0]"


def test_names_without_copy_index_make_one_resource_twice(tmp_path: Path) -> None:
    root = write_stack(
        tmp_path, {"main.json": template([identity("same", copy={"name": "ids", "count": 2})])}
    )
    stack, diagnostics = load_stack(root)
    assert stack is None
    assert [d.code for d in diagnostics] == ["AIB0007"]
    assert "identity.ids[1]" in diagnostics[0].message


def test_two_files_with_loops_of_one_name_and_kind_clash(tmp_path: Path) -> None:
    loop = {"name": "ids", "count": 1}
    root = write_stack(
        tmp_path,
        {
            "a.json": template([identity("[format('a-{0}', copyIndex())]", copy=loop)]),
            "b.json": template([identity("[format('b-{0}', copyIndex())]", copy=loop)]),
        },
    )
    stack, diagnostics = load_stack(root)
    assert stack is None
    assert [(d.code, d.file) for d in diagnostics] == [("AIB0034", "b.json")]
    assert "identity.ids[0] is made by two copy loops (also in a.json)" in diagnostics[0].message


def test_copy_index_in_a_variable_outside_its_loop_is_refused(tmp_path: Path) -> None:
    document = template(
        [identity("[variables('name')]", copy={"name": "ids", "count": 2})],
        variables={"name": "[format('id-{0}', copyIndex())]"},
    )
    root = write_stack(tmp_path, {"main.json": document})
    stack, diagnostics = load_stack(root)
    assert stack is None
    assert {d.code for d in diagnostics} == {"AIB0033"}
    assert "only allowed inside a copy loop" in diagnostics[0].message


def test_a_count_known_only_after_apply_is_refused(tmp_path: Path) -> None:
    document = template(
        [
            identity("id"),
            gallery(
                "[format('g{0}', copyIndex())]",
                copy={"name": "gals", "count": "[length(reference('id').principalId)]"},
            ),
        ]
    )
    root = write_stack(tmp_path, {"main.json": document})
    stack, diagnostics = load_stack(root)
    assert stack is None
    assert [d.code for d in diagnostics] == ["AIB0004"]
    assert "'copy' must be known before apply" in diagnostics[0].message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[copyIndex()]", "copyIndex() is only allowed inside a copy loop"),
        (
            "[copyIndex('disks')]",
            "copyIndex('disks'): no copy loop of that name encloses it (it is inside 'web')",
        ),
        ("[copyIndex('web', 'x')]", "copyIndex() expects an integer offset, got string"),
        ("[copyIndex(1, 2)]", "copyIndex() expects a loop name as its first argument, got integer"),
    ],
)
def test_copy_index_errors_say_which_loop(text: str, message: str) -> None:
    evaluator = Evaluator(Scope("sub", "rg", "westus2"), {}, {})
    with pytest.raises(ExpressionError) as caught:
        if text == "[copyIndex()]":
            evaluator.evaluate_string(text)
        else:
            with evaluator.loops.resource_instance("web", 0):
                evaluator.evaluate_string(text)
    assert caught.value.message.startswith(message)


def test_copy_index_inside_a_property_loop_without_a_resource_loop_needs_the_name() -> None:
    evaluator = Evaluator(Scope("sub", "rg", "westus2"), {}, {})
    with evaluator.loops.item("disks", 1):
        assert evaluator.evaluate_string("[copyIndex('DISKS', 10)]") == 11
        with pytest.raises(ExpressionError, match=r"name the loop it is in, copyIndex\('disks'\)"):
            evaluator.evaluate_string("[copyIndex()]")
