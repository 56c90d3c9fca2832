"""Saved plans: `plan --out FILE` then `apply FILE` applies exactly what was shown, or refuses when stale."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from state import load_state
from tests.helpers import Run, edit_json

TEMPLATE = "imageTemplate.ubuntu2204"


def applied_root(example: Callable[[str], Path], cli: Callable[..., Run]) -> Path:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    return root


def test_a_fresh_saved_plan_applies_exactly_what_it_showed(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = applied_root(example, cli)
    edit_json(root / "ubuntu2204.json", lambda d: d["tags"].update(costCenter="4711"))
    edit_json(root / "identity.json", lambda d: d.update(location="eastus"))
    plan_file = tmp_path / "plans" / "change.plan"
    plan_file.parent.mkdir()
    run = cli("plan", "--out", str(plan_file), str(root))
    assert run.exit_code == 0 and f"aibplan apply {plan_file}" in run.stderr
    shown = run.stdout
    assert "Plan: 0 to add, 0 to change, 2 to replace, 0 to destroy." in shown

    # Something else changes in the cloud after the plan: the saved plan does not pick it up.
    assert cli("sim", "set-tag", str(root), "gallery.corpImages", "owner=portal").exit_code == 0

    run = cli("apply", str(plan_file))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith(shown.split("\n", 1)[0])
    assert shown.rstrip("\n") in run.stdout
    assert "Apply complete! Resources: 0 added, 0 changed, 2 replaced, 0 destroyed." in run.stdout
    started = [line.split(":")[0] for line in run.stderr.splitlines() if "ing..." in line]
    assert sorted(set(started)) == ["identity.aibBuilder", TEMPLATE]

    run = cli("drift", "--json", str(root))
    assert [d["address"] for d in json.loads(run.stdout)["drift"]] == ["gallery.corpImages"]
    document = json.loads(cli("plan", "--json", str(root)).stdout)
    assert [c["address"] for c in document["resource_changes"] if c["action"] != "no-op"] == [
        "gallery.corpImages"
    ]


def test_a_saved_plan_is_refused_once_the_state_moved(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = applied_root(example, cli)
    edit_json(root / "ubuntu2204.json", lambda d: d["tags"].update(costCenter="4711"))
    plan_file = tmp_path / "a.plan"
    assert cli("plan", "--out", str(plan_file), str(root)).exit_code == 0
    serial = load_state(root / "aibplan.state.json").serial  # type: ignore[union-attr]
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    state_bytes = (root / "aibplan.state.json").read_bytes()
    run = cli("apply", str(plan_file))
    assert run.exit_code == 1
    assert (
        f"is stale: the state changed since the plan was made (serial {serial} then, {serial + 1} now)"
        in (run.stderr)
    )
    assert "Nothing was changed; make a new plan with `aibplan plan --out FILE`." in run.stderr
    assert (root / "aibplan.state.json").read_bytes() == state_bytes


def test_a_saved_plan_is_refused_against_another_state_lineage(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = applied_root(example, cli)
    edit_json(root / "ubuntu2204.json", lambda d: d["tags"].update(costCenter="4711"))
    plan_file = tmp_path / "a.plan"
    assert cli("plan", "--out", str(plan_file), str(root)).exit_code == 0
    state_file = root / "aibplan.state.json"
    data = json.loads(state_file.read_text())
    lineage = data["lineage"]
    data["lineage"] = "another-lineage"
    state_file.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    run = cli("apply", str(plan_file))
    assert run.exit_code == 1
    assert f"the plan was made against another state (lineage {lineage})" in run.stderr
    assert "has lineage another-lineage" in run.stderr


def test_a_saved_plan_is_refused_when_the_inputs_changed(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = applied_root(example, cli)
    plan_file = tmp_path / "a.plan"
    assert cli("plan", "--out", str(plan_file), str(root)).exit_code == 0
    edit_json(root / "gallery.json", lambda d: d[0]["properties"].update(description="changed after"))
    run = cli("apply", str(plan_file))
    assert run.exit_code == 1 and "the configuration changed since the plan was made" in run.stderr


def test_a_saved_plan_keeps_its_variables_and_refuses_new_options(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = example("arm-deployment")
    plan_file = tmp_path / "prod.plan"
    run = cli("plan", "--out", str(plan_file), "--var", "environment=prod", str(root))
    assert run.exit_code == 0, run.stderr
    run = cli("apply", str(plan_file), "--var", "environment=test")
    assert run.exit_code == 1 and "--var cannot be used with a saved plan" in run.stderr
    run = cli("apply", str(plan_file))
    assert run.exit_code == 0 and "identity.id-aib-prod: Creation complete" in run.stderr
    assert cli("plan", "--detailed-exitcode", "--var", "environment=prod", str(root)).exit_code == 0


def test_a_saved_destroy_plan(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = applied_root(example, cli)
    plan_file = tmp_path / "destroy.plan"
    assert cli("plan", "--destroy", "--out", str(plan_file), str(root)).exit_code == 0
    run = cli("apply", str(plan_file))
    assert run.exit_code == 0 and "Destroy complete! Resources: 7 destroyed." in run.stdout


def test_a_saved_refresh_only_plan_is_refused_when_the_cloud_moved_again(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = applied_root(example, cli)
    cli("sim", "set-tag", str(root), "gallery.corpImages", "owner=a")
    plan_file = tmp_path / "refresh.plan"
    assert cli("plan", "--refresh-only", "--out", str(plan_file), str(root)).exit_code == 0
    cli("sim", "set-tag", str(root), "gallery.corpImages", "owner=b")
    run = cli("apply", str(plan_file))
    assert run.exit_code == 1 and "gallery.corpImages changed again" in run.stderr
    assert cli("plan", "--refresh-only", "--out", str(plan_file), str(root)).exit_code == 0
    run = cli("apply", str(plan_file))
    assert run.exit_code == 0 and "1 resource(s) refreshed" in run.stdout
    assert cli("drift", str(root)).exit_code == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a saved plan (invalid JSON"),
        ('{"kind": "something"}', "not a saved plan (write one with"),
        ('{"kind": "aibplan-saved-plan", "format_version": "9"}', "made by a newer aibplan (saved plan"),
        (
            '{"kind": "aibplan-saved-plan", "format_version": "1", "plan": {}}',
            "made by an older aibplan (saved plan format '1'; this one reads '3'); plan again",
        ),
        (
            '{"kind": "aibplan-saved-plan", "format_version": "2", "plan": {}}',
            "made by an older aibplan (saved plan format '2'; this one reads '3'); plan again",
        ),
        ('{"kind": "aibplan-saved-plan", "format_version": "3"}', "the saved plan is damaged"),
    ],
)
def test_a_broken_plan_file_is_a_clear_error(
    tmp_path: Path, cli: Callable[..., Run], content: str, message: str
) -> None:
    plan_file = tmp_path / "x.plan"
    plan_file.write_text(content)
    run = cli("apply", str(plan_file))
    assert run.exit_code == 1 and message in run.stderr and "Traceback" not in run.stderr


def test_a_saved_plan_applies_once(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = applied_root(example, cli)
    # A plan that only repairs drift leaves the state's resources as they were after it is applied.
    assert cli("sim", "set-tag", TEMPLATE, "owner=portal", str(root)).exit_code == 0
    plan_file = tmp_path / "repair.plan"
    assert cli("plan", "--out", str(plan_file), str(root)).exit_code == 0
    run = cli("apply", str(plan_file))
    assert run.exit_code == 0 and f"{TEMPLATE}: Modifications complete" in run.stderr
    state_bytes = (root / "aibplan.state.json").read_bytes()
    assert cli("sim", "set-tag", TEMPLATE, "owner=portal-again", str(root)).exit_code == 0
    run = cli("apply", str(plan_file))
    assert run.exit_code == 1 and "is stale: it was applied already" in run.stderr
    assert "a saved plan applies once. Nothing was changed" in run.stderr
    assert "Modifying" not in run.stderr and (root / "aibplan.state.json").read_bytes() == state_bytes
    drift = json.loads(cli("drift", "--json", str(root)).stdout)
    assert [d["address"] for d in drift["drift"]] == [TEMPLATE], "the second apply changed nothing"


def test_plan_out_never_overwrites_the_state_or_the_stack(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = applied_root(example, cli)
    for name in ("aibplan.state.json", "aibplan.json", "ubuntu2204.json"):
        before = (root / name).read_bytes()
        run = cli("plan", "--out", str(root / name), str(root))
        assert run.exit_code == 1 and f"--out {root / name}: refusing to overwrite" in run.stderr
        assert (root / name).read_bytes() == before
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0, "the state is still whole"
