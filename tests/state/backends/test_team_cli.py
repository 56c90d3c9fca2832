"""Two machines of a team through the real command line: two working copies of the quickstart stack, each
running `aibplan` in processes of its own, sharing the state in a blob container on a real Azurite and
the cloud behind the ARM emulator (real TLS, the real Azure SDK).

- two applies at once: exactly one proceeds, the other is told who holds the lock;
- the holder killed with kill -9 in the middle of a call: its lease runs out, and the next apply, from
  the other machine, takes the lock over and recovers from the journal in the container: no orphan in the
  cloud, nothing created twice;
- a push of an older state is refused;
- a writer whose lock was broken (force-unlock) and who writes after another machine did is refused by
  the state blob's ETag: never a silent overwrite.

Nothing here sleeps: a call is held in the emulator until the test lets it go, and the one wait on the
clock is the other machine waiting (--lock-timeout) for a killed holder's 15 s lease to run out.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from state.backends import StateBackend, backend_settings, open_backend
from tests.helpers import SUBSCRIPTION, Emulator, edit_json
from tests.helpers.azurite import Azurite
from tests.helpers.backends import blob_place
from tests.helpers.machines import Machine, team

pytestmark = pytest.mark.azurite

QUICKSTART = {
    "gallery.corpImages",
    "identity.aibBuilder",
    "imageDefinition.corpImages/ubuntu2204",
    "imageTemplate.ubuntu2204",
}
# permissions.json: the custom role and the identity's two role assignments (their names are guids).
ROLE_KINDS = {"roleDefinition": 1, "roleAssignment": 2}


def is_the_quickstart(addresses: set[str]) -> bool:
    roles = sorted(a.split(".")[0] for a in addresses - QUICKSTART)
    return addresses >= QUICKSTART and roles == sorted(k for k, n in ROLE_KINDS.items() for _ in range(n))


class Team:
    """The machines, the cloud and the shared backend of one test."""

    def __init__(self, machines: list[Machine], arm: Emulator, group: str, config: dict[str, object]) -> None:
        self.alice, self.ci = machines
        self.arm = arm
        self.group = group
        self.config = config
        self.env = machines[0].env

    def backend(self) -> StateBackend:
        """The shared backend as a third process would open it (the test's own look at it)."""
        settings = backend_settings(self.config, self.env)
        return open_backend(settings, state_path=Path("unused"), runtime_dir=Path("unused"))

    def cloud_ids(self) -> set[str]:
        return {
            item["id"].lower()
            for item in self.arm.server.service.list_resource_group(SUBSCRIPTION, self.group)
        }

    def entries(self, machine: Machine | None = None) -> dict[str, str]:
        """The state's entries as `state pull` prints it: address -> ARM id (removed resources left out)."""
        pulled = (machine or self.alice).run("state", "pull")
        assert pulled.exit_code == 0, pulled.stderr
        listed = json.loads(pulled.stdout)["resources"]
        return {r["address"]: r["id"].lower() for r in listed if not r.get("removed")}


@pytest.fixture
def make_team(azurite: Azurite, arm: Emulator, tmp_path: Path) -> Callable[..., Team]:
    def make(**backend: object) -> Team:
        place = blob_place(azurite, tmp_path / "unused", **backend)
        group = arm.new_group()
        machines = team(tmp_path, arm, place.config, place.env, group=group)
        return Team(machines, arm, group, place.config)

    return make


@contextmanager
def held_in_the_cloud(
    arm: Emulator, operation: str, fragment: str
) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Hold the first `operation` (create, update, delete) on a resource whose id holds `fragment` inside
    the emulator, before it changes anything, until `release` is set: (entered, release)."""
    entered, release = threading.Event(), threading.Event()

    def hook(called: str, arm_id: str) -> None:
        if called == operation and fragment in arm_id.lower() and not release.is_set():
            entered.set()
            release.wait(timeout=600)

    service = arm.server.service
    service.fault_hook = hook
    try:
        yield entered, release
    finally:
        release.set()
        service.fault_hook = None


def tag_gallery(machine: Machine, owner: str) -> None:
    edit_json(machine.root / "gallery.json", lambda d: d[0].setdefault("tags", {}).update(owner=owner))


def test_two_applies_at_once_exactly_one_proceeds_the_other_is_told_who_holds_the_lock(
    make_team: Callable[..., Team],
) -> None:
    crew = make_team()
    first = crew.alice.start("apply")
    first.wait_for("Enter a value:")  # the plan is shown: alice holds the lock and waits for her answer

    second = crew.ci.run("apply", "--auto-approve")
    assert second.exit_code == 1
    assert "the state is locked by another aibplan" in second.stderr
    assert "Operation: apply" in second.stderr and f"Process: {first.process.pid}" in second.stderr
    holder = crew.backend().holder()
    assert holder is not None and f"ID: {holder.id}" in second.stderr
    assert "its lease runs out within 15s" in second.stderr and "Traceback" not in second.stderr
    looked = crew.ci.run("plan")
    assert looked.exit_code == 0
    assert (
        f"apply by {holder.user}@{holder.host} (pid {first.process.pid}) holds the state lock"
        in looked.stderr
    )

    first.answer("yes\n")
    done = first.finish()
    assert done.exit_code == 0, done.stderr
    assert "Apply complete! Resources: 7 added, 0 changed, 0 replaced, 0 destroyed." in done.stdout
    assert crew.backend().holder() is None
    after = crew.ci.run("plan", "--detailed-exitcode")
    assert after.exit_code == 0, after.stdout + after.stderr


def test_a_holder_killed_mid_apply_is_recovered_from_the_other_machine_with_no_orphan(
    make_team: Callable[..., Team],
) -> None:
    crew = make_team()
    with held_in_the_cloud(crew.arm, "create", "/images/") as (entered, release):
        killed = crew.alice.start("apply", "--auto-approve")
        assert entered.wait(timeout=300), "the image definition's create never reached the cloud"
        killed.process.kill()  # kill -9 while the create is on its way
        assert killed.finish().exit_code == -9
        release.set()  # the create completes in the cloud, with nobody left to record it

    backend = crew.backend()
    assert backend.journal_read() is not None, "the journal stays in the container"
    assert backend.read().text is None, "the first apply had not written the state yet"

    recovered = crew.ci.run("apply", "--auto-approve", "--lock-timeout", "120")
    assert recovered.exit_code == 0, recovered.stderr
    said = recovered.stderr
    assert "Waiting up to 120s for the state lock held by apply" in said
    assert "ran out: that run stopped without releasing it. This run took the lock over." in said
    assert "A previous run stopped before it finished; its journal" in said
    # The create finishes in the cloud on the service's own clock, polled or not (as Azure's do): the
    # definition is found whole and adopted; the template is still to make. Nothing the killed run made is
    # lost or made beside itself.
    assert "imageDefinition.corpImages/ubuntu2204: adopted into the state" in said, said
    assert "tainted" not in said
    assert "Apply complete! Resources: 1 added, 0 changed, 0 replaced, 0 destroyed." in recovered.stdout

    entries = crew.entries(crew.alice)
    assert is_the_quickstart(set(entries)), entries
    assert set(entries.values()) == crew.cloud_ids(), "no orphan: the state knows everything in the cloud"
    assert backend.journal_read() is None and backend.holder() is None
    for machine in (crew.alice, crew.ci):
        plan = machine.run("plan", "--detailed-exitcode")
        assert plan.exit_code == 0, plan.stdout + plan.stderr


def test_a_push_of_an_older_state_is_refused(make_team: Callable[..., Team], tmp_path: Path) -> None:
    crew = make_team()
    assert crew.alice.run("apply", "--auto-approve").exit_code == 0
    old = tmp_path / "alice-copy.state.json"
    old.write_text(crew.alice.run("state", "pull").stdout)
    tag_gallery(crew.ci, "ci")
    changed = crew.ci.run("apply", "--auto-approve")
    assert changed.exit_code == 0 and "1 changed" in changed.stdout
    newer = crew.backend().read().text

    pushed = crew.alice.run("state", "push", str(old))
    assert pushed.exit_code == 1
    assert "is newer" in pushed.stderr and "than the state pushed" in pushed.stderr
    assert "Nothing was written" in pushed.stderr and "Traceback" not in pushed.stderr
    assert crew.backend().read().text == newer


def test_a_writer_that_lost_the_race_is_refused_by_the_etag_never_overwriting(
    make_team: Callable[..., Team],
) -> None:
    # A 60 s lease is renewed every 20 s: alice's run writes before it could notice its lease was broken.
    crew = make_team(leaseSeconds=60)
    assert crew.alice.run("apply", "--auto-approve").exit_code == 0
    tag_gallery(crew.alice, "alice")
    with held_in_the_cloud(crew.arm, "update", "/galleries/corpimages") as (entered, release):
        slow = crew.alice.start("apply", "--auto-approve")
        assert entered.wait(timeout=300)
        backend = crew.backend()
        holder = backend.holder()
        assert holder is not None
        # Someone takes alice's run for dead: clears its lock (as `aibplan force-unlock ID` does; done
        # here in-process to stay well inside the 20 s before alice's next renewal), then writes.
        assert backend.force_unlock(holder.id) == holder
        removed = crew.ci.run("state", "rm", "identity.aibBuilder")
        assert removed.exit_code == 0, removed.stderr
        written = crew.backend().read().text
        release.set()
        lost = slow.finish()

    assert lost.exit_code == 1
    assert "the state changed since it was read: another writer replaced it meanwhile" in lost.stderr
    assert "nothing was written" in lost.stderr and "Traceback" not in lost.stderr
    assert crew.backend().read().text == written, "the other machine's write stands"
    assert "identity.aibBuilder" not in crew.entries()
