"""Drift as a user meets it: `aibplan sim` changes the cloud, `drift` reports it, `plan` shows it first,
`apply` puts things back or `apply --refresh-only` takes them into the state."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from providers.base import ResourceRef
from providers.simulated.local import LocalProvider
from state import load_state
from tests.helpers import Run

TEMPLATE = "imageTemplate.ubuntu2204"
DEFINITION = "imageDefinition.corpImages/ubuntu2204"


def applied(example: Callable[[str], Path], cli: Callable[..., Run], name: str = "quickstart") -> str:
    root = str(example(name))
    run = cli("apply", "--auto-approve", root)
    assert run.exit_code == 0, run.stderr
    return root


def test_drift_end_to_end_with_sim(example: Callable[[str], Path], cli: Callable[..., Run]) -> None:
    root = applied(example, cli)
    run = cli("drift", root)
    assert run.exit_code == 0 and "No drift." in run.stdout

    assert cli("sim", "set-tag", root, TEMPLATE, "owner=someone-else").exit_code == 0
    assert cli("sim", "delete", root, DEFINITION).exit_code == 0

    run = cli("drift", root)
    assert run.exit_code == 2
    assert f"# {TEMPLATE} has changed outside aibplan" in run.stdout
    assert '~ tags.owner = "platform-team" -> "someone-else"' in run.stdout
    assert f"# {DEFINITION} has been deleted outside aibplan" in run.stdout
    assert "Drift: 1 changed, 1 deleted, 0 failed." in run.stdout

    document = json.loads(cli("drift", "--json", root).stdout)
    assert document["format_version"] == "1" and document["has_drift"] is True
    assert {d["address"]: d["drift"] for d in document["drift"]} == {
        TEMPLATE: "changed",
        DEFINITION: "deleted",
    }
    (tag_diff,) = next(d for d in document["drift"] if d["address"] == TEMPLATE)["attribute_diffs"]
    assert (tag_diff["path"], tag_diff["before"], tag_diff["after"]) == (
        ["tags", "owner"],
        "platform-team",
        "someone-else",
    )

    run = cli("plan", "--detailed-exitcode", root)
    assert run.exit_code == 2
    assert run.stdout.index("Objects have changed outside of aibplan") < run.stdout.index(
        "aibplan will perform the following actions"
    )
    assert f"# {DEFINITION} will be created" in run.stdout
    assert f"# {TEMPLATE} will be updated in-place" in run.stdout
    assert '~ tags.owner = "someone-else" -> "platform-team"' in run.stdout
    plan_doc = json.loads(cli("plan", "--json", root).stdout)
    assert {d["address"] for d in plan_doc["resource_drift"]} == {TEMPLATE, DEFINITION}
    reasons = {c["address"]: c["action_reason"] for c in plan_doc["resource_changes"]}
    assert reasons[DEFINITION] == "deleted_outside_aibplan" and reasons[TEMPLATE] == "update_in_place"

    run = cli("apply", "--auto-approve", root)
    assert run.exit_code == 0 and "1 added, 1 changed" in run.stdout, run.stderr
    run = cli("drift", root)
    assert run.exit_code == 0 and "No drift." in run.stdout
    assert cli("plan", "--detailed-exitcode", root).exit_code == 0


def test_drift_is_read_only(example: Callable[[str], Path], cli: Callable[..., Run]) -> None:
    root = applied(example, cli)
    state_file = Path(root) / "aibplan.state.json"
    before = state_file.read_bytes()
    cli("sim", "set-tag", root, "gallery.corpImages", "owner=x")
    assert cli("drift", root).exit_code == 2
    assert cli("drift", "--format", "markdown", root).exit_code == 2
    assert state_file.read_bytes() == before


def test_refresh_only_takes_drift_into_the_state_after_confirmation(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = applied(example, cli)
    cli("sim", "set-tag", root, "gallery.corpImages", "owner=images-team")
    cli("sim", "delete", root, "identity.aibBuilder")
    serial = load_state(Path(root) / "aibplan.state.json").serial  # type: ignore[union-attr]

    run = cli("plan", "--refresh-only", "--detailed-exitcode", root)
    assert run.exit_code == 2 and "This is a refresh-only plan" in run.stdout
    assert "aibplan will perform" not in run.stdout

    run = cli("apply", "--refresh-only", root, input="no\n")
    assert run.exit_code == 1 and "Apply cancelled." in run.stderr
    assert cli("drift", root).exit_code == 2

    run = cli("apply", "--refresh-only", root, input="yes\n")
    assert run.exit_code == 0, run.stderr
    assert "Refresh complete! State updated: 1 resource(s) refreshed, 1 removed." in run.stdout
    state = load_state(Path(root) / "aibplan.state.json")
    assert state is not None and state.serial == serial + 1
    assert "identity.aibBuilder" not in state.by_address
    assert state.by_address["gallery.corpImages"].observed["tags"] == {"owner": "images-team"}
    assert cli("drift", root).exit_code == 0

    # The configuration still says otherwise: the next plan puts the tag back and recreates the identity.
    plan_doc = json.loads(cli("plan", "--json", root).stdout)
    assert plan_doc["resource_drift"] == []
    actions = {c["address"]: (c["action"], c["action_reason"]) for c in plan_doc["resource_changes"]}
    assert actions["gallery.corpImages"] == ("update", "update_in_place")
    assert actions["identity.aibBuilder"] == ("create", "new_in_configuration")
    # Without refresh the state is what aibplan compares with, and it now holds what the cloud held.
    offline = json.loads(cli("plan", "--json", "--no-refresh", root).stdout)
    assert {c["address"]: c["action"] for c in offline["resource_changes"]}["gallery.corpImages"] == "update"


def test_include_unmanaged_reports_what_no_state_knows(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = applied(example, cli)
    provider = LocalProvider(Path(root) / ".aibplan")
    rid = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-golden-images/providers/"
        "Microsoft.Compute/galleries/clickOpsGallery"
    )
    provider.create(ResourceRef(rid, "Microsoft.Compute/galleries", "2024-03-03"), {"location": "westus2"})
    provider.close()
    assert cli("drift", root).exit_code == 0
    run = cli("drift", "--include-unmanaged", root)
    assert run.exit_code == 2
    assert "# gallery.clickOpsGallery exists but is not managed by aibplan" in run.stdout
    assert "0 changed, 0 deleted, 0 failed, 1 unmanaged" in run.stdout
    document = json.loads(cli("drift", "--json", "--include-unmanaged", root).stdout)
    assert [(d["address"], d["drift"], d["id"]) for d in document["drift"]] == [
        ("gallery.clickOpsGallery", "unmanaged", rid)
    ]


def test_a_template_marked_failed_is_drift_and_is_replaced(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = applied(example, cli)
    assert cli("sim", "fail", root, TEMPLATE, "--message", "Customizer failed").exit_code == 0
    run = cli("drift", root)
    assert run.exit_code == 2 and "is reported as Failed by the service" in run.stdout
    assert "Customizer failed" in run.stdout
    plan_doc = json.loads(cli("plan", "--json", root).stdout)
    change = next(c for c in plan_doc["resource_changes"] if c["address"] == TEMPLATE)
    assert (change["action"], change["action_reason"]) == ("replace", "replace_because_failed")
    run = cli("apply", "--auto-approve", root)
    assert run.exit_code == 0 and "1 replaced" in run.stdout
    assert cli("drift", root).exit_code == 0


def test_drift_errors_exit_1(tmp_path: Path, cli: Callable[..., Run]) -> None:
    run = cli("drift", str(tmp_path / "nowhere"))
    assert run.exit_code == 1 and "does not exist" in run.stderr
    (tmp_path / "aibplan.json").write_text('{"subscriptionId": "s", "resourceGroup": "rg", "location": "x",')
    run = cli("drift", str(tmp_path))
    assert run.exit_code == 1 and "aibplan.json" in run.stderr and "Traceback" not in run.stderr


def test_a_failed_build_is_reported_by_drift_but_is_not_drift(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = applied(example, cli)
    assert cli("sim", "build-fail", root, TEMPLATE, "--step", "Customizing").exit_code == 0
    assert cli("run", "--wait", root).exit_code == 1
    run = cli("drift", root)
    assert run.exit_code == 0 and "No drift." in run.stdout
    assert "warning AIB7004 the last build" in run.stdout and "ended Failed at Customizing" in run.stdout
    document = json.loads(cli("drift", "--json", root).stdout)
    assert [d["code"] for d in document["diagnostics"]] == ["AIB7004"] and document["drift"] == []
