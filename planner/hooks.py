"""How progress leaves the engine: the CLI implements these hooks, tests record them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plans.plan import Plan


class Hooks:
    """No-op base; override what you need. Called from worker threads: implementations must be thread-safe."""

    def plan_ready(self, plan: Plan) -> None:
        """An apply or destroy made (or read) its plan: shown before anything is asked or changed."""

    def pre_apply(self, address: str, action: str) -> None:
        """A provider call for `address` is about to start (`action`: create, update, delete)."""

    def post_apply(self, address: str, action: str, elapsed: float, error: BaseException | None) -> None:
        """The call for `address` ended, successfully when `error` is None."""

    def skipped(self, address: str, action: str, reason: str) -> None:
        """`address` was not attempted (an upstream failure, an interrupt)."""

    def retrying(self, address: str, action: str, attempt: int, delay: float, error: BaseException) -> None:
        """A transient failure; the call is tried again after `delay` seconds."""

    def message(self, text: str) -> None:
        """A line of information for the user (state saved, lock taken, ...)."""

    def build_progress(self, address: str, run_state: str, sub_state: str, elapsed: float) -> None:
        """A build's lastRunStatus changed (runState `Starting` before the Run call is made)."""

    def build_ended(self, address: str, result: str, elapsed: float, summary: str) -> None:
        """aibplan is done with a build: it ended, was started (--no-wait), or aibplan stopped waiting."""

    def build_skipped(self, address: str, reason: str) -> None:
        """A build was not started (an upstream build failed, an interrupt, --no-wait ordering)."""


class RecordingHooks(Hooks):
    """Keeps every event in order; used by tests and by the JSON output."""

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self.events: list[tuple[str, ...]] = []

    def _add(self, *event: str) -> None:
        with self._lock:
            self.events.append(event)

    def plan_ready(self, plan: Plan) -> None:
        summary = plan.summary
        self._add(
            "plan",
            f"{summary.add} add, {summary.change} change, {summary.replace} replace, "
            f"{summary.destroy} destroy",
        )

    def pre_apply(self, address: str, action: str) -> None:
        self._add("pre", address, action)

    def post_apply(self, address: str, action: str, elapsed: float, error: BaseException | None) -> None:
        self._add("post", address, action, "ok" if error is None else f"error: {error}")

    def skipped(self, address: str, action: str, reason: str) -> None:
        self._add("skipped", address, action, reason)

    def retrying(self, address: str, action: str, attempt: int, delay: float, error: BaseException) -> None:
        self._add("retry", address, action, str(attempt))

    def message(self, text: str) -> None:
        self._add("message", text)

    def build_progress(self, address: str, run_state: str, sub_state: str, elapsed: float) -> None:
        self._add("build", address, run_state, sub_state)

    def build_ended(self, address: str, result: str, elapsed: float, summary: str) -> None:
        self._add("build-ended", address, result, summary)

    def build_skipped(self, address: str, reason: str) -> None:
        self._add("build-skipped", address, reason)
