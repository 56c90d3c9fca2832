"""The entries an apply keeps in memory hold their observed body as a state read back from its file does
(ResourceState.sharing): the same content, written as the same bytes, the applied body untouched."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings

from state import State, dumps_state
from state.observed import same_value
from tests.helpers.bodies import bodies, gallery


@settings(max_examples=300, deadline=None)
@given(applied=bodies, observed=bodies)
def test_a_shared_entry_is_the_same_entry_written_as_the_same_bytes(
    applied: dict[str, Any], observed: dict[str, Any]
) -> None:
    applied_before = json.dumps(applied, sort_keys=True)
    original = gallery(applied, observed, serial=3)
    text = dumps_state(State(lineage="l").with_resources([original]))
    shared = original.sharing()
    assert same_value(dict(shared.observed), observed)
    assert shared.same_content(original)
    assert dumps_state(State(lineage="l").with_resources([shared])) == text
    # Made afresh, not carried over: the same text again.
    assert (
        dumps_state(State(lineage="l").with_resources([gallery(applied, dict(shared.observed), serial=3)]))
        == text
    )
    assert json.dumps(applied, sort_keys=True) == applied_before


def test_a_shared_entry_holds_once_what_both_bodies_have_in_common() -> None:
    properties = {"description": "d", "identifier": {"publisher": "p"}}
    applied = {"location": "westus2", "properties": properties, "tags": {"owner": "platform"}}
    # As the service answers: a body of its own, equal where nothing changed, plus what it adds.
    observed = json.loads(json.dumps(applied))
    observed["properties"]["provisioningState"] = "Succeeded"
    shared = gallery(applied, observed, serial=3).sharing()
    assert shared.observed["tags"] is applied["tags"]
    assert shared.observed["properties"]["identifier"] is properties["identifier"]
    assert shared.observed["properties"]["provisioningState"] == "Succeeded"
    assert "provisioningState" not in properties
