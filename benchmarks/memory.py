"""Peak memory and time of apply, validate and plan at scale, with and without the rules' cache (prints
figures; not a timed test). Run: `python -m benchmarks.memory [N]` (default N = 10,000 templates).

A generated stack (benchmarks.generate) is applied once on the local cloud (no latency), then `validate`,
`plan --no-refresh` and `plan` (refreshed) run twice each: cold (the rules' cache file removed first, so
every rule runs) and warm (the stack unchanged since the last command: its findings come from
`.aibplan/validation-cache.json`). Each command runs in a fresh process started from a tiny launcher,
whose `os.wait4` gives the command's own peak RSS. Target (issue 14): under 500 MB at 10,000 templates.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.generate import generate_stack, resource_count
from planner.rules.cache import CACHE_FILE

ROOT = Path(__file__).resolve().parent.parent
CLI = "import sys; from planner.cli import run; run()"
LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps({"wall": time.perf_counter() - started, "rss_kb": usage.ru_maxrss,
                  "exit": os.waitstatus_to_exitcode(status), "stderr": err[-2000:].decode(errors="replace")}))
"""


def run(*args: str) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of `aibplan ARGS` in a fresh process."""
    env = {**os.environ, "NO_COLOR": "1", "AIBPLAN_LOCAL_LATENCY_MS": "0"}
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-c", CLI, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    figures = json.loads(done.stdout)
    if figures["exit"] not in (0, 2):
        raise SystemExit(f"aibplan {' '.join(args)} failed ({figures['exit']}):\n{figures['stderr']}")
    return figures["wall"], figures["rss_kb"] / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("templates", type=int, nargs="?", default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aibplan-memory-") as folder:
        root = generate_stack(Path(folder) / "stack", args.templates)
        cache = root / ".aibplan" / CACHE_FILE
        print(f"N = {args.templates:,} templates ({resource_count(args.templates):,} resources)")
        print("| command | rules' cache | wall s | peak RSS MB |")
        print("|---|---|---:|---:|")
        wall, rss = run("apply", "--auto-approve", str(root))
        print(f"| `aibplan apply` (creates everything) | - | {wall:.2f} | {rss:.0f} |")
        for command in (["validate"], ["plan", "--no-refresh"], ["plan"]):
            for warm in (False, True):
                if not warm:
                    cache.unlink(missing_ok=True)
                wall, rss = run(*command, str(root))
                shown = "hit" if warm else "miss"
                print(f"| `aibplan {' '.join(command)}` (no-op) | {shown} | {wall:.2f} | {rss:.0f} |")
        state = root / "aibplan.state.json"
        print(f"state file: {state.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
