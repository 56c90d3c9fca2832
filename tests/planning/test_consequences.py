"""What deletes and replaces bring with them: cascades, running builds, lost VHDs, image versions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.planning.consequences import vhd_uris
from providers.base import ResourceRef
from providers.simulated.local import LocalProvider
from state import load_state
from tests.helpers import Run, apply_root, edit_json

TEMPLATE = "imageTemplate.ubuntu2204"
DEFINITION = "imageDefinition.corpImages/ubuntu2204"
SUB_RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-golden-images"
DEFINITION_ID = f"{SUB_RG}/providers/Microsoft.Compute/galleries/corpImages/images/ubuntu2204"
VHD_URI = "https://aibstaging1234.blob.core.windows.net/vhds/ubuntu2204_20240501.vhd"


def template_id(root: Path) -> str:
    state = load_state(root / "aibplan.state.json")
    assert state is not None
    return state.by_address[TEMPLATE].arm_id


def run_state_in_cloud(root: Path) -> str | None:
    cloud = LocalProvider(root / ".aibplan")
    try:
        body = cloud.read(ResourceRef(template_id(root), "", "2024-02-01"))
    finally:
        cloud.close()
    assert body is not None
    return (body["properties"].get("lastRunStatus") or {}).get("runState")


def test_running_build_is_cancelled_and_waited_for_before_the_template_is_replaced(
    example: Callable[[str], Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example("quickstart")
    apply_root(root)
    # A simulated minute of 100 ms: the hung build would time out after 8 s, a cancel takes 0.3 s.
    monkeypatch.setenv("AIBPLAN_LOCAL_BUILD_MINUTE_MS", "100")
    assert cli("sim", "start-build", str(root), TEMPLATE).exit_code == 0
    assert run_state_in_cloud(root) == "Running"
    edit_json(root / "ubuntu2204.json", lambda d: d["properties"]["customize"][0]["inline"].append("true"))

    document = json.loads(cli("plan", "--json", str(root)).stdout)
    change = next(c for c in document["resource_changes"] if c["address"] == TEMPLATE)
    assert change["action"] == "replace" and change["running_build"] == "Running"
    assert any("apply cancels it and waits until it is Canceled" in r for r in change["reasons"])
    assert [w["code"] for w in change["warnings"]] == ["AIB6002"]

    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0 and "1 replaced" in run.stdout, run.stderr
    assert "a build is Running; cancelling it before the template is deleted..." in run.stderr
    assert "the build ended (Canceled); deleting the template." in run.stderr
    assert run_state_in_cloud(root) is None
    assert cli("plan", "--detailed-exitcode", str(root)).exit_code == 0


def test_a_build_stuck_in_canceling_fails_that_template_and_what_waits_for_it(
    example: Callable[[str], Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example("quickstart")
    apply_root(root)
    # A simulated minute of 20 s: the cancel takes a minute of real time, far past the timeout below.
    monkeypatch.setenv("AIBPLAN_LOCAL_BUILD_MINUTE_MS", "20000")
    assert cli("sim", "start-build", str(root), TEMPLATE).exit_code == 0
    run = cli("destroy", "--auto-approve", "--cancel-timeout", "0.5", str(root))
    assert run.exit_code == 1
    assert (
        f"Error: {TEMPLATE}: delete failed: AIB6010: the build of image template 'ubuntu2204' is still "
        in (run.stderr)
    )
    assert "Canceling 0.5s after it was asked to cancel, so the template was not deleted" in run.stderr
    for later in ("identity.aibBuilder", DEFINITION, "gallery.corpImages"):
        assert f"  {later}: upstream failed" in run.stderr
    assert run_state_in_cloud(root) == "Canceling"
    state = load_state(root / "aibplan.state.json")
    assert state is not None and len(state.resources) == 7


def test_a_vhd_written_by_the_last_build_is_reported_and_blocks_apply(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    run = cli("apply", "--auto-approve", "--run", str(root))
    assert run.exit_code == 0, run.stderr
    edit_json(root / "ubuntu2204.json", lambda d: d["properties"].update(buildTimeoutInMinutes=120))

    document = json.loads(cli("plan", "--json", str(root)).stdout)
    change = next(c for c in document["resource_changes"] if c["address"] == TEMPLATE)
    (uri,) = change["vhd_uris"]
    assert uri.startswith("https://") and uri.endswith(".vhd")
    assert any(w["code"] == "AIB6003" and uri in w["message"] for w in change["warnings"])
    text = cli("plan", str(root)).stdout
    assert f"warning AIB6003 Replacing this template loses the VHD its last build wrote: {uri}" in text

    before = (root / "aibplan.state.json").read_bytes()
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 1
    assert f"loses the VHD its last build wrote ({uri}); copy it somewhere safe" in run.stderr
    assert "Apply refused: nothing was changed." in run.stderr
    assert (root / "aibplan.state.json").read_bytes() == before
    run = cli("apply", "--auto-approve", "--allow-vhd-loss", str(root))
    assert run.exit_code == 0 and "1 replaced" in run.stdout, run.stderr
    # The new template has not been built: nothing more to lose.
    assert cli("plan", "--detailed-exitcode", str(root)).exit_code == 0


def test_only_vhds_in_the_staging_resource_group_are_lost() -> None:
    body = {
        "properties": {
            "distribute": [
                {"type": "VHD", "runOutputName": "staged"},
                {"type": "VHD", "runOutputName": "own", "uri": "https://mine.blob.core.windows.net/v/x.vhd"},
                {"type": "SharedImage", "runOutputName": "sig", "galleryImageId": DEFINITION_ID},
            ]
        }
    }
    outputs = [
        {"name": n, "properties": {"artifactUri": f"https://x/{n}.vhd"}} for n in ("staged", "own", "sig")
    ]
    assert vhd_uris(body, outputs) == ("https://x/staged.vhd",)


def test_apply_refuses_to_lose_a_recorded_vhd_unless_allowed(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    apply_root(root)
    state_file = root / "aibplan.state.json"
    data = json.loads(state_file.read_text())
    entry = next(r for r in data["resources"] if r["address"] == TEMPLATE)
    entry["extra"] = {"run_outputs": [{"name": "ubuntu2204-vhd", "properties": {"artifactUri": VHD_URI}}]}
    state_file.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    edit_json(root / "ubuntu2204.json", lambda d: d.update(location="eastus"))

    run = cli("apply", "--no-refresh", "--auto-approve", str(root))
    assert run.exit_code == 1
    assert f"loses the VHD its last build wrote ({VHD_URI})" in run.stderr
    assert "Apply refused: nothing was changed." in run.stderr
    assert "warning AIB6003" in run.stdout
    assert json.loads(state_file.read_text()) == data

    run = cli("apply", "--no-refresh", "--auto-approve", "--allow-vhd-loss", str(root))
    assert run.exit_code == 0 and "1 replaced" in run.stdout, run.stderr


def test_image_versions_stop_an_image_definition_delete_with_what_to_do(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", "--run", str(root)).exit_code == 0
    edit_json(
        root / "gallery.json", lambda d: d[1]["properties"]["identifier"].update(sku="22_04-lts-gen2-v2")
    )

    document = json.loads(cli("plan", "--json", str(root)).stdout)
    changes = {c["address"]: c for c in document["resource_changes"]}
    assert changes[DEFINITION]["action"] == "replace"
    (version_id,) = changes[DEFINITION]["image_versions"]
    assert version_id.lower().startswith(DEFINITION_ID.lower() + "/versions/")
    version = version_id.rsplit("/", 1)[-1]
    assert changes[TEMPLATE]["action_reason"] == "cascade"
    warning = next(w for w in changes[DEFINITION]["warnings"] if w["code"] == "AIB6004")
    assert version in warning["message"] and "az sig image-version delete" in warning["hint"]

    before = (root / "aibplan.state.json").read_bytes()
    run = cli("apply", "--auto-approve", "--allow-vhd-loss", str(root))
    assert run.exit_code == 1
    assert f"still holds image version(s) {version}; Azure refuses to delete it" in run.stderr
    assert (root / "aibplan.state.json").read_bytes() == before


def test_a_gallery_holding_unmanaged_image_definitions_is_not_destroyed(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    apply_root(root)
    cloud = LocalProvider(root / ".aibplan")
    other = f"{SUB_RG}/providers/Microsoft.Compute/galleries/corpImages/images/handMade"
    cloud.service.raw_write(other, {"location": "westus2", "properties": {"osType": "Linux"}})
    cloud.close()
    run = cli("destroy", "--auto-approve", str(root))
    assert run.exit_code == 1
    assert "the gallery still holds image definition(s) that aibplan does not manage (handMade)" in run.stderr
    assert "warning AIB6005" in run.stdout


def test_a_cascading_replace_applies_in_order(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    apply_root(root)
    edit_json(root / "gallery.json", lambda d: [r.update(location="eastus") for r in d])
    run = cli("plan", str(root))
    assert "Plan: 0 to add, 0 to change, 3 to replace, 0 to destroy." in run.stdout
    assert "(its gallery gallery.corpImages is replaced" in run.stdout
    assert "(the image definition it distributes to, imageDefinition.corpImages/ubuntu2204, is replaced)" in (
        run.stdout
    )
    run = cli("apply", "--auto-approve", "--parallelism", "1", str(root))
    assert run.exit_code == 0 and "3 replaced" in run.stdout, run.stderr
    order = [line.split(":")[0] for line in run.stderr.splitlines() if "Destroying" in line]
    assert order == [TEMPLATE, DEFINITION, "gallery.corpImages"]
    assert cli("plan", "--detailed-exitcode", str(root)).exit_code == 0


def test_replace_request_and_targets_from_the_cli(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = str(example("quickstart"))
    assert cli("apply", "--auto-approve", root).exit_code == 0
    run = cli("plan", "--replace", TEMPLATE, root)
    assert "replacement requested with --replace" in run.stdout and "1 to replace" in run.stdout
    run = cli("plan", "--target", "imageTemplate.ubuntu", root)
    assert run.exit_code == 1 and "did you mean imageTemplate.ubuntu2204?" in run.stderr
    edit_json(Path(root) / "identity.json", lambda d: d["tags"].update(owner="x"))
    edit_json(Path(root) / "gallery.json", lambda d: d[0]["tags"].update(owner="y"))
    run = cli("apply", "--auto-approve", "--target", "gallery.corpImages", root)
    assert run.exit_code == 0 and "1 changed" in run.stdout
    assert "Note: resource targeting is in effect" in run.stdout
    document = json.loads(cli("plan", "--json", root).stdout)
    assert [c["address"] for c in document["resource_changes"] if c["action"] != "no-op"] == [
        "identity.aibBuilder"
    ]
    run = cli("destroy", "--auto-approve", "--target", DEFINITION, root)
    assert run.exit_code == 0 and "2 destroyed" in run.stdout
    state = load_state(Path(root) / "aibplan.state.json")
    assert state is not None and sorted(a for a in state.by_address if not a.startswith("role")) == [
        "gallery.corpImages",
        "identity.aibBuilder",
    ]
