"""The observed body stored as what differs from the applied body (formats 4 and 5), read back whole."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from state import State, StateError, dumps_state
from state.observed import same_value
from state.store import parse_state
from tests.helpers import FIXTURES, Run
from tests.helpers.bodies import GALLERY_ID, bodies, gallery

ROUNDTRIP = FIXTURES / "state-roundtrip"


@settings(max_examples=300, deadline=None)
@given(applied=bodies, observed=bodies)
def test_any_observed_body_reads_back_exactly_and_the_applied_body_is_untouched(
    applied: dict[str, Any], observed: dict[str, Any]
) -> None:
    applied_before = json.dumps(applied, sort_keys=True)
    state = State(lineage="l").with_resources([gallery(applied, observed)])
    text = dumps_state(state)
    (read,) = parse_state(text, "t").resources
    # Exactly: 1, 1.0 and true stay three values; nothing of the applied body leaks into the observed.
    assert same_value(dict(read.observed), observed)
    assert same_value(dict(read.applied), applied)
    assert json.dumps(dict(read.applied), sort_keys=True) == applied_before
    assert dumps_state(parse_state(text, "t")) == text  # deterministic: same content, same bytes


def test_a_service_added_field_is_one_line_and_an_unchanged_body_none() -> None:
    applied = {"location": "westus2", "properties": {"description": "d"}}
    observed = {
        "id": GALLERY_ID,
        "name": "corpImages",
        "type": "Microsoft.Compute/galleries",
        **applied,
        "properties": {"description": "d", "provisioningState": "Succeeded"},
    }
    entry = gallery(applied, observed).to_json()
    assert "observed" not in entry and "observed_removed" not in entry
    assert entry["observed_set"] == {"/properties/provisioningState": "Succeeded"}
    # The envelope (id, name, type) is the entry's own: a body with it and nothing else stores nothing.
    envelope_only = {"id": GALLERY_ID, "name": "corpImages", "type": "Microsoft.Compute/galleries", **applied}
    assert "observed_set" not in gallery(applied, envelope_only).to_json()
    # The id spells the type: the entry does not write it again, and reads it back from the id.
    assert "type" not in entry
    (read,) = parse_state(dumps_state(State("l").with_resources([gallery(applied, observed)])), "t").resources
    assert read.arm_type == "Microsoft.Compute/galleries"


def test_a_format_3_file_is_read_with_its_observed_bodies_and_written_as_format_5() -> None:
    text = (ROUNDTRIP / "v3-observed-bodies.in.json").read_text()
    raw = {r["address"]: r for r in json.loads(text)["resources"]}
    state = parse_state(text, "v3")
    assert state.format_version == 5
    for entry in state.resources:
        assert same_value(dict(entry.observed), raw[entry.address]["observed"]), entry.address
    written = dumps_state(state)
    assert json.loads(written)["format_version"] == 5 and '"observed":' not in written
    assert len(written) < 0.8 * len(text)


def _v4(entry: dict[str, Any]) -> str:
    base = {
        "address": "gallery.corpImages",
        "type": "Microsoft.Compute/galleries",
        "id": GALLERY_ID,
        "api_version": "2024-03-03",
        "applied": {"location": "westus2", "tags": {"a": "1"}},
        "dependencies": [],
        "serial": 1,
    }
    return json.dumps({"format_version": 4, "lineage": "l", "resources": [{**base, **entry}]}, indent=2)


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({"observed": {}}, "has a field aibplan does not know: 'observed'"),
        ({"observed_changes": []}, "observed_changes must be an object; found a list"),
        ({"observed_changes": {"add": {}}}, "observed_changes has a field aibplan does not know: 'add'"),
        ({"observed_changes": {"set": {"tags": 1}}}, 'key "tags" must be a JSON pointer, starting with /'),
        ({"observed_changes": {"set": {"/tags/~2": 1}}}, "has a ~ that is not ~0 or ~1"),
        (
            {"observed_changes": {"removed": "/tags"}},
            "observed_changes.removed must be a list of JSON pointers",
        ),
        (
            {"observed_changes": {"removed": ["/nothing"]}},
            "'/nothing' is removed, but the applied body has no",
        ),
        (
            {"observed_changes": {"set": {"/no/where": 1}}},
            "'/no/where' goes through 'no', which the body does not",
        ),
        (
            {"observed_changes": {"set": {"/tags/a/b": 1}}},
            "is set, but the body has no object or list item there",
        ),
    ],
)
def test_observed_changes_that_are_not_what_aibplan_writes_are_refused_with_their_line(
    entry: dict[str, Any], says: str
) -> None:
    text = _v4(entry)
    with pytest.raises(StateError) as error:
        parse_state(text, "aibplan.state.json")
    message = str(error.value)
    assert says in message, message
    assert message.startswith("aibplan.state.json:6: resources[0] (gallery.corpImages)"), message
    assert "left untouched" in message


def _v5(entry: dict[str, Any]) -> str:
    base = {
        "address": "gallery.corpImages",
        "id": GALLERY_ID,
        "api_version": "2024-03-03",
        "applied": {"location": "westus2", "tags": {"a": "1"}},
        "dependencies": [],
        "serial": 1,
    }
    return json.dumps({"format_version": 5, "lineage": "l", "resources": [{**base, **entry}]}, indent=2)


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({"observed_changes": {}}, "has a field aibplan does not know: 'observed_changes'"),
        ({"observed": {}}, "has a field aibplan does not know: 'observed'"),
        ({"observed_set": []}, "observed_set must be an object; found a list"),
        ({"observed_set": {"tags": 1}}, 'key "tags" must be a JSON pointer, starting with /'),
        ({"observed_removed": "/tags"}, "observed_removed must be a list of JSON pointers"),
        ({"observed_removed": ["/tags/~2"]}, "has a ~ that is not ~0 or ~1"),
        ({"observed_removed": ["/nothing"]}, "'/nothing' is removed, but the applied body has no"),
        ({"observed_set": {"/no/where": 1}}, "'/no/where' goes through 'no', which the body does not"),
        ({"type": ""}, "type must be a non-empty string"),
        (
            {"type": "Microsoft.ManagedIdentity/userAssignedIdentities"},
            "names a Microsoft.Compute/galleries, but the entry's type is",
        ),
        ({"id": "/subscriptions/s/resourceGroups/rg"}, "is not an ARM resource id"),
    ],
)
def test_a_format_5_entry_that_is_not_what_aibplan_writes_is_refused_with_its_line(
    entry: dict[str, Any], says: str
) -> None:
    with pytest.raises(StateError) as error:
        parse_state(_v5(entry), "aibplan.state.json")
    message = str(error.value)
    assert says in message, message
    assert message.startswith("aibplan.state.json:6: resources[0] (gallery.corpImages)"), message


def test_the_entry_keeps_the_id_as_the_service_spells_it_and_writes_it_once() -> None:
    applied = {"location": "westus2"}
    answered = GALLERY_ID.replace("/resourceGroups/", "/resourcegroups/")
    observed = {"id": answered, "name": "corpImages", "type": "Microsoft.Compute/galleries", **applied}
    entry = gallery(applied, observed)
    assert entry.arm_id == answered  # the same resource: Azure compares ids without case
    assert "observed_set" not in entry.to_json()
    (read,) = parse_state(dumps_state(State("l").with_resources([entry])), "t").resources
    assert read.arm_id == answered and read.observed == observed
    # An answer naming another resource is no spelling of this one: the entry keeps its id.
    other = {**observed, "id": GALLERY_ID + "2"}
    assert gallery(applied, other).arm_id == GALLERY_ID
    assert gallery(applied, other).to_json()["observed_set"] == {"/id": GALLERY_ID + "2"}


def test_state_show_gives_the_observed_body_whole(tmp_path: Path, cli: Callable[..., Run]) -> None:
    observed = {"id": GALLERY_ID, "location": "westus2", "properties": {"provisioningState": "Succeeded"}}
    state = State(lineage="l").with_resources([gallery({"location": "westus2"}, observed)])
    (tmp_path / "aibplan.json").write_text(
        '{"subscriptionId": "s", "resourceGroup": "rg", "location": "westus2"}'
    )
    (tmp_path / "aibplan.state.json").write_text(dumps_state(state))
    run = cli("state", "show", "gallery.corpImages", str(tmp_path))
    assert run.exit_code == 0, run.stderr
    shown = json.loads(run.stdout)
    assert shown["observed"] == observed and "observed_set" not in shown
    assert shown["type"] == "Microsoft.Compute/galleries"
