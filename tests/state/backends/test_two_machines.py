"""Two machines on one shared state: real processes, each in a working folder of its own, on the
`local` backend (two processes on one stack folder) and on `azureblob` (a real Azurite)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from state import ResourceState, dumps_state
from state.journal import PendingCall, parse_journal, replay
from tests.helpers.backends import TEST_LEASE_SECONDS, Place, state_at

LINEAGE = "0f9c6d2e-7a51-4c7b-9d3e-2b8f1a4c6e10"
IDENTITY_ID = (
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b"
)
GALLERY_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/corpImages"


def test_two_machines_lock_at_once_and_exactly_one_gets_it(place: Place, tmp_path: Path) -> None:
    machines = [place.agent(tmp_path / "machine-a"), place.agent(tmp_path / "machine-b")]
    for machine in machines:
        machine.send(do="lock", operation="apply")
    answers = [machine.reply() for machine in machines]
    winners = [a for a in answers if "locked" in a]
    losers = [a for a in answers if "refused" in a]
    assert len(winners) == 1 and len(losers) == 1, answers
    holder = winners[0]["locked"]
    assert losers[0]["holder"] == holder
    assert holder["id"] in losers[0]["refused"] and "Operation: apply" in losers[0]["refused"]
    assert losers[0]["stale"] is False
    winner = machines[answers.index(winners[0])]
    assert winner.ask(do="release") == {"released": True}
    loser = machines[answers.index(losers[0])]
    assert "locked" in loser.ask(do="lock", operation="destroy")


def test_a_killed_holder_frees_the_lock_and_the_next_run_recovers_its_journal(
    place: Place, tmp_path: Path
) -> None:
    """The holder keeps the lock while it lives; killed (-9) with one call finished and one begun, the
    next machine takes the lock (the lease runs out; a local lock is stale and is cleared by id) and
    finds both calls in the journal."""
    before = state_at(4, LINEAGE)
    place.open().write(dumps_state(before), None)
    identity = ResourceState(
        address="identity.builder",
        arm_type="Microsoft.ManagedIdentity/userAssignedIdentities",
        arm_id=IDENTITY_ID,
        api_version="2023-01-31",
        applied={"location": "westus2"},
        observed={"id": IDENTITY_ID, "location": "westus2"},
    )
    gallery = PendingCall(
        seq=2,
        action="create",
        address="gallery.corpImages",
        arm_id=GALLERY_ID,
        arm_type="Microsoft.Compute/galleries",
        api_version="2023-07-03",
        applied={"location": "westus2"},
        dependencies=(),
    )
    header = {"journal": 1, "lineage": LINEAGE, "base_serial": 4, "state_file": "aibplan.state.json"}
    events = [
        {"event": "begin", "seq": 1, "action": "create", "address": identity.address, "id": IDENTITY_ID,
         "type": identity.arm_type, "api_version": identity.api_version, "applied": identity.applied,
         "dependencies": []},
        {"event": "done", "seq": 1, "entry": identity.to_json()},
        gallery.to_event(),
    ]  # fmt: skip
    holder = place.agent(tmp_path / "machine-a")
    locked = holder.ask(do="lock", operation="apply")["locked"]
    assert holder.ask(do="journal_reset", content=json.dumps(header) + "\n") == {"ok": True}
    for event in events:
        assert holder.ask(do="journal_append", lines=json.dumps(event) + "\n") == {"ok": True}
    nxt = place.agent(tmp_path / "machine-b")
    # While the holder lives it keeps the lock: its lease is renewed, so waiting longer than a lease
    # lasts still finds it held.
    longer_than_a_lease = TEST_LEASE_SECONDS * 1.5 if place.kind == "azureblob" else 0.5
    waited = nxt.ask(do="lock", operation="apply", timeout=longer_than_a_lease)
    assert "refused" in waited, f"the lock was taken while its holder lived: {waited}"
    assert waited["holder"] == locked and f"after waiting {longer_than_a_lease:g}s" in waited["refused"]

    os.kill(holder.process.pid, signal.SIGKILL)
    holder.process.wait()
    if place.kind == "local":
        refused = nxt.ask(do="lock", operation="apply")
        assert refused["stale"] is True and refused["holder"] == locked
        assert f"aibplan force-unlock {locked['id']}" in refused["refused"]
        assert nxt.ask(do="force_unlock", id=locked["id"])["cleared"] == locked
        taken = nxt.ask(do="lock", operation="apply")
        assert taken["taken_over"] is None
    else:
        # Waits for the dead holder's lease to run out (TEST_LEASE_SECONDS, Azure's shortest).
        taken = nxt.ask(do="lock", operation="apply", timeout=TEST_LEASE_SECONDS * 8)
        assert taken["taken_over"] == locked
    assert taken["locked"]["id"] != locked["id"]

    text = nxt.ask(do="journal_read")["text"]
    found_header, found_events = parse_journal(text, "journal")
    assert found_header == header
    recovered = replay(before, found_events)
    assert recovered.state.get("identity.builder") == identity
    assert recovered.pending == (gallery,)


def test_a_lost_race_between_two_writers_ends_with_the_second_refused(place: Place, tmp_path: Path) -> None:
    place.open().write(dumps_state(state_at(1, LINEAGE)), None)
    first, second = place.agent(tmp_path / "machine-a"), place.agent(tmp_path / "machine-b")
    read_first, read_second = first.ask(do="read"), second.ask(do="read")
    assert read_first == read_second
    mine = dumps_state(state_at(2, LINEAGE))
    theirs = dumps_state(state_at(3, LINEAGE))
    written = first.ask(do="write", text=mine, expected=read_first["version"])
    assert "version" in written
    refused = second.ask(do="write", text=theirs, expected=read_second["version"])
    assert "the state changed since it was read" in refused["changed"]
    assert place.open().read().text == mine
    assert second.ask(do="read") == {"text": mine, "version": written["version"]}
