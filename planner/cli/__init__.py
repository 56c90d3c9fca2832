"""The `aibplan` command line. This package is the only place that imports click: each command turns its
arguments into a request, calls an operation (planner.operations), shows the result with a view
(planner.views) and chooses the exit code (docs/cli.md).

The contract every command keeps: a usage error (an unknown option, a bad value, a missing argument)
exits 1 like every other error, never 2 (2 means "changes" for plan and "drift" for drift); Ctrl-C
exits 130, SIGTERM 143 and SIGHUP 129 with a message, any lock released.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from typing import Any

import click

from ..diagnostics import EngineError
from .builds import cancel, output, run
from .common import EXIT_ERROR, err, no_color_option
from .drift import drift
from .emulator import emulator
from .env import env
from .graph import graph
from .plan_apply import apply, destroy, plan, show
from .signals import Terminated, exit_code, guarded
from .sim import sim
from .state import force_unlock_, generate, import_, state
from .validate import validate


class _Commands(click.Group):
    """The command contract (see the module): usage errors exit 1, signals exit 128 + their number, and
    what the operating system refuses (a folder that cannot be created, a full disk) is one line."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            with guarded():
                result = super().main(*args, **kwargs)
        except click.exceptions.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):
                err("Interrupted.\n")
                sys.exit(exit_code(signal.SIGINT))
            err("Aborted!\n")
            sys.exit(EXIT_ERROR)
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_ERROR)
        except Terminated as exc:
            err(f"\nTerminated ({exc}): stopped; any state lock was released.\n")
            sys.exit(exit_code(exc.signum))
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (`aibplan plan | head`): stop quietly.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_ERROR)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            err(f"Error: {exc.strerror or exc}{where}\n")
            sys.exit(EXIT_ERROR)
        except EngineError as exc:  # what a command did not catch itself: still one line (err redacts)
            err(f"Error: {exc}\n")
            sys.exit(EXIT_ERROR)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aibplan", prog_name="aibplan")
@no_color_option
def main() -> None:
    """Plan and apply Azure VM Image Builder pipelines (identities, galleries, image definitions, image
    templates) from JSON kept in git, Terraform-style.

    Shell completion (commands, options, addresses): add `eval "$(_AIBPLAN_COMPLETE=bash_source aibplan)"`
    to ~/.bashrc (zsh: zsh_source, fish: fish_source); see docs/cli.md.
    """
    # A command builds millions of small objects that live until it exits (a 10,000-resource stack, its
    # state, the cloud's answers); the default thresholds would rescan them over and over, a third of a
    # big plan's time. Young cycles are still collected (docs/performance.md).
    gc.set_threshold(50_000, 1000, 1000)


for command in (
    validate,
    plan,
    apply,
    destroy,
    show,
    drift,
    graph,
    emulator,
    run,
    cancel,
    output,
    sim,
    state,
    import_,
    generate,
    force_unlock_,
    env,
):
    main.add_command(command)

__all__ = ["main"]
