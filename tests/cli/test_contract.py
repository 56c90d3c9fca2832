"""The command-line contract (issue 15, "bugs a user hit"): usage errors exit 1, one positional rule and
-C, `show PLANFILE`, `output --raw`, colour and NO_COLOR, shell completion, `run` waiting by default,
AIB7001's hint, the last good run outputs, and the warning after a base image is rebuilt."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.reliability import CLI, cli_env
from tests.helpers import ROOT, Run, edit_json

TEMPLATE = "imageTemplate.ubuntu2204"


def applied(example: Callable[[str], Path], cli: Callable[..., Run], name: str = "quickstart") -> Path:
    root = example(name)
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    return root


# -- usage errors exit 1 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("plan", "--format", "markdwon"), "Invalid value for '--format': 'markdwon' is not one of"),
        (("drift", "--format", "markdwon"), "Invalid value for '--format'"),
        (("plan", "--no-such-flag"), "No such option '--no-such-flag'"),
        (("apply", "--parallelism", "zero"), "Invalid value for '--parallelism'"),
        (("state", "show"), "Missing argument 'ADDRESS'"),
        (("import",), "Missing argument 'ADDRESS'"),
        (("import", "--all", "identity.aibBuilder"), "--all takes no ADDRESS"),
        (("generate", "rg-images"), "Missing option '--out'"),
        (("show",), "Missing argument 'PLAN_FILE'"),
        (("nosuchcommand",), "No such command 'nosuchcommand'"),
        (("--bogus", "plan"), "No such option '--bogus'"),
    ],
)
def test_usage_errors_exit_1_never_2(cli: Callable[..., Run], args: tuple[str, ...], said: str) -> None:
    run = cli(*args)
    assert run.exit_code == 1, (run.exit_code, run.stderr)
    assert said in run.stderr and "Usage:" in run.stderr and "Traceback" not in run.stderr


def test_a_mistyped_format_in_ci_fails_the_step_in_a_real_process(example: Callable[[str], Path]) -> None:
    root = example("quickstart")
    for command in ("plan", "drift"):
        done = subprocess.run(
            [sys.executable, "-c", CLI, command, "--format", "markdwon", str(root)],
            capture_output=True,
            text=True,
            env=cli_env(0),
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr


# -- one positional rule ----------------------------------------------------------------------------------


def test_operands_first_then_the_stack_or_c(
    example: Callable[[str], Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = applied(example, cli)
    expected = json.loads(cli("state", "show", TEMPLATE, str(root)).stdout)
    assert expected["address"] == TEMPLATE
    assert json.loads(cli("state", "show", "-C", str(root), TEMPLATE).stdout) == expected
    assert json.loads(cli("state", "show", "--stack", str(root), TEMPLATE).stdout) == expected
    assert cli("plan", "-C", str(root), "--detailed-exitcode").exit_code == 0
    shown = cli("sim", "show", TEMPLATE, str(root))
    assert shown.exit_code == 0 and json.loads(shown.stdout)["name"] == "ubuntu2204"
    assert cli("sim", "show", "-C", str(root), TEMPLATE).stdout == shown.stdout
    assert cli("output", TEMPLATE, str(root)).exit_code == 0
    # Without a stack: the current folder.
    monkeypatch.chdir(root)
    assert json.loads(cli("state", "show", TEMPLATE).stdout) == expected


def test_the_old_stack_first_forms_still_work(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = applied(example, cli)
    assert cli("sim", "show", str(root), TEMPLATE).exit_code == 0
    assert cli("sim", "set-tag", str(root), TEMPLATE, "owner=old-form").exit_code == 0
    assert cli("output", str(root), TEMPLATE).exit_code == 0
    run = cli("run", str(root), TEMPLATE)
    assert run.exit_code == 0 and "Succeeded" in run.stdout


def test_the_stack_given_twice_or_not_a_folder_is_a_clear_error(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = applied(example, cli)
    run = cli("plan", "-C", str(root), str(root))
    assert run.exit_code == 1 and "the stack folder was given twice" in run.stderr
    run = cli("run", TEMPLATE, str(tmp_path / "missing"))
    assert run.exit_code == 1 and "missing: no such stack folder" in run.stderr
    run = cli("sim", "show", TEMPLATE, "not-a-folder")
    assert run.exit_code == 1 and "not-a-folder: no such stack folder (expected TARGET [STACK])" in run.stderr


# -- show, output --raw -----------------------------------------------------------------------------------


def test_show_a_saved_plan_as_text_and_json(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = applied(example, cli)
    edit_json(root / "ubuntu2204.json", lambda d: d["tags"].update(costCenter="4711"))
    plan_file = tmp_path / "tags.plan"
    planned = cli("plan", "--out", str(plan_file), str(root))
    assert planned.exit_code == 0
    shown = cli("show", str(plan_file))
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.startswith(f"Saved plan {plan_file} (plan ")
    assert "Made against: serial 1 of lineage" in shown.stdout
    assert "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy." in shown.stdout
    document = json.loads(cli("show", "--json", str(plan_file)).stdout)
    assert document == json.loads(cli("plan", "--json", str(root)).stdout) | {
        "inputs_hash": document["inputs_hash"]
    }
    assert [c["address"] for c in document["resource_changes"] if c["action"] == "update"] == [TEMPLATE]
    run = cli("show", str(root / "aibplan.json"))
    assert run.exit_code == 1 and "not a saved plan" in run.stderr


def test_output_raw_prints_one_artifact(example: Callable[[str], Path], cli: Callable[..., Run]) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", "--run", str(root)).exit_code == 0
    raw = cli("output", "--raw", "ubuntu2204-sig", str(root))
    assert raw.exit_code == 0, raw.stderr
    assert raw.stdout.count("\n") == 1 and "/images/ubuntu2204/versions/" in raw.stdout
    vhd = cli("output", "--raw", "ubuntu2204-vhd", str(root)).stdout.strip()
    assert vhd.startswith("https://") and vhd.endswith(".vhd")
    run = cli("output", "--raw", "nope", str(root))
    assert run.exit_code == 1 and "no run output 'nope'; known: ubuntu2204-sig, ubuntu2204-vhd" in run.stderr


# -- colour -----------------------------------------------------------------------------------------------


def on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """What `aibplan ARGS` writes to a terminal (a pseudo-terminal as stdout and stderr)."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, *args], stdout=terminal, stderr=terminal, env=env, cwd=ROOT
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the program ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert proc.wait(timeout=120) in (0, 2)
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_unless_no_color(example: Callable[[str], Path]) -> None:
    root = str(example("quickstart"))
    base = {k: v for k, v in cli_env(0).items() if k != "NO_COLOR"}
    assert "\x1b[" in on_a_terminal(["plan", root], base)
    assert "\x1b[" in on_a_terminal(["plan", root], {**base, "NO_COLOR": ""}), "empty NO_COLOR: colour on"
    assert "\x1b[" not in on_a_terminal(["plan", root], {**base, "NO_COLOR": "1"})
    assert "\x1b[" not in on_a_terminal(["plan", "--no-color", root], base)
    assert "\x1b[" not in on_a_terminal(["--no-color", "plan", root], base)


# -- shell completion -------------------------------------------------------------------------------------


def complete(words: str, cwd: Path) -> list[str]:
    env = {**cli_env(0), "_AIBPLAN_COMPLETE": "bash_complete", "COMP_WORDS": words}
    env["COMP_CWORD"] = str(len(words.split(" ")) - 1)
    code = "import sys; sys.argv[0] = 'aibplan'; " + CLI
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # One `type,value` line per completion (click's bash_complete format).
    return [line.partition(",")[2] for line in done.stdout.splitlines()]


def test_shell_completion_completes_commands_and_addresses(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = applied(example, cli)
    assert "destroy" in complete("aibplan de", root)
    assert [a for a in complete("aibplan state show ", root) if not a.startswith("role")] == [
        "gallery.corpImages",
        "identity.aibBuilder",
        "imageDefinition.corpImages/ubuntu2204",
        TEMPLATE,
    ]
    assert complete("aibplan run imageT", root) == [TEMPLATE]
    assert complete("aibplan plan --target gal", root) == ["gallery.corpImages"]
    assert complete(f"aibplan state show -C {root} ident", root.parent) == ["identity.aibBuilder"]


# -- builds -----------------------------------------------------------------------------------------------


def test_run_waits_by_default_when_its_output_is_not_a_terminal(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = applied(example, cli, "base-and-app")
    run = cli("run", str(root))  # stdout is a pipe here, as in CI
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "Builds: 2 succeeded." in run.stdout and "Skipped" not in run.stdout


def test_aib7001_says_what_rebuilds_after_an_in_place_update(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", "--run", str(root)).exit_code == 0
    edit_json(
        root / "ubuntu2204.json", lambda d: d["properties"]["vmProfile"].update(vmSize="Standard_D4s_v3")
    )
    plan = cli("plan", str(root))
    assert "~ resource" in plan.stdout and "AIB7001" in plan.stdout
    assert "`aibplan apply --run` builds it again only when the apply creates or replaces it" in plan.stdout
    assert f"`aibplan run {TEMPLATE}`" in plan.stdout
    run = cli("apply", "--auto-approve", "--run", str(root))
    assert "nothing to build" in run.stderr and "AIB7001" in cli("plan", str(root)).stdout
    assert cli("run", TEMPLATE, str(root)).exit_code == 0
    assert "AIB7001" not in cli("plan", str(root)).stdout


def test_output_keeps_the_last_good_outputs_after_a_failed_build(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", "--run", str(root)).exit_code == 0
    good = cli("output", "--raw", "ubuntu2204-sig", str(root)).stdout.strip()
    assert cli("sim", "build-fail", TEMPLATE, str(root)).exit_code == 0
    assert cli("run", str(root)).exit_code == 1
    shown = cli("output", str(root))
    assert "(last build Failed, at Customizing" in shown.stdout
    assert "last successful build (ended " in shown.stdout and good in shown.stdout
    document = json.loads(cli("output", "--json", str(root)).stdout)
    (template,) = document["templates"]
    assert template["last_run"]["run_state"] == "Failed"
    assert [o["artifact_id"] for o in template["last_success"]["run_outputs"] if o["artifact_id"]] == [good]
    assert cli("output", "--raw", "ubuntu2204-sig", str(root)).stdout.strip() == good


def test_rebuilding_a_base_image_warns_about_the_images_built_from_it(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("base-and-app")
    assert cli("apply", "--auto-approve", "--run", str(root)).exit_code == 0
    run = cli("run", "imageTemplate.base", str(root))
    assert run.exit_code == 0
    assert (
        "Warning: imageTemplate.webapp builds from the image imageTemplate.base just published: its own "
        "image is now older than its source; `aibplan run imageTemplate.webapp` builds it again"
    ) in run.stderr
    run = cli("run", str(root))
    assert run.exit_code == 0 and "older than its source" not in run.stderr
