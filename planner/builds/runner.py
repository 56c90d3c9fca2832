"""Start, follow and cancel image builds through any provider, in order, and keep the state's build records
current.

A build is started with the template's Run action and followed by reading the template's lastRunStatus
(`follower`); what it reports is written into the state as it comes (`recorder`). Builds are walked in
`build_order`: a failed build skips the builds that start from its image.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace

import networkx as nx

from providers.base import Provider, ProviderError

from ..hooks import Hooks
from ..walk import walk
from .follower import Follower
from .order import build_order
from .outcome import (
    CANCELED,
    CANCELING,
    ERROR,
    FAILED,
    PARTIALLY_SUCCEEDED,
    RUNNING,
    SKIPPED,
    STARTED,
    BuildOutcome,
    BuildReport,
    BuildSettings,
    BuildTarget,
)
from .record import RunOutput, RunStatus
from .state_updates import BuildRecorder

_DEFAULTS = BuildSettings()


class BuildFailed(Exception):
    """Raised inside the walk so that the builds depending on this one are skipped."""

    def __init__(self, outcome: BuildOutcome) -> None:
        super().__init__(outcome.summary())
        self.outcome = outcome


def run_builds(
    targets: Sequence[BuildTarget],
    provider: Provider,
    recorder: BuildRecorder,
    *,
    hooks: Hooks | None = None,
    settings: BuildSettings = _DEFAULTS,
    stop: threading.Event | None = None,
) -> BuildReport:
    """Build `targets` in order; with `settings.wait` off, start the builds nothing else waits on."""
    hooks = hooks or Hooks()
    stop = stop or threading.Event()
    by_address = {t.address: t for t in targets}
    graph = build_order({t.address: t.observed or t.applied for t in targets})
    follower = Follower(provider, recorder, hooks, settings, stop)
    outcomes: dict[str, BuildOutcome] = {}
    lock = threading.Lock()

    def visit(address: str) -> None:
        hooks.build_progress(address, "Starting", "", 0.0)
        outcome = follower.run(by_address[address], follow=settings.wait)
        with lock:
            outcomes[address] = outcome
        hooks.build_ended(address, outcome.result, outcome.elapsed, outcome.summary())
        if not outcome.ok:
            raise BuildFailed(outcome)

    order = graph if settings.wait else graph.subgraph([n for n in graph if graph.in_degree(n) == 0])
    walked = walk(order, visit, parallelism=settings.parallelism, stop=stop)
    report = BuildReport(interrupted=stop.is_set())
    for address in nx.lexicographical_topological_sort(graph):
        if address in outcomes:
            report.outcomes.append(outcomes[address])
            continue
        reason = _skip_reason(graph, address, outcomes, waiting=settings.wait, interrupted=stop.is_set())
        hooks.build_skipped(address, reason)
        report.outcomes.append(BuildOutcome(address, SKIPPED, detail=reason))
    for address, error in walked.failed.items():
        if not isinstance(error, BuildFailed) and address not in outcomes:
            report.outcomes.append(BuildOutcome(address, ERROR, detail=repr(error)))
    return report


def _skip_reason(
    graph: nx.DiGraph, address: str, outcomes: Mapping[str, BuildOutcome], *, waiting: bool, interrupted: bool
) -> str:
    upstream = sorted(a for a in nx.ancestors(graph, address) if a in outcomes and not outcomes[a].ok)
    if upstream:
        first = outcomes[upstream[0]]
        ended = f"ended {first.result}" if first.result != "Skipped" else "was not built"
        if first.status.run_sub_state and first.result in (FAILED, PARTIALLY_SUCCEEDED, CANCELED):
            ended += f" at {first.status.run_sub_state}"
        if first.result in (RUNNING, ERROR):
            ended = (
                f"did not end ({first.detail})"
                if first.result == RUNNING
                else f"was refused ({first.detail})"
            )
        edge = graph.edges[upstream[0], address]["reason"] if graph.has_edge(upstream[0], address) else ""
        return f"not built: the build of {first.address} {ended}" + (f"; {edge}" if edge else "")
    if not waiting:
        producers = sorted(graph.predecessors(address))
        return (
            f"not started: it builds from what {', '.join(producers)} distributes, so it must wait for "
            "that build; run with --wait to build in order"
        )
    if interrupted:
        return "not started: interrupted"
    return "not started"


def cancel_builds(
    targets: Sequence[BuildTarget],
    provider: Provider,
    recorder: BuildRecorder,
    *,
    hooks: Hooks | None = None,
    settings: BuildSettings = _DEFAULTS,
    stop: threading.Event | None = None,
) -> BuildReport:
    """Cancel the builds of `targets`; with `settings.wait`, follow Canceling until the build has ended."""
    hooks = hooks or Hooks()
    stop = stop or threading.Event()
    follower = Follower(provider, recorder, hooks, settings, stop)
    outcomes: dict[str, BuildOutcome] = {}
    lock = threading.Lock()

    def visit(address: str) -> None:
        target = next(t for t in targets if t.address == address)
        outcome = follower.cancel(target, follow=settings.wait)
        if outcome.result == STARTED:
            outcome = replace(outcome, result=CANCELING)
        with lock:
            outcomes[address] = outcome
        hooks.build_ended(address, outcome.result, outcome.elapsed, outcome.summary())

    graph = nx.DiGraph()
    graph.add_nodes_from(t.address for t in targets)
    walk(graph, visit, parallelism=settings.parallelism, stop=stop)
    report = BuildReport(interrupted=stop.is_set())
    report.outcomes.extend(outcomes[t.address] for t in targets if t.address in outcomes)
    return report


def refresh_records(
    targets: Sequence[BuildTarget], provider: Provider, recorder: BuildRecorder
) -> list[BuildOutcome]:
    """Read each template's lastRunStatus and run outputs into the state (`aibplan output --refresh`)."""
    found = []
    for target in targets:
        try:
            body = provider.read(target.ref)
            status = RunStatus.of(body)
            outputs = (
                [RunOutput.from_service(o) for o in provider.list_run_outputs(target.ref)]
                if body is not None
                else []
            )
        except ProviderError as exc:
            found.append(BuildOutcome(target.address, ERROR, detail=str(exc)))
            continue
        if body is None:
            found.append(
                BuildOutcome(target.address, ERROR, detail="the template does not exist in the cloud")
            )
            continue
        recorder.record(target, status, outputs)
        found.append(BuildOutcome(target.address, status.run_state or "", status, tuple(outputs)))
    return found
