"""Run a command in a fresh process and measure it: wall time, CPU time, peak RSS, exit code and output.

Shared by the scaling and peer benchmarks. The command is started by a small launcher process of its
own: a child's peak RSS counts the memory of whatever it was forked from, and the launcher is tiny.
Commands are aibplan's command line (`aibplan_command`), never its modules: the benchmarks measure what
a user runs.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = "from planner.cli import run; run()"

_LAUNCHER = """
import json, os, subprocess, sys, time
with open(sys.argv[1], "wb") as out, open(sys.argv[2], "wb") as err:
    started = time.perf_counter()
    proc = subprocess.Popen(sys.argv[3:], stdout=out, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kb": usage.ru_maxrss,
                  "exit": os.waitstatus_to_exitcode(status)}))
"""


@dataclass(frozen=True)
class Run:
    """One measured run of a command."""

    wall: float
    cpu: float
    rss_mb: float
    exit_code: int
    stdout: str
    stderr: str


def aibplan_command(*args: str) -> list[str]:
    """The argv of `aibplan ARGS` with this checkout's code (what the `aibplan` script runs)."""
    return [sys.executable, "-c", CLI, *args]


def cli_env(latency_ms: float = 0, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a measured command: no colour, this checkout first on the path, and Python
    free to cache compiled modules (as in an installed aibplan: with PYTHONDONTWRITEBYTECODE set, every
    run compiles aibplan's own modules from source again, about a third of a second)."""
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {
        **inherited,
        "AIBPLAN_LOCAL_LATENCY_MS": str(latency_ms),
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        **(extra or {}),
    }


def run_once(argv: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """Run `argv` once in a fresh process; its output is kept (as text) for the caller to check."""
    with tempfile.TemporaryDirectory(prefix="aibplan-measure-") as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        done = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(out), str(err), *argv],
            capture_output=True,
            text=True,
            env=env if env is not None else cli_env(),
            cwd=cwd,
            check=True,
        )
        figures = json.loads(done.stdout)
        return Run(
            wall=figures["wall"],
            cpu=figures["cpu"],
            rss_mb=figures["rss_kb"] / 1024,
            exit_code=figures["exit"],
            stdout=out.read_text(errors="replace"),
            stderr=err.read_text(errors="replace"),
        )


def best_of(argv: list[str], repeat: int, env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """The fastest of `repeat` runs (other load on the machine only ever slows a run down); the first
    run whose exit code differs from the first run's is returned at once, for the caller to report."""
    best: Run | None = None
    for _ in range(max(1, repeat)):
        run = run_once(argv, env, cwd)
        if best is not None and run.exit_code != best.exit_code:
            return run
        if best is None or run.wall < best.wall:
            best = run
    assert best is not None
    return best


def exponent(n1: int, t1: float, n2: int, t2: float) -> float:
    """The scaling exponent between two sizes: log(t2 / t1) / log(n2 / n1) (1.0 is linear)."""
    if n1 == n2 or t1 <= 0 or t2 <= 0:
        return math.nan
    return math.log(t2 / t1) / math.log(n2 / n1)


def tail(text: str, lines: int = 8) -> str:
    """The last lines of a command's output, to quote when it failed."""
    return "\n".join(text.rstrip().splitlines()[-lines:])


# What `aibplan plan --verbose` says when the plan cache answered (operations.plan_cache).
ANSWERED = "plan cache: the stack, the state and the cloud are as the last plan found them"


def no_op_plans(stack: Path, repeat: int, *args: str) -> tuple[Run, Run]:
    """aibplan's no-op plan of `stack` (fastest of `repeat` each): made in full (the plan cache file removed
    before each run: the first plan after an apply), and asked again (answered by the plan cache after it
    reads the cloud again). Each run is checked to be what it says it is; a plan that fails is returned at
    once, for the caller to report."""
    command = aibplan_command("plan", "--detailed-exitcode", "--verbose", *args, str(stack))
    kept = stack / ".aibplan" / "plan-cache.json"
    found: list[Run] = []
    for again in (False, True):
        best: Run | None = None
        for _ in range(max(1, repeat)):
            if not again:
                kept.unlink(missing_ok=True)
            run = run_once(command)
            if run.exit_code != 0:
                return run, run
            if (ANSWERED in run.stderr) != again:
                raise SystemExit(
                    f"aibplan plan {'was not' if again else 'was'} answered by its cache:\n{tail(run.stderr)}"
                )
            best = run if best is None or run.wall < best.wall else best
        assert best is not None
        found.append(best)
    return found[0], found[1]
