"""`aibplan state list|show|rm|mv`, `import` and `force-unlock` from the command line, good input and bad."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from state import load_state
from state.lock import acquire
from tests.helpers import Run

TEMPLATE_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-golden-images/providers/"
    "Microsoft.VirtualMachineImages/imageTemplates/ubuntu2204"
)


@pytest.fixture
def applied(example: Callable[[str], Path], cli: Callable[..., Run]) -> Path:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    return root


def test_list_and_show(applied: Path, cli: Callable[..., Run]) -> None:
    run = cli("state", "list", str(applied))
    assert run.exit_code == 0
    listed = run.stdout.splitlines()
    assert listed == sorted(listed) and len(listed) == 7
    assert [a for a in listed if not a.startswith("role")] == [
        "gallery.corpImages",
        "identity.aibBuilder",
        "imageDefinition.corpImages/ubuntu2204",
        "imageTemplate.ubuntu2204",
    ]
    document = json.loads(cli("state", "list", "--json", str(applied)).stdout)
    assert document["format_version"] == "1" and len(document["resources"]) == 7
    shown = json.loads(cli("state", "show", "imageTemplate.ubuntu2204", str(applied)).stdout)
    assert shown["observed"]["properties"]["provisioningState"] == "Succeeded"
    # The id as the service answered it (AIB spells `/resourcegroups/`): the same resource.
    assert shown["id"] == shown["observed"]["id"] and shown["id"].lower() == TEMPLATE_ID.lower()
    assert shown["type"] == "Microsoft.VirtualMachineImages/imageTemplates"


def test_rm_then_import_brings_it_back(applied: Path, cli: Callable[..., Run]) -> None:
    serial = load_state(applied / "aibplan.state.json").serial  # type: ignore[union-attr]
    run = cli("state", "rm", "imageTemplate.ubuntu2204", str(applied))
    assert run.exit_code == 0 and "was not touched" in run.stdout
    after = load_state(applied / "aibplan.state.json")
    assert after is not None and after.serial == serial + 1 and after.get("imageTemplate.ubuntu2204") is None
    # The stack still declares it and it exists: the plan refuses to create it over itself, and says how
    # to take it back (planning.identities, AIB8003).
    run = cli("plan", "--detailed-exitcode", str(applied))
    assert run.exit_code == 1 and "AIB8003" in run.stderr
    assert "run `aibplan import imageTemplate.ubuntu2204` (or `aibplan import --all`" in run.stderr
    run = cli("import", "imageTemplate.ubuntu2204", TEMPLATE_ID, str(applied))
    assert run.exit_code == 0, run.stderr
    assert "Import successful" in run.stdout
    assert cli("plan", "--detailed-exitcode", str(applied)).exit_code == 0
    assert cli("plan", "--detailed-exitcode", "--no-refresh", str(applied)).exit_code == 0


def test_mv_renames_and_dependencies_follow(applied: Path, cli: Callable[..., Run]) -> None:
    run = cli("state", "mv", "identity.aibBuilder", "identity.builder", str(applied))
    assert run.exit_code == 0, run.stderr
    state = load_state(applied / "aibplan.state.json")
    assert state is not None and state.get("identity.builder") is not None
    assert "identity.builder" in state.by_address["imageTemplate.ubuntu2204"].dependencies
    run = cli("state", "mv", "identity.builder", "identity.aibBuilder", str(applied))
    assert run.exit_code == 0
    assert cli("plan", "--detailed-exitcode", str(applied)).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("state", "show", "nonsense"), "'nonsense' is not a resource address; write KIND.NAME"),
        (
            ("state", "show", "gallery.corpImage"),
            "no resource 'gallery.corpImage' in the state; did you mean",
        ),
        (("state", "rm", "vm.web"), "'vm.web' is not a resource address"),
        (("state", "rm", "gallery.nope"), "no resource 'gallery.nope' in the state"),
        (("state", "mv", "gallery.corpImages", "identity.x"), "a gallery can only move to another gallery"),
        (("state", "mv", "identity.aibBuilder", "gallery.corpImages"), "can only move to another identity"),
        (
            ("state", "mv", "imageTemplate.ubuntu2204", "imageTemplate.ubuntu2204"),
            "is already in the state",
        ),
        (("import", "imageTemplate.ubuntu2204", TEMPLATE_ID), "already in the state"),
        (
            ("import", "imageTemplate.other", TEMPLATE_ID),
            "the stack declares no resource 'imageTemplate.other'",
        ),
        (("import", "bad", TEMPLATE_ID), "'bad' is not a resource address"),
        (("force-unlock", "1234"), "there is no lock to clear"),
    ],
)
def test_bad_input_is_refused_with_one_clear_line(
    applied: Path, cli: Callable[..., Run], args: tuple[str, ...], message: str
) -> None:
    before = (applied / "aibplan.state.json").read_bytes()
    run = cli(*args, str(applied))
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: ") and message in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert (applied / "aibplan.state.json").read_bytes() == before


def test_import_refuses_wrong_ids_and_missing_resources(applied: Path, cli: Callable[..., Run]) -> None:
    cli("state", "rm", "imageTemplate.ubuntu2204", str(applied))
    cases = [
        ("not-an-id", "is not an ARM resource id"),
        (TEMPLATE_ID.replace("imageTemplates/ubuntu2204", "imageTemplates/ghost"), "does not exist in local"),
        (
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-golden-images/providers/"
            "Microsoft.Compute/galleries/corpImages",
            "is a Microsoft.Compute/galleries, but imageTemplate.ubuntu2204 is a",
        ),
    ]
    for arm_id, message in cases:
        run = cli("import", "imageTemplate.ubuntu2204", arm_id, str(applied))
        assert run.exit_code == 1 and message in run.stderr, run.stderr


def test_state_edits_take_the_lock(applied: Path, cli: Callable[..., Run]) -> None:
    with acquire(applied / ".aibplan", "apply") as held:
        run = cli("state", "rm", "gallery.corpImages", str(applied))
        assert run.exit_code == 1 and "locked by another aibplan" in run.stderr and held.info.id in run.stderr
        run = cli("apply", "--auto-approve", str(applied))
        assert run.exit_code == 1 and "locked by another aibplan" in run.stderr
        # Readers take no lock.
        assert cli("plan", str(applied)).exit_code == 0
        assert cli("state", "list", str(applied)).exit_code == 0
        assert cli("force-unlock", "wrong-id", str(applied)).exit_code == 1


def test_commands_are_in_help(cli: Callable[..., Run]) -> None:
    top = cli("--help").stdout
    for command in ("state", "import", "force-unlock"):
        assert command in top
    for sub in ("list", "show", "rm", "mv"):
        assert sub in cli("state", "--help").stdout
    assert "--lock-timeout" in cli("apply", "--help").stdout
    assert "--lock-timeout" in cli("destroy", "--help").stdout
