"""`plan` (and `plan --out`), `show PLANFILE` and `drift`: the read-only operations."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from providers.base import ProviderError

from ..execution.engine import open_provider
from ..execution.state_access import StackState
from ..hooks import Hooks
from ..planning.drift import stack_drift
from ..planning.elsewhere import unseen_in_report
from ..planning.saved_plan import out_path_problem
from ..plans.saved import PlanOptions, SavedPlanError, load_saved_plan, save_plan
from ..rules.validate import collector_paused
from ..stack.loader import load_stack
from .control import OperationError, StackRejected
from .provider_errors import one_line
from .requests import DriftRequest, PlanRequest, StackRequest
from .results import DriftResult, PlanResult, SavedPlanShown
from .workspace import checked_plan, open_stack, provider_for, read_for_plan


def plan(request: PlanRequest, hooks: Hooks | None = None) -> PlanResult:
    """Make a plan without changing anything (no lock: a leftover journal is reconciled in memory);
    with `request.out`, save it where `aibplan apply FILE` applies it once."""
    hooks = hooks or Hooks()
    request.check()
    prepared = open_stack(request.stack)
    if request.out is not None:
        problem = out_path_problem(request.out, prepared.stack)
        if problem is not None:
            raise OperationError(problem)
    with (
        provider_for(prepared.stack, hooks) as provider,
        StackState(prepared.stack) as store,
        collector_paused(),  # as while loading: the state and the plan are long-lived, without cycles
    ):
        state = read_for_plan(store, provider, hooks)
        the_plan = checked_plan(prepared, provider, state, request, store.elsewhere)
    if request.out is None:
        return PlanResult(the_plan)
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


def show_saved_plan(path: Path) -> SavedPlanShown:
    """A plan file read back, as it would be applied (the stack, the state and the cloud are not read)."""
    try:
        return SavedPlanShown(load_saved_plan(path), path)
    except SavedPlanError as exc:
        raise OperationError(str(exc)) from None


def graph(request: StackRequest) -> nx.DiGraph:
    """The stack's dependency graph (resources, external references, regions), each edge with its reason."""
    return open_stack(request).graph


def drift(request: DriftRequest, hooks: Hooks | None = None) -> DriftResult:
    """The cloud against the state, read-only (the stack is loaded but not validated: drift is about the
    state and the cloud)."""
    hooks = hooks or Hooks()
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
        with StackState(loaded) as store:
            state = read_for_plan(store, provider, hooks)
            report = stack_drift(loaded, state, provider, include_unmanaged=request.include_unmanaged)
            if report.drift:
                report = unseen_in_report(report, state, store.elsewhere())
    except ProviderError as exc:
        raise OperationError(f"reading the cloud failed: {one_line(exc)}") from None
    finally:
        provider.close()
    return DriftResult(report)
