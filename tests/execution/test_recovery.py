"""A journal left by a run that died is reconciled by the next command: finished calls folded in, the
calls in doubt read back from the cloud and adopted, tainted when half made, or dropped."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.execution.engine import prepare
from planner.execution.state_access import StackState
from providers.catalog import for_arm_type
from providers.simulated.local import LocalProvider
from state import State, load_state
from state.journal import journal_path
from state.journaled import file_journal
from tests.helpers import Run

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-golden-images/providers"
IDENTITY = f"{SUB}/Microsoft.ManagedIdentity/userAssignedIdentities/aibBuilder"
GALLERY = f"{SUB}/Microsoft.Compute/galleries/corpImages"


def died_while(root: Path, *calls: tuple[str, str, str, str]) -> None:
    """Leave a journal as a run killed during these calls (action, address, id, type) would."""
    state = load_state(root / "aibplan.state.json") or State.new()
    journal = file_journal(root / "aibplan.state.json", root / ".aibplan", state, state)
    for action, address, arm_id, arm_type in calls:
        rtype = for_arm_type(arm_type)
        assert rtype is not None
        version = rtype.default_api_version
        journal.begin(action, address, arm_id, arm_type, version, {"location": "westus2"}, ())
    journal.abandon()


def cloud(root: Path) -> LocalProvider:
    return LocalProvider(root / ".aibplan")


def test_a_resource_made_before_the_kill_is_adopted_by_the_next_apply(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    provider = cloud(root)
    provider.service.put(IDENTITY, "2023-01-31", {"location": "westus2"})
    provider.close()
    died_while(
        root, ("create", "identity.aibBuilder", IDENTITY, "Microsoft.ManagedIdentity/userAssignedIdentities")
    )
    # A reader reconciles in memory only: it says so and writes nothing.
    plan = cli("plan", str(root))
    assert plan.exit_code == 0 and "identity.aibBuilder: adopted into the state" in plan.stderr
    assert "the next apply saves it" in plan.stderr
    assert "Plan: 6 to add" in plan.stdout and not (root / "aibplan.state.json").exists()
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    assert "its journal (1 events) was reconciled" in run.stderr
    assert "Apply complete! Resources: 6 added" in run.stdout
    assert not journal_path(root / ".aibplan").exists()
    state = load_state(root / "aibplan.state.json")
    assert state is not None and len(state.resources) == 7


def test_a_half_made_resource_is_tainted_and_replaced(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    provider = cloud(root)
    provider.service.raw_write(
        GALLERY, {"location": "westus2", "properties": {"provisioningState": "Creating"}}
    )
    provider.close()
    died_while(root, ("create", "gallery.corpImages", GALLERY, "Microsoft.Compute/galleries"))
    prepared, _ = prepare(root)
    assert prepared is not None
    provider = cloud(root)
    try:
        result = StackState(prepared.stack).reconcile(State.new(), provider)
    finally:
        provider.close()
    assert result.tainted == ("gallery.corpImages",)
    assert result.state.by_address["gallery.corpImages"].tainted
    plan = cli("plan", "--json", str(root))
    change = next(
        c for c in json.loads(plan.stdout)["resource_changes"] if c["address"] == "gallery.corpImages"
    )
    assert change["action"] == "replace" and change["action_reason"] == "replace_because_tainted"
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    assert cli("plan", "--detailed-exitcode", str(root)).exit_code == 0


def test_a_delete_that_went_through_drops_the_entry(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    template = f"{SUB}/Microsoft.VirtualMachineImages/imageTemplates/ubuntu2204"
    provider = cloud(root)
    provider.service.raw_delete(template)
    provider.close()
    died_while(
        root,
        ("delete", "imageTemplate.ubuntu2204", template, "Microsoft.VirtualMachineImages/imageTemplates"),
    )
    run = cli("state", "list", str(root))  # a reader: the file is untouched
    assert "imageTemplate.ubuntu2204" in run.stdout
    run = cli("state", "rm", "identity.aibBuilder", str(root))  # a writer reconciles first
    assert run.exit_code == 0 and "imageTemplate.ubuntu2204: dropped from the state" in run.stderr
    state = load_state(root / "aibplan.state.json")
    assert state is not None and {a for a in state.by_address if not a.startswith("role")} == {
        "gallery.corpImages",
        "imageDefinition.corpImages/ubuntu2204",
    }


def test_a_journal_of_another_state_is_refused(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    journal = file_journal(root / "other.json", root / ".aibplan", State(lineage="someone-else"), None)
    journal.begin("create", "gallery.x", GALLERY, "Microsoft.Compute/galleries", "2024-03-03", {}, ())
    journal.abandon()
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 1
    assert (
        "belongs to another state (lineage someone-else" in run.stderr
        and "move the journal aside" in run.stderr
    )


@pytest.mark.parametrize("damage", ['{not json\n{"event": "begin"}\n'])
def test_a_damaged_journal_is_a_clear_error(
    example: Callable[[str], Path], cli: Callable[..., Run], damage: str
) -> None:
    root = example("quickstart")
    (root / ".aibplan").mkdir()
    journal_path(root / ".aibplan").write_text('{"journal": 1, "lineage": "x", "base_serial": 0}\n' + damage)
    run = cli("apply", "--auto-approve", str(root))
    assert (
        run.exit_code == 1 and "the apply journal is damaged" in run.stderr and "Traceback" not in run.stderr
    )
