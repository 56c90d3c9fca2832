"""State format 4: the observed body stored as what differs from the applied body, read back whole."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from state import ResourceState, State, StateError, dumps_state
from state.observed import same_value
from state.store import parse_state
from tests.helpers import FIXTURES, Run

ROUNDTRIP = FIXTURES / "state-roundtrip"
GALLERY_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/corpImages"

keys = st.text(alphabet="ab/~0c", min_size=0, max_size=4)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, 1.0, 2.5])
    | st.text("ab", max_size=2)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=12,
)
bodies = st.dictionaries(keys, values, max_size=4)


def gallery(applied: dict[str, Any], observed: dict[str, Any]) -> ResourceState:
    return ResourceState(
        address="gallery.corpImages",
        arm_type="Microsoft.Compute/galleries",
        arm_id=GALLERY_ID,
        api_version="2024-03-03",
        applied=applied,
        observed=observed,
    )


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
    assert "observed" not in entry
    assert entry["observed_changes"] == {"set": {"/properties/provisioningState": "Succeeded"}}
    # The envelope (id, name, type) is the entry's own: a body with it and nothing else stores nothing.
    envelope_only = {"id": GALLERY_ID, "name": "corpImages", "type": "Microsoft.Compute/galleries", **applied}
    assert "observed_changes" not in gallery(applied, envelope_only).to_json()


def test_a_format_3_file_is_read_with_its_observed_bodies_and_written_as_format_4() -> None:
    text = (ROUNDTRIP / "v3-observed-bodies.in.json").read_text()
    raw = {r["address"]: r for r in json.loads(text)["resources"]}
    state = parse_state(text, "v3")
    assert state.format_version == 4
    for entry in state.resources:
        assert same_value(dict(entry.observed), raw[entry.address]["observed"]), entry.address
    written = dumps_state(state)
    assert json.loads(written)["format_version"] == 4 and '"observed":' not in written
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
    assert shown["observed"] == observed and "observed_changes" not in shown
