"""`aibplan plan`, `apply`, `destroy` and `show`: arguments to a request, the operation, a view, the exit
code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import click

from .. import operations as ops
from .. import views
from ..execution.timeouts import DEFAULT_CANCEL_TIMEOUT
from ..views import PlanText, plan_view
from .common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    StackLoading,
    call,
    chosen_environment,
    confirm,
    emit,
    fail,
    format_option,
    lock_timeout_option,
    no_color_option,
    stack_options,
    use_color,
)
from .completion import complete_addresses
from .progress import CliHooks
from .signals import interruptible


def plan_options(f: Callable[..., Any], *, metavar: str = "[STACK]") -> Callable[..., Any]:
    """How the plan is made (the stack, --no-refresh, --target and --replace, declared apart); the
    command receives them as one `PlanRequest`, `plan_request`, and the positional STACK as `stack`."""

    @functools.wraps(f)
    def command(
        *args: Any,
        stack: str | None,
        loading: StackLoading,
        no_refresh: bool,
        targets: Sequence[str],
        replace_addresses: Sequence[str] = (),
        **kwargs: Any,
    ) -> Any:
        request = ops.PlanRequest(
            stack=loading.request(stack),
            refresh=not no_refresh,
            targets=tuple(targets),
            replace=tuple(replace_addresses),
        )
        return f(*args, stack=stack, plan_request=request, **kwargs)

    wrapped = stack_options(command)
    wrapped = click.option(
        "--no-refresh", is_flag=True, help="Compare with the state file only; do not read the cloud."
    )(wrapped)
    return click.argument("stack", required=False, type=click.Path(), metavar=metavar)(wrapped)


def replace_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--replace",
        "replace_addresses",
        multiple=True,
        metavar="ADDRESS",
        shell_complete=complete_addresses,
        help="Plan to replace this resource even if nothing forces it (repeatable).",
    )(f)


def target_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="ADDRESS",
        shell_complete=complete_addresses,
        help=f"Only this resource and {what} (repeatable).",
    )


def apply_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """How a plan is carried out: the same options for apply (a new plan or a saved one) and destroy; the
    command receives them as one `ApplyOptions`, `options`, and `confirm` (from --auto-approve)."""

    @functools.wraps(f)
    def command(
        *args: Any,
        auto_approve: bool,
        parallelism: int,
        allow_vhd_loss: bool,
        cancel_timeout: float,
        lock_timeout: float,
        **kwargs: Any,
    ) -> Any:
        options = ops.ApplyOptions(
            parallelism=parallelism,
            allow_vhd_loss=allow_vhd_loss,
            cancel_timeout=cancel_timeout,
            lock_timeout=lock_timeout,
        )
        return f(*args, options=options, confirm=ops.always if auto_approve else confirm, **kwargs)

    wrapped = lock_timeout_option(command)
    wrapped = click.option(
        "--cancel-timeout",
        default=DEFAULT_CANCEL_TIMEOUT,
        show_default=True,
        type=click.FloatRange(0),
        metavar="SECONDS",
        help="How long to wait for a running build to reach Canceled before its template is deleted.",
    )(wrapped)
    wrapped = click.option(
        "--allow-vhd-loss",
        is_flag=True,
        help="Delete or replace templates even though the VHDs their last builds wrote are lost with them.",
    )(wrapped)
    wrapped = click.option(
        "--parallelism",
        default=10,
        show_default=True,
        type=click.IntRange(1, 256),
        help="How many changes run at once.",
    )(wrapped)
    return click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")(wrapped)


@click.command()
@format_option
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
@replace_option
@target_option("what it depends on")
@plan_options
def plan(
    stack: str | None,
    plan_request: ops.PlanRequest,
    fmt: str,
    detailed_exitcode: bool,
    destroy: bool,
    refresh_only: bool,
    out_file: Path | None,
) -> None:
    """Show what apply would change: drift first ("Objects have changed outside of aibplan"), then actions.

    Exit 0 (with --detailed-exitcode: no changes), 2 (changes, only with --detailed-exitcode), 1 (error).
    """
    view = plan_view(fmt, color=use_color(sys.stdout))
    request = replace(plan_request, destroy=destroy, refresh_only=refresh_only, out=out_file)
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
    emit(views.ApplyText(color).show(outcome))  # imported here: a plan never needs the apply views
    if outcome.interrupted:
        sys.exit(signals.exit_code)
    sys.exit(EXIT_OK if outcome.ok else EXIT_ERROR)


@click.command()
@apply_options
@click.option(
    "--run",
    "build",
    is_flag=True,
    help="After the apply, build every image template it created or replaced, in order, and wait.",
)
@click.option(
    "--ignore-permissions",
    is_flag=True,
    help="With --run: build even when a template's identity lacks a permission its build needs (AIB91xx).",
)
@click.option(
    "--refresh-only",
    is_flag=True,
    help="Only take the changes made outside aibplan into the state file, after confirmation.",
)
@replace_option
@target_option("what it depends on")
@functools.partial(plan_options, metavar="[STACK | PLAN_FILE]")
def apply(
    stack: str | None,
    plan_request: ops.PlanRequest,
    options: ops.ApplyOptions,
    confirm: ops.Confirm,
    build: bool,
    ignore_permissions: bool,
    refresh_only: bool,
) -> None:
    """Make the cloud match the stack: show the plan, ask, then apply it in graph order.

    STACK may be a PLAN_FILE written by `aibplan plan --out FILE`: then exactly that plan is applied
    without asking, or refused when it was applied already or the state or the configuration changed
    since it was made.
    """
    options = replace(options, build=build, ignore_permissions=ignore_permissions)
    if stack is not None and Path(stack).is_file():
        # Only the secret --vars a plan file keeps as fingerprints may (and must) be given again.
        saved = ops.SavedApplyRequest(
            Path(stack), options, chosen_environment(), variables=plan_request.stack.variables
        )
        _refuse_plan_options(plan_request, refresh_only)
        _carry_out(lambda hooks, stop: ops.apply_saved(saved, hooks, stop))
    request = ops.ApplyRequest(replace(plan_request, refresh_only=refresh_only), options)
    _carry_out(lambda hooks, stop: ops.apply(request, confirm, hooks, stop))


def _refuse_plan_options(given: ops.PlanRequest, refresh_only: bool) -> None:
    """A saved plan fixed how it was made: options that would change that are refused."""
    stack = given.stack
    named = [
        name
        for name, value in (
            ("--var-file", stack.var_files),
            ("--provider", stack.provider),
            ("--target", given.targets),
            ("--replace", given.replace),
            ("--refresh-only", refresh_only),
            ("--no-refresh", not given.refresh),
        )
        if value
    ]
    if named:
        fail(
            f"{', '.join(named)} cannot be used with a saved plan: the plan file fixed them when it was made"
        )


@click.command()
@apply_options
@target_option("what depends on it")
@plan_options
def destroy(
    stack: str | None, plan_request: ops.PlanRequest, options: ops.ApplyOptions, confirm: ops.Confirm
) -> None:
    """Delete every resource in the state, dependents first."""
    _carry_out(lambda hooks, stop: ops.destroy(plan_request, options, confirm, hooks, stop))


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
    view = views.saved_plan_view("json" if json_flag else "text", color=use_color(sys.stdout))
    emit(view.show(call(lambda: ops.show_saved_plan(plan_file), view)))
    sys.exit(EXIT_OK)


__all__ = ["apply", "destroy", "plan", "show"]
