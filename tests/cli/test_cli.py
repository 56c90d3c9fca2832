"""The command line as users meet it: through click's runner and as the installed `aibplan` program."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from state import load_state
from tests.helpers import Run, cloud_count, edit_json


def test_quickstart_apply_plan_change_destroy(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = str(example("quickstart"))
    run = cli("apply", "--auto-approve", root)
    assert run.exit_code == 0, run.stderr
    assert "Plan: 7 to add, 0 to change, 0 to replace, 0 to destroy." in run.stdout
    assert "Apply complete! Resources: 7 added, 0 changed, 0 replaced, 0 destroyed." in run.stdout
    assert "imageTemplate.ubuntu2204: Creation complete" in run.stderr
    # The identity and the custom role before the role assignments; the assignments before the template.
    lines = run.stderr.splitlines()
    done = {line.split(":")[0]: i for i, line in enumerate(lines) if ": Creation complete after " in line}
    started = {line.split(":")[0]: i for i, line in enumerate(lines) if line.endswith("Creating...")}
    assignments = [a for a in done if a.startswith("roleAssignment.")]
    definition = next(a for a in done if a.startswith("roleDefinition."))
    assert len(assignments) == 2
    for assignment in assignments:
        assert done["identity.aibBuilder"] < started[assignment]
        assert done[assignment] < started["imageTemplate.ubuntu2204"]
    state = load_state(Path(root) / "aibplan.state.json")
    assert state is not None
    (custom,) = [a for a in assignments if definition in state.by_address[a].dependencies]
    assert done[definition] < started[custom]

    run = cli("plan", "--detailed-exitcode", root)
    assert run.exit_code == 0 and "No changes." in run.stdout

    edit_json(
        Path(root) / "ubuntu2204.json",
        lambda d: d["properties"]["customize"][0].update(inline=["sudo apt-get update"]),
    )
    run = cli("plan", "--detailed-exitcode", root)
    assert run.exit_code == 2
    assert '-/+ resource "Microsoft.VirtualMachineImages/imageTemplates" "ubuntu2204"' in run.stdout
    assert "properties.customize[0].inline[1]" in run.stdout and "# forces replacement" in run.stdout
    run = cli("apply", "--auto-approve", root)
    assert run.exit_code == 0 and "1 replaced" in run.stdout

    run = cli("destroy", "--auto-approve", root)
    assert run.exit_code == 0 and "Destroy complete! Resources: 7 destroyed." in run.stdout
    lines = run.stderr.splitlines()
    gone = {line.split(":")[0]: i for i, line in enumerate(lines) if "Destruction complete" in line}
    began = {line.split(":")[0]: i for i, line in enumerate(lines) if line.endswith("Destroying...")}
    for assignment in (a for a in gone if a.startswith("roleAssignment.")):
        assert (
            gone["imageTemplate.ubuntu2204"] < began[assignment]
            and gone[assignment] < began["identity.aibBuilder"]
        )
    assert cloud_count(Path(root)) == 0


def test_apply_asks_and_only_yes_approves(example: Callable[[str], Path], cli: Callable[..., Run]) -> None:
    root = str(example("quickstart"))
    run = cli("apply", root, input="no\n")
    assert run.exit_code == 1 and "Apply cancelled." in run.stderr
    assert not (Path(root) / "aibplan.state.json").exists()
    run = cli("apply", root, input="yes\n")
    assert run.exit_code == 0 and "Only 'yes' will be accepted" in run.stdout


def test_plan_json_is_one_document_on_stdout(example: Callable[[str], Path], cli: Callable[..., Run]) -> None:
    run = cli("plan", "--json", str(example("quickstart")))
    assert run.exit_code == 0
    document = json.loads(run.stdout)
    assert document["format_version"] == "1" and document["summary"]["add"] == 7


def test_arm_deployment_with_var_override(example: Callable[[str], Path], cli: Callable[..., Run]) -> None:
    root = str(example("arm-deployment"))
    run = cli("apply", "--auto-approve", "--var", "environment=prod", root)
    assert run.exit_code == 0, run.stderr
    assert "identity.id-aib-prod: Creation complete" in run.stderr
    # The role assignment takes the identity's principal id with reference(), once the identity exists.
    # (The state is the default environment's, dev: --var environment=prod changes a parameter only.)
    state = json.loads((Path(root) / "aibplan.dev.state.json").read_text())
    by_kind = {r["address"].split(".")[0]: r for r in state["resources"]}
    principal = by_kind["identity"]["observed"]["properties"]["principalId"]
    assert by_kind["roleAssignment"]["applied"]["properties"]["principalId"] == principal
    run = cli("plan", "--detailed-exitcode", "--var", "environment=prod", root)
    assert run.exit_code == 0, run.stdout
    run = cli("plan", "--detailed-exitcode", "--var", "environment=test", root)
    assert run.exit_code == 2 and "Plan: 4 to add, 0 to change, 1 to replace, 4 to destroy." in run.stdout
    assert "principalId      = (known after apply)" in run.stdout
    run = cli("plan", "--var", "environment=staging", root)
    assert run.exit_code == 1 and "allowed values: dev, test, prod" in run.stderr
    run = cli("destroy", "--auto-approve", root)
    assert run.exit_code == 0 and "5 destroyed" in run.stdout


def test_var_file_and_bad_var_syntax(example: Callable[[str], Path], cli: Callable[..., Run]) -> None:
    root = example("arm-deployment")
    run = cli("plan", "--env", "prod", str(root))
    assert run.exit_code == 0 and "id-aib-prod" in run.stdout and "swedencentral" in run.stdout
    # Another environment's parameters against this environment's state would plan to destroy it.
    run = cli("plan", "--var-file", str(root / "prod.parameters.json"), str(root))
    assert run.exit_code == 1 and "holds the parameters of environment prod" in run.stderr
    assert "use --env prod" in run.stderr
    run = cli("plan", "--var", "novalue", str(root))
    assert run.exit_code == 1 and "expected NAME=VALUE" in run.stderr


def test_validate_and_graph(example: Callable[[str], Path], cli: Callable[..., Run]) -> None:
    root = str(example("quickstart"))
    run = cli("validate", root)
    assert run.exit_code == 0 and "Success!" in run.stdout
    run = cli("validate", "--format", "json", root)
    assert json.loads(run.stdout)["summary"] == {"errors": 0, "warnings": 0, "suppressed": 0}
    run = cli("graph", "--format", "dot", root)
    assert run.exit_code == 0 and run.stdout.startswith("digraph aibplan {")


def test_missing_stack_folder(cli: Callable[..., Run], tmp_path: Path) -> None:
    run = cli("plan", str(tmp_path / "nope"))
    assert run.exit_code == 1 and "does not exist" in run.stderr
    (tmp_path / "template.json").write_text("{}")
    run = cli("plan", str(tmp_path / "template.json"))
    assert run.exit_code == 1 and "is a file; a stack is a folder holding aibplan.json" in run.stderr


def test_engine_does_not_import_click() -> None:
    code = (
        "import sys, planner.execution.engine, planner.execution.apply, planner.planning.plan, "
        "planner.render.human, providers.simulated.local; "
        "import state; "
        "print('click' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def installed_program() -> str | None:
    beside = Path(sys.executable).parent / "aibplan"
    return str(beside) if beside.exists() else shutil.which("aibplan")


@pytest.mark.skipif(installed_program() is None, reason="the aibplan program is not installed")
def test_installed_program_runs_the_quickstart(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    program = str(installed_program())
    env = {**os.environ, "AIBPLAN_LOCAL_LATENCY_MS": "0", "NO_COLOR": "1"}
    done = subprocess.run(
        [program, "apply", "--auto-approve", str(root)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Apply complete! Resources: 7 added" in done.stdout
    assert "\x1b[" not in done.stdout
    done = subprocess.run(
        [program, "plan", "--detailed-exitcode", str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0 and "No changes." in done.stdout
    version = subprocess.run([program, "--version"], capture_output=True, text=True, env=env, timeout=60)
    assert version.returncode == 0 and "aibplan" in version.stdout
