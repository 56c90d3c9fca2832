"""A state the aibplan of format 4 wrote (applied bodies normalised, ids folded) plans no change today, and
the next apply writes it as format 5: each body as sent, each id once (docs/state.md, "Versions")."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from providers.simulated.service import SimulatedAzure
from tests.helpers import FIXTURES, Run, edit_json

FORMAT_4 = FIXTURES / "state-upgrade" / "quickstart-format-4"
TEMPLATE = "imageTemplate.ubuntu2204"


def laid_out(where: Path) -> Path:
    """The stack, its format 4 state and the local cloud that state describes."""
    root = where / "stack"
    shutil.copytree(FORMAT_4 / "stack", root)
    shutil.copy(FORMAT_4 / "state.json", root / "aibplan.state.json")
    service = SimulatedAzure(root / ".aibplan" / "local-cloud.db")
    try:
        for resource in json.loads((FORMAT_4 / "cloud.json").read_text())["resources"]:
            service.raw_write(resource["id"], resource["body"])
    finally:
        service.close()
    return root


def entries(root: Path) -> dict[str, dict[str, Any]]:
    document = json.loads((root / "aibplan.state.json").read_text())
    return {e["address"]: e for e in document["resources"] if not e.get("removed")}


def test_a_format_4_state_plans_no_change_with_or_without_refresh(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    root = laid_out(tmp_path)
    before = (root / "aibplan.state.json").read_text()
    for extra in ([], ["--no-refresh"]):
        run = cli("plan", "--detailed-exitcode", *extra, str(root))
        assert run.exit_code == 0, (extra, run.stdout, run.stderr)
        assert "No changes." in run.stdout
    run = cli("drift", str(root))
    assert run.exit_code == 0 and "No drift" in run.stdout, run.stdout
    assert (root / "aibplan.state.json").read_text() == before  # reading never rewrites it


def test_the_next_apply_writes_format_5_smaller_and_still_plans_no_change(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    root = laid_out(tmp_path)
    size_before = (root / "aibplan.state.json").stat().st_size
    old = entries(root)[TEMPLATE]
    assert "/id" in old["observed_changes"]["set"]  # the service's spelling of the id, kept again
    edit_json(root / "ubuntu2204.json", lambda d: d["tags"].update(stage="test"))

    shown = cli("plan", "--no-refresh", str(root))
    assert "1 to change" in shown.stdout and "stage" in shown.stdout, shown.stdout
    applied = cli("apply", "--auto-approve", str(root))
    assert applied.exit_code == 0, applied.stderr

    document = json.loads((root / "aibplan.state.json").read_text())
    assert document["format_version"] == 5
    new = entries(root)[TEMPLATE]
    # The id as the service answered it, once; the body as sent, its ids as the stack spells them, so
    # the service's echo of them is no change to keep.
    assert new["id"] == old["observed_changes"]["set"]["/id"]
    assert "/id" not in new["observed_set"]
    assert not any(p.endswith("/galleryImageId") for p in new["observed_set"])
    (key,) = new["applied"]["identity"]["userAssignedIdentities"]
    (folded,) = old["applied"]["identity"]["userAssignedIdentities"]
    assert key.lower() == folded and key != folded  # as resourceId() spelled it, not folded
    # What the service added to the identity map (its client and principal ids), under that key.
    added = new["observed_set"]["/identity/userAssignedIdentities"]
    assert list(added) == [key] and sorted(added[key]) == ["clientId", "principalId"]
    assert new["applied"]["tags"]["stage"] == "test"
    assert "type" not in new  # the id spells it
    assert (root / "aibplan.state.json").stat().st_size < 0.9 * size_before

    for extra in ([], ["--no-refresh"]):
        run = cli("plan", "--detailed-exitcode", *extra, str(root))
        assert run.exit_code == 0 and "No changes." in run.stdout, (extra, run.stdout)
