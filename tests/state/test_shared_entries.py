"""The entries an apply keeps in memory hold their observed body as a state read back from its file does
(ResourceState.sharing): the same content, written as the same bytes, the applied body untouched."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from state import ResourceState, State, dumps_state
from state.observed import same_value

GALLERY_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/corpImages"

# Keys with the characters JSON pointers escape, values where 1, 1.0 and true are three values.
keys = st.text(alphabet="aB/~0", min_size=0, max_size=4)
scalars = (
    st.none() | st.booleans() | st.integers(-2, 2) | st.sampled_from([0.0, 1.0]) | st.text("aB", max_size=2)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=12,
)
bodies = st.dictionaries(keys, values, max_size=4)


def entry(applied: dict[str, Any], observed: dict[str, Any]) -> ResourceState:
    return ResourceState(
        address="gallery.corpImages",
        arm_type="Microsoft.Compute/galleries",
        arm_id=GALLERY_ID,
        api_version="2024-03-03",
        applied=applied,
        observed=observed,
        serial=3,
    )


@settings(max_examples=300, deadline=None)
@given(applied=bodies, observed=bodies)
def test_a_shared_entry_is_the_same_entry_written_as_the_same_bytes(
    applied: dict[str, Any], observed: dict[str, Any]
) -> None:
    applied_before = json.dumps(applied, sort_keys=True)
    original = entry(applied, observed)
    text = dumps_state(State(lineage="l").with_resources([original]))
    shared = original.sharing()
    assert same_value(dict(shared.observed), observed)
    assert shared.same_content(original)
    assert dumps_state(State(lineage="l").with_resources([shared])) == text
    # Made afresh, not carried over: the same text again.
    assert dumps_state(State(lineage="l").with_resources([entry(applied, dict(shared.observed))])) == text
    assert json.dumps(applied, sort_keys=True) == applied_before


def test_a_shared_entry_holds_once_what_both_bodies_have_in_common() -> None:
    properties = {"description": "d", "identifier": {"publisher": "p"}}
    applied = {"location": "westus2", "properties": properties, "tags": {"owner": "platform"}}
    # As the service answers: a body of its own, equal where nothing changed, plus what it adds.
    observed = json.loads(json.dumps(applied))
    observed["properties"]["provisioningState"] = "Succeeded"
    shared = entry(applied, observed).sharing()
    assert shared.observed["tags"] is applied["tags"]
    assert shared.observed["properties"]["identifier"] is properties["identifier"]
    assert shared.observed["properties"]["provisioningState"] == "Succeeded"
    assert "provisioningState" not in properties
