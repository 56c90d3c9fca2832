"""The `aibplan` command line. This package is the only place that imports click: each command parses its
arguments, calls the engine, hands the result to a renderer and chooses the exit code (docs/cli.md)."""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

import click

from state.redact import redact_output

from ..diagnostics import EngineError
from .builds import cancel, output, run
from .drift import drift
from .emulator import emulator
from .graph import graph
from .plan_apply import apply, destroy, plan
from .sim import sim
from .state import force_unlock_, import_, state
from .validate import validate


class _Commands(click.Group):
    """Turns what the operating system refuses (a folder that cannot be created, a full disk) into one
    line instead of a traceback; the state file is written atomically, so it is whole either way."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (`aibplan plan | head`): stop quietly.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(f"Error: {exc.strerror or exc}{where}", err=True)
            sys.exit(1)
        except EngineError as exc:  # what a command did not catch itself: still one line
            click.echo(redact_output(f"Error: {exc}"), err=True)
            sys.exit(1)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aibplan", prog_name="aibplan")
def main() -> None:
    """Plan and apply Azure VM Image Builder pipelines (identities, galleries, image definitions, image
    templates) from JSON kept in git, Terraform-style."""
    # A command builds millions of small objects that live until it exits (a 10,000-resource stack, its
    # state, the cloud's answers); the default thresholds would rescan them over and over, a third of a
    # big plan's time. Young cycles are still collected (docs/performance.md).
    gc.set_threshold(50_000, 1000, 1000)


for command in (
    validate,
    plan,
    apply,
    destroy,
    drift,
    graph,
    emulator,
    run,
    cancel,
    output,
    sim,
    state,
    import_,
    force_unlock_,
):
    main.add_command(command)

__all__ = ["main"]
