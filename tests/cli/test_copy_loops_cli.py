"""A copy loop's life through the command line: each instance planned, applied and destroyed on its own;
a smaller count destroys only the last ones; a serial loop applies batch after batch and is destroyed in
the reverse order; a loop's name targets all its instances."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helpers import Run, apply_root, cloud_count, edit_json, write_stack

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def pipeline(count: int, mode: str = "parallel") -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": {"count": {"type": "int", "defaultValue": count, "minValue": 0, "maxValue": 10}},
        "resources": [
            {
                "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                "apiVersion": "2023-01-31",
                "name": "[format('id-builder-{0}', copyIndex(1))]",
                "copy": {"name": "builders", "count": "[parameters('count')]", "mode": mode, "batchSize": 1},
            },
            {
                "type": "Microsoft.Compute/galleries",
                "apiVersion": "2022-03-03",
                "name": "galImages",
                "dependsOn": ["builders"],
                "properties": {"description": "after every builder"},
            },
        ],
    }


def test_a_smaller_count_destroys_only_the_last_instance(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = write_stack(tmp_path / "stack", {"pipeline.json": pipeline(3)})
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    assert "Plan: 4 to add, 0 to change, 0 to replace, 0 to destroy." in run.stdout
    assert "# identity.builders[2] will be created" in run.stdout
    assert 'resource "Microsoft.ManagedIdentity/userAssignedIdentities" "id-builder-3"' in run.stdout
    assert cloud_count(root) == 4
    assert cli("plan", "--detailed-exitcode", str(root)).exit_code == 0

    run = cli("plan", "--detailed-exitcode", "--var", "count=2", str(root))
    assert run.exit_code == 2
    assert "# identity.builders[2] will be destroyed" in run.stdout
    assert 'resource "Microsoft.ManagedIdentity/userAssignedIdentities" "id-builder-3"' in run.stdout
    assert "Plan: 0 to add, 0 to change, 0 to replace, 1 to destroy." in run.stdout

    edit_json(root / "pipeline.json", lambda d: d["parameters"]["count"].update(defaultValue=2))
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    state = json.loads((root / "aibplan.state.json").read_text())
    held = sorted(e["address"] for e in state["resources"] if not e.get("removed"))
    assert held == ["gallery.galImages", "identity.builders[0]", "identity.builders[1]"]
    assert cloud_count(root) == 3


def test_a_serial_loop_applies_in_order_and_is_destroyed_in_reverse(tmp_path: Path) -> None:
    root = write_stack(tmp_path / "stack", {"pipeline.json": pipeline(3, mode="serial")})
    done = [e[1] for e in apply_root(root).events if e[0] == "post"]
    assert done == [
        "identity.builders[0]",
        "identity.builders[1]",
        "identity.builders[2]",
        "gallery.galImages",
    ]
    done = [e[1] for e in apply_root(root, destroy=True).events if e[0] == "post"]
    assert done == [
        "gallery.galImages",
        "identity.builders[2]",
        "identity.builders[1]",
        "identity.builders[0]",
    ]


def test_a_loop_name_targets_every_instance(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = write_stack(tmp_path / "stack", {"pipeline.json": pipeline(2)})
    run = cli("plan", "--target", "identity.builders", str(root))
    assert run.exit_code == 0, run.stderr
    assert "Plan: 2 to add" in run.stdout and "galImages" not in run.stdout
    run = cli("plan", "--target", "identity.builders[1]", str(root))
    assert "Plan: 1 to add" in run.stdout and "identity.builders[1] will be created" in run.stdout
    run = cli("plan", "--format", "markdown", str(root))
    assert "| `+` create | `identity.builders[1]` |" in run.stdout
    assert '["identity.builders#91;1#93;<br/>create"]' in run.stdout  # Mermaid's codes for the brackets
    run = cli("plan", "--target", "identity.builder", str(root))
    assert run.exit_code == 1 and "did you mean identity.builders?" in run.stderr


def test_an_undeclared_var_stops_the_plan(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = write_stack(tmp_path / "stack", {"pipeline.json": pipeline(2)})
    run = cli("plan", "--var", "cuont=5", str(root))
    assert run.exit_code == 1
    assert "error AIB0012 --var gives a value for parameter 'cuont'" in run.stderr
    assert "did you mean 'count'?" in run.stderr
    run = cli("plan", "--var", "COUNT=11", str(root))
    assert (
        run.exit_code == 1 and "parameter 'count' (from --var) is 11; it must be from 0 to 10" in run.stderr
    )
