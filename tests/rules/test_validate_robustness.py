"""No input makes a rule crash: every value of realistic templates replaced, in turn, by a value of every
other JSON type still validates into diagnostics (never AIB0000, never an exception)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from planner.diagnostics import JsonPath
from planner.rules.validate import validate_paths
from tests.helpers import FIXTURES

SAMPLES = [
    FIXTURES / "published" / "sig-version-source" / "imageFromSigVersion.json",
    FIXTURES / "published" / "windows-managed-image" / "helloImageTemplateWin.json",
    FIXTURES / "rules" / "AIB3607" / "fail" / "resources.json",
]
STRANGE: tuple[Any, ...] = (None, -1, "x", [], {"a": 1}, True)


def _paths(value: Any, path: JsonPath = ()) -> Iterator[JsonPath]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _replace(document: Any, path: JsonPath, value: Any) -> Any:
    changed = copy.deepcopy(document)
    if not path:
        return value
    holder = changed
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return changed


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.parent.name)
def test_no_value_makes_a_rule_crash(sample: Path, tmp_path: Path) -> None:
    document = json.loads(sample.read_text())
    if sample.parent.joinpath("aibplan.json").exists():
        (tmp_path / "aibplan.json").write_text(sample.parent.joinpath("aibplan.json").read_text())
    target = tmp_path / sample.name
    checked = 0
    for path in _paths(document):
        for value in STRANGE:
            target.write_text(json.dumps(_replace(document, path, value)))
            result = validate_paths([tmp_path] if (tmp_path / "aibplan.json").exists() else [target])
            crashed = [d.message for d in result.diagnostics if d.code == "AIB0000"]
            assert not crashed, (path, value, crashed)
            checked += 1
    assert checked > 200
