"""The aibplan program run as a separate process, as a user (or a CI job) runs it."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.helpers import EXAMPLES

# The program's entry point, whether or not the package's `aibplan` script is on PATH.
_PROGRAM = (sys.executable, "-c", "from planner.cli import run; run(prog_name='aibplan')")


def aibplan(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    wrapper: Sequence[str] = (),
    max_memory: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `aibplan ARGS...` in `cwd`; the simulated cloud answers at once (no latency, fast builds).

    `wrapper` comes before the program (e.g. setpriv dropping capabilities); `max_memory` caps the
    process's address space in bytes, so a program that would read without end fails instead of taking
    the machine's memory."""
    environment = {
        **os.environ,
        "AIBPLAN_LOCAL_LATENCY_MS": "0",
        "AIBPLAN_LOCAL_BUILD_MINUTE_MS": "1",
        "NO_COLOR": "1",
        **(env or {}),
    }

    def limit() -> None:
        if max_memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))

    return subprocess.run(
        [*wrapper, *_PROGRAM, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        preexec_fn=limit if max_memory is not None else None,
    )


def aibplan_here(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The same command run inside this process (click's runner, from `cwd`): the program's own code on the
    same files without starting an interpreter, for the steps around the one a test is about."""
    from click.testing import CliRunner

    from planner.cli import main

    before = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def applied_example(name: str, where: Path) -> Path:
    """Copy an example stack into `where` (no state, no local cloud) and apply it with the program."""
    root = where / name
    shutil.copytree(EXAMPLES / name, root, ignore=shutil.ignore_patterns(".aibplan", "*.state.json*"))
    done = aibplan("apply", "--auto-approve", ".", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def error_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    """What the program printed on stderr, without blank lines; never a traceback."""
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return [line for line in done.stderr.splitlines() if line.strip()]
