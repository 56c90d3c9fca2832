"""The `aibplan` command line. This package is the only place that imports click: each command turns its
arguments into a request, calls an operation (planner.operations), shows the result with a view
(planner.views) and chooses the exit code (docs/cli.md).

The contract every command keeps: a usage error (an unknown option, a bad value, a missing argument)
exits 1 like every other error, never 2 (2 means "changes" for plan and "drift" for drift); Ctrl-C
exits 130, SIGTERM 143 and SIGHUP 129 with a message, any lock released.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import os
import signal
import sys
import threading
from typing import Any

import click

from .. import __version__
from ..collector import collector_paused
from .common import EXIT_ERROR, err, no_color_option
from .signals import Terminated, exit_code, guarded

# Every command: the module (in this package) and the name that define it, and the first paragraph of its
# help, which `aibplan --help` lists. A command's module is imported only when the command runs (or is
# completed), so that `aibplan --version`, `--help` and each command import only what they use
# (docs/performance.md, "Start-up"); tests/cli/test_startup.py checks the summaries against the commands.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": (
        "validate",
        "validate",
        "Check a stack, or template files, against the rules of the AIB reference and API, offline.",
    ),
    "plan": (
        "plan_apply",
        "plan",
        'Show what apply would change: drift first ("Objects have changed outside of aibplan"), then '
        "actions.",
    ),
    "apply": (
        "plan_apply",
        "apply",
        "Make the cloud match the stack: show the plan, ask, then apply it in graph order.",
    ),
    "destroy": ("plan_apply", "destroy", "Delete every resource in the state, dependents first."),
    "show": (
        "plan_apply",
        "show",
        "Show a plan saved with `aibplan plan --out FILE`: what `aibplan apply FILE` would do.",
    ),
    "drift": ("drift", "drift", "Compare what the cloud holds with the state file, read-only."),
    "graph": ("graph", "graph", "Print the dependency graph with the reason on each edge."),
    "emulator": (
        "emulator",
        "emulator",
        "Serve the simulated Azure cloud as an HTTPS ARM endpoint on 127.0.0.1 for the Azure provider.",
    ),
    "run": (
        "builds",
        "run",
        "Build image templates (all of the stack's when none is named) with the Run action.",
    ),
    "cancel": (
        "builds",
        "cancel",
        "Cancel running builds of the named image templates (the Cancel action).",
    ),
    "output": (
        "builds",
        "output",
        "Show the run outputs of image templates by runOutputName: the image version or managed image id "
        "(artifactId), the VHD's URI (artifactUri) and their provisioning state, as the state recorded "
        "them.",
    ),
    "sim": (
        "sim",
        "sim",
        "Change the local simulated cloud as a person in the portal would (local provider only).",
    ),
    "state": (
        "state",
        "state",
        "Read and edit the state: list, show, rm, mv; pull, push and migrate it (the stack folder last, or "
        "as -C DIR).",
    ),
    "import": (
        "state",
        "import_",
        "Track an existing cloud resource as ADDRESS, which the stack must declare.",
    ),
    "generate": (
        "state",
        "generate",
        "Write resource files from what the cloud holds: every identity, gallery, image definition and "
        "image template in a resource group, or the resources given by id (with their children).",
    ),
    "force-unlock": (
        "state",
        "force_unlock_",
        "Clear a lock left by a run that is gone (the error that reported it gives LOCK_ID).",
    ),
    "env": (
        "env",
        "env",
        'A stack\'s environments: one folder, several deployments (docs/state.md, "Environments").',
    ),
}


def load_command(name: str) -> click.Command:
    """The command `name` (one of `COMMANDS`), importing the module that defines it."""
    module, attribute, _ = COMMANDS[name]
    with collector_paused():  # a module's objects live as long as the process (planner.collector)
        command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    assert isinstance(command, click.Command)
    return command


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
        except Exception as exc:
            from ..diagnostics import EngineError  # loaded by every command that can raise it

            if not isinstance(exc, EngineError):
                raise
            # What a command did not catch itself: still one line (err redacts).
            err(f"Error: {exc}\n")
            sys.exit(EXIT_ERROR)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `aibplan --help`, from the summaries: no command module is imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (name, click.Command(name, help=COMMANDS[name][2]).get_short_help_str(limit)) for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="aibplan")
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


def run(**options: Any) -> None:
    """The `aibplan` program: `main`, then a quick exit. A big command's objects (a 5,600-resource plan
    holds hundreds of megabytes of them) are left to the operating system rather than freed one by one as
    the interpreter shuts down: 0.2 s of that plan (docs/performance.md). Nothing is lost: every file
    aibplan writes is closed before its command returns; standard output and error are flushed and the
    exit handlers run (logging's among them) before the process ends. An exit code that is not a number,
    an error that escaped, or a thread still running ends the usual way. `options` go to `main`
    (`prog_name`); tests call `main` in process."""
    try:
        main(**options)
    except SystemExit as exc:
        code = exc.code
    else:  # pragma: no cover - main always exits
        code = 0
    if code is not None and not isinstance(code, int):
        sys.exit(code)
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)  # what cannot be written is reported as it always was
    atexit._run_exitfuncs()
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code or 0)


__all__ = ["COMMANDS", "load_command", "main", "run"]
