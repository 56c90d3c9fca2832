"""The call succeeded but its answer was lost: the service committed a write, then the connection reset.

The write is retried like any dropped connection. A PATCH or DELETE sent again does no harm; a PUT sent
again meets what its first attempt made, and an image template refuses a second PUT (409 "Update/Upgrade
... not supported"), so the engine reads the template back and recognises its own write. Whatever was lost,
the apply converges: the state knows every resource the cloud holds (no orphan) and each resource once (no
duplicate), and the next plan has nothing to do.

Through the local provider (its fault injection: `lostRate`, kind "lost") with the aibplan program as a
separate process, and through the real Azure SDK against the ARM emulator over TLS (its fault injection:
`answer_lost`, the server commits and then resets the connection).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planner.stack.jsonc import load_jsonc
from providers.emulator.faults import Fault, answer_lost
from providers.simulated.local import LocalProvider
from tests.helpers import EXAMPLES, SUBSCRIPTION, Emulator, edit_json
from tests.helpers.processes import aibplan, aibplan_here

RETRY_FAST = {"AIBPLAN_RETRY_BASE_DELAY": "0.01"}
LOST = "the answer was lost"
RECOGNISED = "the create's first answer was lost, and the service already holds what it sent"


def state_ids(root: Path) -> list[str]:
    if not (root / "aibplan.state.json").exists():
        return []
    state = json.loads((root / "aibplan.state.json").read_text())
    return sorted(r["id"].lower() for r in state["resources"] if not r.get("removed"))


def local_cloud_ids(root: Path) -> list[str]:
    provider = LocalProvider(root / ".aibplan")
    try:
        config = load_jsonc((root / "aibplan.json").read_text(), "aibplan.json")
        listed = provider.list_resources(config["subscriptionId"], config["resourceGroup"])
    finally:
        provider.close()
    return sorted(str(r["id"]).lower() for r in listed)


def run(root: Path, *args: str, faults: dict[str, Any] | None = None) -> Any:
    env = dict(RETRY_FAST)
    if faults is not None:
        env["AIBPLAN_LOCAL_FAULTS"] = json.dumps(faults)
    return aibplan(*args, ".", cwd=root, env=env)


def converged(root: Path, cloud: Callable[[Path], list[str]]) -> None:
    """No orphan, no duplicate, nothing left to do."""
    ids = state_ids(root)
    assert len(ids) == len(set(ids))
    assert cloud(root) == ids
    done = aibplan_here("plan", "--detailed-exitcode", ".", cwd=root)
    assert done.returncode == 0 and "No changes." in done.stdout, done.stdout + done.stderr


@pytest.fixture
def stack(tmp_path: Path) -> Callable[[str], Path]:
    def copy(name: str) -> Path:
        root = tmp_path / name
        shutil.copytree(EXAMPLES / name, root, ignore=shutil.ignore_patterns(".aibplan", "*.state.json*"))
        return root

    return copy


# -- the local provider ---------------------------------------------------------------------------------


def test_a_template_create_whose_answer_was_lost_is_recognised(stack: Callable[[str], Path]) -> None:
    root = stack("quickstart")
    lost_once = {
        "rules": [
            {"match": match, "operation": "create", "kind": "lost", "times": 1}
            for match in (
                "userAssignedIdentities/",
                "galleries/corpImages",
                "images/ubuntu2204",
                "imageTemplates/",
            )
        ]
    }
    done = run(root, "apply", "--auto-approve", "--parallelism", "1", faults=lost_once)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Apply complete! Resources: 7 added" in done.stdout
    assert done.stderr.count(LOST) == 4
    assert f"imageTemplate.ubuntu2204: {RECOGNISED}" in done.stderr
    converged(root, local_cloud_ids)


@pytest.mark.parametrize("seed", [1, 2])
def test_lost_answers_on_creates_updates_and_deletes_converge(
    stack: Callable[[str], Path], seed: int
) -> None:
    root = stack("base-and-app")
    faults = {"seed": seed, "lostRate": 0.4}
    done = run(root, "apply", "--auto-approve", faults=faults)
    assert done.returncode == 0, done.stdout + done.stderr
    assert LOST in done.stderr
    converged(root, local_cloud_ids)

    def tag(resource: dict[str, Any]) -> None:
        resource.setdefault("tags", {})["costCenter"] = f"cc-{seed}"

    edit_json(root / "identity.json", tag)
    edit_json(root / "gallery.json", lambda resources: tag(resources[0]))  # type: ignore[index]
    done = run(root, "apply", "--auto-approve", faults={**faults, "seed": seed + 10})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 changed" in done.stdout
    converged(root, local_cloud_ids)

    done = run(root, "destroy", "--auto-approve", faults={**faults, "seed": seed + 20})
    assert done.returncode == 0, done.stdout + done.stderr
    assert state_ids(root) == [] and local_cloud_ids(root) == []


# -- the Azure SDK against the emulator, over TLS ---------------------------------------------------------


def emulator_ids(emulator: Emulator, root: Path) -> list[str]:
    group = json.loads((root / "aibplan.json").read_text())["resourceGroup"]
    return sorted(
        str(r["id"]).lower() for r in emulator.server.service.list_resource_group(SUBSCRIPTION, group)
    )


def test_a_put_whose_answer_was_lost_through_the_azure_sdk(
    azure_quickstart: Callable[..., Path], faults: Callable[[Fault], Fault], emulator: Emulator
) -> None:
    root = azure_quickstart()
    faults(answer_lost(methods=frozenset({"PUT"}), path_contains="/imageTemplates/", times=1))
    faults(answer_lost(methods=frozenset({"PUT"}), path_contains="/galleries/", times=1))
    since = len(emulator.server.faults.fired)
    done = aibplan("apply", "--auto-approve", ".", cwd=root, env=RETRY_FAST)
    assert done.returncode == 0, done.stdout + done.stderr
    dropped = [f for f in emulator.server.faults.fired[since:] if f[2] == 0]
    assert len(dropped) == 2
    assert f"imageTemplate.ubuntu2204: {RECOGNISED}" in done.stderr
    assert "retrying create" in done.stderr
    converged(root, lambda r: emulator_ids(emulator, r))


def test_lost_answers_on_every_write_through_the_azure_sdk(
    azure_quickstart: Callable[..., Path], faults: Callable[[Fault], Fault], emulator: Emulator
) -> None:
    root = azure_quickstart()
    for method in ("PUT", "PATCH", "DELETE"):
        faults(answer_lost(methods=frozenset({method}), rate=0.5))
    done = aibplan("apply", "--auto-approve", ".", cwd=root, env=RETRY_FAST)
    assert done.returncode == 0, done.stdout + done.stderr
    converged(root, lambda r: emulator_ids(emulator, r))

    edit_json(root / "identity.json", lambda body: body["tags"].__setitem__("costCenter", "images"))
    done = aibplan("apply", "--auto-approve", ".", cwd=root, env=RETRY_FAST)
    assert done.returncode == 0, done.stdout + done.stderr
    converged(root, lambda r: emulator_ids(emulator, r))

    done = aibplan("destroy", "--auto-approve", ".", cwd=root, env=RETRY_FAST)
    assert done.returncode == 0, done.stdout + done.stderr
    assert state_ids(root) == [] and emulator_ids(emulator, root) == []
    assert any(f[2] == 0 for f in emulator.server.faults.fired)
