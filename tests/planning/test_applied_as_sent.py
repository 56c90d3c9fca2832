"""The state keeps each body as it was sent, ids as the stack spells them (state format 5); plans compare it
normalised. So an id whose case alone differs, in the stack or in the cloud, is still no change, while a
real change still shows, with or without a refresh, and drift is still drift."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helpers import Run, edit_json

TEMPLATE = "imageTemplate.ubuntu2204"
GALLERY_IMAGE = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-golden-images/providers/"
    "Microsoft.Compute/galleries/corpImages/images/ubuntu2204"
)


def template_entry(root: Path) -> dict[str, Any]:
    document = json.loads((root / "aibplan.state.json").read_text())
    return next(e for e in document["resources"] if e["address"] == TEMPLATE and not e.get("removed"))


def plans_no_change(cli: Callable[..., Run], root: Path) -> None:
    for extra in ([], ["--no-refresh"]):
        run = cli("plan", "--detailed-exitcode", *extra, str(root))
        assert run.exit_code == 0 and "No changes." in run.stdout, (extra, run.stdout, run.stderr)


def set_gallery_image(root: Path, value: str) -> None:
    def edit(template: Any) -> None:
        template["properties"]["distribute"][0]["galleryImageId"] = value

    edit_json(root / "ubuntu2204.json", edit)


def test_the_state_keeps_the_body_as_sent_and_the_service_echo_is_no_change(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    entry = template_entry(root)
    # resourceId() spelled it so; the state no longer folds it to lower case.
    assert entry["applied"]["properties"]["distribute"][0]["galleryImageId"] == GALLERY_IMAGE
    assert "/properties/distribute/0/galleryImageId" not in entry.get("observed_set", {})
    plans_no_change(cli, root)


def add_definition(root: Path, name: str) -> None:
    """A second image definition in the quickstart's gallery, for the template to distribute to."""

    def add(resources: Any) -> None:
        second = json.loads(json.dumps(resources[1]))
        second["name"] = f"corpImages/{name}"
        second["properties"]["identifier"]["sku"] = name
        resources.append(second)

    edit_json(root / "gallery.json", add)


def test_an_id_whose_case_alone_changes_in_the_stack_is_no_change(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    add_definition(root, "ubuntu2404")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    set_gallery_image(root, GALLERY_IMAGE.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"))
    plans_no_change(cli, root)

    # Another image definition is a change, with or without reading the cloud.
    set_gallery_image(root, GALLERY_IMAGE.replace("ubuntu2204", "ubuntu2404"))
    for extra in ([], ["--no-refresh"]):
        run = cli("plan", "--detailed-exitcode", *extra, str(root))
        assert run.exit_code == 2, (extra, run.stdout, run.stderr)
        assert "galleryImageId" in run.stdout and "ubuntu2404" in run.stdout, run.stdout


def test_an_id_whose_case_alone_changes_in_the_cloud_is_no_drift_and_a_tag_is(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    lowered = f"properties.distribute[0].galleryImageId={GALLERY_IMAGE.lower()}"
    edited = cli("sim", "edit", TEMPLATE, lowered, str(root))
    assert edited.exit_code == 0, edited.stderr
    assert cli("sim", "show", TEMPLATE, str(root)).stdout.count(GALLERY_IMAGE.lower()) == 1
    drift = cli("drift", str(root))
    assert drift.exit_code == 0 and "No drift" in drift.stdout, drift.stdout
    plans_no_change(cli, root)

    assert cli("sim", "set-tag", TEMPLATE, "owner=someone-else", str(root)).exit_code == 0
    drift = cli("drift", str(root))
    assert drift.exit_code == 2 and TEMPLATE in drift.stdout and "owner" in drift.stdout, drift.stdout
