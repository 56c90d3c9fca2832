"""What every state backend does, run on `local` and on `azureblob` (a real Azurite): one contract."""

from __future__ import annotations

from dataclasses import replace

import pytest

from state import ResourceState, State, dumps_state
from state.backends import BackendError, StateChanged, load, save
from state.journal import parse_journal
from state.lock import LockError, LockInfo
from state.store import parse_state
from tests.helpers.backends import Place, state_at


def state_text(serial: int, lineage: str = "5f1c2d9e-0000-4000-8000-000000000001") -> str:
    return dumps_state(state_at(serial, lineage))


def test_a_new_place_has_no_state_and_a_write_creates_it(place: Place) -> None:
    backend = place.open()
    assert backend.kind == place.kind
    empty = backend.read()
    assert (empty.text, empty.version) == (None, None)
    version = backend.write(state_text(1), None)
    stored = place.open().read()
    assert stored.text == state_text(1)
    assert stored.version == version


def test_a_write_naming_an_old_version_is_refused_and_changes_nothing(place: Place) -> None:
    backend = place.open()
    first = backend.write(state_text(1), None)
    second = backend.write(state_text(2), first)
    with pytest.raises(StateChanged, match="the state changed since it was read") as caught:
        backend.write(state_text(3), first)
    assert "Run the command again" in str(caught.value)
    stored = backend.read()
    assert (stored.text, stored.version) == (state_text(2), second)


def test_creating_a_state_that_another_writer_created_meanwhile_is_refused(place: Place) -> None:
    place.open().write(state_text(1), None)
    with pytest.raises(StateChanged, match="created it meanwhile"):
        place.open().write(state_text(1, lineage="another"), None)
    assert place.open().read().text == state_text(1)


def test_saving_bumps_the_serial_only_when_the_content_changes(place: Place) -> None:
    backend = place.open()
    nothing = load(backend)
    assert (nothing.state, nothing.version) == (None, None)
    one, two = (replace(r, serial=0) for r in big_state(2).resources)
    first = save(backend, State(lineage="L-1").with_resource(one), nothing)
    assert first.state is not None and first.state.serial == 1
    assert save(backend, State(lineage="L-1").with_resource(one), first) is first
    reread = load(place.open())
    assert reread == first
    second = save(backend, State(lineage="L-1").with_resources([one, two]), reread)
    assert second.state is not None and second.state.serial == 2
    # Only what changed carries the new serial.
    assert [r.serial for r in second.state.resources] == [1, 2]
    assert load(place.open()) == second
    # A save made from the state as it was before `second` is refused, not written over it.
    with pytest.raises(StateChanged):
        save(place.open(), State(lineage="L-1").with_resource(replace(one, tainted=True)), first)
    assert load(place.open()) == second


def test_the_previous_state_is_kept_when_asked(place: Place) -> None:
    backend = place.open()
    first = backend.write(state_text(1), None)
    second = backend.write(state_text(2), first, keep_previous=True)
    history = backend.history()
    assert history, "the state replaced was not kept"
    assert backend.read_history(history[0].id) == state_text(1)
    backend.write(state_text(3), second, keep_previous=False)
    assert backend.read_history(backend.history()[0].id) == state_text(1)
    with pytest.raises(BackendError):
        backend.read_history("no-such-entry")


def test_one_holder_at_a_time_and_the_other_is_told_who(place: Place) -> None:
    first, second = place.open(), place.open()
    with first.lock("apply") as held:
        assert held.info.operation == "apply"
        assert second.holder() == held.info
        with pytest.raises(LockError) as caught:
            second.lock("destroy")
        assert caught.value.holder == held.info
        message = str(caught.value)
        assert held.info.id in message and "Operation: apply" in message and "--lock-timeout" in message
        held.renew()
        held.check()
    assert second.holder() is None
    with second.lock("destroy") as again:
        assert again.taken_over is None
        assert again.info.id != held.info.id


def test_a_waiting_writer_gets_the_lock_when_the_holder_releases_it(place: Place) -> None:
    first, second = place.open(), place.open()
    held = first.lock("apply")
    seen: list[LockInfo | None] = []

    def holder_finishes(holder: LockInfo | None) -> None:
        seen.append(holder)
        held.release()

    with second.lock("apply", timeout=60, on_wait=holder_finishes) as mine:
        assert seen == [held.info]
        assert mine.info.id != held.info.id


def test_force_unlock_names_the_lock_by_id(place: Place) -> None:
    backend = place.open()
    with pytest.raises(LockError, match="no lock to clear"):
        backend.force_unlock("0b7f2c9e-4d2a-4c57-9a53-0e6f3f7d9a1c")
    with backend.lock("apply") as held:
        with pytest.raises(LockError, match="does not match") as caught:
            place.open().force_unlock("0b7f2c9e-4d2a-4c57-9a53-0e6f3f7d9a1c")
        assert caught.value.holder == held.info


def test_the_journal_is_written_appended_replaced_and_removed(place: Place) -> None:
    backend = place.open()
    assert backend.journal_read() is None
    with pytest.raises(BackendError, match="no apply journal"):
        backend.journal_append(b'{"event":"failed","seq":1,"certain":true}\n')
    header = b'{"base_serial": 3, "journal": 1, "lineage": "L", "state_file": "aibplan.state.json"}\n'
    begin = b'{"event":"begin","seq":1,"action":"create","address":"identity.a"}\n'
    done = b'{"event":"done","seq":1,"removed":"identity.a"}\n'
    backend.journal_reset(header)
    backend.journal_append(begin)
    backend.journal_append(done)
    elsewhere = place.open()
    assert elsewhere.journal_read() == (header + begin + done).decode()
    parsed_header, events = parse_journal(elsewhere.journal_read() or "", elsewhere.where())
    assert parsed_header is not None and parsed_header["base_serial"] == 3
    assert [e["event"] for e in events] == ["begin", "done"]
    # A compaction starts a new journal with only what is still in flight.
    backend.journal_reset(header + begin)
    assert place.open().journal_read() == (header + begin).decode()
    # A writer that has not seen the new journal never adds to it, nor to the old one.
    with pytest.raises(BackendError, match="replaced by another run"):
        elsewhere.journal_append(done)
    assert elsewhere.journal_read() == (header + begin).decode()
    elsewhere.journal_append(done)
    assert backend.journal_read() == (header + begin + done).decode()
    backend.journal_remove()
    assert place.open().journal_read() is None


TEMPLATES = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.VirtualMachineImages/imageTemplates"


def big_state(count: int) -> State:
    """A state of `count` resources shaped like an apply's: nested bodies, unicode, quotes."""
    resources = []
    for n in range(count):
        arm_id = f"{TEMPLATES}/t{n:05d}"
        steps = [
            {"type": "Shell", "name": f"step{k}", "inline": [f'echo {n}-{k} "quoted"']} for k in range(3)
        ]
        distribute = {"type": "SharedImage", "runOutputName": f"out{n}", "replicationRegions": ["westeurope"]}
        properties = {"buildTimeoutInMinutes": 60 + n % 7, "customize": steps, "distribute": [distribute]}
        body = {
            "location": "westeurope",
            "tags": {"owner": "plateforme-données", "n": n},
            "properties": properties,
        }
        observed = {**body, "id": arm_id, "properties": {**properties, "provisioningState": "Succeeded"}}
        resources.append(
            ResourceState(
                address=f"imageTemplate.t{n:05d}",
                arm_type="Microsoft.VirtualMachineImages/imageTemplates",
                arm_id=arm_id,
                api_version="2024-02-01",
                applied=body,
                observed=observed,
                dependencies=("identity.builder",),
            )
        )
    return state_at(12, "2b7e151628aed2a6abf7158809cf4f3c", *resources)


def test_a_state_of_thousands_of_resources_round_trips_byte_for_byte(place: Place) -> None:
    state = big_state(5600)  # over 8 MB in format 5, where observed bodies and types take little room
    text = dumps_state(state)
    assert len(text) > 8_000_000
    backend = place.open()
    version = backend.write(text, None)
    stored = place.open().read()
    assert stored.version == version
    assert stored.text == text
    assert parse_state(stored.text, "read back").same_content(state)
