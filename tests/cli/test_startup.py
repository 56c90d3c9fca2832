"""What a command loads: `aibplan --version` and `--help` load no command, and a local plan loads nothing of
the emulator, TLS, the Azure SDK, deepdiff, the apply engine or rich, nor networkx and the installed
packages' metadata while the stack's graph is kept (issue 14; docs/performance.md, "Start-up").

Behaviour, not timing: each command runs in a fresh interpreter that prints, when it exits, the names of
the modules it had imported."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from planner.cli import COMMANDS, load_command, main
from tests.helpers import EXAMPLES
from tests.helpers.processes import aibplan

# Runs aibplan with the given arguments; at exit (click ends with sys.exit) writes sys.modules to a file.
_PROBE = (
    "import atexit, json, sys\n"
    "out = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(out, 'w').write(json.dumps(sorted(sys.modules))))\n"
    "from planner.cli import main\n"
    "main(prog_name='aibplan')\n"
)


def _loaded(tmp_path: Path, *args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    listing = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(listing), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "AIBPLAN_LOCAL_LATENCY_MS": "0", "NO_COLOR": "1"},
    )
    return done, set(json.loads(listing.read_text()))


def _heavy(modules: set[str]) -> dict[str, list[str]]:
    """The parts a local plan does not use, each with the modules of it that were loaded."""
    parts = {
        "emulator": [m for m in modules if m.startswith("providers.emulator") or m == "planner.cli.emulator"],
        "TLS": [m for m in modules if m in ("ssl", "_ssl") or m.split(".")[0] in ("trustme", "cryptography")],
        # The SDK and the provider that drives it (its settings module, plain data, is how the engine
        # chooses a provider).
        "Azure SDK": [
            m
            for m in modules
            if m.split(".")[0] in ("azure", "msal")
            or (m.startswith("providers.azure.") and m != "providers.azure.settings")
        ],
        "deepdiff": [m for m in modules if m.split(".")[0] == "deepdiff"],
        "apply engine": [
            m for m in modules if m in ("planner.execution.apply", "planner.operations.applying")
        ],
        # What draws live progress on a terminal (none is shown for a plan, nor with output to a pipe).
        "rich": [m for m in modules if m.split(".")[0] == "rich"],
        # What draws the graph (the last command kept it: stack.kept_graph), and what networkx loads.
        "networkx": [m for m in modules if m.split(".")[0] == "networkx" or m == "importlib.metadata"],
    }
    return {name: found for name, found in parts.items() if found}


def test_version_and_help_load_no_command(tmp_path: Path) -> None:
    for flag in ("--version", "--help"):
        done, modules = _loaded(tmp_path, flag, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        commands = sorted(m for m in modules if m.startswith("planner.cli."))
        assert commands == [
            "planner.cli.common",
            "planner.cli.completion",
            "planner.cli.signals",
            "planner.cli.verbose",
        ]
        assert not [m for m in modules if m.startswith(("planner.operations", "planner.stack", "state"))]
        assert "networkx" not in modules and "rich" not in modules
    assert done.stdout.startswith("Usage: aibplan [OPTIONS] COMMAND [ARGS]...")


def test_a_local_no_op_plan_loads_only_what_it_uses(tmp_path: Path) -> None:
    stack = tmp_path / "quickstart"
    shutil.copytree(EXAMPLES / "quickstart", stack)
    assert "Microsoft.Authorization/roleAssignments" in (stack / "permissions.json").read_text()
    applied = aibplan("apply", "--auto-approve", cwd=stack)
    assert applied.returncode == 0, applied.stderr
    # The cloud answers with fields the stack leaves out (a role assignment's condition, null): still no
    # change, and no full diff of the bodies.
    done, modules = _loaded(tmp_path, "plan", "--detailed-exitcode", cwd=stack)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No changes." in done.stdout
    assert _heavy(modules) == {}
    assert {"planner.operations.planning", "planner.planning.plan", "planner.rules.validate"} <= modules
    # The rules' findings were kept by the apply: no rule but the permission checks (which a plan runs
    # again with the cloud's role assignments), no saved-plan file, no check of what a PUT sends, no other
    # operation's requests and results.
    assert sorted(m for m in modules if m.startswith("planner.rules.")) == [
        "planner.rules.access",
        "planner.rules.cache",
        "planner.rules.permissions",
        "planner.rules.suppress",
        "planner.rules.validate",
    ]
    assert (
        not {
            "planner.plans.saved",
            "providers.simulated.request_check",
            "providers.catalog.compiled",
            "planner.operations.requests",
            "planner.operations.results",
        }
        & modules
    )


def test_the_same_no_op_plan_answered_by_the_plan_cache_loads_neither_the_rules_nor_the_graph(
    tmp_path: Path,
) -> None:
    stack = tmp_path / "quickstart"
    shutil.copytree(EXAMPLES / "quickstart", stack)
    assert aibplan("apply", "--auto-approve", cwd=stack).returncode == 0
    made, _ = _loaded(tmp_path, "plan", cwd=stack)
    answered, modules = _loaded(tmp_path, "plan", "--verbose", cwd=stack)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    assert "plan cache: the stack, the state and the cloud are as the last plan found them" in answered.stderr
    assert answered.stdout == made.stdout
    assert _heavy(modules) == {}
    made_in_full = {"networkx", "planner.planning.plan", "planner.rules.validate", "planner.stack.graph"}
    assert not made_in_full & modules


def test_a_plan_with_changes_loads_deepdiff_and_still_no_apply_engine(tmp_path: Path) -> None:
    stack = tmp_path / "quickstart"
    shutil.copytree(EXAMPLES / "quickstart", stack)
    assert aibplan("apply", "--auto-approve", cwd=stack).returncode == 0
    gallery = stack / "gallery.json"
    gallery.write_text(gallery.read_text().replace('"description": "', '"description": "Changed: ', 1))
    done, modules = _loaded(tmp_path, "plan", "--detailed-exitcode", cwd=stack)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Changed: " in done.stdout
    heavy = _heavy(modules)
    assert "deepdiff" in heavy  # (deepdiff's cache loads asyncio, which loads ssl: TLS may come with it)
    assert not {"emulator", "Azure SDK", "apply engine"} & set(heavy)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_lists_each_command_with_its_own_summary(name: str) -> None:
    """`aibplan --help` lists the summaries written in COMMANDS without loading the commands: each must be
    the first paragraph of the command's own help, so that the list shows what `aibplan NAME --help` says."""
    command = load_command(name)
    assert command.help is not None
    first = " ".join(inspect.cleandoc(command.help).split("\n\n")[0].split())
    assert COMMANDS[name][2] == first
    assert main.get_command(click.Context(main), name) is command
