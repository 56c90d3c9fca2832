"""`aibplan run`, `aibplan cancel` and `aibplan output`: image builds, as the AIB reference's Image Template
Operations describe them (Run, Cancel, run outputs by runOutputName)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from .. import operations as ops
from ..views import BuildsText, Shown, outputs_view
from .common import (
    EXIT_ERROR,
    EXIT_OK,
    StackLoading,
    announce_environment,
    call,
    emit,
    lock_timeout_option,
    stack_options,
    use_color,
)
from .completion import complete_templates
from .positional import split_stack
from .progress import CliHooks
from .signals import interruptible

_TIMEOUT = click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="MINUTES",
    help="Stop waiting after this many minutes (the builds go on in the cloud); exit 1 if any still runs.",
)


def _builds(title: str, operation: Callable[[CliHooks, ops.Stop], ops.BuildsResult]) -> NoReturn:
    view = BuildsText(title, color=use_color(sys.stdout))
    hooks = CliHooks(color=use_color(sys.stderr))
    stop = ops.Stop()
    try:
        with interruptible(stop, what="builds", on_abort=hooks.close) as signals:
            result = call(lambda: operation(hooks, stop), view)
    finally:
        hooks.close()
    emit(view.show(result))
    if result.report.interrupted:
        sys.exit(signals.exit_code)
    sys.exit(EXIT_OK if result.report.ok else EXIT_ERROR)


def _request(args: Sequence[str], loading: StackLoading, **settings: Any) -> ops.BuildRequest:
    stack, addresses = split_stack(args, loading.stack_dir)
    announce_environment(Path(stack))
    return ops.BuildRequest(stack=loading.request_at(stack), addresses=tuple(addresses), **settings)


@click.command()
@click.argument("args", nargs=-1, metavar="[ADDRESS]... [STACK]", shell_complete=complete_templates)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Follow the builds until they end; --no-wait starts those that wait for no other build and returns.",
)
@_TIMEOUT
@click.option(
    "--parallelism",
    default=10,
    show_default=True,
    type=click.IntRange(1, 256),
    help="How many builds run at once.",
)
@click.option(
    "--ignore-permissions",
    is_flag=True,
    help="Start builds even when a template's identity lacks a permission its build needs (AIB91xx).",
)
@stack_options
@lock_timeout_option
def run(
    args: Sequence[str],
    loading: StackLoading,
    wait: bool,
    timeout: float | None,
    parallelism: int,
    ignore_permissions: bool,
    lock_timeout: float,
) -> None:
    """Build image templates (all of the stack's when none is named) with the Run action.

    A template that builds from an image another template distributes to is built after that build
    succeeded; a failed build skips the builds that depend on it. A template whose identity lacks a
    permission its build needs (no role assignment in the stack or the cloud grants it) is not built
    unless --ignore-permissions is given. Progress goes to stderr, a table of results and run outputs to
    stdout.
    """
    settings = {
        "wait": wait,
        "timeout_minutes": timeout,
        "lock_timeout": lock_timeout,
        "ignore_permissions": ignore_permissions,
    }
    request = _request(args, loading, parallelism=parallelism, **settings)
    _builds("Build results", lambda hooks, stop: ops.run(request, hooks, stop))


@click.command()
@click.argument("args", nargs=-1, metavar="ADDRESS... [STACK]", shell_complete=complete_templates)
@click.option("--wait", is_flag=True, help="Follow each build through Canceling until it has ended.")
@_TIMEOUT
@stack_options
@lock_timeout_option
def cancel(
    args: Sequence[str], loading: StackLoading, wait: bool, timeout: float | None, lock_timeout: float
) -> None:
    """Cancel running builds of the named image templates (the Cancel action)."""
    request = _request(args, loading, wait=wait, timeout_minutes=timeout, lock_timeout=lock_timeout)
    _builds("Cancel results", lambda hooks, stop: ops.cancel(request, hooks, stop))


@click.command()
@click.argument("args", nargs=-1, metavar="[ADDRESS] [STACK]", shell_complete=complete_templates)
@click.option("--json", "json_flag", is_flag=True, help="Print one JSON document.")
@click.option(
    "--raw",
    "raw",
    metavar="NAME",
    default=None,
    help="Print only the artifact (image version or managed image id, VHD URI) of the run output NAME, "
    "for scripts.",
)
@click.option(
    "--refresh", is_flag=True, help="Read the run outputs from the cloud (and save them to the state)."
)
@stack_options
@lock_timeout_option
def output(
    args: Sequence[str],
    loading: StackLoading,
    json_flag: bool,
    raw: str | None,
    refresh: bool,
    lock_timeout: float,
) -> None:
    """Show the run outputs of image templates by runOutputName: the image version or managed image id
    (artifactId), the VHD's URI (artifactUri) and their provisioning state, as the state recorded them.

    After a failed or canceled build, the outputs of the last successful build are shown."""
    stack, addresses = split_stack(args, loading.stack_dir)
    announce_environment(Path(stack))
    request = ops.OutputsRequest(
        stack=loading.request_at(stack),
        addresses=tuple(addresses),
        refresh=refresh,
        lock_timeout=lock_timeout,
    )
    view = outputs_view("json" if json_flag else "text", color=use_color(sys.stdout))
    result = call(lambda: ops.outputs(request, CliHooks()), view)
    if raw is not None:
        emit(Shown(out=call(lambda: ops.artifact(result, raw), view) + "\n"))
        sys.exit(EXIT_OK)
    emit(view.show(result))
    sys.exit(EXIT_OK)
