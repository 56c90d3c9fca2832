"""Values known only after apply through the Azure provider (the real SDK, real TLS) and the ARM emulator: a
fresh stack whose role assignments take their principal from `reference()` plans `(known after apply)`,
applies (directly, and as a saved plan) with the principal the service gave the identity, and plans "No
changes" after."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import BASES, SUBSCRIPTION, Emulator, Run


@pytest.fixture
def unknowns_stack(tmp_path: Path, azure_env: Emulator) -> Path:
    root = tmp_path / "unknowns"
    shutil.copytree(BASES / "unknowns" / "stack", root)
    config = {
        "subscriptionId": SUBSCRIPTION,
        "resourceGroup": azure_env.new_group(),
        "location": "westus2",
        "provider": "azure",
    }
    (root / "aibplan.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return root


def _state(root: Path) -> dict[str, Any]:
    data = json.loads((root / "aibplan.state.json").read_text())
    return {r["address"]: r for r in data["resources"] if not r.get("removed")}


def _check_applied(root: Path, azure_env: Emulator) -> None:
    state = _state(root)
    identity = state["identity.aibBuilder"]
    # The principal the service gave the identity, read from the emulator's store, not from the state.
    held = azure_env.server.service.get(identity["id"], "2023-01-31")
    principal = held["properties"]["principalId"]
    assert principal and identity["observed"]["properties"]["principalId"] == principal
    # Named by guid(resourceGroup().id, ...): the addresses depend on the test's resource group.
    assignments = [entry for address, entry in state.items() if address.startswith("roleAssignment.")]
    assert len(assignments) == 2
    for entry in assignments:
        assert entry["applied"]["properties"]["principalId"] == principal
        sent = azure_env.server.service.get(entry["id"], "2022-04-01")
        assert sent["properties"]["principalId"] == principal
    client = held["properties"]["clientId"]
    assert state["gallery.gal"]["applied"]["tags"] == {"builderClientId": client}


def _no_changes(cli: Callable[..., Run], root: Path) -> None:
    run = cli("plan", "--detailed-exitcode", str(root))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "No changes." in run.stdout


def test_a_fresh_stack_plans_known_after_apply_and_applies_the_real_principal(
    unknowns_stack: Path, azure_env: Emulator, cli: Callable[..., Run]
) -> None:
    root = unknowns_stack
    run = cli("plan", str(root))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.count("principalId      = (known after apply)") == 2
    assert "Plan: 4 to add, 0 to change, 0 to replace, 0 to destroy." in run.stdout
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    _check_applied(root, azure_env)
    _no_changes(cli, root)


def test_a_saved_plan_applies_the_real_principal(
    unknowns_stack: Path, azure_env: Emulator, cli: Callable[..., Run]
) -> None:
    root = unknowns_stack
    plan_file = root.parent / "unknowns.plan"
    run = cli("plan", "--out", str(plan_file), str(root))
    assert run.exit_code == 0, run.stderr
    assert "builderClientId = (known after apply)" in run.stdout
    run = cli("apply", str(plan_file))
    assert run.exit_code == 0, run.stderr
    _check_applied(root, azure_env)
    _no_changes(cli, root)
    # Destroy goes in order too: the role assignments before the identity they name.
    run = cli("destroy", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    assert _state(root) == {}
