"""Fields the service computes when a request leaves them out (issue 11): a script's `sha256Checksum` left
out of the stack is filled in by the service and is never a change, in a plan or in drift; one the stack
sets is compared; the az CLI's empty checksum counts as left out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helpers import Run, edit_json

STEP = 1  # installTools, the quickstart's script downloaded by URI
CHECKSUM_PATH = f"properties.customize[{STEP}].sha256Checksum"
OTHER = hashlib.sha256(b"the script as the service downloaded it").hexdigest()


def _step(root: Path, cli: Callable[..., Run]) -> dict[str, Any]:
    shown = json.loads(cli("sim", "show", str(root), "imageTemplate.ubuntu2204").stdout)
    step: dict[str, Any] = shown["properties"]["customize"][STEP]
    return step


def _without_checksum(root: Path, value: str | None = None) -> None:
    def edit(template: dict[str, Any]) -> None:
        step = template["properties"]["customize"][STEP]
        assert step["name"] == "installTools" and "scriptUri" in step
        if value is None:
            del step["sha256Checksum"]
        else:
            step["sha256Checksum"] = value

    edit_json(root / "ubuntu2204.json", edit)


def test_a_checksum_the_service_computed_is_no_change_in_plan_or_drift(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    _without_checksum(root)
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    # The service filled it in: a checksum of 64 hex digits on the step that downloads a script, none on
    # the inline steps.
    step = _step(root, cli)
    assert len(step["sha256Checksum"]) == 64
    shown = json.loads(cli("sim", "show", str(root), "imageTemplate.ubuntu2204").stdout)
    assert "sha256Checksum" not in shown["properties"]["customize"][0]
    # The real service's value differs from the one the simulated cloud made at apply.
    run = cli("sim", "edit", str(root), "imageTemplate.ubuntu2204", f'{CHECKSUM_PATH}="{OTHER}"')
    assert run.exit_code == 0, run.stderr
    assert _step(root, cli)["sha256Checksum"] == OTHER
    run = cli("plan", "--detailed-exitcode", str(root))
    assert run.exit_code == 0, run.stdout
    assert "No changes." in run.stdout and "-/+" not in run.stdout
    run = cli("drift", str(root))
    assert run.exit_code == 0, run.stdout


def test_an_empty_checksum_counts_as_left_out(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    _without_checksum(root, "")  # as the az CLI sends it
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    assert len(_step(root, cli)["sha256Checksum"]) == 64
    assert cli("plan", "--detailed-exitcode", str(root)).exit_code == 0


def test_a_checksum_the_stack_sets_is_compared(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    run = cli("sim", "edit", str(root), "imageTemplate.ubuntu2204", f'{CHECKSUM_PATH}="{OTHER}"')
    assert run.exit_code == 0, run.stderr
    run = cli("plan", "--detailed-exitcode", "--json", str(root))
    assert run.exit_code == 2
    (change,) = [c for c in json.loads(run.stdout)["resource_changes"] if c["action"] != "no-op"]
    assert change["address"] == "imageTemplate.ubuntu2204" and change["action"] == "replace"
    assert [d["path"] for d in change["attribute_diffs"]] == [
        ["properties", "customize", STEP, "sha256Checksum"]
    ]
    assert cli("drift", str(root)).exit_code == 2
