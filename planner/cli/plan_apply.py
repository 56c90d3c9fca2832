"""`aibplan plan`, `aibplan apply` and `aibplan destroy`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from providers.base import Provider
from state import State
from state.lock import StateLock

from ..execution.apply import ApplyResult
from ..execution.cancel import DEFAULT_CANCEL_TIMEOUT
from ..execution.engine import Prepared
from ..hooks import Hooks
from ..planning.saved_plan import (
    PlanOptions,
    SavedPlanError,
    load_saved_plan,
    plan_from_saved,
    save_plan,
    staleness,
    with_secret_variables,
)
from ..planning.targeting import address_errors
from ..plans.plan import Plan
from ..render.human import render_plan
from ..render.json_plan import plan_to_json
from ..render.markdown import plan_to_markdown
from ..stack.loader import parse_var
from .apply_flow import apply_refresh_only, ask, execute, finish, refuse_blocked
from .builds import run_after_apply
from .common import (
    EXIT_CHANGES,
    EXIT_OK,
    StackOptions,
    err,
    fail,
    guard,
    make_plan_with_warnings,
    opened_provider,
    out,
    parse_stack_options,
    plan_options,
    prepare_or_exit,
    use_color,
)
from .writer import lock_or_exit, lock_timeout_option, read_for_plan_or_exit, recover_or_exit


def targeting_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--replace",
        "replace_addresses",
        multiple=True,
        metavar="ADDRESS",
        help="Plan to replace this resource even if nothing forces it (repeatable).",
    )(f)
    f = click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="ADDRESS",
        help="Only this resource and what it depends on (repeatable).",
    )(f)
    return f


def apply_options(f: Callable[..., Any]) -> Callable[..., Any]:
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


def run_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--run",
        "build",
        is_flag=True,
        help="After the apply, build every image template it created or replaced, in order, and wait.",
    )(f)


@click.command()
@click.argument("stack", default=".", type=click.Path())
@click.option("--json", "json_flag", is_flag=True, help="Print the plan as one JSON document.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
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
    help="Save the plan to FILE; `aibplan apply FILE` applies exactly it (or refuses when it is stale).",
)
@targeting_options
@plan_options
def plan(
    stack: str,
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
    """Show what apply would change: drift first ("Objects have changed outside of aibplan"), then actions."""
    fmt = "json" if json_flag else fmt
    _check_combination(
        refresh_only=refresh_only, destroy=destroy, no_refresh=no_refresh, replace=replace_addresses
    )
    options = parse_stack_options(stack, variables, var_files, provider)
    prepared = prepare_or_exit(options, json_output=fmt == "json")
    with opened_provider(prepared, _PlanHooks()) as cloud:
        state = read_for_plan_or_exit(prepared.stack, cloud)
        _check_addresses(prepared, state, targets, replace_addresses, destroy)
        the_plan = guard(
            lambda: make_plan_with_warnings(
                prepared,
                cloud,
                state,
                refresh=not no_refresh,
                destroy=destroy,
                targets=targets,
                replace_addresses=replace_addresses,
                refresh_only=refresh_only,
                json_output=fmt == "json",
            )
        )
    if out_file is not None:
        _save(
            out_file,
            the_plan,
            prepared,
            options,
            no_refresh,
            destroy,
            refresh_only,
            targets,
            replace_addresses,
        )
    if fmt == "json":
        out(json.dumps(plan_to_json(the_plan), indent=2, sort_keys=True) + "\n")
    elif fmt == "markdown":
        out(plan_to_markdown(the_plan))
    else:
        out(render_plan(the_plan, color=use_color(sys.stdout)))
    if out_file is not None:
        err(f"\nSaved the plan to {out_file}. To apply exactly this plan, run: aibplan apply {out_file}\n")
    if detailed_exitcode and the_plan.has_changes:
        sys.exit(EXIT_CHANGES)
    sys.exit(EXIT_OK)


def _check_combination(
    *, refresh_only: bool, destroy: bool, no_refresh: bool, replace: Sequence[str]
) -> None:
    if refresh_only and destroy:
        fail("--refresh-only and --destroy cannot be used together")
    if refresh_only and no_refresh:
        fail("--refresh-only reads the cloud; it cannot be used with --no-refresh")
    if refresh_only and replace:
        fail("--refresh-only changes nothing in the cloud; it cannot be used with --replace")
    if destroy and replace:
        fail("--destroy deletes everything; it cannot be used with --replace")


def _check_addresses(
    prepared: Prepared, state: Any, targets: Sequence[str], replace: Sequence[str], destroy: bool
) -> None:
    problems = address_errors(targets, prepared.stack, state, flag="--target", in_state_only=destroy)
    problems += address_errors(replace, prepared.stack, state, flag="--replace")
    if problems:
        for line in problems[:-1]:
            err(f"Error: {line}\n")
        fail(problems[-1])


def _save(
    path: Path,
    the_plan: Plan,
    prepared: Prepared,
    options: StackOptions,
    no_refresh: bool,
    destroy: bool,
    refresh_only: bool,
    targets: Sequence[str],
    replace: Sequence[str],
) -> None:
    plan_options_used = PlanOptions(
        variables=options.variables,
        var_files=tuple(str(f) for f in options.var_files),
        provider=options.provider,
        refresh=not no_refresh,
        destroy=destroy,
        refresh_only=refresh_only,
        targets=tuple(targets),
        replace=tuple(replace),
    )
    try:
        save_plan(path, the_plan, prepared.stack, plan_options_used)
    except OSError as exc:
        fail(f"cannot write the plan to {path}: {exc}")


def _run_apply(
    prepared: Prepared,
    *,
    destroy: bool,
    auto_approve: bool,
    parallelism: int,
    refresh: bool,
    targets: Sequence[str] = (),
    replace_addresses: Sequence[str] = (),
    refresh_only: bool = False,
    allow_vhd_loss: bool = False,
    cancel_timeout: float = DEFAULT_CANCEL_TIMEOUT,
    build: bool = False,
    lock_timeout: float = 0.0,
) -> NoReturn:
    lock = lock_or_exit(prepared.stack, "destroy" if destroy else "apply", lock_timeout)
    try:
        with opened_provider(prepared, _PlanHooks()) as cloud:
            state, existing = recover_or_exit(prepared.stack, cloud, _PlanHooks())
            _check_addresses(prepared, state, targets, replace_addresses, destroy)
            the_plan = guard(
                lambda: make_plan_with_warnings(
                    prepared,
                    cloud,
                    state,
                    refresh=refresh,
                    destroy=destroy,
                    targets=targets,
                    replace_addresses=replace_addresses,
                    refresh_only=refresh_only,
                )
            )
            result, builds = _carry_out(
                the_plan,
                prepared,
                state,
                existing,
                cloud,
                lock,
                question="Do you really want to destroy all resources?"
                if destroy
                else "Do you want to perform these actions?",
                auto_approve=auto_approve,
                saved=False,
                allow_vhd_loss=allow_vhd_loss,
                parallelism=parallelism,
                cancel_timeout=cancel_timeout,
                build=build,
            )
    finally:
        lock.release()
    finish(result, destroy, builds)


def _carry_out(
    the_plan: Plan,
    prepared: Prepared,
    state: State,
    existing: State | None,
    cloud: Provider,
    lock: StateLock,
    *,
    question: str | None,
    auto_approve: bool,
    saved: bool,
    allow_vhd_loss: bool,
    parallelism: int,
    cancel_timeout: float,
    build: bool,
) -> tuple[ApplyResult, Any]:
    """Show the plan, then (after confirmation, unless it was saved) make its changes and any builds."""
    out(render_plan(the_plan, color=use_color(sys.stdout)))
    if not the_plan.has_changes:
        sys.exit(EXIT_OK)
    if the_plan.refresh_only:
        if not saved:
            ask("Would you like to update the state file to match these changes?", auto_approve)
        apply_refresh_only(the_plan, prepared, state, existing, cloud, saved=saved)
    refuse_blocked(the_plan, allow_vhd_loss=allow_vhd_loss)
    if question is not None:
        ask(question, auto_approve)
    result = execute(
        the_plan,
        prepared,
        state,
        existing,
        cloud,
        lock,
        parallelism=parallelism,
        cancel_timeout=cancel_timeout,
    )
    return result, _builds_after(build, prepared, cloud, the_plan, result, parallelism)


class _PlanHooks(Hooks):
    """Retries while reading the cloud for a plan, said on stderr."""

    def retrying(self, address: str, action: str, attempt: int, delay: float, error: BaseException) -> None:
        err(f"{address}: retrying {action} in {delay:.1f}s (attempt {attempt}): {error}\n")


def _builds_after(
    build: bool, prepared: Prepared, cloud: Any, the_plan: Plan, result: Any, parallelism: int
) -> Any:
    if build and result.ok:
        return run_after_apply(prepared, cloud, the_plan, result, parallelism)
    if build:
        err("Builds not started: the apply did not complete.\n")
    return None


def _apply_saved(
    path: Path,
    variables: Sequence[str],
    *,
    parallelism: int,
    allow_vhd_loss: bool,
    cancel_timeout: float,
    build: bool,
    lock_timeout: float,
) -> NoReturn:
    """Apply a plan file exactly as it was shown, or refuse when the state or the inputs moved since."""
    try:
        saved = load_saved_plan(path)
        given = tuple(parse_var(text) for text in variables)
        plan_variables = with_secret_variables(saved, given)
    except (SavedPlanError, ValueError) as exc:
        fail(str(exc))
    options = StackOptions(
        saved.stack_root,
        plan_variables,
        tuple(Path(f) for f in saved.options.var_files),
        saved.options.provider,
    )
    prepared = prepare_or_exit(options)
    lock = lock_or_exit(prepared.stack, "apply", lock_timeout)
    try:
        with opened_provider(prepared, _PlanHooks()) as cloud:
            state, existing = recover_or_exit(prepared.stack, cloud, _PlanHooks())
            reasons = staleness(saved, prepared.stack, state, existing is not None)
            if reasons:
                fail(
                    f"Saved plan {path} is stale: "
                    + "; ".join(reasons)
                    + ". Nothing was changed; make a new plan with `aibplan plan --out FILE`."
                )
            try:
                the_plan = plan_from_saved(saved, prepared.stack)
            except SavedPlanError as exc:
                fail(str(exc))
            result, builds = _carry_out(
                the_plan,
                prepared,
                state,
                existing,
                cloud,
                lock,
                question=None,
                auto_approve=True,
                saved=True,
                allow_vhd_loss=allow_vhd_loss,
                parallelism=parallelism,
                cancel_timeout=cancel_timeout,
                build=build,
            )
    finally:
        lock.release()
    finish(result, the_plan.destroy, builds)


@click.command()
@click.argument("stack", default=".", type=click.Path(), metavar="[STACK | PLAN_FILE]")
@apply_options
@run_option
@click.option(
    "--refresh-only",
    is_flag=True,
    help="Only take the changes made outside aibplan into the state file, after confirmation.",
)
@targeting_options
@plan_options
def apply(
    stack: str,
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
    refuse when the state or the configuration changed since it was made.
    """
    if Path(stack).is_file():
        given = [
            name
            for name, value in (
                ("--var-file", var_files),
                ("--provider", provider),
                ("--target", targets),
                ("--replace", replace_addresses),
                ("--refresh-only", refresh_only),
                ("--no-refresh", no_refresh),
            )
            if value
        ]
        if given:
            fail(
                f"{', '.join(given)} cannot be used with a saved plan: "
                "the plan file fixed them when it was made"
            )
        _apply_saved(
            Path(stack),
            variables,
            parallelism=parallelism,
            allow_vhd_loss=allow_vhd_loss,
            cancel_timeout=cancel_timeout,
            build=build,
            lock_timeout=lock_timeout,
        )
    _check_combination(
        refresh_only=refresh_only, destroy=False, no_refresh=no_refresh, replace=replace_addresses
    )
    options = parse_stack_options(stack, variables, var_files, provider)
    prepared = prepare_or_exit(options)
    _run_apply(
        prepared,
        destroy=False,
        auto_approve=auto_approve,
        parallelism=parallelism,
        refresh=not no_refresh,
        targets=targets,
        replace_addresses=replace_addresses,
        refresh_only=refresh_only,
        allow_vhd_loss=allow_vhd_loss,
        cancel_timeout=cancel_timeout,
        build=build,
        lock_timeout=lock_timeout,
    )


@click.command()
@click.argument("stack", default=".", type=click.Path())
@apply_options
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="ADDRESS",
    help="Only this resource and what depends on it (repeatable).",
)
@plan_options
def destroy(
    stack: str,
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
    options = parse_stack_options(stack, variables, var_files, provider)
    prepared = prepare_or_exit(options)
    _run_apply(
        prepared,
        destroy=True,
        auto_approve=auto_approve,
        parallelism=parallelism,
        refresh=not no_refresh,
        targets=targets,
        allow_vhd_loss=allow_vhd_loss,
        cancel_timeout=cancel_timeout,
        lock_timeout=lock_timeout,
    )


__all__ = ["apply", "destroy", "plan"]
