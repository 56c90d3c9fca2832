"""`run`, `cancel`, `output` and `apply --run`: image builds, with the state's build records kept current.

A build command takes the state lock only to read the state (a leftover journal reconciled) and then
again for each build record it writes, held for that write only: a build can take hours, and other
commands must be able to write meanwhile. `apply --run` builds while the apply still holds the lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import networkx as nx

from providers.base import Provider, ProviderError
from providers.catalog import is_buildable
from state import State

from ..builds import (
    BuildOrderError,
    BuildRecord,
    BuildRecorder,
    BuildReport,
    BuildSettings,
    BuildTarget,
    build_order,
    cancel_builds,
    refresh_records,
    run_builds,
)
from ..builds.outcome import SUCCEEDED
from ..builds.record import TemplateOutputs
from ..builds.select import build_targets, resolve_addresses
from ..execution.engine import Prepared
from ..execution.state_access import StackState
from ..hooks import Hooks
from ..planning.permissions import is_permission_finding, permission_diagnostics
from ..plans.plan import Action, Plan
from ..settings import poll_interval
from ..stack.model import Stack
from .control import OperationError, Stop
from .provider_errors import one_line
from .requests import ApplyOptions, BuildRequest, OutputsRequest
from .results import BuildsResult, OutputsResult
from .workspace import locked, open_stack, provider_for, read_for_plan, recovered

# Seconds a build record waits for the state lock (another command may be writing the state).
RECORD_LOCK_SECONDS = 120.0


def run(request: BuildRequest, hooks: Hooks | None = None, stop: Stop | None = None) -> BuildsResult:
    """Build the templates (all of the stack's when none is named) in order; with `wait` off, start the
    builds that wait for no other build and return."""
    return _builds(request, hooks or Hooks(), stop or Stop(), cancel=False)


def cancel(request: BuildRequest, hooks: Hooks | None = None, stop: Stop | None = None) -> BuildsResult:
    """Cancel the running builds of the named templates; with `wait`, follow them until they ended."""
    if not request.addresses:
        raise OperationError(
            "name the image templates whose builds to cancel, e.g. `aibplan cancel imageTemplate.NAME`"
        )
    return _builds(request, hooks or Hooks(), stop or Stop(), cancel=True)


def outputs(request: OutputsRequest, hooks: Hooks | None = None) -> OutputsResult:
    """Each template's last build and run outputs from the state; with `refresh`, read from the cloud
    first and saved."""
    hooks = hooks or Hooks()
    if len(request.addresses) > 1:
        raise OperationError("`aibplan output` takes at most one ADDRESS")
    prepared = open_stack(request.stack)
    addresses = resolve_addresses(prepared.stack, request.addresses)
    store = StackState(prepared.stack)
    errors: list[str] = []
    missed: tuple[str, ...] = ()
    if request.refresh:
        with provider_for(prepared.stack, hooks) as provider:
            state = _writer_state(store, provider, "output --refresh", request.lock_timeout, hooks)
            targets = build_targets(prepared.stack, state, addresses)[0]
            guard = _record_guard(store, "output --refresh", request.lock_timeout, None)
            recorder = BuildRecorder(store, state, state, guard=guard)
            errors = [
                f"{o.address}: {o.detail}"
                for o in refresh_records(targets, provider, recorder)
                if o.result == "Error"
            ]
            missed = tuple(recorder.missed)
        state = recorder.state
    else:
        state = read_for_plan(store, None, hooks)
    shown = tuple(
        TemplateOutputs(a, state.by_address[a].arm_id, BuildRecord.of(state.by_address[a].extra))
        for a in addresses
        if a in state.by_address
    )
    return OutputsResult(shown, refreshed=request.refresh, errors=tuple(errors), missed=missed)


def artifact(result: OutputsResult, name: str) -> str:
    """`output --raw NAME`: the artifact of the run output NAME (an image version or managed image id, a
    VHD URI) from the last good build of the templates shown; OperationError when there is none."""
    found = [
        (t.address, o)
        for t in result.templates
        for o in t.record.last_good_outputs
        if o.name == name and (o.artifact_id or o.artifact_uri)
    ]
    if len({address for address, _ in found}) > 1:
        where = ", ".join(sorted({address for address, _ in found}))
        raise OperationError(f"run output {name!r} is in several templates ({where}); name the template too")
    if not found:
        known = sorted({o.name for t in result.templates for o in t.record.last_good_outputs})
        hint = f"; known: {', '.join(known)}" if known else "; no template has a successful build yet"
        raise OperationError(f"no run output {name!r}{hint}")
    output = found[0][1]
    return str(output.artifact_id or output.artifact_uri)


class PermissionsMissing(OperationError):
    """Builds not started: their templates' identities lack a permission the builds need."""

    def __init__(self, lines: Sequence[str], templates: int, flag: str) -> None:
        self.lines = tuple(lines)
        self.why = (
            f"{templates} image template(s) would build with an identity that lacks a permission the build "
            f"needs; grant it (a role assignment in the stack), or {flag} to build anyway"
        )
        super().__init__(self.why, details=self.lines)


def build_after_apply(
    prepared: Prepared,
    store: StackState,
    provider: Provider,
    plan: Plan,
    state: State,
    options: ApplyOptions,
    hooks: Hooks,
    stop: Stop,
) -> tuple[BuildReport | None, str | None]:
    """`apply --run`: build every template the apply created or replaced, in order, and wait; the
    apply holds the state lock throughout. (None, why) when there is nothing to build; PermissionsMissing
    when an identity lacks what its build needs (unless `options.ignore_permissions`)."""
    stack = prepared.stack
    parallelism = options.parallelism
    addresses = [
        c.address
        for c in plan.changes
        if is_buildable(c.kind) and c.action in (Action.CREATE, Action.REPLACE)
    ]
    if not addresses:
        return (
            None,
            "no image template was created or replaced: nothing to build (`aibplan run` builds anyway)",
        )
    settings = _settings(stack, wait=True, timeout_minutes=None, parallelism=parallelism)
    targets, notes = build_targets(stack, state, addresses)
    _check_permissions(
        prepared,
        state,
        provider,
        targets,
        options.ignore_permissions,
        hooks,
        "`apply --run --ignore-permissions`",
    )
    recorder = BuildRecorder(store, state, state, guard=None)
    for note in notes:
        hooks.message(note)
    report = _walk(targets, provider, recorder, hooks, settings, stop, cancel=False)
    for line in recorder.missed:
        hooks.message(f"Warning: {line}")
    return report, None


def _builds(request: BuildRequest, hooks: Hooks, stop: Stop, *, cancel: bool) -> BuildsResult:
    prepared = open_stack(request.stack)
    addresses = resolve_addresses(prepared.stack, request.addresses)
    settings = _settings(
        prepared.stack,
        wait=request.wait,
        timeout_minutes=request.timeout_minutes,
        parallelism=request.parallelism if not cancel else 10,
    )
    operation = "cancel" if cancel else "run"
    with provider_for(prepared.stack, hooks) as provider, StackState(prepared.stack) as store:
        state = _writer_state(store, provider, operation, request.lock_timeout, hooks)
        targets, notes = build_targets(prepared.stack, state, addresses)
        if not cancel:
            _check_permissions(
                prepared,
                state,
                provider,
                targets,
                request.ignore_permissions,
                hooks,
                "run with --ignore-permissions",
            )
        for note in notes:
            hooks.message(note)
        guard = _record_guard(store, operation, request.lock_timeout, stop)
        recorder = BuildRecorder(store, state, state, guard=guard)
        report = _walk(targets, provider, recorder, hooks, settings, stop, cancel=cancel)
    stale = () if cancel else stale_dependents(prepared, report)
    return BuildsResult(report, notes=tuple(notes), missed=tuple(recorder.missed), stale_dependents=stale)


def _check_permissions(
    prepared: Prepared,
    state: State,
    provider: Provider,
    targets: Sequence[BuildTarget],
    ignore: bool,
    hooks: Hooks,
    flag: str,
) -> None:
    """Refuse to start builds whose identity lacks a permission the build needs (the plan's AIB91xx
    findings, the cloud's role assignments counted), unless told to go ahead."""
    try:
        found = permission_diagnostics(
            prepared.stack, prepared.graph, state, provider, [t.address for t in targets]
        )
    except ProviderError as exc:
        raise OperationError(f"reading the cloud failed: {one_line(exc)}") from None
    missing = [d for d in found if is_permission_finding(d)]
    for note in (d for d in found if not is_permission_finding(d)):
        hooks.message(f"Warning: {note.message}")
    if not missing:
        return
    lines = [f"{d.address}: {d.message}" for d in missing]
    if ignore:
        for line in lines:
            hooks.message(f"Warning: {line}")
        return
    raise PermissionsMissing(lines, len({d.address for d in missing}), flag)


def stale_dependents(prepared: Prepared, report: BuildReport) -> tuple[str, ...]:
    """Templates of the stack that build from an image a build here just published, and were not rebuilt
    after it: their own images are now older than their source."""
    rebuilt = {o.address for o in report.outcomes if o.result == SUCCEEDED}
    if not rebuilt:
        return ()
    templates = {r.address: r.body for r in prepared.stack.resources if is_buildable(r.kind)}
    try:
        graph = build_order(templates)
    except BuildOrderError:
        return ()
    lines = []
    for address in sorted(rebuilt):
        for dependent in sorted(nx.descendants(graph, address)):
            if dependent in rebuilt:
                continue
            lines.append(
                f"{dependent} builds from the image {address} just published: its own image is now older "
                f"than its source; `aibplan run {dependent}` builds it again"
            )
    return tuple(dict.fromkeys(lines))


def _walk(
    targets: Sequence[BuildTarget],
    provider: Provider,
    recorder: BuildRecorder,
    hooks: Hooks,
    settings: BuildSettings,
    stop: Stop,
    *,
    cancel: bool,
) -> BuildReport:
    try:
        with stop.making_changes():
            if cancel:
                return cancel_builds(
                    targets, provider, recorder, hooks=hooks, settings=settings, stop=stop.event
                )
            return run_builds(targets, provider, recorder, hooks=hooks, settings=settings, stop=stop.event)
    except BuildOrderError as exc:
        raise OperationError(str(exc)) from None


def _writer_state(
    store: StackState, provider: Provider, operation: str, timeout: float, hooks: Hooks
) -> State:
    """The state as a writer sees it: taken under the lock, with a leftover journal reconciled."""
    with locked(store, operation, timeout, hooks):
        state, _existing = recovered(store, provider, hooks)
    return state


def _record_guard(
    store: StackState, operation: str, timeout: float, stop: Stop | None
) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    """Each build record is written under the state lock, held only for that write."""

    def guard() -> contextlib.ExitStack:
        # The lock is taken here, so that a lock that cannot be had is a record missed, said once.
        held = contextlib.ExitStack()
        held.enter_context(locked(store, operation, max(timeout, RECORD_LOCK_SECONDS), Hooks(), stop))
        return held

    return guard


def _settings(stack: Stack, *, wait: bool, timeout_minutes: float | None, parallelism: int) -> BuildSettings:
    return BuildSettings(
        parallelism=parallelism,
        wait=wait,
        poll_interval=poll_interval(stack),
        timeout=None if timeout_minutes is None else timeout_minutes * 60.0,
    )
