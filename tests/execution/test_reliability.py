"""Reliability with real processes and injected faults (longer runs: benchmarks/reliability.py).

- kill -9 at random instants during an apply of 113 resources: the state loads, the cloud holds
  nothing the state and journal do not know, and the next apply converges with no duplicates;
- 10% transient faults: the apply completes, with retries;
- permanent faults: exactly the failed resources and their dependents are not applied;
- several applies started at once on one stack: one proceeds, the others report the lock; serial grows;
- Ctrl-C: once stops, saves and exits 130; twice leaves at once and the journal settles the rest
  (SIGTERM and SIGHUP: test_signals.py).
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import networkx as nx
import pytest

from benchmarks.generate import generate_stack, resource_count
from benchmarks.reliability import (
    cli_env,
    cloud_ids,
    kill_trial,
    plan_is_empty,
    run_cli,
    start_apply,
    wait_for_progress,
)
from planner.execution.apply import apply_plan, operation_graph
from planner.execution.engine import prepare, read_state
from planner.planning.plan import make_plan
from providers.simulated.local import LocalProvider
from providers.simulated.local_faults import FaultInjector, parse_settings
from state import load_state
from state.journal import journal_path
from state.lock import acquire, read_holder
from tests.helpers import Run

TEMPLATES = 100
RESOURCES = resource_count(TEMPLATES)  # 114


@pytest.fixture(scope="module")
def stack_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_stack(tmp_path_factory.mktemp("generated") / "stack", TEMPLATES)


@pytest.fixture
def stack(stack_template: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(stack_template, tmp_path / "stack"))


@pytest.mark.parametrize("seed", [11, 22, 33])
def test_kill_minus_nine_at_random_instants_loses_nothing(
    stack_template: Path, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    trials = [
        kill_trial(stack_template, tmp_path, n, rng, latency_ms=40, templates=TEMPLATES) for n in range(2)
    ]
    assert all(t.converged for t in trials)


@pytest.mark.parametrize("created", [100, 150])
def test_kill_minus_nine_while_a_service_process_serves_the_writes_loses_nothing(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, created: int
) -> None:
    # No latency: past its first writes, the apply's writes go to the local cloud's own process, which
    # outlives the kill by at most the write under way and leaves no process behind.
    templates = 300
    generated = generate_stack(tmp_path_factory.mktemp("big") / "stack", templates)
    trial = kill_trial(
        generated, tmp_path, 0, random.Random(0), latency_ms=0, templates=templates, after_created=created
    )
    assert trial.converged and trial.phase == "applying", trial
    assert created <= trial.cloud_before < resource_count(templates), trial
    assert not [p for p in Path("/proc").glob("[0-9]*") if _serves(p, tmp_path)]


def _serves(process: Path, folder: Path) -> bool:
    """`process` serves a local cloud below `folder`."""
    try:
        command = (process / "cmdline").read_bytes()
    except OSError:
        return False
    return b"service_process" in command and str(folder).encode() in command


def test_transient_faults_at_ten_percent_still_complete(stack: Path, cli: Callable[..., Run]) -> None:
    env = {
        "AIBPLAN_LOCAL_FAULTS": json.dumps({"seed": 5, "transientRate": 0.1}),
        "AIBPLAN_RETRY_BASE_DELAY": "0.001",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        run = cli("apply", "--auto-approve", str(stack))
    assert run.exit_code == 0, run.stderr[-2000:]
    assert f"Apply complete! Resources: {RESOURCES} added" in run.stdout
    retries = [line for line in run.stderr.splitlines() if ": retrying create in" in line]
    assert len(retries) >= 5, "10% faults over 113 creates must have caused retries"
    assert any("ServiceUnavailable" in r for r in retries) and any("reset by peer" in r for r in retries)
    assert len(cloud_ids(stack)) == RESOURCES and plan_is_empty(stack)


def test_permanent_faults_leave_out_exactly_the_failed_and_their_dependents(stack: Path) -> None:
    prepared, _ = prepare(stack)
    assert prepared is not None
    state, existing = read_state(prepared.stack)
    injector = FaultInjector(parse_settings({"seed": 3, "permanentRate": 0.04}, "test"))
    provider = LocalProvider(prepared.stack.runtime_dir, fault_hook=injector)
    try:
        plan = make_plan(prepared.stack, prepared.graph, state, provider)
        result = apply_plan(plan, state, existing, prepared.stack.state_path, provider, parallelism=10)
    finally:
        provider.close()
    failed = {f.address for f in result.failures}
    assert failed == {arm_id_address(plan, arm_id) for _, arm_id, _ in injector.injected}
    assert failed, "the seed must fail something"
    assert all(f.code == "InjectedFault" and "permanent fault" in f.message for f in result.failures)
    graph = operation_graph(plan)
    downstream = {n[1] for f in failed for n in nx.descendants(graph, ("create", f))}
    assert {address for address, _ in result.skipped} == downstream
    assert all(reason.startswith("upstream failed: ") for _, reason in result.skipped)
    saved = load_state(stack / "aibplan.state.json")
    assert saved is not None
    everything = {c.address for c in plan.changes}
    assert set(saved.by_address) == everything - failed - downstream
    assert len(cloud_ids(stack)) == len(everything - failed - downstream)


def arm_id_address(plan: object, arm_id: str) -> str:
    for change in plan.changes:  # type: ignore[attr-defined]
        if change.arm_id == arm_id:
            return str(change.address)
    raise AssertionError(arm_id)


@pytest.fixture
def serial_watch(stack: Path) -> Iterator[list[int]]:
    """Every serial the state file shows while the test runs, read every few milliseconds."""
    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                state = load_state(stack / "aibplan.state.json")
            except Exception:  # a reader must always find a whole file
                seen.append(-1)
                continue
            if state is not None and (not seen or seen[-1] != state.serial):
                seen.append(state.serial)
            time.sleep(0.003)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    yield seen
    done.set()
    thread.join()


def test_concurrent_applies_one_proceeds_the_others_report_the_lock(
    stack: Path, tmp_path: Path, serial_watch: list[int]
) -> None:
    env = cli_env(100)
    logs = [tmp_path / f"apply-{n}.log" for n in range(4)]
    procs = [start_apply(stack, env, log) for log in logs]
    codes = [p.wait(timeout=120) for p in procs]
    outputs = [log.read_text() for log in logs]
    winners = [n for n, text in enumerate(outputs) if "Creation complete" in text]
    refused = [n for n, text in enumerate(outputs) if "locked by another aibplan" in text]
    # On a busy machine a process may start only after the winner finished: it finds nothing to do.
    late = [n for n, text in enumerate(outputs) if codes[n] == 0 and "Creating..." not in text]
    assert len(winners) == 1 and codes[winners[0]] == 0, (codes, outputs)
    assert refused, outputs
    assert sorted(winners + refused + late) == [0, 1, 2, 3], outputs
    for n in refused:
        assert codes[n] == 1 and "Operation: apply" in outputs[n] and "Process: " in outputs[n]
    assert serial_watch == sorted(serial_watch) and -1 not in serial_watch
    assert len(cloud_ids(stack)) == RESOURCES and read_holder(stack / ".aibplan") is None


def test_concurrent_applies_with_lock_timeout_take_turns(
    stack: Path, tmp_path: Path, serial_watch: list[int]
) -> None:
    env = cli_env(20)
    files = [(tmp_path / f"out-{n}", tmp_path / f"err-{n}") for n in range(3)]
    procs = []
    # The test holds the lock until all three applies say they wait for it, so that each of them really
    # waits (however fast the machine is), then lets them take turns.
    held = acquire(stack / ".aibplan", "test holds the lock")
    try:
        for out, err in files:
            with open(out, "w") as stdout, open(err, "w") as stderr:
                procs.append(
                    subprocess.Popen(
                        [*run_cli_args(stack), "--lock-timeout", "120"], stdout=stdout, stderr=stderr, env=env
                    )
                )
        for proc, (_, err) in zip(procs, files, strict=True):
            assert wait_for_text(err, "Waiting up to 120s for the state lock", proc), err.read_text()
    finally:
        held.release()
    codes = [p.wait(timeout=180) for p in procs]
    results = [(out.read_text(), err.read_text()) for out, err in files]
    assert codes == [0, 0, 0], results
    applied = [out for out, _ in results if f"Apply complete! Resources: {RESOURCES} added" in out]
    unchanged = [out for out, _ in results if "No changes." in out]
    assert len(applied) == 1 and len(unchanged) == 2
    assert serial_watch == sorted(serial_watch) and -1 not in serial_watch


def wait_for_text(path: Path, text: str, proc: subprocess.Popen[bytes]) -> bool:
    """Until `text` appears in the file or the process ends (each process waits at most 180 s)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if text in path.read_text():
            return True
        if proc.poll() is not None:
            return text in path.read_text()
        time.sleep(0.05)
    return False


def run_cli_args(stack: Path) -> list[str]:
    import sys

    from benchmarks.reliability import CLI

    return [sys.executable, "-c", CLI, "apply", "--auto-approve", str(stack)]


def test_one_interrupt_stops_waits_saves_and_exits_130(stack: Path, tmp_path: Path) -> None:
    env = cli_env(100)
    log = tmp_path / "apply.log"
    proc = start_apply(stack, env, log, "--parallelism", "4")
    assert wait_for_progress(log, proc)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    text = log.read_text()
    assert "Interrupt received: no new changes will start" in text
    assert "Interrupted." in text and "not started: interrupted" in text
    state = load_state(stack / "aibplan.state.json")
    assert state is not None and 0 < len(state.resources) < RESOURCES
    assert {r.arm_id.lower() for r in state.resources} == cloud_ids(stack)
    assert not journal_path(stack / ".aibplan").exists() and read_holder(stack / ".aibplan") is None
    again = run_cli(stack, cli_env(0), "apply", "--auto-approve")
    assert again.returncode == 0 and plan_is_empty(stack)


def test_a_second_interrupt_leaves_at_once_and_the_journal_knows_what_was_in_flight(
    stack: Path, tmp_path: Path
) -> None:
    env = cli_env(400)
    log = tmp_path / "apply.log"
    proc = start_apply(stack, env, log)
    assert wait_for_progress(log, proc)
    proc.send_signal(signal.SIGINT)
    assert wait_for_text(log, "Interrupt received", proc)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert "Second interrupt: leaving now" in log.read_text()
    # It did not wait for the calls in flight: the journal still names them for the next command.
    assert journal_path(stack / ".aibplan").exists()
    assert read_holder(stack / ".aibplan") is None, "leaving at once still releases the lock"
    again = run_cli(stack, cli_env(0), "apply", "--auto-approve")
    assert again.returncode == 0, again.stderr
    assert "its journal" in again.stderr and "was reconciled" in again.stderr
    state = load_state(stack / "aibplan.state.json")
    assert state is not None and len(state.resources) == RESOURCES
    assert {r.arm_id.lower() for r in state.resources} == cloud_ids(stack) and plan_is_empty(stack)
