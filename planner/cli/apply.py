"""`aibplan plan`, `aibplan apply` and `aibplan destroy`."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click

from ..apply import ApplyResult, apply_plan
from ..builds import BuildReport
from ..engine import Prepared
from ..hooks import Hooks
from ..render.builds import render_results
from ..render.human import render_plan
from ..render.json_plan import plan_to_json
from .builds import run_after_apply
from .common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    confirm,
    err,
    guard,
    interruptible,
    make_plan_with_warnings,
    opened_provider,
    out,
    parse_stack_options,
    plan_options,
    prepare_or_exit,
    use_color,
)
from .progress import close_hooks, progress_hooks
from .writer import lock_or_exit, lock_timeout_option, read_for_plan_or_exit, recover_or_exit


@click.command()
@click.argument("stack", default=".", type=click.Path())
@click.option("--json", "json_flag", is_flag=True, help="Print the plan as one JSON document.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes, 1 on error.")
@click.option("--destroy", is_flag=True, help="Plan to destroy every resource in the state.")
@plan_options
def plan(
    stack: str,
    json_flag: bool,
    fmt: str,
    detailed_exitcode: bool,
    destroy: bool,
    no_refresh: bool,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
) -> None:
    """Show what apply would change."""
    json_output = json_flag or fmt == "json"
    options = parse_stack_options(stack, variables, var_files, provider)
    prepared = prepare_or_exit(options, json_output=json_output)
    with opened_provider(prepared, _PlanHooks()) as cloud:
        state = read_for_plan_or_exit(prepared.stack, cloud)
        the_plan = guard(
            lambda: make_plan_with_warnings(prepared, cloud, state, refresh=not no_refresh, destroy=destroy)
        )
    if json_output:
        out(json.dumps(plan_to_json(the_plan), indent=2, sort_keys=True) + "\n")
    else:
        out(render_plan(the_plan, color=use_color(sys.stdout)))
    if detailed_exitcode and the_plan.has_changes:
        sys.exit(EXIT_CHANGES)
    sys.exit(EXIT_OK)


def _run_apply(
    prepared: Prepared,
    *,
    destroy: bool,
    auto_approve: bool,
    parallelism: int,
    refresh: bool,
    lock_timeout: float = 0.0,
    build: bool = False,
) -> NoReturn:
    lock = lock_or_exit(prepared.stack, "destroy" if destroy else "apply", lock_timeout)
    hooks: Hooks | None = None
    try:
        with opened_provider(prepared, _PlanHooks()) as cloud:
            state, existing = recover_or_exit(prepared.stack, cloud, _PlanHooks())
            the_plan = guard(
                lambda: make_plan_with_warnings(prepared, cloud, state, refresh=refresh, destroy=destroy)
            )
            out(render_plan(the_plan, color=use_color(sys.stdout)))
            if not the_plan.has_changes:
                sys.exit(EXIT_OK)
            if not auto_approve:
                question = (
                    "Do you really want to destroy all resources?"
                    if destroy
                    else "Do you want to perform these actions?"
                )
                if not confirm(question):
                    err("Apply cancelled.\n")
                    sys.exit(EXIT_ERROR)
            hooks = progress_hooks()
            shown = hooks

            def abort() -> None:
                close_hooks(shown)
                lock.release()

            try:
                with interruptible(on_abort=abort) as stop:
                    result = apply_plan(
                        the_plan,
                        state,
                        existing,
                        prepared.stack.state_path,
                        cloud,
                        parallelism=parallelism,
                        hooks=hooks,
                        stop=stop,
                        runtime_dir=prepared.stack.runtime_dir,
                    )
            finally:
                close_hooks(hooks)
            builds = None
            if build and result.ok:
                builds = run_after_apply(prepared, cloud, the_plan, result, parallelism)
            elif build:
                err("Builds not started: the apply did not complete.\n")
    finally:
        lock.release()
    _finish(result, destroy, builds)


class _PlanHooks(Hooks):
    """Retries while reading the cloud for a plan, said on stderr."""

    def retrying(self, address: str, action: str, attempt: int, delay: float, error: BaseException) -> None:
        err(f"{address}: retrying {action} in {delay:.1f}s (attempt {attempt}): {error}\n")


def _finish(result: ApplyResult, destroy: bool, builds: BuildReport | None = None) -> NoReturn:
    counts = (
        f"Resources: {result.added} added, {result.changed} changed, {result.replaced} replaced, "
        f"{result.destroyed} destroyed."
    )
    if destroy and result.ok:
        out(f"\nDestroy complete! Resources: {result.destroyed} destroyed.\n")
        sys.exit(EXIT_OK)
    if result.ok:
        out(f"\nApply complete! {counts}\n")
        if builds is not None:
            out(render_results(builds.outcomes, color=use_color(sys.stdout)))
            if builds.interrupted:
                sys.exit(EXIT_INTERRUPTED)
            sys.exit(EXIT_OK if builds.ok else EXIT_ERROR)
        sys.exit(EXIT_OK)
    if result.failures:
        err(f"\n{len(result.failures)} change(s) failed:\n")
    for failure in result.failures:
        err(f"Error: {failure.address}: {failure.action} failed: {failure.code}: {failure.message}\n")
    if result.skipped:
        err(f"\n{len(result.skipped)} change(s) not made:\n")
    for address, reason in result.skipped:
        err(f"  {address}: {reason}\n")
    if result.interrupted:
        err(f"\nInterrupted. {counts} The state file holds what was done.\n")
        sys.exit(EXIT_INTERRUPTED)
    err(f"\nApply failed. {counts} The state file holds what was done.\n")
    sys.exit(EXIT_ERROR)


@click.command()
@click.argument("stack", default=".", type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--parallelism",
    default=10,
    show_default=True,
    type=click.IntRange(1, 256),
    help="How many changes run at once.",
)
@click.option(
    "--run",
    "build",
    is_flag=True,
    help="After the apply, build every image template it created or replaced, in order, and wait.",
)
@lock_timeout_option
@plan_options
def apply(
    stack: str,
    auto_approve: bool,
    parallelism: int,
    build: bool,
    lock_timeout: float,
    no_refresh: bool,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
) -> None:
    """Make the cloud match the stack: show the plan, ask, then apply it in graph order."""
    options = parse_stack_options(stack, variables, var_files, provider)
    prepared = prepare_or_exit(options)
    _run_apply(
        prepared,
        destroy=False,
        auto_approve=auto_approve,
        parallelism=parallelism,
        refresh=not no_refresh,
        lock_timeout=lock_timeout,
        build=build,
    )


@click.command()
@click.argument("stack", default=".", type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--parallelism",
    default=10,
    show_default=True,
    type=click.IntRange(1, 256),
    help="How many deletions run at once.",
)
@lock_timeout_option
@plan_options
def destroy(
    stack: str,
    auto_approve: bool,
    parallelism: int,
    lock_timeout: float,
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
        lock_timeout=lock_timeout,
    )
