"""Reliability trials with real processes: kill -9 at random instants during an apply, then check that
nothing was lost and that the next apply converges. The CI tests run a few trials; run many here:

    python -m benchmarks.reliability --trials 100 --templates 100 --latency-ms 40

Each trial copies a generated stack, starts `aibplan apply` in its own process, kills it with SIGKILL at
a random instant (anywhere from start-up to the last state write), and then checks:

1. the state file loads (or there is none yet);
2. every resource in the cloud is known: in the state file, or in the journal as finished or in flight;
3. after clearing the stale lock, the next apply exits 0 and the state then holds exactly the cloud's
   resources, one entry each, and a plan shows no changes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.generate import generate_stack, resource_count
from planner.execution.engine import open_provider, prepare, read_state
from planner.planning.plan import make_plan
from providers.catalog.arm_ids import fold_id
from providers.simulated.local import LocalProvider
from state import load_state
from state.journal import journal_path, read_journal, replay
from state.lock import read_holder

ROOT = Path(__file__).resolve().parent.parent
CLI = "from planner.cli import run; run()"


@dataclass(frozen=True)
class Trial:
    number: int
    killed_after: float
    phase: str  # where the kill landed: before-apply, applying, after-apply (exited first)
    state_serial: int | None
    cloud_before: int
    known_before: int
    journal_events: int
    converged: bool
    cloud_after: int
    state_after: int
    seconds: float


def cli_env(latency_ms: float, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "AIBPLAN_LOCAL_LATENCY_MS": str(latency_ms),
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    env.update(extra or {})
    return env


def start_apply(root: Path, env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen[bytes]:
    with open(log, "wb") as handle:
        return subprocess.Popen(
            [sys.executable, "-c", CLI, "apply", "--auto-approve", *extra, str(root)],
            stdout=subprocess.DEVNULL,
            stderr=handle,
            env=env,
            cwd=ROOT,
        )


def run_cli(
    root: Path, env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CLI, *args, str(root)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
    )


def cloud_ids(root: Path) -> set[str]:
    provider = LocalProvider(root / ".aibplan")
    try:
        rows = provider.service.store.db.execute("SELECT key FROM resources").fetchall()
    finally:
        provider.close()
    return {str(row[0]) for row in rows}


def known_ids(root: Path) -> tuple[set[str], int | None, int]:
    """Ids the state file and the journal know (finished or in flight), the state serial, journal events."""
    state = load_state(root / "aibplan.state.json")
    serial = state.serial if state is not None else None
    from state import State

    base = state if state is not None else State(lineage="unknown")
    _, events = read_journal(journal_path(root / ".aibplan"))
    replayed = replay(base, events)
    ids = {fold_id(r.arm_id) for r in replayed.state.resources}
    ids |= {fold_id(c.arm_id) for c in replayed.pending}
    return ids, serial, len(events)


def plan_is_empty(root: Path) -> bool:
    prepared, diagnostics = prepare(root)
    assert prepared is not None, diagnostics
    state, _ = read_state(prepared.stack)
    provider = open_provider(prepared.stack)
    try:
        plan = make_plan(prepared.stack, prepared.graph, state, provider, refresh=True)
    finally:
        provider.close()
    return not plan.has_changes


def wait_for_progress(log: Path, proc: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if b"Creating..." in log.read_bytes():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


def wait_for_created(log: Path, proc: subprocess.Popen[bytes], count: int, timeout: float = 120) -> float:
    """Seconds until the apply has reported `count` resources created (or ended)."""
    started = time.monotonic()
    while time.monotonic() < started + timeout and proc.poll() is None:
        if log.read_bytes().count(b"Creation complete") >= count:
            break
        time.sleep(0.002)
    return time.monotonic() - started


def kill_trial(
    template: Path,
    workdir: Path,
    number: int,
    rng: random.Random,
    *,
    latency_ms: float,
    templates: int,
    after_created: int | None = None,
) -> Trial:
    """One trial: copy the stack, apply, kill -9 at a random instant (or once `after_created` resources
    are reported created), check, recover, check again."""
    started = time.monotonic()
    root = workdir / f"trial-{number:04d}"
    shutil.copytree(template, root)
    env = cli_env(latency_ms)
    log = root.parent / f"trial-{number:04d}.log"
    proc = start_apply(root, env, log)
    if after_created is not None:
        delay = wait_for_created(log, proc, after_created)
    # A third of the kills land anywhere from start-up on; the rest inside the apply itself.
    elif rng.random() < 1 / 3:
        delay = rng.uniform(0, 1.5)
        time.sleep(delay)
    else:
        wait_for_progress(log, proc)
        apply_seconds = resource_count(templates) / 10 * latency_ms / 1000
        delay = rng.uniform(0, apply_seconds * 1.3)
        time.sleep(delay)
    phase = "applying" if b"Creating..." in log.read_bytes() else "before-apply"
    if proc.poll() is not None:
        phase = "after-apply"
    else:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    # 1. the state loads; 2. everything in the cloud is known.
    cloud = cloud_ids(root)
    known, serial, events = known_ids(root)
    missing = cloud - known
    if missing:
        raise AssertionError(f"trial {number}: the cloud holds resources nobody knows: {sorted(missing)[:5]}")
    # 3. clear the stale lock (the kill left it), apply again, converge.
    holder = read_holder(root / ".aibplan")
    if holder is not None:
        unlocked = run_cli(root, env, "force-unlock", holder.id)
        if unlocked.returncode != 0:
            raise AssertionError(f"trial {number}: force-unlock failed: {unlocked.stderr}")
    again = run_cli(root, env, "apply", "--auto-approve")
    if again.returncode != 0:
        raise AssertionError(f"trial {number}: the next apply failed:\n{again.stderr[-2000:]}")
    state = load_state(root / "aibplan.state.json")
    assert state is not None
    state_ids = [fold_id(r.arm_id) for r in state.resources]
    cloud_after = cloud_ids(root)
    converged = (
        len(state_ids) == len(set(state_ids)) == resource_count(templates) == len(cloud_after)
        and set(state_ids) == cloud_after
        and not journal_path(root / ".aibplan").exists()
        and plan_is_empty(root)
    )
    if not converged:
        raise AssertionError(
            f"trial {number}: did not converge: state {len(state_ids)}, cloud {len(cloud_after)}, "
            f"expected {resource_count(templates)}"
        )
    shutil.rmtree(root)
    log.unlink()
    return Trial(
        number=number,
        killed_after=round(delay, 3),
        phase=phase,
        state_serial=serial,
        cloud_before=len(cloud),
        known_before=len(known),
        journal_events=events,
        converged=converged,
        cloud_after=len(cloud_after),
        state_after=len(state_ids),
        seconds=round(time.monotonic() - started, 2),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--templates", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="aibplan-reliability-") as tmp:
        template = generate_stack(Path(tmp) / "stack", args.templates)
        trials = []
        for number in range(args.trials):
            trial = kill_trial(
                template, Path(tmp), number, rng, latency_ms=args.latency_ms, templates=args.templates
            )
            trials.append(trial)
            print(json.dumps(trial.__dict__), flush=True)
    phases: dict[str, int] = {}
    for trial in trials:
        phases[trial.phase] = phases.get(trial.phase, 0) + 1
    mid = [t for t in trials if 0 < t.cloud_before < resource_count(args.templates)]
    print(
        f"\n{len(trials)} trials, {resource_count(args.templates)} resources each: all converged; "
        f"kills by phase {phases}; {len(mid)} kills left a partly applied cloud; "
        f"max journal events at a kill {max(t.journal_events for t in trials)}"
    )


if __name__ == "__main__":
    main()
