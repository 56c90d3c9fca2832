"""Lifecycle guardrails through the command line (docs/guardrails.md): `ignoreChanges` keeps the cloud's
value at its paths through apply and saved plans, `preventDestroy` refuses a destroy or a replace, and a
setting that cannot be used is a clear error, never silently dropped. The plan data itself is pinned by
the golden cases tests/fixtures/plans/cases/lifecycle--*."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from planner.planning.guardrails import with_ignored_changes
from planner.stack.jsonc import load_jsonc
from planner.stack.model import Lifecycle, Resource, SourceRef
from tests.helpers import Run, cloud_count, edit_json

TEMPLATE = "imageTemplate.ubuntu2204"


def applied(example: Callable[[str], Path], cli: Callable[..., Run]) -> Path:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    return root


def guard(root: Path, lifecycle: dict[str, object]) -> None:
    config = load_jsonc((root / "aibplan.json").read_text(), "aibplan.json")
    config["lifecycle"] = lifecycle
    (root / "aibplan.json").write_text(json.dumps(config, indent=2))


def cloud_tags(cli: Callable[..., Run], root: Path) -> dict[str, str]:
    run = cli("sim", "show", TEMPLATE, str(root))
    assert run.exit_code == 0, run.stderr
    return dict(json.loads(run.stdout)["tags"])


def test_an_ignored_tag_keeps_the_portal_value_through_an_apply_of_another_change(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = applied(example, cli)
    guard(root, {TEMPLATE: {"ignoreChanges": ["tags.owner"]}})
    assert cli("sim", "set-tag", TEMPLATE, "owner=portal", str(root)).exit_code == 0
    run = cli("plan", "--detailed-exitcode", str(root))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "has changed outside aibplan" in run.stdout and "No changes." in run.stdout

    edit_json(root / "ubuntu2204.json", lambda d: d["tags"].update(team="images"))
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    tags = cloud_tags(cli, root)
    assert tags == {"imagebuilderTemplate": "ubuntu2204", "owner": "portal", "team": "images"}
    assert cli("plan", "--detailed-exitcode", str(root)).exit_code == 0


def test_a_saved_plan_keeps_the_ignored_value_the_cloud_has_when_it_is_applied(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = applied(example, cli)
    guard(root, {TEMPLATE: {"ignoreChanges": ["tags.owner"]}})
    edit_json(root / "ubuntu2204.json", lambda d: d["tags"].update(team="images"))
    plan_file = tmp_path / "change.plan"
    assert cli("plan", "--out", str(plan_file), str(root)).exit_code == 0
    # Someone changes the ignored tag between the plan and its apply.
    assert cli("sim", "set-tag", TEMPLATE, "owner=portal", str(root)).exit_code == 0
    run = cli("apply", str(plan_file))
    assert run.exit_code == 0, run.stderr
    assert cloud_tags(cli, root)["owner"] == "portal"


def test_prevent_destroy_refuses_a_destroy_and_a_replace_naming_the_resource(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = applied(example, cli)
    before = cloud_count(root)
    edit_json(
        root / "gallery.json",
        lambda d: d[1].update(metadata={"aibplan": {"lifecycle": {"preventDestroy": True}}}),
    )
    run = cli("destroy", "--auto-approve", str(root))
    assert run.exit_code == 1
    assert (
        "AIB8010 imageDefinition.corpImages/ubuntu2204 has lifecycle.preventDestroy (gallery.json), and this "
        "plan would delete it: a destroy deletes everything in the state" in run.stderr
    )
    assert cloud_count(root) == before

    edit_json(root / "gallery.json", lambda d: d[1]["properties"]["identifier"].update(sku="another"))
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 1
    assert "this plan would replace it: properties.identifier.sku cannot be updated in place" in run.stderr
    assert cloud_count(root) == before
    # Only the guarded resource is refused: a destroy of the template alone goes ahead.
    edit_json(root / "gallery.json", lambda d: d[1]["properties"]["identifier"].update(sku="22_04-lts-gen2"))
    run = cli("destroy", "--auto-approve", "--target", TEMPLATE, str(root))
    assert run.exit_code == 0, run.stderr


def test_a_lifecycle_that_cannot_be_used_stops_the_plan_with_its_place(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    guard(root, {TEMPLATE: {"preventDestory": True, "ignoreChanges": ["tags..owner"]}})
    run = cli("plan", str(root))
    assert run.exit_code == 1
    assert "error AIB0003 unknown lifecycle setting 'preventDestory'" in run.stderr
    assert "did you mean 'preventDestroy'?" in run.stderr
    assert "ignoreChanges[0]: 'tags..owner' is not a path in the resource's body" in run.stderr
    assert "aibplan.json:" in run.stderr

    guard(root, {"imageTemplate.ubuntu2024": {"preventDestroy": True}})
    run = cli("validate", str(root))
    assert run.exit_code == 0
    assert "aibplan.json names imageTemplate.ubuntu2024, which the stack does not declare" in run.stderr
    assert "did you mean 'imageTemplate.ubuntu2204'?" in run.stderr


def test_ignored_paths_never_take_a_secret_fingerprint_from_the_state() -> None:
    """Without a refresh the cloud's body is the state's, where secrets are fingerprints: those paths keep
    the stack's value (a fingerprint is never sent), the others take the state's."""
    resource = Resource(
        "imageTemplate",
        "t",
        "Microsoft.VirtualMachineImages/imageTemplates",
        "2024-02-01",
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.VirtualMachineImages/imageTemplates/t",
        {"tags": {"password": "hunter2", "owner": "me"}},
        (),
        SourceRef("t.json"),
    )
    observed = {"tags": {"password": "<secret:sha256:0123456789ab>", "owner": "portal"}}
    lifecycle = Lifecycle(ignore_changes=(("tags", "password"), ("tags", "owner")))
    kept = with_ignored_changes(resource, observed, lifecycle)
    assert kept.body == {"tags": {"password": "hunter2", "owner": "portal"}}
    assert resource.body["tags"]["owner"] == "me", "the stack's resource is not changed in place"
