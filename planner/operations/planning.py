"""`plan` (and `plan --out`), `show PLANFILE` and `drift`: the read-only operations."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from state import StateError

from ..collector import collector_paused
from ..diagnostics import EngineError
from ..execution.providers import open_provider
from ..execution.state_access import StackState
from ..hooks import Hooks
from ..plans.plan import Plan
from . import plan_cache
from .control import OperationError, StackRejected
from .read_only import DriftRequest, DriftResult, PlanRequest, PlanResult, SavedPlanShown, StackRequest

if TYPE_CHECKING:
    import networkx as nx

    from state.backends.read_ahead import ReadAhead

    from ..stack.model import Stack

# The rest of what a plan needs (the loader, the rules, the graph, networkx) is imported when a plan is
# made: a plan the cache answers (operations.plan_cache) needs none of it.


def plan(request: PlanRequest, hooks: Hooks | None = None) -> PlanResult:
    """Make a plan without changing anything (no lock: a leftover journal is reconciled in memory);
    with `request.out`, save it where `aibplan apply FILE` applies it once. A plan that proposes nothing is
    kept, and the same plan asked again is answered from it once the cloud answers as it did
    (operations.plan_cache)."""
    hooks = hooks or Hooks()
    request.check()
    # What a plan makes lives until it ends, without cycles: the modules it imports, the stack, the state,
    # the cloud's bodies and the plan (planner.collector).
    with collector_paused():
        settings = _settings(request.stack)
        if request.out is None and settings is not None:
            kept = _kept_plan(settings, request, hooks)
            if kept is not None:
                return PlanResult(kept)
        with _read_ahead(settings) as ahead:
            return _made_plan(request, hooks, ahead)


def _made_plan(request: PlanRequest, hooks: Hooks, ahead: ReadAhead | None) -> PlanResult:
    from .workspace import checked_plan, external_references, open_stack, provider_for, read_for_plan

    prepared = open_stack(request.stack)
    if request.out is not None:
        from ..planning.saved_plan import out_path_problem

        problem = out_path_problem(request.out, prepared.stack)
        if problem is not None:
            raise OperationError(problem)
    watched = plan_cache.WatchedHooks(hooks)
    with provider_for(prepared.stack, watched) as provider, StackState(prepared.stack, ahead) as store:
        recorder = plan_cache.RecordingProvider(provider)
        # What needs no state is asked of the cloud first: meanwhile the other process, when there is one,
        # reads the state (state.backends.read_ahead).
        external = external_references(prepared, recorder, request)
        state = read_for_plan(store, provider, watched)
        asked: list[bool] = []

        def elsewhere() -> tuple[tuple[str, object], ...]:
            asked.append(True)
            return store.elsewhere()

        the_plan = checked_plan(prepared, recorder, state, request, elsewhere, external)  # type: ignore[arg-type]
        if request.out is None and not watched.spoke and not asked:
            plan_cache.keep(prepared.stack, request, the_plan, store.session.text, recorder)
    if request.out is None:
        return PlanResult(the_plan)
    from ..plans.saved import PlanOptions, save_plan

    options = PlanOptions(
        variables=request.stack.variables,
        var_files=tuple(str(f) for f in request.stack.var_files),
        provider=request.stack.provider,
        environment=prepared.stack.config.environment,
        refresh=request.refresh,
        destroy=request.destroy,
        refresh_only=request.refresh_only,
        targets=request.targets,
        replace=request.replace,
    )
    try:
        saved = save_plan(request.out, the_plan, prepared.stack.root, options)
    except OSError as exc:
        raise OperationError(f"cannot write the plan to {request.out}: {exc.strerror or exc}") from None
    return PlanResult(the_plan, saved)


@contextlib.contextmanager
def _read_ahead(settings: Stack | None) -> Iterator[ReadAhead | None]:
    """The local state read and parsed in a child while this process loads the stack (a second core's
    work: state.backends.read_ahead), for StackState; the child is stopped at the end, taken or not."""
    ahead = StackState.read_ahead(settings) if settings is not None else None
    try:
        yield ahead
    finally:
        if ahead is not None:
            ahead.close()


def _settings(stack: StackRequest) -> Stack | None:
    """The stack's settings alone (aibplan.json and its environment, no resource), or None when they
    cannot be read: loading the stack then says why."""
    from .stack_settings import settings_only

    try:
        settings = settings_only(stack.root, stack.environment)
    except (StackRejected, EngineError):
        return None
    if stack.provider is not None:
        settings = replace(settings, config=replace(settings.config, provider=stack.provider))
    return settings


def _kept_plan(settings: Stack, request: PlanRequest, hooks: Hooks) -> Plan | None:
    """The plan the cache keeps for this request, when nothing it read has changed (else None)."""
    if not plan_cache.cache_path(settings).is_file():
        return None
    try:
        with StackState(settings) as store:
            if store.session.holder() is not None or store.has_journal():
                return None
            return plan_cache.answered(
                settings, request, store.session.read_text, lambda: open_provider(settings, hooks)
            )
    except (EngineError, StateError, OSError):
        return None


def show_saved_plan(path: Path) -> SavedPlanShown:
    """A plan file read back, as it would be applied (the stack, the state and the cloud are not read)."""
    from ..plans.saved import SavedPlanError, load_saved_plan

    try:
        return SavedPlanShown(load_saved_plan(path), path)
    except SavedPlanError as exc:
        raise OperationError(str(exc)) from None


def graph(request: StackRequest) -> nx.DiGraph:
    """The stack's dependency graph (resources, external references, regions), each edge with its reason."""
    from ..stack.kept_graph import as_networkx
    from .workspace import open_stack

    return as_networkx(open_stack(request).graph)


def drift(request: DriftRequest, hooks: Hooks | None = None) -> DriftResult:
    """The cloud against the state, read-only (the stack is loaded but not validated: drift is about the
    state and the cloud)."""
    with _read_ahead(_settings(request.stack)) as ahead:
        return _drift(request, hooks or Hooks(), ahead)


def _drift(request: DriftRequest, hooks: Hooks, ahead: ReadAhead | None) -> DriftResult:
    from providers.base import ProviderError

    from ..planning.drift import stack_drift
    from ..planning.elsewhere import unseen_in_report
    from ..stack.loader import load_stack
    from .provider_errors import one_line
    from .workspace import read_for_plan

    loaded, diagnostics = load_stack(
        request.stack.root,
        environment=request.stack.environment,
        variables=request.stack.variables,
        var_files=request.stack.var_files,
        provider=request.stack.provider,
    )
    if loaded is None:
        raise StackRejected(diagnostics)
    provider = open_provider(loaded, hooks)
    try:
        with StackState(loaded, ahead) as store:
            state = read_for_plan(store, provider, hooks)
            report = stack_drift(loaded, state, provider, include_unmanaged=request.include_unmanaged)
            if report.drift:
                report = unseen_in_report(report, state, store.elsewhere())
    except ProviderError as exc:
        raise OperationError(f"reading the cloud failed: {one_line(exc)}") from None
    finally:
        provider.close()
    return DriftResult(report)
