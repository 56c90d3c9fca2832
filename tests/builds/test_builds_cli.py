"""The build commands as users meet them: apply --run, run, cancel, output, sim build-fail, and plan."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.builds import BuildRecorder, BuildTarget, RunStatus
from planner.builds.checks import failed_builds
from planner.stack.jsonc import load_jsonc
from providers.base import ResourceRef
from providers.simulated.local import LocalProvider
from state import load_state
from state.lock import acquire
from tests.helpers import Run, edit_json

QUICKSTART_TEMPLATE = "imageTemplate.ubuntu2204"
TEMPLATE_TYPE = "Microsoft.VirtualMachineImages/imageTemplates"


def state_extra(root: Path, address: str) -> dict:  # type: ignore[type-arg]
    state = load_state(root / "aibplan.state.json")
    assert state is not None
    entry = state.get(address)
    assert entry is not None
    return dict(entry.extra)


def test_quickstart_apply_run_builds_and_reports_the_outputs(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    run = cli("apply", "--auto-approve", "--run", str(root))
    assert run.exit_code == 0, run.stderr
    assert "Apply complete! Resources: 7 added" in run.stdout
    assert "imageTemplate.ubuntu2204: starting the build..." in run.stderr
    assert "imageTemplate.ubuntu2204: Succeeded after" in run.stderr
    extra = state_extra(root, QUICKSTART_TEMPLATE)
    outputs = {o["name"]: o["properties"] for o in extra["run_outputs"]}
    version_id = outputs["ubuntu2204-sig"]["artifactId"]
    vhd_uri = outputs["ubuntu2204-vhd"]["artifactUri"]
    assert "/galleries/corpImages/images/ubuntu2204/versions/0." in version_id
    assert vhd_uri.startswith("https://") and vhd_uri.endswith(".vhd")
    # The command printed both, and `output --json` gives the same.
    assert version_id in run.stdout and vhd_uri in run.stdout
    assert "Builds: 1 succeeded." in run.stdout
    shown = cli("output", "--json", str(root))
    assert shown.exit_code == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["format_version"] == "1"
    (template,) = document["templates"]
    assert template["address"] == QUICKSTART_TEMPLATE
    assert template["last_run"]["run_state"] == "Succeeded"
    assert {o["name"]: o["artifact_id"] or o["artifact_uri"] for o in template["run_outputs"]} == {
        "ubuntu2204-sig": version_id,
        "ubuntu2204-vhd": vhd_uri,
    }
    # The state holds the run: start and end, runState, and the fingerprint of what was built.
    last_run = extra["last_run"]
    assert last_run["start_time"] < last_run["end_time"] and last_run["run_state"] == "Succeeded"
    assert extra["last_success"]["fingerprint"] == last_run["fingerprint"]
    assert last_run["fingerprint"].startswith("sha256:")
    refreshed = cli("output", "--refresh", str(root), QUICKSTART_TEMPLATE)
    assert refreshed.exit_code == 0 and version_id in refreshed.stdout
    # Running is an action, not desired state: the plan stays empty.
    plan = cli("plan", "--detailed-exitcode", str(root))
    assert plan.exit_code == 0, plan.stdout


def test_changing_a_built_template_says_the_image_is_out_of_date(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", "--run", str(root)).exit_code == 0
    edit_json(root / "ubuntu2204.json", lambda d: d["properties"]["customize"][0]["inline"].append("echo hi"))
    plan = cli("plan", "--detailed-exitcode", str(root))
    assert plan.exit_code == 2
    assert "imageTemplate.ubuntu2204 must be replaced" in plan.stdout
    assert "AIB7001 the image is out of date: it was built from an older definition" in plan.stdout
    document = json.loads(cli("plan", "--json", str(root)).stdout)
    change = next(c for c in document["resource_changes"] if c["address"] == QUICKSTART_TEMPLATE)
    # The build also wrote a VHD into the staging resource group, which the replace loses (AIB6003).
    assert [w["code"] for w in change["warnings"]] == ["AIB7001", "AIB6003"]
    # Replacing the template keeps the record of the old build: the image is still out of date ...
    assert cli("apply", "--auto-approve", "--allow-vhd-loss", str(root)).exit_code == 0
    assert "AIB7001" in cli("plan", str(root)).stdout
    # ... until the new definition is built.
    assert cli("run", "--wait", str(root)).exit_code == 0
    assert "AIB7001" not in cli("plan", str(root)).stdout
    # A tag does not change the image.
    edit_json(root / "ubuntu2204.json", lambda d: d["tags"].update(costCenter="4711"))
    assert "AIB7001" not in cli("plan", str(root)).stdout


def test_base_and_application_images_build_in_order_and_a_failed_base_skips_the_app(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("base-and-app")
    run = cli("apply", "--auto-approve", "--run", str(root))
    assert run.exit_code == 0, run.stderr
    ended = [line for line in run.stderr.splitlines() if "Succeeded after" in line]
    assert [line.split(":")[0] for line in ended] == ["imageTemplate.base", "imageTemplate.webapp"]
    base_version = state_extra(root, "imageTemplate.base")["run_outputs"][0]["properties"]["artifactId"]

    planted = cli("sim", "build-fail", str(root), "imageTemplate.base", "--step", "Customizing")
    assert planted.exit_code == 0 and "its next build fails at Customizing" in planted.stdout
    run = cli("run", "--wait", str(root))
    assert run.exit_code == 1
    assert "imageTemplate.base    Failed   Customizing" in run.stdout
    assert (
        "not built: the build of imageTemplate.base ended Failed at Customizing; it builds from the image "
        "definition layeredImages/base that imageTemplate.base distributes to" in run.stdout
    )
    assert "Builds: 1 failed, 1 skipped." in run.stdout
    base = state_extra(root, "imageTemplate.base")
    assert (
        base["last_run"]["run_state"] == "Failed"
        and "Packer build command has failed" in base["last_run"]["message"]
    )
    assert base["last_success"]["end_time"]  # the earlier success is remembered
    state = load_state(root / "aibplan.state.json")
    assert state is not None
    (finding,) = failed_builds(state)
    assert finding.code == "AIB7004" and finding.address == "imageTemplate.base"
    # Naming only the application image builds it alone, from the base's latest (successful) version.
    run = cli("run", "--wait", str(root), "webapp")
    assert run.exit_code == 0, run.stdout
    assert state_extra(root, "imageTemplate.webapp")["last_run"]["run_state"] == "Succeeded"
    cloud = LocalProvider(root / ".aibplan")
    try:
        body = cloud.read(
            ResourceRef(state.by_address["imageTemplate.webapp"].arm_id, TEMPLATE_TYPE, "2024-02-01")
        )
    finally:
        cloud.close()
    assert body is not None and body["properties"]["source"]["exactVersion"] == base_version


def test_cancel_during_a_build_ends_canceled(
    example: Callable[[str], Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    # A customizer that waits for input: the build stays in Customizing (80 minutes of 250 ms each).
    assert cli("sim", "build-fail", str(root), QUICKSTART_TEMPLATE, "--hang").exit_code == 0
    monkeypatch.setenv("AIBPLAN_LOCAL_BUILD_MINUTE_MS", "250")
    started = cli("run", "--no-wait", str(root))
    assert started.exit_code == 0, started.stdout
    assert "imageTemplate.ubuntu2204  Started" in started.stdout
    assert state_extra(root, QUICKSTART_TEMPLATE)["last_run"]["run_state"] == "Running"
    # The service refuses to delete a template while it builds (test_builds_local); a destroy plan says
    # apply would cancel the build first.
    destroy = cli("plan", "--destroy", str(root))
    assert destroy.exit_code == 0 and "apply cancels it and waits until it is Canceled" in destroy.stdout
    canceled = cli("cancel", "--wait", str(root), QUICKSTART_TEMPLATE)
    assert canceled.exit_code == 0, canceled.stdout + canceled.stderr
    assert "imageTemplate.ubuntu2204  Canceled" in canceled.stdout
    assert "Canceling" in canceled.stderr
    assert state_extra(root, QUICKSTART_TEMPLATE)["last_run"]["run_state"] == "Canceled"
    again = cli("cancel", str(root), QUICKSTART_TEMPLATE)
    assert again.exit_code == 0 and "NotRunning" in again.stdout


def test_a_build_past_its_timeout_fails_with_the_timeout_text(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    edit_json(root / "ubuntu2204.json", lambda d: d["properties"].update(buildTimeoutInMinutes=30))
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    assert cli("sim", "build-fail", str(root), QUICKSTART_TEMPLATE, "--hang").exit_code == 0
    run = cli("run", "--wait", str(root))
    assert run.exit_code == 1
    message = (
        "Failed while waiting for packerizer: Timeout waiting for microservice to complete: "
        "'context deadline exceeded'"
    )
    assert message in run.stdout
    assert state_extra(root, QUICKSTART_TEMPLATE)["last_run"]["message"] == message


def test_waiting_has_a_limit(
    example: Callable[[str], Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    assert cli("sim", "build-fail", str(root), QUICKSTART_TEMPLATE, "--hang").exit_code == 0
    monkeypatch.setenv("AIBPLAN_LOCAL_BUILD_MINUTE_MS", "1000")
    run = cli("run", "--wait", "--timeout", "0.002", str(root))
    assert run.exit_code == 1
    assert "Running" in run.stdout and "stopped waiting (--timeout); the build goes on" in run.stdout
    assert cli("cancel", str(root), QUICKSTART_TEMPLATE).exit_code == 0


def test_plan_warns_about_explicit_versions(example: Callable[[str], Path], cli: Callable[..., Run]) -> None:
    root = example("base-and-app")

    def pin(d: dict) -> None:  # type: ignore[type-arg]
        d["properties"]["distribute"][0]["galleryImageId"] = (
            "[concat(resourceId('Microsoft.Compute/galleries/images', 'layeredImages', 'base'), "
            "'/versions/1.0.0')]"
        )

    edit_json(root / "base.json", pin)
    assert cli("apply", "--auto-approve", "--run", str(root)).exit_code == 0
    plan = cli("plan", str(root))
    assert "AIB7002" not in plan.stdout  # this template made 1.0.0 itself
    # A second template publishing the same explicit version: both are told, and the version exists.
    copy = json.loads((root / "base.json").read_text())
    copy["properties"]["distribute"][0]["runOutputName"] = "again"
    (root / "base2.json").write_text(json.dumps(copy))
    plan = cli("plan", str(root))
    assert plan.stdout.count("AIB7003") == 2
    assert "layeredImages/base/1.0.0: imageTemplate.base (distribute[0]), imageTemplate.base2" in plan.stdout
    assert "AIB7002 the image version layeredImages/base/1.0.0 already exists" in plan.stdout
    assert "(imageTemplate.base2, properties.distribute[0].galleryImageId)" in plan.stdout


def test_run_names_templates_and_says_what_is_wrong(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    run = cli("run", "--wait", str(root))
    assert run.exit_code == 1 and "has not been created yet; run `aibplan apply` first" in run.stderr
    run = cli("run", str(root), "imageTemplate.ubuntu")
    assert run.exit_code == 1 and "did you mean imageTemplate.ubuntu2204?" in run.stderr
    run = cli("run", str(root), "gallery.corpImages")
    assert run.exit_code == 1 and "only image templates are built" in run.stderr
    run = cli("cancel", str(root))
    assert run.exit_code == 1 and "name the image templates" in run.stderr
    run = cli("sim", "build-fail", str(root), QUICKSTART_TEMPLATE, "--step", "Optimizing")
    assert run.exit_code == 1 and "has no Optimizing step" in run.stderr
    run = cli("output", str(root))
    assert run.exit_code == 0 and "has been created yet" in run.stderr


def _spans(root: Path, addresses: list[str]) -> list[tuple[str, str]]:
    return [
        (state_extra(root, a)["last_run"]["start_time"], state_extra(root, a)["last_run"]["end_time"])
        for a in addresses
    ]


def test_independent_builds_run_side_by_side_up_to_the_parallelism(
    example: Callable[[str], Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example("quickstart")
    second = json.loads(json.dumps(load_jsonc((root / "ubuntu2204.json").read_text(), "ubuntu2204.json")))
    for target in second["properties"]["distribute"]:
        target["runOutputName"] += "-b"
    (root / "ubuntu2204b.json").write_text(json.dumps(second))
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    monkeypatch.setenv("AIBPLAN_LOCAL_BUILD_MINUTE_MS", "20")
    templates = [QUICKSTART_TEMPLATE, "imageTemplate.ubuntu2204b"]
    assert cli("run", "--wait", "--parallelism", "2", str(root)).exit_code == 0
    (a_start, a_end), (b_start, b_end) = _spans(root, templates)
    assert a_start < b_end and b_start < a_end  # the two builds overlapped
    assert cli("run", "--wait", "--parallelism", "1", str(root)).exit_code == 0
    (a_start, a_end), (b_start, b_end) = _spans(root, templates)
    assert a_end <= b_start or b_end <= a_start  # one after the other


def test_a_build_record_does_not_undo_what_another_command_wrote_meanwhile(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    path = root / "aibplan.state.json"
    stale = load_state(path)
    assert stale is not None
    recorder = BuildRecorder(path, stale, stale)
    # Another command (an apply of a tag) writes the state while the build runs.
    edit_json(root / "gallery.json", lambda d: d[0]["tags"].update(costCenter="4711"))
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    entry = stale.by_address[QUICKSTART_TEMPLATE]
    target = BuildTarget(
        entry.address, ResourceRef(entry.arm_id, entry.arm_type, entry.api_version), entry.applied
    )
    recorder.record(
        target, RunStatus("Succeeded", "Distributing", "", "2026-01-01T00:00:00Z", "2026-01-01T00:40:00Z"), []
    )
    after = load_state(path)
    assert after is not None and after.serial == stale.serial + 2
    assert after.by_address["gallery.corpImages"].applied["tags"]["costCenter"] == "4711"
    assert after.by_address[QUICKSTART_TEMPLATE].extra["last_run"]["run_state"] == "Succeeded"


def test_run_is_a_state_writer_and_respects_the_lock(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    with acquire(root / ".aibplan", "apply"):
        run = cli("run", "--wait", str(root))
        assert run.exit_code == 1 and "lock" in run.stderr.lower()
    assert state_extra(root, QUICKSTART_TEMPLATE) == {}
    run = cli("run", "--wait", str(root))
    assert (
        run.exit_code == 0 and state_extra(root, QUICKSTART_TEMPLATE)["last_run"]["run_state"] == "Succeeded"
    )


def test_drift_reports_a_build_that_failed_after_aibplan_last_looked(
    example: Callable[[str], Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    assert cli("sim", "build-fail", str(root), QUICKSTART_TEMPLATE, "--step", "Building").exit_code == 0
    # The build fails at the end of Building, 5 simulated minutes of 300 ms: after `run` has returned.
    monkeypatch.setenv("AIBPLAN_LOCAL_BUILD_MINUTE_MS", "300")
    assert cli("run", "--no-wait", str(root)).exit_code == 0
    assert state_extra(root, QUICKSTART_TEMPLATE)["last_run"]["run_state"] == "Running"
    deadline = time.monotonic() + 30
    while True:
        run = cli("drift", str(root))
        if "AIB7004" in run.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert run.exit_code == 0, run.stdout
    assert "AIB7004 the last build" in run.stdout and "ended Failed at Building" in run.stdout
    assert state_extra(root, QUICKSTART_TEMPLATE)["last_run"]["run_state"] == "Running"  # drift is read-only
