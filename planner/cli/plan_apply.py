"""`aibplan plan`, `apply`, `destroy` and `show`: arguments to a request, the operation, a view, the exit
code."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from .. import operations as ops
from ..execution.cancel import DEFAULT_CANCEL_TIMEOUT
from ..views import ApplyText, PlanText, plan_view, saved_plan_view
from .common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    call,
    confirm,
    emit,
    fail,
    lock_timeout_option,
    no_color_option,
    one_stack,
    stack_options,
    stack_request,
    use_color,
)
from .completion import complete_addresses
from .progress import CliHooks
from .signals import interruptible

FORMATS = click.Choice(["text", "json", "markdown"])


def targeting_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--replace",
        "replace_addresses",
        multiple=True,
        metavar="ADDRESS",
        shell_complete=complete_addresses,
        help="Plan to replace this resource even if nothing forces it (repeatable).",
    )(f)
    f = click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="ADDRESS",
        shell_complete=complete_addresses,
        help="Only this resource and what it depends on (repeatable).",
    )(f)
    return f


def plan_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--no-refresh", is_flag=True, help="Compare with the state file only; do not read the cloud."
    )(f)
    return stack_options(f)


def apply_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """How a plan is carried out: the same options for apply (a new plan or a saved one) and destroy."""
    f = lock_timeout_option(f)
    f = click.option(
        "--cancel-timeout",
        default=DEFAULT_CANCEL_TIMEOUT,
        show_default=True,
        type=click.FloatRange(0),
        metavar="SECONDS",
        help="How long to wait for a running build to reach Canceled before its template is deleted.",
    )(f)
    f = click.option(
        "--allow-vhd-loss",
        is_flag=True,
        help="Delete or replace templates even though the VHDs their last builds wrote are lost with them.",
    )(f)
    f = click.option(
        "--parallelism",
        default=10,
        show_default=True,
        type=click.IntRange(1, 256),
        help="How many changes run at once.",
    )(f)
    f = click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")(f)
    return f


def _apply_options(
    parallelism: int, allow_vhd_loss: bool, cancel_timeout: float, lock_timeout: float, build: bool = False
) -> ops.ApplyOptions:
    return ops.ApplyOptions(
        parallelism=parallelism,
        allow_vhd_loss=allow_vhd_loss,
        cancel_timeout=cancel_timeout,
        lock_timeout=lock_timeout,
        build=build,
    )


@click.command()
@click.argument("stack", required=False, type=click.Path())
@click.option("--json", "json_flag", is_flag=True, help="Print the plan as one JSON document.")
@click.option(
    "--format",
    "fmt",
    type=FORMATS,
    default="text",
    show_default=True,
    help="markdown: a summary for pull-request comments and $GITHUB_STEP_SUMMARY, with a Mermaid graph.",
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes, 1 on error.")
@click.option("--destroy", is_flag=True, help="Plan to destroy every resource in the state.")
@click.option(
    "--refresh-only",
    is_flag=True,
    help="Only show what changed outside aibplan; `apply --refresh-only` takes it into the state.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan to FILE; `aibplan apply FILE` applies exactly it, once (or refuses when it is "
    "stale). FILE must be new or an earlier saved plan.",
)
@targeting_options
@plan_options
def plan(
    stack: str | None,
    stack_dir: str | None,
    json_flag: bool,
    fmt: str,
    detailed_exitcode: bool,
    destroy: bool,
    refresh_only: bool,
    out_file: Path | None,
    targets: Sequence[str],
    replace_addresses: Sequence[str],
    no_refresh: bool,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
) -> None:
    """Show what apply would change: drift first ("Objects have changed outside of aibplan"), then actions.

    Exit 0 (with --detailed-exitcode: no changes), 2 (changes, only with --detailed-exitcode), 1 (error).
    """
    view = plan_view("json" if json_flag else fmt, color=use_color(sys.stdout))
    request = ops.PlanRequest(
        stack=stack_request(one_stack(stack, stack_dir), variables, var_files, provider),
        refresh=not no_refresh,
        destroy=destroy,
        refresh_only=refresh_only,
        targets=tuple(targets),
        replace=tuple(replace_addresses),
        out=out_file,
    )
    result = call(lambda: ops.plan(request, CliHooks()), view)
    emit(view.show(result))
    sys.exit(EXIT_CHANGES if detailed_exitcode and result.plan.has_changes else EXIT_OK)


def _carry_out(operation: Callable[[CliHooks, ops.Stop], ops.ApplyOutcome]) -> NoReturn:
    """Run an apply-like operation with its plan shown when ready, progress, signals and the closing view."""
    color = use_color(sys.stdout)
    hooks = CliHooks(PlanText(color).plan, color=use_color(sys.stderr))
    stop = ops.Stop()
    try:
        with interruptible(stop, on_abort=hooks.close) as signals:
            outcome = call(lambda: operation(hooks, stop), PlanText(color))
    finally:
        hooks.close()
    emit(ApplyText(color).show(outcome))
    if outcome.interrupted:
        sys.exit(signals.exit_code)
    sys.exit(EXIT_OK if outcome.ok else EXIT_ERROR)


@click.command()
@click.argument("stack", required=False, type=click.Path(), metavar="[STACK | PLAN_FILE]")
@apply_options
@click.option(
    "--run",
    "build",
    is_flag=True,
    help="After the apply, build every image template it created or replaced, in order, and wait.",
)
@click.option(
    "--refresh-only",
    is_flag=True,
    help="Only take the changes made outside aibplan into the state file, after confirmation.",
)
@targeting_options
@plan_options
def apply(
    stack: str | None,
    stack_dir: str | None,
    auto_approve: bool,
    parallelism: int,
    allow_vhd_loss: bool,
    cancel_timeout: float,
    lock_timeout: float,
    build: bool,
    refresh_only: bool,
    targets: Sequence[str],
    replace_addresses: Sequence[str],
    no_refresh: bool,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
) -> None:
    """Make the cloud match the stack: show the plan, ask, then apply it in graph order.

    Given a plan file written by `aibplan plan --out FILE`, apply exactly that plan without asking, or
    refuse when it was applied already or the state or the configuration changed since it was made.
    """
    options = _apply_options(parallelism, allow_vhd_loss, cancel_timeout, lock_timeout, build)
    if stack is not None and Path(stack).is_file():
        given = [
            name
            for name, value in (
                ("--var", variables),
                ("--var-file", var_files),
                ("--provider", provider),
                ("--target", targets),
                ("--replace", replace_addresses),
                ("--refresh-only", refresh_only),
                ("--no-refresh", no_refresh),
                ("-C/--stack", stack_dir),
            )
            if value
        ]
        if given:
            fail(
                f"{', '.join(given)} cannot be used with a saved plan: "
                "the plan file fixed them when it was made"
            )
        saved = ops.SavedApplyRequest(Path(stack), options)
        _carry_out(lambda hooks, stop: ops.apply_saved(saved, hooks, stop))
    request = ops.ApplyRequest(
        ops.PlanRequest(
            stack=stack_request(one_stack(stack, stack_dir), variables, var_files, provider),
            refresh=not no_refresh,
            refresh_only=refresh_only,
            targets=tuple(targets),
            replace=tuple(replace_addresses),
        ),
        options,
    )
    ask = ops.always if auto_approve else confirm
    _carry_out(lambda hooks, stop: ops.apply(request, ask, hooks, stop))


@click.command()
@click.argument("stack", required=False, type=click.Path())
@apply_options
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="ADDRESS",
    shell_complete=complete_addresses,
    help="Only this resource and what depends on it (repeatable).",
)
@plan_options
def destroy(
    stack: str | None,
    stack_dir: str | None,
    auto_approve: bool,
    parallelism: int,
    allow_vhd_loss: bool,
    cancel_timeout: float,
    lock_timeout: float,
    targets: Sequence[str],
    no_refresh: bool,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
) -> None:
    """Delete every resource in the state, dependents first."""
    request = ops.PlanRequest(
        stack=stack_request(one_stack(stack, stack_dir), variables, var_files, provider),
        refresh=not no_refresh,
        targets=tuple(targets),
    )
    options = _apply_options(parallelism, allow_vhd_loss, cancel_timeout, lock_timeout)
    ask = ops.always if auto_approve else confirm
    _carry_out(lambda hooks, stop: ops.destroy(request, options, ask, hooks, stop))


@click.command()
@click.argument("plan_file", metavar="PLAN_FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--json", "json_flag", is_flag=True, help="Print the plan as one JSON document (as plan --json)."
)
@no_color_option
def show(plan_file: Path, json_flag: bool) -> None:
    """Show a plan saved with `aibplan plan --out FILE`: what `aibplan apply FILE` would do.

    Reads only the file (not the stack, the state or the cloud).
    """
    view = saved_plan_view("json" if json_flag else "text", color=use_color(sys.stdout))
    emit(view.show(call(lambda: ops.show_saved_plan(plan_file), view)))
    sys.exit(EXIT_OK)


__all__ = ["apply", "destroy", "plan", "show"]
