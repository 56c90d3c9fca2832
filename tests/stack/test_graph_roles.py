"""The role kinds' edges come from the catalog: scope and role definition from the assignment, and the
order against image templates (`applied_before`) without a cycle when an assignment is on a template."""

from __future__ import annotations

from pathlib import Path

from planner.stack.graph import build_graph
from planner.stack.loader import load_stack
from tests.helpers import write_stack

GUID = "0c1d2e3f-0000-4000-8000-0000000000{:02d}"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
ROLE = f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{READER}')]"


def assignment(number: int, **scope: str) -> dict[str, object]:
    return {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": "2022-04-01",
        "name": GUID.format(number),
        **scope,
        "properties": {"roleDefinitionId": ROLE, "principalId": GUID.format(99)},
    }


TEMPLATE = {
    "type": "Microsoft.VirtualMachineImages/imageTemplates",
    "apiVersion": "2024-02-01",
    "name": "t",
    "properties": {"source": {"type": "PlatformImage"}, "distribute": []},
}


def test_assignments_come_before_templates_unless_they_are_on_one(tmp_path: Path) -> None:
    on_template = assignment(2, scope="[resourceId('Microsoft.VirtualMachineImages/imageTemplates', 't')]")
    root = write_stack(tmp_path, {"stack.json": [TEMPLATE, assignment(1), on_template]})
    stack, diagnostics = load_stack(root)
    assert stack is not None, diagnostics
    graph, problems = build_graph(stack)
    assert problems == []
    first, second = (f"roleAssignment.{GUID.format(n)}" for n in (1, 2))
    assert graph.edges[first, "imageTemplate.t"]["reasons"] == ("permission",)
    assert graph.edges["imageTemplate.t", second]["reasons"] == ("scope",)
    assert not graph.has_edge(second, "imageTemplate.t")
    role = f"data.roleDefinition.{READER}"
    assert graph.edges[role, first]["reasons"] == ("roleDefinition",)
