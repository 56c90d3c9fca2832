"""`aibplan generate` and `import --all` on the local cloud: a stack whose files and state were lost is
adopted again, and what generate cannot do is refused before anything is written (the Azure provider's
side, over TLS against the emulator, is tests/azure/test_adoption.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from planner.generate import config_text, generated_files
from planner.stack.loader import load_stack
from state import load_state
from tests.helpers import Run


def test_a_local_stack_whose_files_and_state_were_lost_is_adopted_again(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    for lost in (
        "aibplan.state.json",
        "gallery.json",
        "identity.json",
        "permissions.json",
        "ubuntu2204.json",
    ):
        (root / lost).unlink()
    (root / "aibplan.state.json.backup").unlink(missing_ok=True)

    run = cli("generate", "rg-golden-images", "--out", str(root))
    assert run.exit_code == 0, run.stderr
    assert "Wrote" in run.stdout and "aibplan.json" not in run.stdout.split("Wrote")[-1]
    assert cli("import", "--all", str(root)).exit_code == 0
    state = load_state(root / "aibplan.state.json")
    assert state is not None and len(state.resources) == 7
    run = cli("plan", "--detailed-exitcode", str(root))
    assert run.exit_code == 0, run.stdout + run.stderr


def test_generate_refuses_what_it_cannot_do_and_writes_nothing(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    (root / "aibplan.state.json").unlink()
    for moved in ("gallery.json", "identity.json", "ubuntu2204.json"):
        (root / moved).rename(tmp_path / moved)
    (root / "identity.aibBuilder.json").write_text("{}")  # in the way
    before = sorted(p.name for p in root.iterdir())

    run = cli("generate", "rg-golden-images", "--out", str(root))
    assert run.exit_code == 1 and "identity.aibBuilder.json already exist(s)" in run.stderr
    assert "nothing was written" in run.stderr
    assert sorted(p.name for p in root.iterdir()) == before

    cases = [
        (("/subscriptions/a/resourceGroups/one", "/subscriptions/a/resourceGroups/two"), "a stack is one"),
        (("rg-elsewhere",), "is for /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-g"),
        (("not/a/scope",), "is not a resource group name or id"),
    ]
    for scopes, said in cases:
        run = cli("generate", *scopes, "--out", str(root))
        assert run.exit_code == 1 and said in run.stderr, run.stderr
    run = cli("generate", "rg-images", "--out", str(tmp_path / "new"))
    assert run.exit_code == 1 and "give its subscription with --subscription ID" in run.stderr
    local = ("--subscription", "s", "--provider", "local")
    run = cli("generate", "rg-images", *local, "--out", str(tmp_path / "new"))
    assert run.exit_code == 1 and "the local cloud belongs to a stack folder" in run.stderr
    assert not (tmp_path / "new").exists()


def test_generated_files_load_back_as_the_cloud_holds_them(tmp_path: Path) -> None:
    """Strings that read as expressions are escaped, names with quotes are quoted, ids of generated
    resources become resourceId(...) and others stay: loading the files gives back the cloud's values."""
    group = "/subscriptions/sub-1/resourceGroups/rg-images"
    identity_id = f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/it's-me"
    subnet = "/subscriptions/sub-2/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
    template = {
        "id": f"{group}/providers/Microsoft.VirtualMachineImages/imageTemplates/t1",
        "location": "westeurope",
        "tags": {"note": "[not an expression]"},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity_id: {"principalId": "p"}}},
        "properties": {
            "provisioningState": "Succeeded",
            "source": {"type": "PlatformImage", "publisher": "p", "offer": "o", "sku": "s", "version": "1"},
            "vmProfile": {"vmSize": "", "osDiskSizeGB": 0, "vnetConfig": {"subnetId": subnet}},
            "customize": [{"type": "Shell", "name": "a", "inline": ["echo [x]"]}],
            "distribute": [{"type": "VHD", "runOutputName": "vhd"}],
        },
    }
    identity = {"id": identity_id, "location": "westeurope", "properties": {"principalId": "p"}}
    files = generated_files([template, identity], subscription="sub-1", resource_group="rg-images")
    assert [f.name for f in files] == ["identity.it_s-me.json", "imageTemplate.t1.json"]
    (tmp_path / "aibplan.json").write_text(config_text("sub-1", "rg-images", "westeurope", "local"))
    for f in files:
        (tmp_path / f.name).write_text(f.text)
    stack, diagnostics = load_stack(tmp_path)
    assert stack is not None, diagnostics
    loaded = stack.by_address["imageTemplate.t1"].body
    assert loaded["tags"] == {"note": "[not an expression]"}
    assert list(loaded["identity"]["userAssignedIdentities"]) == [identity_id]
    assert loaded["properties"]["vmProfile"] == {"vnetConfig": {"subnetId": subnet}}
    assert loaded["properties"]["customize"][0]["inline"] == ["echo [x]"]
    assert "provisioningState" not in loaded["properties"]
    text = next(f.text for f in files if f.address == "imageTemplate.t1")
    assert "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'it''s-me')]" in text
    assert '"[[not an expression]"' in text
