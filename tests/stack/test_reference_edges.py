"""reference() in a stack: the value stays beside the body (rules skip it), the graph gains the edge it
implies with the reason `reference`, names are bound to the resource they name (AIB1003), a cycle through
reference() is AIB1001, and what must be known before apply (name, condition, dependsOn, a property name,
a parameter's default) says so (AIB0004)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planner.rules.validate import validate_paths
from planner.stack.expressions import Unknown
from planner.stack.graph import build_graph
from planner.stack.loader import load_stack
from tests.helpers import write_stack

IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
IDENTITY_ID = f"resourceId('{IDENTITY_TYPE}', 'aibBuilder')"
SHARED = (
    "/subscriptions/sub-9/resourceGroups/rg-shared/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
    "shared"
)
READER = (
    "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '"
    "acdd72a7-3385-48ef-bd42-f606fba81ae7')]"
)


def identity(name: str = "aibBuilder", **extra: Any) -> dict[str, Any]:
    return {
        "type": IDENTITY_TYPE,
        "apiVersion": "2023-01-31",
        "name": name,
        "location": "westeurope",
        **extra,
    }


def assignment(name: str, principal: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": "2022-04-01",
        "name": f"[guid(resourceGroup().id, '{name}')]",
        "properties": {
            "roleDefinitionId": READER,
            "principalId": principal,
            "principalType": "ServicePrincipal",
        },
        **extra,
    }


def template(*resources: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "parameters": parameters or {},
        "resources": list(resources),
    }


def load(tmp_path: Path, *resources: dict[str, Any], **kw: Any) -> tuple[Any, list[Any]]:
    root = write_stack(tmp_path, {"pipeline.json": template(*resources, **kw)})
    return load_stack(root, partial=True)


def only(stack: Any, kind: str) -> Any:
    (found,) = [r for r in stack.resources if r.kind == kind]
    return found


def test_the_value_stays_beside_the_body_and_the_graph_has_the_edge_it_implies(tmp_path: Path) -> None:
    stack, diagnostics = load(
        tmp_path,
        identity(),
        assignment("a", f"[reference({IDENTITY_ID}).principalId]"),
        assignment("b", "[concat(reference('aibBuilder', '2023-01-31', 'Full').properties.principalId, '')]"),
    )
    assert diagnostics == []
    by_name = {
        r.properties.get("principalId", "")[:20]: r for r in stack.resources if r.kind == "roleAssignment"
    }
    for resource in by_name.values():
        ((path, unknown),) = resource.known_after_apply
        assert path == ("properties", "principalId")
        assert isinstance(unknown, Unknown)
        # The body keeps the expression's text there; the path is unresolved, so rules skip it.
        assert resource.body["properties"]["principalId"] == str(unknown)
        assert path in resource.unresolved
        (target,) = unknown.targets
        assert target.resource.endswith("/userAssignedIdentities/aibBuilder")  # a name is bound to its id
    graph, problems = build_graph(stack)
    assert problems == []
    for resource in by_name.values():
        edge = graph.edges["identity.aibBuilder", resource.address]
        assert edge["reasons"] == ("reference",)
        assert edge["path"] == ("properties", "principalId")


def test_a_variable_holding_a_reference_gives_its_unknown_to_each_resource_using_it(tmp_path: Path) -> None:
    deployment = template(
        identity(),
        identity("plain", tags={"team": "[variables('team')]"}),
        identity("first", tags={"peer": "[variables('principal')]"}),
        identity(
            "second", tags={"team": "[variables('team')]", "peer": "[concat('p-', variables('principal'))]"}
        ),
        identity("last", tags={"team": "images"}),
    )
    deployment["variables"] = {"principal": f"[reference({IDENTITY_ID}).principalId]", "team": "images"}
    stack, diagnostics = load_stack(write_stack(tmp_path, {"pipeline.json": deployment}), partial=True)
    assert diagnostics == []
    after_apply = {r.name: [path for path, _ in r.known_after_apply] for r in stack.resources}
    # The variable is evaluated once; the second resource is given the value kept from the first.
    assert after_apply == {
        "aibBuilder": [],
        "plain": [],
        "first": [("tags", "peer")],
        "second": [("tags", "peer")],
        "last": [],
    }
    second = stack.by_address["identity.second"]
    assert second.body["tags"] == {"team": "images", "peer": str(second.known_after_apply[0][1])}


def test_a_resource_outside_the_stack_is_an_external_node(tmp_path: Path) -> None:
    stack, diagnostics = load(tmp_path, assignment("a", f"[reference('{SHARED}', '2023-01-31').principalId]"))
    assert diagnostics == []
    graph, _ = build_graph(stack)
    address = only(stack, "roleAssignment").address
    assert graph.edges["data.identity.shared", address]["reasons"] == ("reference",)


def test_a_cycle_through_reference_is_reported_like_any_cycle(tmp_path: Path) -> None:
    stack, _ = load(
        tmp_path,
        identity("a", tags={"peer": "[reference('b').principalId]"}),
        identity("b", tags={"peer": "[reference('a').principalId]"}),
    )
    _, problems = build_graph(stack)
    (cycle,) = problems
    assert cycle.code == "AIB1001"
    assert "identity.a" in cycle.message and "identity.b" in cycle.message
    assert cycle.hint is not None and "reference()" in cycle.hint


def test_names_that_match_nothing_or_several_and_ids_outside_without_a_version_are_aib1003(
    tmp_path: Path,
) -> None:
    _, diagnostics = load(
        tmp_path,
        identity(),
        assignment("typo", "[reference('aibBuidler').principalId]"),
        assignment("outside", f"[reference('{SHARED}').principalId]"),
    )
    found = sorted((d.code, d.message, d.hint) for d in diagnostics)
    assert found == [
        (
            "AIB1003",
            f"reference('{SHARED}') names a resource outside the stack without its api version; ARM cannot "
            "read it without one",
            f"reference('{SHARED}', 'API-VERSION')",
        ),
        (
            "AIB1003",
            "reference('aibBuidler') names no resource in the stack",
            "did you mean 'aibBuilder'?",
        ),
    ]
    assert all(d.file == "pipeline.json" and d.line is not None for d in diagnostics)


def test_a_name_two_resources_share_in_other_files_is_ambiguous(tmp_path: Path) -> None:
    gallery = {
        "type": "Microsoft.Compute/galleries",
        "apiVersion": "2024-03-03",
        "name": "x",
        "location": "w",
    }
    root = write_stack(
        tmp_path,
        {
            "a.json": template(identity("x")),
            "b.json": template(gallery),
            "c.json": template(assignment("a", "[reference('x').principalId]")),
        },
    )
    _, diagnostics = load_stack(root, partial=True)
    (d,) = diagnostics
    assert (
        d.code == "AIB1003"
        and d.message == "reference('x') could name gallery.x, identity.x; give the resource id"
    )


def test_what_must_be_known_before_apply_says_so(tmp_path: Path) -> None:
    principal = "reference('aibBuilder').principalId"
    _, diagnostics = load(
        tmp_path,
        identity(),
        identity("[concat('x', reference('aibBuilder').clientId)]"),
        identity("c", condition=f"[empty({principal})]"),
        identity("d", dependsOn=[f"[{principal}]"]),
        identity("e", tags={f"[{principal}]": "x"}),
    )
    found = sorted((d.code, d.path, d.message) for d in diagnostics)
    assert found == [
        (
            "AIB0004",
            ("condition",),
            "'condition' must be known before apply; a reference() value is known only after it",
        ),
        (
            "AIB0004",
            ("dependsOn", 0),
            "'dependsOn' must be known before apply; a reference() value is known only after it",
        ),
        (
            "AIB0004",
            ("name",),
            "'name' must be known before apply; a reference() value is known only after it",
        ),
        (
            "AIB0004",
            ("tags", f"[{principal}]"),
            "a property name must be known before apply; a reference() value is known only after it",
        ),
    ]


def test_a_parameter_default_cannot_use_reference(tmp_path: Path) -> None:
    _, diagnostics = load(
        tmp_path,
        identity(tags={"p": "[parameters('principal')]"}),
        parameters={"principal": {"type": "string", "defaultValue": "[reference('aibBuilder').principalId]"}},
    )
    assert [(d.code, d.path) for d in diagnostics] == [
        ("AIB0004", ("parameters", "principal", "defaultValue"))
    ]
    assert "cannot use reference()" in diagnostics[0].message


def test_validate_skips_rules_on_values_known_after_apply(tmp_path: Path) -> None:
    # A principal id that is not a GUID is an error; one known only after apply is not checked.
    root = write_stack(tmp_path, {"pipeline.json": template(identity(), assignment("a", "not-a-guid"))})
    bad = validate_paths([root])
    assert any(d.path == ("properties", "principalId") for d in bad.diagnostics)
    root = write_stack(
        tmp_path / "ok",
        {"pipeline.json": template(identity(), assignment("a", "[reference('aibBuilder').principalId]"))},
    )
    assert list(validate_paths([root]).diagnostics) == []
