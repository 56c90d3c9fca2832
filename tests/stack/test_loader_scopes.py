"""Extension resources load at their scope, in every way an ARM template writes one: a `scope` on a
role assignment, the nested `providers/roleAssignments` type (on its own or as a child resource), a role
definition at subscription scope; a scope that names nothing is a one-line error."""

from __future__ import annotations

from pathlib import Path

from planner.stack.loader import load_stack
from tests.helpers import write_stack

GROUP = "/subscriptions/sub-1/resourceGroups/rg-images"
GALLERY = f"{GROUP}/providers/Microsoft.Compute/galleries/corpImages"
ASSIGNMENT = "0c1d2e3f-0000-4000-8000-000000000001"
READER = "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
PROPERTIES = {"roleDefinitionId": f"/subscriptions/sub-1{READER}", "principalId": ASSIGNMENT}


def template(*resources: object) -> dict[str, object]:
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": list(resources),
    }


def ids(root: Path) -> dict[str, str]:
    stack, diagnostics = load_stack(root)
    assert stack is not None, [d.message for d in diagnostics]
    return {r.address: r.arm_id for r in stack.resources}


def test_a_scope_puts_a_role_assignment_on_a_resource(tmp_path: Path) -> None:
    assignment = {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": "2022-04-01",
        "name": ASSIGNMENT,
        "scope": "[resourceId('Microsoft.Compute/galleries', 'corpImages')]",
        "properties": PROPERTIES,
    }
    root = write_stack(tmp_path, {"roles.json": template(assignment)})
    on_gallery = f"{GALLERY}/providers/Microsoft.Authorization/roleAssignments/{ASSIGNMENT}"
    assert ids(root) == {f"roleAssignment.{ASSIGNMENT}": on_gallery}
    stack, _ = load_stack(root)
    assert stack is not None and "location" not in stack.resources[0].body  # a role assignment has no region


def test_a_nested_providers_type_on_its_own_or_as_a_child(tmp_path: Path) -> None:
    nested = {
        "type": "Microsoft.Compute/galleries/images/providers/roleAssignments",
        "apiVersion": "2022-04-01",
        "name": f"corpImages/ubuntu/Microsoft.Authorization/{ASSIGNMENT}",
        "properties": PROPERTIES,
    }
    child = {
        "type": "providers/roleAssignments",
        "apiVersion": "2022-04-01",
        "name": "Microsoft.Authorization/0c1d2e3f-0000-4000-8000-000000000002",
        "properties": PROPERTIES,
    }
    gallery = {
        "type": "Microsoft.Compute/galleries",
        "apiVersion": "2024-03-03",
        "name": "corpImages",
        "resources": [child],
    }
    found = ids(write_stack(tmp_path, {"roles.json": template(nested, gallery)}))
    assert found[f"roleAssignment.{ASSIGNMENT}"] == (
        f"{GALLERY}/images/ubuntu/providers/Microsoft.Authorization/roleAssignments/{ASSIGNMENT}"
    )
    assert found["roleAssignment.0c1d2e3f-0000-4000-8000-000000000002"] == (
        f"{GALLERY}/providers/Microsoft.Authorization/roleAssignments/0c1d2e3f-0000-4000-8000-000000000002"
    )


def test_a_role_definition_in_the_subscription_or_the_group(tmp_path: Path) -> None:
    def role(name: str, **scope: str) -> dict[str, object]:
        return {
            "type": "Microsoft.Authorization/roleDefinitions",
            "apiVersion": "2022-04-01",
            "name": name,
            **scope,
            "properties": {"roleName": name},
        }

    found = ids(
        write_stack(
            tmp_path,
            {"roles.json": [role("a", scope="[subscription().id]"), role("b")]},
        )
    )
    assert found == {
        "roleDefinition.a": "/subscriptions/sub-1/providers/Microsoft.Authorization/roleDefinitions/a",
        "roleDefinition.b": f"{GROUP}/providers/Microsoft.Authorization/roleDefinitions/b",
    }


def test_a_scope_that_names_nothing_is_an_error_at_its_line(tmp_path: Path) -> None:
    assignment = {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": "2022-04-01",
        "name": ASSIGNMENT,
        "scope": "corpImages",
        "properties": PROPERTIES,
    }
    _, diagnostics = load_stack(write_stack(tmp_path, {"roles.json": [assignment]}))
    (error,) = diagnostics
    assert error.code == "AIB0008" and error.path == ("scope",) and error.line is not None
    assert (
        "'scope' must be a resource id, a resource group or subscription id, got 'corpImages'"
        in error.message
    )
