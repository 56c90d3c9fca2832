"""Start, follow and cancel image builds through any provider, and keep the state's build records current.

A build is started with the template's Run action and followed by reading the template's lastRunStatus;
the Run call itself may return at once (the local cloud) or only when the build ends (a provider that
waits for the long-running operation), so it is made on a thread of its own and never relied on for
progress. Builds are walked in `build_order`: a failed build skips the builds that start from its image.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import networkx as nx

from providers.base import ConflictError, Provider, ProviderError, ResourceRef, TransientError
from state import State, StateError, load_state, save_state

from ..hooks import Hooks
from ..walk import walk
from .order import build_order
from .record import RunOutput, RunStatus, fingerprint, updated_extra

SUCCEEDED = "Succeeded"
PARTIALLY_SUCCEEDED = "PartiallySucceeded"
FAILED = "Failed"
CANCELED = "Canceled"
STARTED = "Started"  # --no-wait: the build was started and left running
RUNNING = "Running"  # aibplan stopped waiting (timeout, interrupt); the build goes on
SKIPPED = "Skipped"
NOT_RUNNING = "NotRunning"  # cancel: there was no build to cancel
CANCELING = "Canceling"  # cancel without --wait: the cancel was accepted
ERROR = "Error"  # the service refused the Run or Cancel call


@dataclass(frozen=True)
class BuildTarget:
    """A template to build: its address, how to reach it, and the normalised body the state says it has."""

    address: str
    ref: ResourceRef
    applied: Mapping[str, Any]
    # What the service returned when it was applied (the ids as the user spelled them), for messages.
    observed: Mapping[str, Any] | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.applied)


@dataclass(frozen=True)
class BuildOutcome:
    address: str
    result: str
    status: RunStatus = field(default_factory=lambda: RunStatus(None))
    outputs: tuple[RunOutput, ...] = ()
    elapsed: float = 0.0
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.result in (SUCCEEDED, STARTED, NOT_RUNNING, CANCELED, CANCELING)

    def summary(self) -> str:
        """One line on what happened, for skip reasons and errors."""
        if self.result in (FAILED, PARTIALLY_SUCCEEDED, CANCELED) and self.status.run_sub_state:
            text = f"{self.result} at {self.status.run_sub_state}"
            return f"{text}: {self.status.message}" if self.status.message else text
        return f"{self.result}: {self.detail}" if self.detail else self.result


@dataclass(frozen=True)
class BuildSettings:
    parallelism: int = 10
    wait: bool = True
    # Seconds between two reads of a template's lastRunStatus.
    poll_interval: float = 1.0
    # Seconds aibplan waits for all builds before it stops waiting (None: no limit).
    timeout: float | None = None


@dataclass
class BuildReport:
    outcomes: list[BuildOutcome] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(o.ok for o in self.outcomes)


class BuildFailed(Exception):
    """Raised inside the walk so that the builds depending on this one are skipped."""

    def __init__(self, outcome: BuildOutcome) -> None:
        super().__init__(outcome.summary())
        self.outcome = outcome


class BuildRecorder:
    """Writes build facts into the state entries' `extra` as builds start and end (thread-safe).

    A build can outlast other commands (an apply in another terminal), so each write reads the state
    file afresh and changes only the build facts of one entry; the file on disk wins for everything else.
    """

    def __init__(
        self,
        path: Path,
        state: State,
        previous: State | None,
        *,
        guard: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> None:
        self.path = path
        self.state = state
        self._previous = previous
        self._lock = threading.Lock()
        # Taken around each write (the state lock), unless the caller already holds it.
        self._guard = guard
        # Records that could not be written, said in a sentence each.
        self.missed: list[str] = []

    def record(self, target: BuildTarget, status: RunStatus, outputs: Sequence[RunOutput] | None) -> None:
        with self._lock:
            try:
                held = self._guard() if self._guard is not None else nullcontext()
            except Exception as exc:
                self.missed.append(
                    f"{target.address}: the build's {status.run_state} was not recorded in the state "
                    f"({exc}); "
                    "`aibplan output --refresh` records it later"
                )
                return
            with held:
                self._write(target, status, outputs)

    def _write(self, target: BuildTarget, status: RunStatus, outputs: Sequence[RunOutput] | None) -> None:
        current = self._current()
        entry = current.get(target.address)
        if entry is None or entry.arm_id.lower() != target.ref.arm_id.lower():
            return
        extra = updated_extra(entry.extra, status, outputs, target.fingerprint)
        if extra == dict(entry.extra):
            return
        written = save_state(self.path, current.with_resource(replace(entry, extra=extra)), current)
        self.state = written
        self._previous = written

    def _current(self) -> State:
        try:
            on_disk = load_state(self.path)
        except StateError:
            on_disk = None
        if on_disk is None or on_disk.lineage != self.state.lineage:
            return self.state
        self._previous = on_disk
        return on_disk


# Reads after the Run call returned within which the new build must show in lastRunStatus.
_POLLS_FOR_A_NEW_BUILD = 100


class _Follower:
    """Starts (or finds) one template's build and follows it until it ends or aibplan stops waiting."""

    def __init__(
        self,
        provider: Provider,
        recorder: BuildRecorder,
        hooks: Hooks,
        settings: BuildSettings,
        deadline: float | None,
        stop: threading.Event,
    ) -> None:
        self.provider = provider
        self.recorder = recorder
        self.hooks = hooks
        self.settings = settings
        self.deadline = deadline
        self.stop = stop

    def run(self, target: BuildTarget, *, follow: bool) -> BuildOutcome:
        started = time.monotonic()
        try:
            before = RunStatus.of(self.provider.read(target.ref))
        except ProviderError as exc:
            return BuildOutcome(target.address, ERROR, detail=str(exc))
        if before.active:
            self.hooks.message(f"{target.address}: a build is already {before.run_state}; following it")
            return self._follow(target, before, started, follow=follow, prior_start=None)
        failure: list[BaseException] = []
        done = threading.Event()

        def invoke() -> None:
            try:
                self.provider.invoke_action(target.ref, "run")
            except BaseException as exc:  # reported through `failure`, never raised on this thread
                failure.append(exc)
            finally:
                done.set()

        threading.Thread(target=invoke, daemon=True, name=f"aibplan-run-{target.address}").start()
        return self._follow(
            target, before, started, follow=follow, prior_start=before.start_time, invoked=(done, failure)
        )

    def cancel(self, target: BuildTarget, *, follow: bool) -> BuildOutcome:
        started = time.monotonic()
        try:
            before = RunStatus.of(self.provider.read(target.ref))
            if not before.active:
                return BuildOutcome(target.address, NOT_RUNNING, before, detail="no build in progress")
            if before.run_state != "Canceling":
                self.provider.invoke_action(target.ref, "cancel")
        except ConflictError as exc:
            return BuildOutcome(target.address, NOT_RUNNING, detail=exc.message)
        except ProviderError as exc:
            return BuildOutcome(target.address, ERROR, detail=str(exc))
        return self._follow(target, before, started, follow=follow, prior_start=None)

    def _follow(
        self,
        target: BuildTarget,
        before: RunStatus,
        started: float,
        *,
        follow: bool,
        prior_start: str | None,
        invoked: tuple[threading.Event, list[BaseException]] | None = None,
    ) -> BuildOutcome:
        """Poll lastRunStatus. `prior_start` is the start time of the build before ours (None when we
        follow a build that is already ours to follow)."""
        seen: tuple[str | None, str | None] | None = None
        ours = invoked is None
        polls_after_call = 0
        while True:
            try:
                status = RunStatus.of(self.provider.read(target.ref))
            except TransientError:
                status = None
            except ProviderError as exc:
                return BuildOutcome(
                    target.address, ERROR, elapsed=time.monotonic() - started, detail=str(exc)
                )
            if status is not None and not ours and status.run_state and status.start_time != prior_start:
                ours = True
            if not ours and invoked is not None and invoked[0].is_set() and invoked[1]:
                error = invoked[1][0]
                if isinstance(error, ConflictError) and status is not None and status.active:
                    ours = True
                else:
                    detail = str(error) if isinstance(error, ProviderError) else repr(error)
                    return BuildOutcome(
                        target.address, ERROR, elapsed=time.monotonic() - started, detail=detail
                    )
            if not ours and invoked is not None and invoked[0].is_set():
                polls_after_call += 1
                if polls_after_call > _POLLS_FOR_A_NEW_BUILD:
                    detail = "the Run call was accepted but no new build appeared in lastRunStatus"
                    return BuildOutcome(
                        target.address, ERROR, elapsed=time.monotonic() - started, detail=detail
                    )
            if ours and status is not None:
                elapsed = time.monotonic() - started
                if seen is None:
                    self.recorder.record(target, status, [] if status.active else None)
                if (status.run_state, status.run_sub_state) != seen:
                    seen = (status.run_state, status.run_sub_state)
                    self.hooks.build_progress(
                        target.address, status.run_state or "", status.run_sub_state or "", elapsed
                    )
                if status.ended:
                    return self._ended(target, status, elapsed)
                if not follow:
                    return BuildOutcome(target.address, STARTED, status, elapsed=elapsed)
            if self.stop.is_set() or (self.deadline is not None and time.monotonic() >= self.deadline):
                why = "interrupted" if self.stop.is_set() else "aibplan stopped waiting (--timeout)"
                last = status or before
                return BuildOutcome(
                    target.address,
                    RUNNING,
                    last,
                    elapsed=time.monotonic() - started,
                    detail=f"{why}; the build goes on in the cloud",
                )
            self.stop.wait(self.settings.poll_interval)

    def _ended(self, target: BuildTarget, status: RunStatus, elapsed: float) -> BuildOutcome:
        try:
            outputs = [RunOutput.from_service(o) for o in self.provider.list_run_outputs(target.ref)]
        except ProviderError:
            outputs = []
        self.recorder.record(target, status, outputs)
        result = status.run_state or FAILED
        return BuildOutcome(target.address, result, status, tuple(outputs), elapsed)


def run_builds(
    targets: Sequence[BuildTarget],
    provider: Provider,
    recorder: BuildRecorder,
    *,
    hooks: Hooks | None = None,
    settings: BuildSettings = BuildSettings(),
    stop: threading.Event | None = None,
) -> BuildReport:
    """Build `targets` in order; with `settings.wait` off, start the builds nothing else waits on."""
    hooks = hooks or Hooks()
    stop = stop or threading.Event()
    by_address = {t.address: t for t in targets}
    graph = build_order({t.address: t.observed or t.applied for t in targets})
    deadline = None if settings.timeout is None else time.monotonic() + settings.timeout
    follower = _Follower(provider, recorder, hooks, settings, deadline, stop)
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
    settings: BuildSettings = BuildSettings(),
    stop: threading.Event | None = None,
) -> BuildReport:
    """Cancel the builds of `targets`; with `settings.wait`, follow Canceling until the build has ended."""
    hooks = hooks or Hooks()
    stop = stop or threading.Event()
    deadline = None if settings.timeout is None else time.monotonic() + settings.timeout
    follower = _Follower(provider, recorder, hooks, settings, deadline, stop)
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
