"""A resource's identity is its ARM id, compared as Azure compares it: without case.

Each scenario applies the quickstart with the real program on its local cloud, then does what a user (or
a merge, or a pull request) does to the files, and runs aibplan again: the command the scenario is about
as a separate process, the steps around it in this one. What must
hold: the same id is never created and deleted in one plan, one resource under two addresses is an error
naming both, a state entry whose kind, type and id disagree is refused, and a resource the state does not
know is never overwritten or adopted silently.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from providers.base import ResourceRef
from providers.simulated.local import LocalProvider
from tests.helpers.processes import aibplan, aibplan_here, applied_example, error_lines

GROUP = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-golden-images/providers"
IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
IDENTITY_ID = f"{GROUP}/{IDENTITY_TYPE}/aibBuilder"
GALLERY_ID = f"{GROUP}/Microsoft.Compute/galleries/corpImages"
TEMPLATE_ID = f"{GROUP}/Microsoft.VirtualMachineImages/imageTemplates/ubuntu2204"


@pytest.fixture(scope="module")
def quickstart_applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return applied_example("quickstart", tmp_path_factory.mktemp("applied"))


@pytest.fixture
def root(quickstart_applied: Path, tmp_path: Path) -> Path:
    """A copy of the applied quickstart (files, state, local cloud) for one test."""
    return Path(shutil.copytree(quickstart_applied, tmp_path / "quickstart"))


def cloud_body(root: Path, arm_id: str, arm_type: str, api_version: str) -> dict[str, Any] | None:
    provider = LocalProvider(root / ".aibplan")
    try:
        return provider.read(ResourceRef(arm_id, arm_type, api_version))
    finally:
        provider.close()


def identity_in_cloud(root: Path) -> dict[str, Any] | None:
    return cloud_body(root, IDENTITY_ID, IDENTITY_TYPE, "2023-01-31")


def state_of(root: Path) -> dict[str, Any]:
    return json.loads((root / "aibplan.state.json").read_text())  # type: ignore[no-any-return]


def addresses(root: Path) -> list[str]:
    if not (root / "aibplan.state.json").exists():
        return []
    return [r["address"] for r in state_of(root)["resources"] if not r.get("removed")]


def rename_identity_case(root: Path) -> None:
    """What the user does: `aibBuilder` becomes `AibBuilder` in identity.json (the template still names
    it `aibBuilder`, which Azure reads as the same identity)."""
    path = root / "identity.json"
    path.write_text(path.read_text().replace('"aibBuilder"', '"AibBuilder"'))


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


# -- a name whose case alone changed -------------------------------------------------------------------


def test_a_case_only_rename_moves_the_entry_and_deletes_nothing(root: Path) -> None:
    rename_identity_case(root)
    shown = ok(aibplan_here("plan", ".", cwd=root))
    assert "# identity.aibBuilder has moved to identity.AibBuilder" in shown
    assert "Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy; 1 to move" in shown
    assert "will be destroyed" not in shown and "will be created" not in shown
    document = json.loads(ok(aibplan_here("plan", "--json", ".", cwd=root)))
    moved = [c for c in document["resource_changes"] if c.get("previous_address")]
    assert [(c["address"], c["action"], c["previous_address"]) for c in moved] == [
        ("identity.AibBuilder", "no-op", "identity.aibBuilder")
    ]

    ok(aibplan("apply", "--auto-approve", "--parallelism", "10", ".", cwd=root))
    cloud = identity_in_cloud(root)
    assert cloud is not None
    assert "identity.AibBuilder" in addresses(root) and "identity.aibBuilder" not in addresses(root)
    entry = next(
        r
        for r in state_of(root)["resources"]
        if r["address"] == "identity.AibBuilder" and not r.get("removed")
    )
    # The same resource, its id as the service spells it (`/resourcegroups/`).
    assert entry["id"] == cloud["id"] and entry["id"].lower() == IDENTITY_ID.lower()
    template = next(
        r
        for r in state_of(root)["resources"]
        if r["address"] == "imageTemplate.ubuntu2204" and not r.get("removed")
    )
    assert "identity.AibBuilder" in template["dependencies"]
    done = aibplan_here("plan", "--detailed-exitcode", ".", cwd=root)
    assert done.returncode == 0 and "No changes." in done.stdout


def test_a_case_only_rename_with_a_change_is_updated_in_place_under_its_new_address(root: Path) -> None:
    path = root / "identity.json"
    body = json.loads(path.read_text())
    body["name"] = "AIBBUILDER"
    body["tags"]["owner"] = "image-team"
    path.write_text(json.dumps(body, indent=2))
    shown = ok(aibplan_here("plan", ".", cwd=root))
    assert "# identity.AIBBUILDER will be updated in-place" in shown
    assert "moved from identity.aibBuilder: the same Azure resource" in shown
    assert "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy; 1 to move" in shown

    ok(aibplan_here("apply", "--auto-approve", ".", cwd=root))
    live = identity_in_cloud(root)
    assert live is not None and live["tags"] == {"owner": "image-team"}
    assert "identity.AIBBUILDER" in addresses(root)


def test_a_saved_plan_moves_the_entry_when_applied(root: Path) -> None:
    rename_identity_case(root)
    ok(aibplan_here("plan", "--out", "rename.plan", ".", cwd=root))
    ok(aibplan("apply", "rename.plan", cwd=root))
    assert identity_in_cloud(root) is not None
    assert "identity.AibBuilder" in addresses(root)


def test_a_saved_plan_that_creates_and_deletes_one_id_is_refused(root: Path) -> None:
    """A plan file written before this check (1 to add, 1 to destroy of the same id) is never carried out:
    it would end with the identity deleted and the state listing it."""
    rename_identity_case(root)
    ok(aibplan_here("plan", "--out", "rename.plan", ".", cwd=root))
    saved = json.loads((root / "rename.plan").read_text())
    changes = saved["plan"]["changes"]
    moved = next(c for c in changes if c.get("previous_address"))
    moved.update(
        previous_address=None,
        action="create",
        action_reason="new_in_configuration",
        before=None,
        old_arm_id=None,
        old_api_version=None,
        old_depends_on=[],
    )
    changes.append(
        {
            **moved,
            "address": "identity.aibBuilder",
            "name": "aibBuilder",
            "arm_id": IDENTITY_ID,
            "action": "delete",
            "action_reason": "delete_because_not_in_configuration",
            "after": None,
            "old_arm_id": IDENTITY_ID,
            "old_api_version": "2023-01-31",
        }
    )
    (root / "rename.plan").write_text(json.dumps(saved, indent=2))
    state_before = (root / "aibplan.state.json").read_bytes()

    done = aibplan("apply", "rename.plan", cwd=root)
    assert done.returncode == 1
    assert any(
        "identity.AibBuilder and identity.aibBuilder are one Azure resource" in line
        and "the plan is refused and nothing is changed" in line
        for line in error_lines(done)
    ), done.stderr
    assert identity_in_cloud(root) is not None
    # Nothing changed but the record that the plan file was used (a saved plan applies once).
    after = json.loads((root / "aibplan.state.json").read_text())
    assert after["resources"] == json.loads(state_before)["resources"]


# -- one resource under two addresses -------------------------------------------------------------------


def test_two_state_entries_for_one_id_stop_the_plan_naming_both(root: Path) -> None:
    """What the state-merge advice used to produce after a `state mv` on one branch: both sides' entries
    kept. The plan names both and deletes neither; `state rm` of the stale one settles it."""
    rename_identity_case(root)
    data = state_of(root)
    old = next(r for r in data["resources"] if r["address"] == "identity.aibBuilder")
    data["resources"].append({**old, "address": "identity.AibBuilder"})
    (root / "aibplan.state.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    for command in (("plan", "."), ("apply", "--auto-approve", "."), ("destroy", "--auto-approve", ".")):
        done = aibplan(*command, cwd=root)
        assert done.returncode == 1, command
        lines = "\n".join(error_lines(done))
        assert (
            "AIB8004 the state tracks one Azure resource twice, as identity.AibBuilder and "
            "identity.aibBuilder" in lines
        ), lines
        assert "`aibplan state rm ADDRESS`" in lines
    assert identity_in_cloud(root) is not None

    ok(aibplan_here("state", "rm", "identity.aibBuilder", ".", cwd=root))
    done = aibplan_here("plan", "--detailed-exitcode", ".", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert identity_in_cloud(root) is not None


def test_the_merge_conflict_advice_keeps_one_entry_per_resource(root: Path) -> None:
    text = (root / "aibplan.state.json").read_text()
    lineage = next(line for line in text.splitlines(True) if line.startswith('  "lineage": '))
    conflicted = f'<<<<<<< HEAD\n  "lineage": "other",\n=======\n{lineage}>>>>>>> rename\n'
    (root / "aibplan.state.json").write_text(text.replace(lineage, conflicted, 1))
    line = error_lines(aibplan_here("plan", ".", cwd=root))[0]
    assert "for a resource one side moved to a new address (`state mv`) keep only the entry" in line
    assert "never both (one id under two addresses is refused)" in line


def test_two_stack_resources_for_one_id_are_an_error_naming_both(root: Path) -> None:
    (root / "builder-again.json").write_text(
        json.dumps(
            {"type": IDENTITY_TYPE, "apiVersion": "2023-01-31", "name": "AIBBuilder", "location": "westus2"}
        )
    )
    for command in ("validate", "plan"):
        done = aibplan_here(command, ".", cwd=root)
        assert done.returncode == 1
        lines = "\n".join(error_lines(done))
        assert "AIB0007" in lines and "identity.aibBuilder" in lines and "identity.AIBBuilder" in lines, lines
        assert "are one Azure resource" in lines
    assert identity_in_cloud(root) is not None


# -- a state entry whose kind, type and id disagree -----------------------------------------------------


def test_a_state_edit_cannot_aim_a_gallery_delete_at_an_identity(root: Path) -> None:
    """A pull request edits the committed state: the gallery entry now carries the identity's id. Before,
    the next apply replaced "the gallery", deleting the identity."""
    data = state_of(root)
    gallery = next(r for r in data["resources"] if r["address"] == "gallery.corpImages")
    gallery.update(id=IDENTITY_ID, type=IDENTITY_TYPE)
    (root / "aibplan.state.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    before = (root / "aibplan.state.json").read_bytes()

    # The type and the id agree, the kind does not: the plan refuses before it plans anything.
    for command in (("apply", "--auto-approve", "."), ("destroy", "--auto-approve", ".")):
        done = aibplan(*command, cwd=root)
        assert done.returncode == 1
        lines = "\n".join(error_lines(done))
        assert f"AIB8006 the state entry gallery.corpImages has the type {IDENTITY_TYPE}" in lines, lines
        assert "but a gallery is a Microsoft.Compute/galleries; aibplan plans nothing" in lines
        assert (root / "aibplan.state.json").read_bytes() == before

    # The type says gallery, the id an identity: refused as the state is read.
    gallery.update(type="Microsoft.Compute/galleries")
    (root / "aibplan.state.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    before = (root / "aibplan.state.json").read_bytes()
    done = aibplan_here("apply", "--auto-approve", ".", cwd=root)
    assert done.returncode == 1
    [line] = error_lines(done)
    assert (
        f"(gallery.corpImages).id names a {IDENTITY_TYPE}, but the entry's type is Microsoft.Compute" in line
    )
    assert (root / "aibplan.state.json").read_bytes() == before
    assert identity_in_cloud(root) is not None
    assert cloud_body(root, GALLERY_ID, "Microsoft.Compute/galleries", "2024-03-03") is not None


# -- what exists in the cloud but not in the state ------------------------------------------------------


def test_resources_the_state_does_not_know_are_reported_with_the_import_command(root: Path) -> None:
    """The state file is lost (or was never committed). Before, plan said "4 to add" and apply took the
    identity, gallery and definition over silently, then failed on the template with Conflict."""
    (root / "aibplan.state.json").unlink()
    path = root / "identity.json"
    body = json.loads(path.read_text())
    body["tags"] = {"owner": "someone-else"}
    path.write_text(json.dumps(body, indent=2))

    for command in (("plan", "."), ("apply", "--auto-approve", ".")):
        done = aibplan(*command, cwd=root)
        assert done.returncode == 1, command
        lines = "\n".join(error_lines(done))
        for address, arm_id in (
            ("identity.aibBuilder", IDENTITY_ID),
            ("gallery.corpImages", GALLERY_ID),
            ("imageTemplate.ubuntu2204", TEMPLATE_ID),
        ):
            said = f"AIB8003 {address} already exists in Azure and the state does not track it: {arm_id}"
            assert said in lines
            assert f"`aibplan import {address}` (or `aibplan import --all`" in lines
    assert not (root / "aibplan.state.json").exists()
    live = identity_in_cloud(root)
    assert live is not None and live["tags"] == {"owner": "platform-team"}

    # Without a refresh the plan does not read the cloud: the apply reads before each create and refuses.
    done = aibplan_here("apply", "--auto-approve", "--no-refresh", ".", cwd=root)
    assert done.returncode == 1
    lines = "\n".join(error_lines(done))
    assert "identity.aibBuilder: create failed: AlreadyExists:" in lines
    assert "`aibplan import identity.aibBuilder` (or `aibplan import --all`)" in lines
    live = identity_in_cloud(root)
    assert live is not None and live["tags"] == {"owner": "platform-team"}
    assert "identity.aibBuilder" not in addresses(root)

    # The commands it gave bring them back under management.
    for address, arm_id in (
        ("identity.aibBuilder", IDENTITY_ID),
        ("gallery.corpImages", GALLERY_ID),
        ("imageDefinition.corpImages/ubuntu2204", f"{GALLERY_ID}/images/ubuntu2204"),
        ("imageTemplate.ubuntu2204", TEMPLATE_ID),
    ):
        if address not in addresses(root):
            ok(aibplan_here("import", address, arm_id, ".", cwd=root))
    ok(aibplan_here("import", "--all", ".", cwd=root))  # and permissions.json's role kinds
    shown = ok(aibplan_here("plan", ".", cwd=root))
    assert "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy." in shown
