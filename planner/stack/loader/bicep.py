"""A `.bicep` file in a stack: compiled to its ARM deployment template with the Bicep CLI, or one clear error
(AIB0014) saying what to install; never left out without a word (its resources would be destroyed).

The compiler is the first of `bicep build FILE --stdout` and `az bicep build --file FILE --stdout` whose
program is on the PATH (looked up with `shutil.which`, as a shell would). What the compiled template holds
is loaded like any deployment template; its diagnostics name the .bicep file and the JSON path inside the
compiled template (the lines of the .bicep file are not known).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from state.jsontext import JsonLimitError, loads

from ...diagnostics import Severity
from .loading import Loading

CODE = "AIB0014"
SUFFIX = ".bicep"
# A compile takes seconds; a CLI that hangs (a first `az bicep` run that wants to download) is stopped.
TIMEOUT_SECONDS = 300
_INSTALL = (
    "install the Bicep CLI (https://aka.ms/bicep-install) or the Azure CLI (`az bicep install`); or build "
    "it to JSON where one is installed (`bicep build {file}`) and keep that .json in the stack instead of "
    "the .bicep"
)


def compiler(file: Path) -> list[str] | None:
    """The command that compiles `file`, from what is on the PATH; None when neither CLI is there."""
    bicep = shutil.which("bicep")
    if bicep is not None:
        return [bicep, "build", str(file), "--stdout"]
    az = shutil.which("az")
    if az is not None:
        return [az, "bicep", "build", "--file", str(file), "--stdout"]
    return None


def compile_bicep(file: Path, shown: str, loading: Loading) -> Any:
    """The deployment template `file` compiles to; None when it cannot be had (reported, AIB0014)."""

    def refuse(message: str, hint: str | None = None) -> None:
        loading.add(CODE, Severity.ERROR, message, file=shown, hint=hint)

    command = compiler(file)
    if command is None:
        refuse(
            f"{shown} is a Bicep file and no Bicep CLI is on the PATH (neither bicep nor az) to compile it",
            _INSTALL.format(file=shown),
        )
        return None
    tool = Path(command[0]).name
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        refuse(f"{tool} did not compile {shown} within {TIMEOUT_SECONDS} seconds")
        return None
    except OSError as exc:
        refuse(f"{tool} could not be run to compile {shown}: {exc.strerror or exc}")
        return None
    if done.returncode != 0:
        problems = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        shown_problems = "; ".join(problems[:3]) or f"exit code {done.returncode}"
        refuse(f"{tool} could not compile {shown}: {shown_problems}", "fix the Bicep file and validate again")
        return None
    try:
        data = loads(done.stdout)
    except (json.JSONDecodeError, JsonLimitError) as exc:
        refuse(f"{tool} compiled {shown} to something that is not JSON ({exc})")
        return None
    if not isinstance(data, dict) or "resources" not in data:
        refuse(f"{tool} compiled {shown} to something that is not an ARM deployment template")
        return None
    loading.with_copy.add(shown)  # Bicep writes a `for` inside properties as a property copy loop
    return data
