"""ARM ids at every scope aibplan manages resources at parse, fold and print back as written."""

from __future__ import annotations

import pytest

from providers.catalog.arm_ids import (
    Scope,
    build_resource_id,
    fold_id,
    parse_resource_id,
    resource_id_at,
    scope_from,
    split_extension,
)

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
GROUP = f"{SUB}/resourceGroups/rg-images"
GALLERY = f"{GROUP}/providers/Microsoft.Compute/galleries/corpImages"
ASSIGNMENT = (
    f"{GALLERY}/providers/Microsoft.Authorization/roleAssignments/0f2b7c1e-1111-4222-8333-944445555666"
)
ROLE = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"


@pytest.mark.parametrize(
    ("arm_id", "arm_type", "name", "scope", "scope_id"),
    [
        (
            f"{GALLERY}/images/ubuntu",
            "Microsoft.Compute/galleries/images",
            "corpImages/ubuntu",
            Scope.RESOURCE_GROUP,
            GROUP,
        ),
        (ROLE, "Microsoft.Authorization/roleDefinitions", ROLE.rsplit("/", 1)[1], Scope.SUBSCRIPTION, SUB),
        (
            ASSIGNMENT,
            "Microsoft.Authorization/roleAssignments",
            ASSIGNMENT.rsplit("/", 1)[1],
            Scope.RESOURCE,
            GALLERY,
        ),
        (
            f"{GROUP}/providers/Microsoft.Authorization/roleAssignments/abc",
            "Microsoft.Authorization/roleAssignments",
            "abc",
            Scope.RESOURCE_GROUP,
            GROUP,
        ),
    ],
)
def test_ids_parse_at_every_scope_and_print_back(
    arm_id: str, arm_type: str, name: str, scope: Scope, scope_id: str
) -> None:
    rid = parse_resource_id(arm_id)
    assert rid is not None
    assert (rid.arm_type, rid.name, rid.scope_kind, rid.scope_id) == (arm_type, name, scope, scope_id)
    assert str(rid) == arm_id
    assert resource_id_at(scope_id, arm_type, name) == arm_id


def test_an_extension_resource_keeps_its_scope_apart_from_its_parent() -> None:
    rid = parse_resource_id(ASSIGNMENT)
    assert rid is not None and rid.scope is not None
    assert rid.parent() is None  # the gallery is its scope, not its parent
    assert (rid.subscription, rid.resource_group) == ("00000000-0000-0000-0000-000000000000", "rg-images")
    assert str(rid.scope) == GALLERY


def test_ids_fold_without_case_at_every_scope() -> None:
    shouted = ASSIGNMENT.upper().replace("/PROVIDERS/", "/providers/")
    assert fold_id(shouted) == fold_id(ASSIGNMENT)
    parsed = parse_resource_id(shouted)
    assert parsed is not None and fold_id(str(parsed)) == fold_id(ASSIGNMENT)
    assert build_resource_id("s", "", "Microsoft.Authorization/roleDefinitions", "x") == (
        "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/x"
    )


def test_a_resource_named_providers_is_a_name_not_a_scope() -> None:
    rid = parse_resource_id(f"{GROUP}/providers/Microsoft.Compute/galleries/providers/images/x")
    assert rid is not None and rid.scope is None and rid.names == ("providers", "x")


@pytest.mark.parametrize(
    "text",
    [
        f"{GROUP}",  # a resource group is not a resource
        f"{GROUP}/providers/Microsoft.Compute/galleries",  # a type without a name
        f"{GALLERY}/providers",  # a trailing providers
        f"{GALLERY}/providers/Microsoft.Authorization",  # a namespace without a type
        "/providers/Microsoft.Authorization/roleDefinitions/x",  # tenant scope is not managed
        "corpImages",
    ],
)
def test_what_is_not_an_id(text: str) -> None:
    assert parse_resource_id(text) is None


@pytest.mark.parametrize(
    ("written", "scope"),
    [
        (SUB, SUB),
        (GROUP + "/", GROUP),
        (GALLERY, GALLERY),
        ("Microsoft.Compute/galleries/corpImages", GALLERY),
        ("corpImages", None),
        ("Microsoft.Compute/galleries", None),
        ("/subscriptions", None),
    ],
)
def test_a_templates_scope_names_a_subscription_a_group_or_a_resource(
    written: str, scope: str | None
) -> None:
    assert scope_from(written, "00000000-0000-0000-0000-000000000000", "rg-images") == scope


def test_an_extension_written_as_a_nested_type_splits_into_scope_and_resource() -> None:
    assert split_extension(
        "Microsoft.Compute/galleries/providers/roleAssignments", "corpImages/Microsoft.Authorization/abc"
    ) == ("Microsoft.Compute/galleries", "corpImages", "Microsoft.Authorization/roleAssignments", "abc")
    assert split_extension(
        "Microsoft.Compute/galleries/images/providers/roleAssignments", "g/d/Microsoft.Authorization/abc"
    ) == ("Microsoft.Compute/galleries/images", "g/d", "Microsoft.Authorization/roleAssignments", "abc")
    assert split_extension("Microsoft.Compute/galleries/images", "g/d") is None
    assert split_extension("Microsoft.Compute/galleries/providers/roleAssignments", "g/abc") is None
