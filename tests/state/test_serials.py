"""Format 3's serials: only what a write changed carries the new serial, a removal stays in its entry's
place, the state's serial is the highest; a push is refused when it has not seen a change the backend's
state has; conflict markers are named by the resources they are in."""

from __future__ import annotations

from dataclasses import replace

import pytest

from state import ResourceState, State, StateError, dumps_state
from state.backends import PushRefused, check_push
from state.store import next_state, parse_state


def entry(address: str, owner: str = "images") -> ResourceState:
    return ResourceState(
        address=address,
        arm_type="Microsoft.Compute/galleries",
        arm_id=f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/{address[8:]}",
        api_version="2024-03-03",
        applied={"location": "westus2", "tags": {"owner": owner}},
        observed={},
    )


def written(state: State, previous: State | None) -> State:
    """`state` written over `previous` and read back, as a command would find it."""
    return parse_state(dumps_state(next_state(state, previous)), "s")


def test_a_write_stamps_only_what_it_changed_and_removals_stay_in_place() -> None:
    first = written(State(lineage="l").with_resources([entry("gallery.a"), entry("gallery.b")]), None)
    assert [(r.address, r.serial) for r in first.resources] == [("gallery.a", 1), ("gallery.b", 1)]
    second = written(first.with_resource(entry("gallery.b", "platform")).without("gallery.a"), first)
    assert second.serial == 2 and second.removed == {"gallery.a": 2}
    assert [(r.address, r.serial) for r in second.resources] == [("gallery.b", 2)]
    text = dumps_state(second)
    assert '"address": "gallery.a",\n      "removed": true,\n      "serial": 2' in text
    assert '"serial": 2\n}' not in text, "no top-level serial"
    third = written(second.with_resource(entry("gallery.c")), second)
    assert [(r.address, r.serial) for r in third.resources] == [("gallery.b", 2), ("gallery.c", 3)]
    assert third.removed == {"gallery.a": 2}
    back = written(third.with_resource(entry("gallery.a")), third)
    assert back.removed == {} and back.get("gallery.a").serial == 4  # type: ignore[union-attr]
    # Nothing changed: nothing to stamp, the same content.
    assert next_state(back, back).same_content(back)


def test_a_push_is_refused_when_it_has_not_seen_a_change_or_went_its_own_way() -> None:
    base = written(State(lineage="l").with_resources([entry("gallery.a"), entry("gallery.b")]), None)
    remote = written(base.with_resource(entry("gallery.a", "remote")), base)  # a changed at 2
    removed_here = written(base.without("gallery.b"), base)  # b removed at 2, a not seen
    with pytest.raises(
        PushRefused, match=r"holds changes the state pushed has not seen \(gallery\.a at serial 2\)"
    ):
        check_push(remote, removed_here, "there")
    both = written(remote.without("gallery.b"), remote)  # saw a's change, then removed b
    check_push(remote, both, "there")
    apart = written(base.with_resource(entry("gallery.a", "elsewhere")), base)  # a changed at 2, otherwise
    with pytest.raises(PushRefused, match=r"changed gallery\.a at the same serial, differently"):
        check_push(remote, apart, "there")


CONFLICTED = """{
  "format_version": 3,
  "lineage": "l",
  "resources": [
    {
      "address": "gallery.a",
      "api_version": "2024-03-03",
      "applied": {},
      "dependencies": [],
      "id": "/x/gallery.a",
      "observed": {},
      "serial": 1,
      "type": "Microsoft.Compute/galleries"
    },
    {
      "address": "gallery.b",
<<<<<<< HEAD
      "removed": true,
      "serial": 3
||||||| base
      "api_version": "2024-03-03",
=======
      "api_version": "2024-03-03",
      "serial": 4,
>>>>>>> theirs
    }
  ]
}
"""


def test_a_conflict_names_the_resource_it_is_in_whatever_the_conflict_style() -> None:
    with pytest.raises(StateError) as caught:
        parse_state(CONFLICTED, "aibplan.state.json")
    said = str(caught.value)
    assert said.startswith("aibplan.state.json:17: the state file contains a git merge-conflict marker")
    assert "(1 conflict(s), in gallery.b)" in said and "gallery.a" not in said
    assert "keep the entry if the stack still declares it, else the removal" in said
    head = '{\n<<<<<<< HEAD\n  "lineage": "l",\n=======\n  "lineage": "m",\n>>>>>>> b\n  "resources": []\n}\n'
    with pytest.raises(StateError, match=r"in the head of the file \(lineage, format version\)"):
        parse_state(head, "s")


def test_a_resource_both_present_and_removed_after_a_merge_counts_as_present() -> None:
    state = written(State(lineage="l").with_resource(entry("gallery.a")), None)
    text = dumps_state(replace(state, removed={"gallery.a": 5}))
    assert text.count('"address": "gallery.a"') == 1
    merged = text.replace(
        '  "resources": [\n',
        '  "resources": [\n    {\n      "address": "gallery.a",\n'
        '      "removed": true,\n      "serial": 5\n    },\n',
        1,
    )
    read = parse_state(merged, "s")
    assert read.get("gallery.a") is not None and read.removed == {}
