"""Bad input never ends in a traceback: each case is a stack folder with the expected exit code and lines.

tests/fixtures/bad-input/<case>/expected.json holds {"exit_code", "command" (default: ["plan"]),
"stderr": [fragments], "stdout": [fragments]}; the stack path is appended to the command.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, Run

CASES = sorted(p.name for p in (FIXTURES / "bad-input").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_clear_message(case: str, tmp_path: Path, cli: Callable[..., Run]) -> None:
    stack = tmp_path / case
    shutil.copytree(FIXTURES / "bad-input" / case, stack)
    expected = json.loads((stack / "expected.json").read_text())
    (stack / "expected.json").unlink()
    command = expected.get("command", ["plan"])
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(stack)
        run = cli(*command, ".")
    assert run.exit_code == expected["exit_code"], run.stderr + run.stdout
    for fragment in expected.get("stderr", []):
        assert fragment in run.stderr, f"{fragment!r} not in:\n{run.stderr}"
    for fragment in expected.get("stdout", []):
        assert fragment in run.stdout, f"{fragment!r} not in:\n{run.stdout}"
    assert "Traceback" not in run.stderr + run.stdout
