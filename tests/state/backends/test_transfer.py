"""Pushing a whole state into a backend, and migrating between backends: older states, other stacks and
states that went their own way are refused; on `local` and on `azureblob` (a real Azurite)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from state import ResourceState, State, dumps_state
from state.backends import PushRefused, migrate_state, pull_state, push_state
from state.lock import LockError
from tests.helpers.azurite import Azurite
from tests.helpers.backends import Place, blob_place, state_at

LINEAGE = "c7d0e6a2-43f1-4f7e-8b0e-5a4b7d2f9c11"
GALLERY = ResourceState(
    address="gallery.corpImages",
    arm_type="Microsoft.Compute/galleries",
    arm_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/corpImages",
    api_version="2023-07-03",
    applied={"location": "westus2"},
    observed={"location": "westus2", "properties": {"provisioningState": "Succeeded"}},
)


def stored(serial: int, *, lineage: str = LINEAGE, with_gallery: bool = False) -> State:
    """A state at `serial`: with the gallery written at that serial, or without it."""
    return state_at(serial, lineage, *([GALLERY] if with_gallery else []))


def test_push_writes_a_newer_state_and_pull_reads_it(place: Place) -> None:
    backend = place.open()
    assert pull_state(backend) is None
    assert push_state(backend, stored(3)).written
    newer = stored(3).with_resource(replace(GALLERY, serial=4))
    pushed = push_state(backend, newer)
    assert (pushed.written, pushed.serial) == (True, 4)
    assert place.open().read().text == dumps_state(newer)
    again = pull_state(place.open())
    assert again is not None and again.same_content(newer) and again.serial == 4
    assert not push_state(backend, newer).written


def test_push_of_an_older_state_is_refused(place: Place) -> None:
    backend = place.open()
    push_state(backend, stored(7, with_gallery=True))
    with pytest.raises(PushRefused) as caught:
        push_state(backend, stored(6))
    assert "is newer (serial 7) than the state pushed (serial 6)" in str(caught.value)
    assert "aibplan state pull" in str(caught.value)
    assert place.open().read().text == dumps_state(stored(7, with_gallery=True))


def test_push_of_another_stacks_state_is_refused(place: Place) -> None:
    backend = place.open()
    push_state(backend, stored(2))
    with pytest.raises(PushRefused, match="belongs to another stack"):
        push_state(backend, stored(9, lineage="0d5c1b7e-aaaa-4bbb-8ccc-000000000000"))
    assert place.open().read().text == dumps_state(stored(2))


def test_push_of_a_state_that_went_its_own_way_at_the_same_serial_is_refused(place: Place) -> None:
    backend = place.open()
    push_state(backend, stored(5, with_gallery=True))
    tagged = replace(GALLERY, applied={"location": "westus2", "tags": {"owner": "elsewhere"}})
    apart = stored(5, with_gallery=True).with_resource(replace(tagged, serial=5))
    with pytest.raises(PushRefused, match=r"changed gallery\.corpImages at the same serial, differently"):
        push_state(backend, apart)
    assert push_state(backend, apart, force=True).written


def test_a_push_while_a_writer_holds_the_lock_is_refused_naming_it(place: Place) -> None:
    with place.open().lock("apply") as held:
        with pytest.raises(LockError, match="locked by another aibplan") as caught:
            push_state(place.open(), stored(1))
        assert held.info.id in str(caught.value)
    assert place.open().read().text is None


@pytest.mark.azurite
def test_migrating_from_the_local_file_to_a_blob_refuses_to_overwrite_a_newer_state(
    azurite: Azurite, tmp_path: Path
) -> None:
    local = Place("local", {"type": "local"}, {}, tmp_path / "stack")
    local.stack.mkdir()
    blob = blob_place(azurite, tmp_path / "stack")
    local.open().write(dumps_state(stored(3, with_gallery=True)), None)

    moved = migrate_state(local.open(), blob.open())
    assert moved.written and moved.where == blob.open().where()
    assert blob.open().read().text == local.state_path.read_text(encoding="utf-8")

    push_state(blob.open(), stored(4, with_gallery=True))
    with pytest.raises(PushRefused, match=r"is newer \(serial 4\)"):
        migrate_state(local.open(), blob.open())
    assert blob.open().read().text == dumps_state(stored(4, with_gallery=True))


def test_migrating_a_state_with_a_dead_runs_journal_is_refused(place: Place, tmp_path: Path) -> None:
    target = Place("local", {"type": "local"}, {}, tmp_path / "target")
    target.stack.mkdir()
    source = place.open()
    source.write(dumps_state(stored(2)), None)
    source.journal_reset(b'{"journal": 1, "lineage": "' + LINEAGE.encode() + b'"}\n')
    with pytest.raises(PushRefused, match="journal of a run that stopped"):
        migrate_state(source, target.open())
    assert target.open().read().text is None
