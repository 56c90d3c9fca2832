"""`.bicep` files in a stack: compiled with the Bicep CLI when it is on the PATH, else one clear error
(AIB0014) naming the file and what to install; never silently left out."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.stack.loader import load_stack
from tests.helpers import Run, write_stack

IDENTITY = """param regions array = ['westeurope', 'northeurope']

resource builder 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = [for region in regions: {
  name: 'id-aib-${region}'
  location: region
}]
"""

# The compile tests need the Bicep CLI itself: `az bicep` may download it on first use, which a machine
# without the internet cannot (the loader still uses az when it is the only one there).
needs_bicep = pytest.mark.skipif(
    shutil.which("bicep") is None, reason="the Bicep CLI (bicep) is not on the PATH"
)


def test_without_a_bicep_cli_the_file_is_one_clear_error(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_stack(tmp_path / "stack", {"main.bicep": IDENTITY})
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for command in ("validate", "plan"):
        run = cli(command, str(root))
        assert run.exit_code == 1
        assert (
            "main.bicep: error AIB0014 main.bicep is a Bicep file and no Bicep CLI is on the PATH"
            in run.stderr
        )
        assert "install the Bicep CLI" in run.stderr and "bicep build main.bicep" in run.stderr
        assert "Traceback" not in run.stderr + run.stdout


def test_a_bicep_file_is_listed_as_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_stack(tmp_path / "stack", {"main.bicep": IDENTITY, "notes.txt": "not read"})
    monkeypatch.setenv("PATH", str(tmp_path))
    stack, diagnostics = load_stack(root, partial=True)
    assert stack is not None and [d.code for d in diagnostics] == ["AIB0014"]
    read = {f.path: f.read for f in stack.files}
    assert read["main.bicep"] is True and read["notes.txt"] is False


@needs_bicep
def test_a_bicep_file_is_compiled_and_planned(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = write_stack(tmp_path / "stack", {"main.bicep": IDENTITY})
    stack, diagnostics = load_stack(root)
    assert diagnostics == [] and stack is not None
    assert sorted(r.name for r in stack.resources) == ["id-aib-northeurope", "id-aib-westeurope"]
    run = cli("plan", str(root))
    assert run.exit_code == 0 and "Plan: 2 to add" in run.stdout


@needs_bicep
def test_a_bicep_file_that_does_not_compile_is_reported_with_the_compiler_message(tmp_path: Path) -> None:
    root = write_stack(tmp_path / "stack", {"main.bicep": "resource x 'Microsoft.Foo/bar@2020-01-01' = {\n"})
    stack, diagnostics = load_stack(root)
    assert stack is None
    [problem] = diagnostics
    assert problem.code == "AIB0014" and "could not compile main.bicep" in problem.message
