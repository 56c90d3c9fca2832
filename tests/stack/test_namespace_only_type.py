"""A resource typed with its namespace only, as Azure's published AIB bodies are (`"type":
"Microsoft.VirtualMachineImages"`, created with `az resource create --is-full-object`), is an image template
to aibplan too (issue 11): said once (AIB0015), planned, applied and planned again with no change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helpers import Run, edit_json


def _namespace_only(template: dict[str, Any]) -> None:
    assert template["type"] == "Microsoft.VirtualMachineImages/imageTemplates"
    template["type"] = "Microsoft.VirtualMachineImages"


def test_a_template_typed_with_its_namespace_is_planned_and_applied(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    edit_json(root / "ubuntu2204.json", _namespace_only)
    validated = cli("validate", str(root))
    assert validated.exit_code == 0, validated.stdout + validated.stderr
    shown = validated.stdout + validated.stderr
    assert shown.count("AIB0015") == 1 and "checked as Microsoft.VirtualMachineImages/imageTemplates" in shown
    planned = cli("plan", str(root))
    assert "# imageTemplate.ubuntu2204 will be created" in planned.stdout
    assert "Plan: 7 to add" in planned.stdout
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    again = cli("plan", "--detailed-exitcode", str(root))
    assert again.exit_code == 0, again.stdout
    assert "No changes." in again.stdout


def test_a_namespace_with_a_body_of_no_known_kind_is_left_out_with_a_warning(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")

    def no_distribution(template: dict[str, Any]) -> None:
        _namespace_only(template)
        del template["properties"]["distribute"]

    edit_json(root / "ubuntu2204.json", no_distribution)
    run = cli("validate", str(root))
    shown = run.stdout + run.stderr
    assert "AIB0015" not in shown
    assert "AIB0006" in shown and "does not manage Microsoft.VirtualMachineImages yet" in shown
