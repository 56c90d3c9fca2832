"""Whose a role assignment is: a literal principal matches the identity whose principal id is known, and
`reference(<identity>).principalId` (kept as written, its value unknown until the identity exists)
matches the identity the expression names, or the one identity the assignment comes after."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from planner.rules.access import Access, stack_access
from planner.rules.validate import check_stack
from planner.stack.graph import build_graph
from planner.stack.model import Resource, Stack
from providers.catalog.arm_ids import fold_id
from providers.catalog.build_access import needs_of
from tests.helpers import write_stack

SUB = "00000000-0000-0000-0000-000000000000"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg-images"
IDS = f"{GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
ROLES = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions"
CONTRIBUTOR = f"{ROLES}/b24988ac-6180-42a0-ab88-20f7382dd24c"
BY_RESOURCE_ID = (
    "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'aibBuilder')).principalId]"
)
PRINCIPAL = "9c4f1e2a-7d3b-4c55-8e21-0a6b3f9d4e10"


def _stack(tmp_path: Path, depends_on: list[str]) -> Stack:
    identities = [
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
         "name": name, "location": "westus2"}
        for name in ("aibBuilder", "other")
    ]  # fmt: skip
    assignment = {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": "2022-04-01",
        "name": "[guid(resourceGroup().id, 'builder')]",
        "dependsOn": depends_on,
        "properties": {"roleDefinitionId": CONTRIBUTOR, "principalId": PRINCIPAL},
    }
    config = {"subscriptionId": SUB, "resourceGroup": "rg-images", "location": "westus2"}
    root = write_stack(tmp_path / "stack", {"resources.json": [*identities, assignment]}, config)
    checked = check_stack(root)
    assert checked.stack is not None, checked.diagnostics
    return checked.stack


def _with_principal(stack: Stack, value: str) -> Stack:
    """The stack as the loader leaves it once reference() is accepted: the value as written, unresolved."""
    changed = []
    for resource in stack.resources:
        if resource.kind == "roleAssignment":
            body = {**resource.body, "properties": {**resource.properties, "principalId": value}}
            resource = replace(resource, body=body, unresolved=(("properties", "principalId"),))
        changed.append(resource)
    return replace(stack, resources=tuple(changed))


def _access(stack: Stack) -> Access:
    graph, _ = build_graph(stack)
    return stack_access(stack, graph)


def _gallery_need() -> object:
    gallery = (
        f"/subscriptions/{SUB}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/g/images/i"
    )
    body = {"properties": {"distribute": [{"type": "SharedImage", "galleryImageId": gallery}]}}
    (need,) = needs_of(body)
    return need


def test_reference_of_a_resource_id_names_that_identity(tmp_path: Path) -> None:
    stack = _with_principal(_stack(tmp_path, []), BY_RESOURCE_ID)
    access = _access(stack)
    assert [g.principal.identity for g in access.grants] == [fold_id(f"{IDS}/aibBuilder")]
    assert access.grants_for(f"{IDS}/aibBuilder") and not access.grants_for(f"{IDS}/other")
    assert access.missing(f"{IDS}/aibBuilder", _gallery_need()) == ()  # type: ignore[arg-type]
    assert access.missing(f"{IDS}/other", _gallery_need())  # type: ignore[arg-type]


def test_reference_by_name_with_an_api_version_names_that_identity(tmp_path: Path) -> None:
    stack = _with_principal(_stack(tmp_path, []), "[reference('other', '2023-01-31', 'Full').principalId]")
    assert [g.principal.identity for g in _access(stack).grants] == [fold_id(f"{IDS}/other")]


def test_an_expression_not_written_out_falls_back_to_the_identity_it_depends_on(tmp_path: Path) -> None:
    stack = _with_principal(_stack(tmp_path, ["aibBuilder"]), "[reference(variables('who')).principalId]")
    assert [g.principal.identity for g in _access(stack).grants] == [fold_id(f"{IDS}/aibBuilder")]
    # Depending on both identities says nothing about which: the assignment may be either's.
    both = _with_principal(
        _stack(tmp_path / "b", ["aibBuilder", "other"]), "[reference(variables('w')).principalId]"
    )
    access = _access(both)
    assert access.grants[0].principal.identity is None
    assert access.grants_for(f"{IDS}/aibBuilder") and access.grants_for(f"{IDS}/other")


def test_a_literal_principal_matches_only_the_identity_that_has_it_once_known(tmp_path: Path) -> None:
    offline = _access(_stack(tmp_path, []))
    # Offline no principal id is known: the assignment may be either identity's.
    assert offline.grants_for(f"{IDS}/aibBuilder") and offline.grants_for(f"{IDS}/other")
    known = Access(
        offline.grants, {fold_id(f"{IDS}/aibBuilder"): PRINCIPAL.upper(), fold_id(f"{IDS}/other"): "x"}
    )
    assert known.grants_for(f"{IDS}/aibBuilder") and not known.grants_for(f"{IDS}/other")


def test_a_role_not_known_here_is_not_held_against_the_identity(tmp_path: Path) -> None:
    stack = _stack(tmp_path, [])
    unknown_role = (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
        + "1" * 8
        + "-1111-4111-8111-111111111111"
    )
    changed = tuple(
        replace(r, body={**r.body, "properties": {**r.properties, "roleDefinitionId": unknown_role}})
        if r.kind == "roleAssignment"
        else r
        for r in stack.resources
    )
    access = _access(replace(stack, resources=changed))
    assert access.grants[0].permissions is None
    assert access.missing(f"{IDS}/aibBuilder", _gallery_need()) == ()  # type: ignore[arg-type]


def test_resources_in_the_stack_are_what_the_grants_come_from(tmp_path: Path) -> None:
    stack = _stack(tmp_path, [])
    (grant,) = _access(stack).grants
    (assignment,) = [r for r in stack.resources if isinstance(r, Resource) and r.kind == "roleAssignment"]
    assert (
        grant.source == assignment.address and grant.scope == f"/subscriptions/{SUB}/resourceGroups/rg-images"
    )
