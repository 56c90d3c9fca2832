"""Apply progress on stderr: a live line per resource in flight on a terminal, plain lines elsewhere.

On a terminal, rich keeps one line per change in flight at the bottom of the screen with its elapsed
time ("imageTemplate.web: Still creating... [20s elapsed]"), and prints each start, end, retry and skip
above it. Without a terminal (CI logs, pipes) every event is one plain line, and a ticker repeats the
"Still creating..." lines every 10 seconds, as Terraform does.

rich is imported when a live display starts: a command that shows none (a no-op plan, or any command
writing to a pipe) does not load it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from state.redact import redact_output

from ..hooks import Hooks
from ..plans.plan import Plan
from .build_progress import LiveBuildProgress, PlainBuildProgress, Ticking, build_progress
from .common import err, out

if TYPE_CHECKING:
    from rich.console import Console, Group


class ConsoleHooks(Ticking, Hooks):
    """Plain progress lines on stderr, Terraform's words; a ticker says what is still running.

    Lines are written together at most every FLUSH_SECONDS (and at once when the display closes): an apply
    of thousands of resources says two lines for each, and a write and a flush per line, from ten worker
    threads, cost a tenth of the whole apply."""

    FLUSH_SECONDS: ClassVar[float] = 0.1
    _VERBS: ClassVar[dict[str, tuple[str, str]]] = {
        "create": ("Creating...", "Creation complete"),
        "update": ("Modifying...", "Modifications complete"),
        "delete": ("Destroying...", "Destruction complete"),
        "replace (delete)": ("Destroying... (replace)", "Destruction complete"),
        "replace (create)": ("Creating... (replace)", "Creation complete"),
    }

    def __init__(self, tick: float = 10.0) -> None:
        self._running: dict[str, tuple[str, float]] = {}
        self._pending: list[str] = []
        self._written = time.monotonic()
        super().__init__(tick, "aibplan-progress")

    def _say(self, line: str) -> None:
        """Queue a line (under the lock); the queue is written when it has waited long enough."""
        self._pending.append(line)
        now = time.monotonic()
        if now - self._written >= self.FLUSH_SECONDS or self._stop.is_set():
            self._flush(now)

    def _flush(self, now: float) -> None:
        if self._pending:
            text, self._pending = "".join(self._pending), []
            err(text)
        self._written = now

    def _ticker(self) -> None:
        next_tick = time.monotonic() + self._tick
        while not self._stop.wait(self.FLUSH_SECONDS):
            with self._lock:
                now = time.monotonic()
                if now >= next_tick:
                    self.still_going(now)
                    next_tick = now + self._tick
                self._flush(now)

    def close(self) -> None:
        with self._lock:
            self._flush(time.monotonic())
        super().close()

    def still_going(self, now: float) -> None:
        for address, (action, started) in sorted(self._running.items()):
            word = {"create": "creating", "update": "modifying"}.get(action, "destroying")
            self._say(f"{address}: Still {word}... [{int(now - started)}s elapsed]\n")

    def pre_apply(self, address: str, action: str) -> None:
        with self._lock:
            self._running[address] = (action, time.monotonic())
            self._say(f"{address}: {self._VERBS.get(action, (action, ''))[0]}\n")

    def post_apply(self, address: str, action: str, elapsed: float, error: BaseException | None) -> None:
        with self._lock:
            self._running.pop(address, None)
            if error is None:
                self._say(f"{address}: {self._VERBS.get(action, ('', 'Done'))[1]} after {int(elapsed)}s\n")
            else:
                self._say(f"{address}: {action} failed after {int(elapsed)}s\n")

    def skipped(self, address: str, action: str, reason: str) -> None:
        with self._lock:
            self._say(f"{address}: skipped ({reason})\n")

    def retrying(self, address: str, action: str, attempt: int, delay: float, error: BaseException) -> None:
        with self._lock:
            self._say(f"{address}: retrying {action} in {delay:.1f}s (attempt {attempt}): {error}\n")

    def message(self, text: str) -> None:
        with self._lock:
            self._say(text + "\n")
            self._flush(time.monotonic())  # a note is said at once


_STILL = {"create": "creating", "update": "modifying", "replace (create)": "creating"}


class LiveHooks(Hooks):
    """Progress on a terminal, drawn with rich."""

    _VERBS: ClassVar[dict[str, tuple[str, str]]] = ConsoleHooks._VERBS

    def __init__(self, console: Console | None = None, refresh_per_second: float = 4) -> None:
        from rich.console import Console
        from rich.live import Live

        self._console = console or Console(stderr=True, highlight=False)
        self._lock = threading.Lock()
        self._running: dict[str, tuple[str, float]] = {}
        self._live = Live(
            console=self._console,
            get_renderable=self._render,
            refresh_per_second=refresh_per_second,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()
        self._closed = False

    def _render(self) -> Group:
        from rich.console import Group
        from rich.text import Text

        now = time.monotonic()
        with self._lock:
            running = sorted(self._running.items(), key=lambda item: item[1][1])
        lines = []
        for address, (action, started) in running:
            word = _STILL.get(action, "destroying")
            elapsed = int(now - started)
            shown = f"Still {word}..." if elapsed >= 10 else f"{word.capitalize()}..."
            lines.append(Text(f"{address}: {shown} [{elapsed}s elapsed]", style="dim"))
        return Group(*lines)

    def _print(self, text: str, style: str | None = None) -> None:
        from rich.text import Text

        self._console.print(Text(redact_output(text), style=style or ""), soft_wrap=True)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._live.stop()

    def pre_apply(self, address: str, action: str) -> None:
        with self._lock:
            self._running[address] = (action, time.monotonic())
        self._print(f"{address}: {self._VERBS.get(action, (action, ''))[0]}", "bold")

    def post_apply(self, address: str, action: str, elapsed: float, error: BaseException | None) -> None:
        with self._lock:
            self._running.pop(address, None)
        if error is None:
            done = self._VERBS.get(action, ("", "Done"))[1]
            self._print(f"{address}: {done} after {int(elapsed)}s", "green")
        else:
            self._print(f"{address}: {action} failed after {int(elapsed)}s: {error}", "red")

    def skipped(self, address: str, action: str, reason: str) -> None:
        self._print(f"{address}: skipped ({reason})", "yellow")

    def retrying(self, address: str, action: str, attempt: int, delay: float, error: BaseException) -> None:
        self._print(f"{address}: retrying {action} in {delay:.1f}s (attempt {attempt}): {error}", "yellow")

    def message(self, text: str) -> None:
        self._print(text)


def progress_hooks(stream: Any = None, *, color: bool = True) -> ConsoleHooks | LiveHooks:
    """Live progress on a terminal, plain lines otherwise. Call `close()` on the result when done."""
    stream = stream if stream is not None else sys.stderr
    if hasattr(stream, "isatty") and stream.isatty() and os.environ.get("TERM") != "dumb":
        from rich.console import Console

        return LiveHooks(Console(stderr=True, highlight=False, no_color=not color or None))
    return ConsoleHooks()


class CliHooks(Hooks):
    """Everything an operation reports, on the terminal: the plan on stdout when it is ready, apply and
    build progress on stderr (each display started when its first event comes), retries and notes."""

    def __init__(self, show_plan: Callable[[Plan], str] | None = None, *, color: bool = True) -> None:
        self._show_plan = show_plan
        self._color = color
        self._lock = threading.Lock()
        self._apply: ConsoleHooks | LiveHooks | None = None
        self._builds: PlainBuildProgress | LiveBuildProgress | None = None

    def _apply_display(self) -> Hooks:
        with self._lock:
            if self._apply is None:
                self._apply = progress_hooks(color=self._color)
            return self._apply

    def _build_display(self) -> Hooks:
        with self._lock:
            if self._builds is None:
                if self._apply is not None:
                    self._apply.close()
                self._builds = build_progress(color=self._color)
            return self._builds

    def _current(self) -> Hooks | None:
        with self._lock:
            return self._builds or self._apply

    def close(self) -> None:
        with self._lock:
            for display in (self._apply, self._builds):
                if display is not None:
                    display.close()

    def plan_ready(self, plan: Plan) -> None:
        if self._show_plan is not None:
            out(self._show_plan(plan))

    def pre_apply(self, address: str, action: str) -> None:
        self._apply_display().pre_apply(address, action)

    def post_apply(self, address: str, action: str, elapsed: float, error: BaseException | None) -> None:
        self._apply_display().post_apply(address, action, elapsed, error)

    def skipped(self, address: str, action: str, reason: str) -> None:
        self._apply_display().skipped(address, action, reason)

    def retrying(self, address: str, action: str, attempt: int, delay: float, error: BaseException) -> None:
        current = self._current()
        if current is not None:
            current.retrying(address, action, attempt, delay, error)
        else:
            err(f"{address}: retrying {action} in {delay:.1f}s (attempt {attempt}): {error}\n")

    def message(self, text: str) -> None:
        current = self._current()
        if current is not None:
            current.message(text)
        else:
            err(text + "\n")

    def build_progress(self, address: str, run_state: str, sub_state: str, elapsed: float) -> None:
        self._build_display().build_progress(address, run_state, sub_state, elapsed)

    def build_ended(self, address: str, result: str, elapsed: float, summary: str) -> None:
        self._build_display().build_ended(address, result, elapsed, summary)

    def build_skipped(self, address: str, reason: str) -> None:
        self._build_display().build_skipped(address, reason)
