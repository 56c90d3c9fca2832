"""One template's build started (or found) and followed through its lastRunStatus.

The Run call may return at once (the local cloud) or only when the build ends (a provider that waits for
the long-running operation), so it is made on a thread of its own and never relied on for progress.
"""

from __future__ import annotations

import threading
import time

from providers.base import ConflictError, Provider, ProviderError, TransientError

from ..hooks import Hooks
from .outcome import ERROR, FAILED, NOT_RUNNING, RUNNING, STARTED, BuildOutcome, BuildSettings, BuildTarget
from .record import RunOutput, RunStatus
from .state_updates import BuildRecorder

# Reads after the Run call returned within which the new build must show in lastRunStatus.
_POLLS_FOR_A_NEW_BUILD = 100


class Follower:
    """Starts (or finds) one template's build and follows it until it ends or aibplan stops waiting."""

    def __init__(
        self,
        provider: Provider,
        recorder: BuildRecorder,
        hooks: Hooks,
        settings: BuildSettings,
        stop: threading.Event,
    ) -> None:
        self.provider = provider
        self.recorder = recorder
        self.hooks = hooks
        self.settings = settings
        # When aibplan stops waiting for the builds this follower follows (settings.timeout from now).
        self.deadline = None if settings.timeout is None else time.monotonic() + settings.timeout
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
