"""The catalog's RBAC facts: how actions and scopes match as Azure matches them, the built-in roles by id
(Contributor as the service answered it in a recording), and what an image build needs of its identity."""

from __future__ import annotations

import json

import pytest

from planner.stack.jsonc import load_jsonc
from providers.catalog.build_access import (
    AT_CREATE,
    BUILDING,
    CUSTOMIZING,
    DISTRIBUTING,
    GALLERY,
    SCRIPT,
    needs_of,
)
from providers.catalog.builtin_roles import BUILT_IN_ROLES, built_in_role, built_in_role_named
from providers.catalog.rbac import (
    Permission,
    action_matches,
    allows,
    blob_target,
    permissions_from,
    scope_covers,
)
from tests.helpers import EXAMPLES, FIXTURES

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
RG = f"{SUB}/resourceGroups/rg-images"
GALLERY_ID = f"{RG}/providers/Microsoft.Compute/galleries/corpImages"


@pytest.mark.parametrize(
    ("pattern", "action", "matched"),
    [
        ("*", "Microsoft.Compute/galleries/images/versions/write", True),
        ("*/read", "Microsoft.Compute/galleries/read", True),
        ("*/read", "Microsoft.Compute/galleries/write", False),
        ("Microsoft.Compute/*", "microsoft.compute/images/WRITE", True),
        ("Microsoft.Compute/*", "Microsoft.Network/virtualNetworks/read", False),
        ("Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write", True),
        # Managed Identity Operator's pattern allows the assign action itself (the star stands for nothing).
        (
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
            "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
            True,
        ),
        ("Microsoft.Compute/images/read", "Microsoft.Compute/images/readers", False),
    ],
)
def test_actions_match_with_wildcards_and_without_case(pattern: str, action: str, matched: bool) -> None:
    assert action_matches(pattern, action) is matched


def test_not_actions_take_away_what_actions_give() -> None:
    contributor = built_in_role_named("Contributor")
    assert contributor is not None
    assert allows(contributor.permissions, "Microsoft.Compute/galleries/images/versions/write")
    assert not allows(contributor.permissions, "Microsoft.Authorization/roleAssignments/write")
    assert not allows(contributor.permissions, "Microsoft.Compute/galleries/share/action")
    # Data actions are apart: Contributor reads no blob, Storage Blob Data Reader does.
    blob_read = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
    assert not allows(contributor.permissions, blob_read, data=True)
    reader = built_in_role_named("Storage Blob Data Reader")
    assert reader is not None and allows(reader.permissions, blob_read, data=True)
    assert not allows(reader.permissions, blob_read)


def test_scopes_reach_down_and_not_across() -> None:
    definition = f"{GALLERY_ID}/images/ubuntu2204"
    assert scope_covers(SUB, definition)
    assert scope_covers(RG.upper(), definition)
    assert scope_covers(GALLERY_ID, definition)
    assert scope_covers(definition + "/", definition)
    assert not scope_covers(f"{GALLERY_ID}/images/other", definition)
    assert not scope_covers(f"{RG}-other", definition)
    assert not scope_covers(definition, GALLERY_ID)


def test_a_blob_is_reached_from_its_account_container_group_or_subscription() -> None:
    target = blob_target("https://stimages.blob.core.windows.net/scripts/setup/install.sh")
    assert target is not None and (target.account, target.container, target.signed) == (
        "stimages",
        "scripts",
        False,
    )
    account = f"{RG}/providers/Microsoft.Storage/storageAccounts/stimages"
    assert target.covered_by(account)
    assert target.covered_by(f"{account}/blobServices/default/containers/scripts")
    assert not target.covered_by(f"{account}/blobServices/default/containers/other")
    assert not target.covered_by(f"{RG}/providers/Microsoft.Storage/storageAccounts/elsewhere")
    assert target.covered_by(RG) and target.covered_by(SUB)
    signed = blob_target("https://stimages.blob.core.windows.net/scripts/a.sh?sv=2022-11-02&sig=abc")
    assert signed is not None and signed.signed
    assert blob_target("https://example.com/scripts/a.sh") is None


def test_built_in_roles_are_known_by_id_at_any_scope() -> None:
    owner = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
    assert built_in_role(f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/{owner}") is not None
    assert built_in_role(f"/providers/Microsoft.Authorization/roleDefinitions/{owner.upper()}") is not None
    assert built_in_role(f"{SUB}/providers/Microsoft.Compute/galleries/{owner}") is None
    assert built_in_role("Owner") is None
    assert len({r.guid for r in BUILT_IN_ROLES}) == len(BUILT_IN_ROLES)
    assert all(r.citation.startswith(("docs:", "recorded:")) for r in BUILT_IN_ROLES)


def test_contributor_is_the_role_the_service_answered_in_the_recording() -> None:
    recorded = json.loads((FIXTURES / "recorded/azure-cli/image_builder_basic_2021-10-01.json").read_text())
    answered = recorded["interactions"][1]["response"]["body"]["value"][0]
    role = built_in_role(answered["id"])
    assert role is not None and role.name == answered["properties"]["roleName"]
    assert role.permissions == permissions_from(answered["properties"])
    served = role.body("00000000-0000-0000-0000-000000000000")
    assert served["id"] == answered["id"]
    assert served["properties"]["permissions"] == answered["properties"]["permissions"]


def test_the_quickstart_template_needs_gallery_writes_and_blob_reads() -> None:
    body = load_jsonc((EXAMPLES / "quickstart/ubuntu2204.json").read_text(), "ubuntu2204.json")
    body["identity"]["userAssignedIdentities"] = {}
    body["properties"]["distribute"][0]["galleryImageId"] = f"{GALLERY_ID}/images/ubuntu2204"
    needs = needs_of(body)
    assert [(n.topic, n.step, n.path) for n in needs] == [
        (GALLERY, DISTRIBUTING, ("properties", "distribute", 0, "galleryImageId")),
        (SCRIPT, CUSTOMIZING, ("properties", "customize", 1, "scriptUri")),
        (SCRIPT, CUSTOMIZING, ("properties", "customize", 2, "sourceUri")),
    ]
    assert needs[0].scope == f"{GALLERY_ID}/images/ubuntu2204"
    assert "Microsoft.Compute/galleries/images/versions/write" in needs[0].actions


def test_needs_of_each_kind_of_source_target_network_and_identity() -> None:
    subnet = f"{RG}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/build"
    build_vm = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/vm"
    body = {
        "properties": {
            "source": {
                "type": "SharedImageVersion",
                "imageVersionId": f"{GALLERY_ID}/images/base/versions/1.0.0",
            },
            "distribute": [
                {"type": "SharedImage", "galleryImageId": f"{GALLERY_ID}/images/app/versions/2.0.0"},
                {"type": "ManagedImage", "imageId": f"{RG}/providers/Microsoft.Compute/images/app"},
                {"type": "VHD", "uri": "https://stvhds.blob.core.windows.net/vhds/app.vhd"},
                {"type": "VHD"},
            ],
            "stagingResourceGroup": f"{SUB}/resourceGroups/rg-staging",
            "vmProfile": {"vnetConfig": {"subnetId": subnet}, "userAssignedIdentities": [build_vm]},
        }
    }
    shown = [(n.topic, n.scope.rsplit("/", 2)[-2:], n.step, n.data) for n in needs_of(body)]
    assert shown == [
        ("source", ["versions", "1.0.0"], BUILDING, False),
        ("gallery", ["images", "app"], DISTRIBUTING, False),  # a version id: written into its definition
        ("imageOutput", ["images", "app"], DISTRIBUTING, False),
        ("imageOutput", ["vhds", "app.vhd"], DISTRIBUTING, True),
        ("staging", ["resourceGroups", "rg-staging"], AT_CREATE, False),
        ("subnet", ["virtualNetworks", "vnet"], AT_CREATE, False),
        ("subnet", ["subnets", "build"], AT_CREATE, False),
        ("buildIdentity", ["userAssignedIdentities", "vm"], BUILDING, False),
    ]


def test_a_platform_image_a_staging_vhd_and_inline_scripts_need_nothing() -> None:
    body = {
        "properties": {
            "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "o", "sku": "s"},
            "customize": [{"type": "Shell", "inline": ["true"]}],
            "distribute": [{"type": "VHD", "runOutputName": "vhd"}],
            "stagingResourceGroup": "",
        }
    }
    assert needs_of(body) == []


def test_permissions_are_read_from_a_role_definition_body() -> None:
    props = {"permissions": [{"actions": ["a/*"], "notActions": ["a/b"], "dataActions": [1, "d"]}, "junk"]}
    assert permissions_from(props) == (Permission(("a/*",), ("a/b",), ("d",), ()),)
