"""`aibplan sim`: the local cloud changed as a person in the portal would, and clear errors otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.execution.portal import PortalError, parse_path, parse_value, set_path
from state import load_state
from tests.helpers import Run, edit_json

TEMPLATE = "imageTemplate.ubuntu2204"


@pytest.fixture
def root(example: Callable[[str], Path], cli: Callable[..., Run]) -> str:
    stack = str(example("quickstart"))
    assert cli("apply", "--auto-approve", stack).exit_code == 0
    return stack


def show(cli: Callable[..., Run], root: str, target: str) -> dict:  # type: ignore[type-arg]
    run = cli("sim", "show", root, target)
    assert run.exit_code == 0, run.stderr
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def test_list_and_show(root: str, cli: Callable[..., Run]) -> None:
    run = cli("sim", "list", root)
    assert run.exit_code == 0
    assert [a for line in run.stdout.splitlines() if not (a := line.split()[0]).startswith("role")] == [
        "gallery.corpImages",
        "imageDefinition.corpImages/ubuntu2204",
        "identity.aibBuilder",
        TEMPLATE,
    ]
    listed = json.loads(cli("sim", "list", "--json", root).stdout)
    assert listed["format_version"] == "1" and all(r["in_state"] for r in listed["resources"])
    body = show(cli, root, TEMPLATE)
    assert body["properties"]["provisioningState"] == "Succeeded"
    by_id = show(cli, root, body["id"].upper())
    assert by_id["name"] == "ubuntu2204"


def test_tags_and_edits_change_only_the_cloud(root: str, cli: Callable[..., Run]) -> None:
    state_before = Path(root, "aibplan.state.json").read_bytes()
    assert cli("sim", "set-tag", root, "gallery.corpImages", "costCenter=42").exit_code == 0
    assert cli("sim", "remove-tag", root, "gallery.corpImages", "owner").exit_code == 0
    assert show(cli, root, "gallery.corpImages")["tags"] == {"costCenter": "42"}
    run = cli("sim", "edit", root, TEMPLATE, "properties.vmProfile.osDiskSizeGB=64")
    assert run.exit_code == 0 and "properties.vmProfile.osDiskSizeGB set to 64" in run.stderr
    assert cli("sim", "edit", root, TEMPLATE, 'properties.customize[0].inline[1]="echo hi"').exit_code == 0
    assert cli("sim", "edit", root, "--remove", TEMPLATE, "properties.buildTimeoutInMinutes").exit_code == 0
    props = show(cli, root, TEMPLATE)["properties"]
    assert props["vmProfile"]["osDiskSizeGB"] == 64 and props["customize"][0]["inline"][1] == "echo hi"
    assert "buildTimeoutInMinutes" not in props
    assert Path(root, "aibplan.state.json").read_bytes() == state_before
    document = json.loads(cli("drift", "--json", root).stdout)
    paths = {d["address"]: [p["path"] for p in d["attribute_diffs"]] for d in document["drift"]}
    assert paths["gallery.corpImages"] == [["tags", "costCenter"], ["tags", "owner"]]
    assert ["properties", "buildTimeoutInMinutes"] in paths[TEMPLATE]


def test_delete_follows_the_service_rules_unless_forced(root: str, cli: Callable[..., Run]) -> None:
    run = cli("sim", "delete", root, "gallery.corpImages")
    assert run.exit_code == 1
    assert "the service refused the delete: CannotDeleteResource" in run.stderr
    run = cli("sim", "delete", root, "--force", "gallery.corpImages")
    assert run.exit_code == 0
    listed = cli("sim", "list", root).stdout
    assert "gallery.corpImages" not in listed and "imageDefinition" not in listed
    document = json.loads(cli("drift", "--json", root).stdout)
    assert {d["address"]: d["drift"] for d in document["drift"]} == {
        "gallery.corpImages": "deleted",
        "imageDefinition.corpImages/ubuntu2204": "deleted",
    }


def test_fail_and_start_build_are_for_templates(root: str, cli: Callable[..., Run]) -> None:
    run = cli("sim", "fail", root, "gallery.corpImages")
    assert run.exit_code == 1 and "gallery.corpImages: not an image template" in run.stderr
    run = cli("sim", "start-build", root, "identity.aibBuilder")
    assert run.exit_code == 1 and "not an image template" in run.stderr
    assert cli("sim", "fail", root, TEMPLATE).exit_code == 0
    run = cli("sim", "start-build", root, TEMPLATE)
    assert run.exit_code == 1 and "the service refused the build: Conflict" in run.stderr
    assert "failed state" in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "{root}", "imageTemplate.nope"), "imageTemplate.nope: no resource with that address"),
        (("set-tag", "{root}", TEMPLATE, "novalue"), "expected KEY=VALUE"),
        (("edit", "{root}", TEMPLATE, "properties..x=1"), "not a JSON path"),
        (("edit", "{root}", TEMPLATE, "[0].x=1"), "not a JSON path"),
        (("remove-tag", "{root}", TEMPLATE, "missing"), "has no tag 'missing'"),
        (("show", "{root}", TEMPLATE, "extra"), "expected TARGET [STACK], got 3 argument(s)"),
        (("show", "not-a-folder", TEMPLATE), "not-a-folder: no such stack folder"),
        (("edit", "{root}", "--remove", TEMPLATE, "properties.nothing"), "nothing to remove"),
    ],
)
def test_bad_input_is_one_clear_line(
    root: str, cli: Callable[..., Run], args: tuple[str, ...], message: str
) -> None:
    run = cli("sim", *[a.format(root=root) for a in args])
    assert run.exit_code == 1 and message in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_sim_is_for_the_local_cloud_only(root: str, cli: Callable[..., Run]) -> None:
    edit_json(Path(root) / "aibplan.json", lambda d: d.update(provider="azure"))
    run = cli("sim", "list", root)
    assert run.exit_code == 1 and "acts on the local simulated cloud" in run.stderr


def test_addresses_only_in_the_state_resolve(root: str, cli: Callable[..., Run]) -> None:
    Path(root, "identity.json").unlink()
    state = load_state(Path(root) / "aibplan.state.json")
    assert state is not None and "identity.aibBuilder" in state.by_address
    assert show(cli, root, "identity.aibBuilder")["name"] == "aibBuilder"


def test_paths_and_values() -> None:
    assert parse_path("properties.customize[0].inline[1]") == ("properties", "customize", 0, "inline", 1)
    assert parse_value("64") == 64 and parse_value("Standard_D4s_v3") == "Standard_D4s_v3"
    assert parse_value('{"a": [1]}') == {"a": [1]}
    body: dict = {"tags": {}}  # type: ignore[type-arg]
    set_path(body, ("properties", "distribute", 0), {"type": "VHD"}, remove=False, shown="x")
    assert body["properties"]["distribute"] == [{"type": "VHD"}]
    with pytest.raises(PortalError, match="the list has 1 item"):
        set_path(body, ("properties", "distribute", 5), 1, remove=False, shown="x")
