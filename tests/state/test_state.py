"""The state file: deterministic bytes, serial only on change, atomic writes with a backup, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from state import ResourceState, State, StateError, dumps_state, load_state, save_state
from state.store import parse_state
from tests.helpers import FIXTURES

ROUNDTRIP = FIXTURES / "state-roundtrip"


def entry(address: str, **kw: object) -> ResourceState:
    return ResourceState(
        address=address,
        arm_type="Microsoft.Compute/galleries",
        arm_id=f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/{address[8:]}",
        api_version="2024-03-03",
        applied={"location": "westus2"},
        observed={"b": 1, "a": 2},
        **kw,
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(p.name.removesuffix(".in.json") for p in ROUNDTRIP.glob("*.in.json")))
def test_roundtrip_golden_files(name: str) -> None:
    state = parse_state((ROUNDTRIP / f"{name}.in.json").read_text(), name)
    assert dumps_state(state) == (ROUNDTRIP / f"{name}.out.json").read_text()
    # What we write reads back to the same bytes.
    assert dumps_state(parse_state(dumps_state(state), name)) == dumps_state(state)


def test_equal_states_serialise_identically_whatever_the_order() -> None:
    one = State(lineage="l").with_resources([entry("gallery.b"), entry("gallery.a")])
    two = State(lineage="l").with_resources([entry("gallery.a"), entry("gallery.b")])
    assert dumps_state(one) == dumps_state(two)
    text = dumps_state(one)
    assert text.endswith("}\n") and text.index('"gallery.a"') < text.index('"gallery.b"')
    assert text.index('"a": 2') < text.index('"b": 1')  # sorted keys


def test_serial_grows_only_when_content_changes(tmp_path: Path) -> None:
    path = tmp_path / "aibplan.state.json"
    first = save_state(path, State(lineage="l").with_resources([entry("gallery.a")]), None)
    assert first.serial == 1
    again = save_state(path, State(lineage="l").with_resources([entry("gallery.a")]), first)
    assert again.serial == 1
    changed = save_state(path, first.with_resource(entry("gallery.b")), first)
    assert changed.serial == 2
    assert load_state(path) == changed
    backup = path.with_name(path.name + ".backup")
    assert backup.exists() and parse_state(backup.read_text(), "b").serial == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_missing_state_is_none_and_bad_states_are_clear_errors(tmp_path: Path) -> None:
    assert load_state(tmp_path / "none.json") is None
    with pytest.raises(StateError, match="merge-conflict marker"):
        parse_state('{\n<<<<<<< HEAD\n"serial": 1\n=======\n"serial": 2\n>>>>>>> b\n}\n', "s")
    with pytest.raises(StateError, match="newer aibplan"):
        parse_state('{"format_version": 99, "serial": 1, "lineage": "l", "resources": []}', "s")
    with pytest.raises(StateError, match="not valid JSON"):
        parse_state("{", "s")
    with pytest.raises(StateError, match="appears twice"):
        text = dumps_state(State(lineage="l").with_resources([entry("gallery.a")]))
        broken = text.replace(
            '"resources": [', '"resources": [' + text[text.index("    {") : text.rindex("  ]")] + ","
        )
        parse_state(broken, "s")
