"""Adoption: an AIB setup that exists in the cloud becomes a managed stack in three commands, `generate`,
`import --all` and `plan` (No changes), with the Azure provider over TLS against the ARM emulator (and with
the local cloud: tests/cli/test_generate.py); the plan before the import says how to adopt; drift points at
import."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from planner.stack.jsonc import load_jsonc
from tests.helpers import SUBSCRIPTION, Run


def group_of(root: Path) -> str:
    return str(json.loads((root / "aibplan.json").read_text())["resourceGroup"])


def resource_files(root: Path) -> list[str]:
    """The generated files but the role kinds' (named by guid): those are counted by role_files."""
    return sorted(
        p.name
        for p in root.glob("*.json")
        if not p.name.startswith(("aibplan.", "roleAssignment.", "roleDefinition."))
    )


def role_files(root: Path) -> list[str]:
    """The kinds of the role files generated: the quickstart's custom role and its two assignments."""
    return sorted(p.name.split(".")[0] for p in root.glob("role*.json"))


ROLES = ["roleAssignment", "roleAssignment", "roleDefinition"]


def existing_setup(azure_quickstart: Callable[..., Path], cli: Callable[..., Run]) -> str:
    """A resource group holding an AIB setup made elsewhere (a quickstart applied and built through the
    Azure provider, its stack folder then thrown away): the group's id."""
    root = azure_quickstart()
    assert cli("apply", "--auto-approve", "--run", str(root)).exit_code == 0
    group = group_of(root)
    shutil.rmtree(root)
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"


def test_an_existing_group_becomes_a_clean_stack_in_three_commands(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    group_id = existing_setup(azure_quickstart, cli)
    out = tmp_path / "adopted"

    run = cli("generate", group_id, "--out", str(out))
    assert run.exit_code == 0, run.stderr
    assert role_files(out) == ROLES
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith("role")) == [
        "aibplan.json",
        "gallery.corpImages.json",
        "identity.aibBuilder.json",
        "imageDefinition.corpImages.ubuntu2204.json",
        "imageTemplate.ubuntu2204.json",
    ]
    assert "aibplan import --all" in run.stdout

    run = cli("import", "--all", str(out))
    assert run.exit_code == 0, run.stderr
    assert "7 resource(s) now tracked" in run.stdout

    run = cli("plan", "--detailed-exitcode", str(out))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "No changes." in run.stdout
    assert cli("validate", "--strict", str(out)).exit_code == 0


def test_generated_files_read_as_a_person_writes_them(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    group_id = existing_setup(azure_quickstart, cli)
    out = tmp_path / "adopted"
    assert cli("generate", group_id, "--out", str(out)).exit_code == 0
    config = json.loads((out / "aibplan.json").read_text())
    assert config == {
        "subscriptionId": SUBSCRIPTION,
        "resourceGroup": group_id.rsplit("/", 1)[1],
        "location": "westus2",
        "provider": "azure",
    }
    text = (out / "imageTemplate.ubuntu2204.json").read_text()
    assert text.startswith(f"// Written by `aibplan generate` from {group_id}/providers/")
    template = load_jsonc(text, "imageTemplate.ubuntu2204.json")
    assert list(template)[:3] == ["type", "apiVersion", "name"]
    identities = template["identity"]["userAssignedIdentities"]
    assert identities == {
        "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'aibBuilder')]": {}
    }
    shared = template["properties"]["distribute"][0]
    assert shared["galleryImageId"] == (
        "[resourceId('Microsoft.Compute/galleries/images', 'corpImages', 'ubuntu2204')]"
    )
    # What the service fills in is left out: no provisioning state, last run, exact staging group.
    for left_out in ("provisioningState", "lastRunStatus", "exactStagingResourceGroup"):
        assert left_out not in template["properties"]
    assert "id" not in template and "systemData" not in template
    gallery = load_jsonc((out / "gallery.corpImages.json").read_text(), "gallery")
    assert "provisioningState" not in gallery.get("properties", {})


def test_the_plan_before_the_import_says_how_to_adopt_and_drift_points_at_import(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    group_id = existing_setup(azure_quickstart, cli)
    out = tmp_path / "adopted"
    assert cli("generate", group_id, "--out", str(out)).exit_code == 0

    run = cli("plan", str(out))
    assert run.exit_code == 1
    assert run.stderr.count("AIB8003") == 7
    assert "imageTemplate.ubuntu2204 already exists in Azure and the state does not track it" in run.stderr
    assert "run `aibplan import imageTemplate.ubuntu2204`" in run.stderr

    run = cli("drift", "--include-unmanaged", str(out))
    assert run.exit_code == 2
    assert "aibplan import --all" in run.stdout and "--refresh-only" not in run.stdout
    markdown = cli("drift", "--include-unmanaged", "--format", "markdown", str(out)).stdout
    assert "`aibplan import --all`" in markdown and "--refresh-only" not in markdown

    # One resource by its address: the id comes from the stack.
    run = cli("import", "identity.aibBuilder", str(out))
    assert run.exit_code == 0, run.stderr
    assert f"identity.aibBuilder now tracks {group_id}/providers/" in run.stdout
    run = cli("import", "--all", str(out))
    assert run.exit_code == 0 and "Already in the state: 1 resource(s)" in run.stdout
    assert cli("plan", "--detailed-exitcode", str(out)).exit_code == 0


def test_generate_one_resource_by_id_with_its_children(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    group_id = existing_setup(azure_quickstart, cli)
    out = tmp_path / "gallery-only"
    gallery = f"{group_id}/providers/Microsoft.Compute/galleries/corpImages"
    run = cli("generate", gallery, "--out", str(out))
    assert run.exit_code == 0, run.stderr
    assert resource_files(out) == [
        "gallery.corpImages.json",
        "imageDefinition.corpImages.ubuntu2204.json",
    ]
    assert cli("import", "--all", str(out)).exit_code == 0
    assert cli("plan", "--detailed-exitcode", str(out)).exit_code == 0
    # A second generate of the whole group writes only what the stack does not declare yet.
    run = cli("generate", group_id, "--out", str(out))
    assert run.exit_code == 0, run.stderr
    assert "Already declared" in run.stdout and "gallery.corpImages" in run.stdout
    assert resource_files(out) == [
        "gallery.corpImages.json",
        "identity.aibBuilder.json",
        "imageDefinition.corpImages.ubuntu2204.json",
        "imageTemplate.ubuntu2204.json",
    ]
