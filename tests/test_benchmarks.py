"""The benchmark scripts, run at a tiny N so that they do not rot (their figures are not checked: the
benchmarks are not timed tests), and the generated layouts, which must all be the same stack."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.generate import LAYOUTS, copy_deployment, generate_stack, resource_count
from benchmarks.scaling import COMMANDS
from benchmarks.terraform_peer import VENV

ROOT = Path(__file__).resolve().parent.parent


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def _aibplan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from planner.cli import run; run()", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_layout_is_the_same_stack(tmp_path: Path) -> None:
    """A state and cloud applied from one layout are a no-op plan for the others that aibplan reads."""
    applied = generate_stack(tmp_path / "files", 7, layout="files")
    assert _aibplan("apply", "--auto-approve", str(applied)).returncode == 0
    for layout in ("list", "arm"):
        stack = generate_stack(tmp_path / layout, 7, layout=layout)
        shutil.copy(applied / "aibplan.state.json", stack)
        shutil.copytree(applied / ".aibplan", stack / ".aibplan")
        plan = _aibplan("plan", "--detailed-exitcode", str(stack))
        assert plan.returncode == 0, f"{layout}: {plan.stdout}{plan.stderr}"


def test_copy_layout_is_the_same_graph_in_copy_loops(tmp_path: Path) -> None:
    """The copy layout (loops of at most 800, as ARM allows) applies the same resources and plans clean."""
    stack = generate_stack(tmp_path / "copy", 7, layout="copy")
    done = _aibplan("validate", str(stack))
    assert done.returncode == 0, done.stderr
    assert f"{resource_count(7)} resource(s) checked" in done.stdout
    assert _aibplan("apply", "--auto-approve", str(stack)).returncode == 0
    assert _aibplan("plan", "--detailed-exitcode", str(stack)).returncode == 0


def test_a_loop_longer_than_arm_allows_is_written_as_several() -> None:
    resources = copy_deployment(1000)["resources"]
    loops = {r["copy"]["name"]: r["copy"]["count"] for r in resources if "copy" in r}
    assert loops["templates"] == 800 and loops["templates1"] == 200
    assert all(count <= 800 for count in loops.values())


def test_scaling_script_measures_every_layout(tmp_path: Path) -> None:
    figures = tmp_path / "scaling.json"
    done = _script("benchmarks.scaling", "--sizes", "2,4", "--startup-runs", "1", "--json", str(figures))
    assert done.returncode == 0, done.stderr
    data = json.loads(figures.read_text())
    measured = {(f["layout"], f["n"], f["command"]) for f in data["figures"]}
    assert set(LAYOUTS) - set(data["unsupported"]) == set(LAYOUTS)
    for layout in LAYOUTS:
        if layout in data["unsupported"]:
            assert "not supported yet" in data["unsupported"][layout]
            assert f"{layout:<7}  not supported yet" in done.stdout
        else:
            assert {(layout, n, c) for n in (2, 4) for c in COMMANDS} <= measured
    assert {(s["layout"], s["n"]) for s in data["state_sizes"]} >= {("files", 2), ("list", 4), ("arm", 4)}
    assert all(s["ratio"] > 0 for s in data["state_sizes"])
    assert [f["command"] for f in data["startup"]] == ["aibplan --version", "aibplan --help"]
    assert "planner.cli" in data["imports"]["modules"]
    assert "Scaling exponent log(t4 / t2) / log(4 / 2)" in done.stdout
    assert "State file size over the stack's resource files" in done.stdout


def test_terraform_peer_says_why_it_cannot_run(tmp_path: Path) -> None:
    done = _script(
        "benchmarks.terraform_peer", "--templates", "2", "--no-install", "--venv", str(tmp_path / "none")
    )
    assert done.returncode == 3
    assert "Terraform peer not run: no Terraform environment at" in done.stderr
    assert not (tmp_path / "none").exists()


@pytest.mark.skipif(
    not (VENV / "bin" / "python").exists(),
    reason="no benchmarks/.venv-terraform: `python -m benchmarks.terraform_peer` creates it (not the tests)",
)
def test_terraform_peer_runs_both_tools(tmp_path: Path) -> None:
    figures = tmp_path / "peer.json"
    done = _script("benchmarks.terraform_peer", "--templates", "3", "--no-install", "--json", str(figures))
    assert done.returncode == 0, done.stderr
    data = json.loads(figures.read_text())
    assert data["terraform_version"].startswith("1.15.")
    [pair] = data["pairs"]
    assert pair["resources"] == resource_count(3)
    assert pair["terraform_state_bytes"] > 0 and pair["aibplan_state_bytes"] > 0
    assert (
        "| resources | aibplan apply | Terraform apply | aibplan no-op plan | Terraform no-op plan |"
        in done.stdout
    )


def test_imports_script_prints_start_up_and_what_a_plan_loads() -> None:
    done = _script("benchmarks.imports", "--runs", "1", "--templates", "2")
    assert done.returncode == 0, done.stderr
    assert "aibplan --version" in done.stdout and "aibplan --help" in done.stdout
    assert "`aibplan plan (local, no-op)`:" in done.stdout
    assert "  emulator      none" in done.stdout


def test_open_stack_script_times_each_phase_in_every_layout() -> None:
    done = _script("benchmarks.open_stack", "--templates", "2", "--repeat", "1")
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()[1:]
    assert header.split() == ["layout", "load", "graph", "open", "order", "imports", "total"]
    assert [row.split()[0] for row in rows] == list(LAYOUTS)
