"""The aibplan program run as a separate process, as a user (or a CI job) runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# The program's entry point, whether or not the package's `aibplan` script is on PATH.
_PROGRAM = (sys.executable, "-c", "from planner.cli import main; main(prog_name='aibplan')")


def aibplan(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `aibplan ARGS...` in `cwd`; the simulated cloud answers at once (no latency, fast builds)."""
    environment = {
        **os.environ,
        "AIBPLAN_LOCAL_LATENCY_MS": "0",
        "AIBPLAN_LOCAL_BUILD_MINUTE_MS": "1",
        "NO_COLOR": "1",
        **(env or {}),
    }
    return subprocess.run(
        [*_PROGRAM, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment
    )
