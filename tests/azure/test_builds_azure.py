"""The build scenarios through the Azure provider (real SDK, real TLS) against the ARM emulator.

`aibplan sim` acts on the local cloud only; here failures are planted on the emulator's service directly,
as a person at the emulator's console would.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.stack.jsonc import load_jsonc
from state import load_state
from tests.helpers import BUILD_MINUTE, EXAMPLES, SUBSCRIPTION, Emulator, Run, builder_principal, edit_json

TEMPLATE = "imageTemplate.ubuntu2204"


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIBPLAN_BUILD_POLL_SECONDS", "0.01")


@pytest.fixture
def azure_layered(tmp_path: Path, azure_env: Emulator) -> Path:
    root = tmp_path / "base-and-app"
    shutil.copytree(
        EXAMPLES / "base-and-app", root, ignore=shutil.ignore_patterns(".aibplan", "aibplan.state*")
    )
    group = azure_env.new_group()
    config = {
        "subscriptionId": SUBSCRIPTION,
        "resourceGroup": group,
        "location": "westus2",
        "provider": "azure",
        "parameters": {"builderPrincipalId": builder_principal(SUBSCRIPTION, group, "aibLayered")},
    }
    (root / "aibplan.json").write_text(json.dumps(config), encoding="utf-8")
    return root


def extra(root: Path, address: str) -> dict:  # type: ignore[type-arg]
    state = load_state(root / "aibplan.state.json")
    assert state is not None and state.get(address) is not None
    return dict(state.by_address[address].extra)


def arm_id(root: Path, address: str) -> str:
    state = load_state(root / "aibplan.state.json")
    assert state is not None
    return state.by_address[address].arm_id


def test_quickstart_apply_run_output_and_out_of_date(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run]
) -> None:
    root = azure_quickstart()
    run = cli("apply", "--auto-approve", "--run", str(root))
    assert run.exit_code == 0, run.stderr
    outputs = {o["name"]: o["properties"] for o in extra(root, TEMPLATE)["run_outputs"]}
    version_id = outputs["ubuntu2204-sig"]["artifactId"]
    vhd_uri = outputs["ubuntu2204-vhd"]["artifactUri"]
    assert "/images/ubuntu2204/versions/" in version_id and vhd_uri.endswith(".vhd")
    assert version_id in run.stdout and vhd_uri in run.stdout
    document = json.loads(cli("output", "--json", "--refresh", str(root)).stdout)
    (template,) = document["templates"]
    assert {o["artifact_id"] or o["artifact_uri"] for o in template["run_outputs"]} == {version_id, vhd_uri}
    assert cli("plan", "--detailed-exitcode", str(root)).exit_code == 0
    edit_json(root / "ubuntu2204.json", lambda d: d["properties"]["customize"][0]["inline"].append("echo hi"))
    plan = cli("plan", str(root))
    assert "must be replaced" in plan.stdout and "AIB7001 the image is out of date" in plan.stdout


def test_base_and_app_in_order_and_a_failed_base_skips_the_app(
    azure_layered: Path, azure_env: Emulator, cli: Callable[..., Run]
) -> None:
    root = azure_layered
    run = cli("apply", "--auto-approve", "--run", str(root))
    assert run.exit_code == 0, run.stderr
    ended = [line.split(":")[0] for line in run.stderr.splitlines() if "Succeeded after" in line]
    assert ended == ["imageTemplate.base", "imageTemplate.webapp"]
    # A template that would publish the version the base build made: the plan reads it and warns.
    made = extra(root, "imageTemplate.base")["run_outputs"][0]["properties"]["artifactId"]
    copy = load_jsonc((EXAMPLES / "base-and-app" / "base.json").read_text(), "base.json")
    copy["properties"]["distribute"][0].update(galleryImageId=made, runOutputName="pinned")
    (root / "pinned.json").write_text(json.dumps(copy), encoding="utf-8")
    plan = cli("plan", str(root))
    assert (
        f"AIB7002 the image version layeredImages/base/{made.rsplit('/', 1)[1]} already exists" in plan.stdout
    )
    (root / "pinned.json").unlink()
    azure_env.server.service.plant_build_fault(arm_id(root, "imageTemplate.base"), "Customizing")
    run = cli("run", "--wait", str(root))
    assert run.exit_code == 1
    assert "not built: the build of imageTemplate.base ended Failed at Customizing" in run.stdout
    assert extra(root, "imageTemplate.base")["last_run"]["run_state"] == "Failed"


def test_cancel_and_timeout(
    azure_quickstart: Callable[..., Path],
    azure_env: Emulator,
    cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = azure_quickstart()
    # A hanging build fails when its timeout runs out (960 simulated minutes: about 2 s here), so the
    # cancel below finds it running even on a busy machine.
    edit_json(root / "ubuntu2204.json", lambda d: d["properties"].update(buildTimeoutInMinutes=960))
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    template_id = arm_id(root, TEMPLATE)
    azure_env.server.service.plant_build_fault(template_id, "Customizing", hang=True)
    # The emulator's builds run at its own pace (the variable below reaches only a local provider): a
    # hang lasting minutes of 0.25 s leaves the cancel time to arrive on a busy machine.
    monkeypatch.setattr(azure_env.server.service.builds, "minute", 0.25)
    monkeypatch.setenv("AIBPLAN_LOCAL_BUILD_MINUTE_MS", "250")
    started = cli("run", "--no-wait", str(root))
    assert started.exit_code == 0, started.stdout + started.stderr
    canceled = cli("cancel", "--wait", str(root), TEMPLATE)
    assert canceled.exit_code == 0, canceled.stdout + canceled.stderr
    assert f"{TEMPLATE}  Canceled" in canceled.stdout
    assert extra(root, TEMPLATE)["last_run"]["run_state"] == "Canceled"

    monkeypatch.setattr(azure_env.server.service.builds, "minute", BUILD_MINUTE)
    monkeypatch.setenv("AIBPLAN_LOCAL_BUILD_MINUTE_MS", "1")
    azure_env.server.service.plant_build_fault(template_id, "Customizing", hang=True)
    run = cli("run", "--wait", str(root))
    assert run.exit_code == 1
    assert "Timeout waiting for microservice to complete: 'context deadline exceeded'" in run.stdout
