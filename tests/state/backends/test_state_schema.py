"""A state aibplan cannot fully understand is refused, untouched, by every command and every backend.

Each scenario applies the quickstart for real (the `aibplan` program, its local cloud), then edits the
committed state file as a bad merge, a hand edit or another tool could, and runs `aibplan` again (apply
as a separate process, the other commands in this one): one line naming the field, exit 1, the state
file's bytes and the cloud unchanged. A `"resources": null` read as "nothing managed" would make the next
apply create everything again and orphan what exists.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from state import StateError
from state.backends import saving
from tests.helpers import cloud_count
from tests.helpers.backends import Place
from tests.helpers.processes import aibplan, aibplan_here, applied_example

Edit = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def quickstart_applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart applied once for the module: its state file and its local cloud."""
    return applied_example("quickstart", tmp_path_factory.mktemp("applied"))


@pytest.fixture
def applied(quickstart_applied: Path, tmp_path: Path) -> Path:
    """A copy of the applied quickstart for one test."""
    return Path(shutil.copytree(quickstart_applied, tmp_path / "quickstart"))


def _entry(address: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def find(data: dict[str, Any]) -> dict[str, Any]:
        return next(r for r in data["resources"] if r["address"] == address)

    return find


template = _entry("imageTemplate.ubuntu2204")
identity = _entry("identity.aibBuilder")


def _set(key: str, value: Any) -> Edit:
    return lambda data: data.__setitem__(key, value)


def _set_in(find: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Edit:
    return lambda data: find(data).__setitem__(key, value)


def _drop(key: str) -> Edit:
    return lambda data: data.pop(key)


# (what the edit does, the edit, what the one-line error must name)
CASES: list[tuple[str, Edit, str]] = [
    ("resources null", _set("resources", None), '"resources" must be a list ([] when empty); found null'),
    (
        "resources an object",
        _set("resources", {}),
        '"resources" must be a list ([] when empty); found an object',
    ),
    ("resources missing", _drop("resources"), '"resources" is missing'),
    (
        "serial a string",
        _set_in(template, "serial", "7"),
        '(imageTemplate.ubuntu2204).serial must be a whole number, 0 or more; found "7"',
    ),
    (
        "a top-level serial (format 2's) in format 3",
        _set("serial", 7),
        '"serial" is not a field of an aibplan state file',
    ),
    (
        "a removed entry with a body",
        lambda data: data["resources"].append(
            {"address": "gallery.old", "removed": True, "serial": 1, "applied": {}}
        ),
        "(gallery.old) is a removed resource and has a field it cannot hold: 'applied'",
    ),
    ("lineage missing", _drop("lineage"), '"lineage" is missing'),
    ("unknown top-level field", _set("outputs", {}), '"outputs" is not a field of an aibplan state file'),
    (
        "tainted a string",
        _set_in(template, "tainted", "yes"),
        '(imageTemplate.ubuntu2204).tainted must be true or false; found "yes"',
    ),
    (
        "id a number",
        _set_in(identity, "id", 7),
        "(identity.aibBuilder).id must be a non-empty string; found 7",
    ),
    (
        "dependencies a string",
        _set_in(template, "dependencies", "identity.aibBuilder"),
        "(imageTemplate.ubuntu2204).dependencies must be a list of addresses",
    ),
    ("applied null", _set_in(identity, "applied", None), "(identity.aibBuilder).applied must be an object"),
    ("an entry null", lambda data: data["resources"].append(None), "must be an object; found null"),
]


@pytest.mark.parametrize(("edit", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_a_state_with_a_field_of_the_wrong_type_is_refused_untouched(
    applied: Path, edit: Edit, expected: str
) -> None:
    state_file = applied / "aibplan.state.json"
    data = json.loads(state_file.read_text())
    edit(data)
    state_file.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    before = state_file.read_bytes()
    resources = cloud_count(applied)

    commands = [("apply", "--auto-approve", ".")]
    if expected.startswith('"resources"'):
        commands += [("plan", "."), ("destroy", "--auto-approve", "."), ("state", "list", ".")]
    for command in commands:
        run = aibplan if command[0] == "apply" else aibplan_here
        done = run(*command, cwd=applied)
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        errors = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(errors) == 1 and errors[0].startswith("Error: aibplan.state.json"), done.stderr
        assert expected in errors[0] and "left untouched" in errors[0], errors[0]
        assert "Traceback" not in done.stderr
    assert state_file.read_bytes() == before
    assert not (applied / "aibplan.state.json.backup").exists() or state_file.read_bytes() == before
    assert cloud_count(applied) == resources


def test_the_error_points_at_the_line_of_the_entry(applied: Path) -> None:
    state_file = applied / "aibplan.state.json"
    data = json.loads(state_file.read_text())
    template(data)["tainted"] = "no"
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    state_file.write_text(text)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if '"imageTemplate.ubuntu2204"' in t)
    done = aibplan_here("state", "list", ".", cwd=applied)
    assert done.returncode == 1
    assert f"Error: aibplan.state.json:{line}: resources[" in done.stderr


def test_every_backend_refuses_it_untouched(place: Place) -> None:
    """The check sits where the state's text is parsed, so `local` and `azureblob` both refuse it."""
    backend = place.open()
    text = json.dumps(
        {
            "format_version": 2,
            "lineage": "5f1c2d9e-0000-4000-8000-00000000000a",
            "resources": None,
            "serial": 4,
        }
    )
    backend.write(text, None)
    with pytest.raises(StateError, match=r'"resources" must be a list \(\[\] when empty\); found null'):
        saving.load(backend)
    assert place.open().read().text == text
