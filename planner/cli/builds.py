"""`aibplan run`, `aibplan cancel` and `aibplan output`: image builds, as the AIB reference's Image Template
Operations describe them (Run, Cancel, run outputs by runOutputName)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import click

from providers.base import Provider
from providers.catalog import BUILDABLE, is_buildable
from state import State
from state.lock import StateLock

from ..builds import (
    BuildOrderError,
    BuildRecord,
    BuildRecorder,
    BuildReport,
    BuildSettings,
    cancel_builds,
    refresh_records,
    run_builds,
)
from ..builds.select import build_targets, resolve_addresses
from ..diagnostics import EngineError
from ..execution.apply import ApplyResult
from ..execution.engine import Prepared
from ..execution.state_access import lock_state
from ..hooks import Hooks
from ..plans.plan import Action, Plan
from ..render.builds import TemplateOutputs, outputs_to_json, render_outputs, render_results
from ..settings import poll_interval
from .build_progress import build_progress
from .common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    err,
    fail,
    interruptible,
    opened_provider,
    out,
    parse_stack_options,
    prepare_or_exit,
    read_state_or_exit,
    stack_options,
    use_color,
)
from .writer import lock_or_exit, lock_timeout_option, recover_or_exit

# Seconds a build record waits for the state lock (another command may be writing the state).
RECORD_LOCK_SECONDS = 120.0


def split_stack(args: Sequence[str]) -> tuple[str, list[str]]:
    """`[STACK] ADDRESS...`: the first argument is the stack when it is a folder."""
    if args and Path(args[0]).is_dir():
        return args[0], list(args[1:])
    if args and ("/" in args[0] or "\\" in args[0]) and not args[0].startswith(f"{BUILDABLE.kind}."):
        fail(f"{args[0]}: no such stack folder")
    return ".", list(args)


def _load(
    args: Sequence[str], variables: Sequence[str], var_files: Sequence[Path], provider: str | None
) -> tuple[Prepared, list[str]]:
    stack, names = split_stack(args)
    prepared = prepare_or_exit(parse_stack_options(stack, variables, var_files, provider))
    try:
        addresses = resolve_addresses(prepared.stack, names)
    except EngineError as exc:
        fail(str(exc))
    return prepared, addresses


def _writer_state(prepared: Prepared, cloud: Provider, operation: str, lock_timeout: float) -> State:
    """The state as a writer sees it: taken under the lock, with a leftover journal reconciled."""
    lock = lock_or_exit(prepared.stack, operation, lock_timeout)
    try:
        state, _existing = recover_or_exit(prepared.stack, cloud, Hooks())
    finally:
        lock.release()
    return state


def _record_guard(prepared: Prepared, operation: str, lock_timeout: float) -> Callable[[], StateLock]:
    """Each build record is written under the state lock, held only for that write."""
    return lambda: lock_state(prepared.stack, operation, timeout=max(lock_timeout, RECORD_LOCK_SECONDS))


def _build(
    prepared: Prepared,
    cloud: Provider,
    state: State,
    addresses: Sequence[str],
    settings: BuildSettings,
    *,
    guard: Callable[[], StateLock] | None,
    cancel: bool = False,
) -> BuildReport:
    try:
        targets, notes = build_targets(prepared.stack, state, addresses)
    except EngineError as exc:
        fail(str(exc))
    recorder = BuildRecorder(prepared.stack.state_path, state, state, guard=guard)
    hooks = build_progress()
    try:
        for note in notes:
            hooks.message(note)
        with interruptible() as stop:
            if cancel:
                return cancel_builds(targets, cloud, recorder, hooks=hooks, settings=settings, stop=stop)
            return run_builds(targets, cloud, recorder, hooks=hooks, settings=settings, stop=stop)
    except BuildOrderError as exc:
        fail(str(exc))
    finally:
        hooks.close()
        for missed in recorder.missed:
            err(f"Warning: {missed}\n")


def _finish(report: BuildReport, *, title: str) -> NoReturn:
    out(render_results(report.outcomes, color=use_color(sys.stdout), title=title))
    if report.interrupted:
        err("Interrupted: builds already started go on in the cloud; `aibplan cancel` stops them.\n")
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_OK if report.ok else EXIT_ERROR)


def _settings(prepared: Prepared, *, wait: bool, timeout: float | None, parallelism: int) -> BuildSettings:
    try:
        interval = poll_interval(prepared.stack)
    except EngineError as exc:
        fail(str(exc))
    return BuildSettings(
        parallelism=parallelism,
        wait=wait,
        poll_interval=interval,
        timeout=None if timeout is None else timeout * 60.0,
    )


_TIMEOUT = click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="MINUTES",
    help="Stop waiting after this many minutes (the builds go on in the cloud); exit 1 if any still runs.",
)


@click.command()
@click.argument("args", nargs=-1, metavar="[STACK] [ADDRESS]...")
@click.option(
    "--wait/--no-wait",
    default=None,
    help="Follow the builds until they end (default on a terminal); --no-wait starts them and returns.",
)
@_TIMEOUT
@click.option(
    "--parallelism",
    default=10,
    show_default=True,
    type=click.IntRange(1, 256),
    help="How many builds run at once.",
)
@stack_options
@lock_timeout_option
def run(
    args: Sequence[str],
    wait: bool | None,
    timeout: float | None,
    parallelism: int,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
    lock_timeout: float,
) -> None:
    """Build image templates (all of the stack's when none is named) with the Run action.

    A template that builds from an image another template distributes to is built after that build
    succeeded; a failed build skips the builds that depend on it. Progress goes to stderr, a table of
    results and run outputs to stdout.
    """
    prepared, addresses = _load(args, variables, var_files, provider)
    follow = sys.stdout.isatty() if wait is None else wait
    settings = _settings(prepared, wait=follow, timeout=timeout, parallelism=parallelism)
    with opened_provider(prepared) as cloud:
        state = _writer_state(prepared, cloud, "run", lock_timeout)
        guard = _record_guard(prepared, "run", lock_timeout)
        report = _build(prepared, cloud, state, addresses, settings, guard=guard)
    _finish(report, title="Build results")


@click.command()
@click.argument("args", nargs=-1, metavar="[STACK] ADDRESS...")
@click.option("--wait", is_flag=True, help="Follow each build through Canceling until it has ended.")
@_TIMEOUT
@stack_options
@lock_timeout_option
def cancel(
    args: Sequence[str],
    wait: bool,
    timeout: float | None,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
    lock_timeout: float,
) -> None:
    """Cancel running builds of the named image templates (the Cancel action)."""
    if not split_stack(args)[1]:
        fail("name the image templates whose builds to cancel, e.g. `aibplan cancel imageTemplate.NAME`")
    prepared, addresses = _load(args, variables, var_files, provider)
    settings = _settings(prepared, wait=wait, timeout=timeout, parallelism=10)
    with opened_provider(prepared) as cloud:
        state = _writer_state(prepared, cloud, "cancel", lock_timeout)
        guard = _record_guard(prepared, "cancel", lock_timeout)
        report = _build(prepared, cloud, state, addresses, settings, guard=guard, cancel=True)
    _finish(report, title="Cancel results")


@click.command()
@click.argument("args", nargs=-1, metavar="[STACK] [ADDRESS]")
@click.option("--json", "json_flag", is_flag=True, help="Print one JSON document.")
@click.option(
    "--refresh", is_flag=True, help="Read the run outputs from the cloud (and save them to the state)."
)
@stack_options
@lock_timeout_option
def output(
    args: Sequence[str],
    json_flag: bool,
    refresh: bool,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
    lock_timeout: float,
) -> None:
    """Show the run outputs of image templates by runOutputName: the image version or managed image id
    (artifactId), the VHD's URI (artifactUri) and their provisioning state, as the state recorded them."""
    if len(split_stack(args)[1]) > 1:
        fail("`aibplan output` takes at most one ADDRESS")
    prepared, addresses = _load(args, variables, var_files, provider)
    if refresh:
        with opened_provider(prepared) as cloud:
            state = _writer_state(prepared, cloud, "output --refresh", lock_timeout)
            try:
                targets, _notes = build_targets(prepared.stack, state, addresses)
            except EngineError as exc:
                fail(str(exc))
            guard = _record_guard(prepared, "output --refresh", lock_timeout)
            recorder = BuildRecorder(prepared.stack.state_path, state, state, guard=guard)
            for outcome in refresh_records(targets, cloud, recorder):
                if outcome.result == "Error":
                    err(f"Error: {outcome.address}: {outcome.detail}\n")
            for missed in recorder.missed:
                err(f"Warning: {missed}\n")
        state = recorder.state
    else:
        state, _existing = read_state_or_exit(prepared)
    shown = [
        TemplateOutputs(a, state.by_address[a].arm_id, BuildRecord.of(state.by_address[a].extra))
        for a in addresses
        if a in state.by_address
    ]
    if json_flag:
        out(json.dumps(outputs_to_json(shown, refreshed=refresh), indent=2, sort_keys=True) + "\n")
    elif shown:
        out(render_outputs(shown, color=use_color(sys.stdout)))
    else:
        err("No image template of this stack has been created yet; run `aibplan apply` first.\n")
    sys.exit(EXIT_OK)


def run_after_apply(
    prepared: Prepared, cloud: Provider, plan: Plan, result: ApplyResult, parallelism: int
) -> BuildReport | None:
    """`apply --run`: build every template the apply created or replaced, in build order, and wait."""
    addresses = [
        c.address
        for c in plan.changes
        if is_buildable(c.kind) and c.action in (Action.CREATE, Action.REPLACE)
    ]
    if not addresses:
        err("No image template was created or replaced: nothing to build (`aibplan run` builds anyway).\n")
        return None
    settings = _settings(prepared, wait=True, timeout=None, parallelism=parallelism)
    # The apply holds the state lock until the builds are done.
    return _build(prepared, cloud, result.state, addresses, settings, guard=None)
