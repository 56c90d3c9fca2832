"""Apply progress on stderr: a live line per resource in flight on a terminal, plain lines elsewhere.

On a terminal, rich keeps one line per change in flight at the bottom of the screen with its elapsed
time ("imageTemplate.web: Still creating... [20s elapsed]"), and prints each start, end, retry and skip
above it. Without a terminal (CI logs, pipes) every event is one plain line, and a ticker repeats the
"Still creating..." lines every 10 seconds, as Terraform does.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, ClassVar

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from state.redact import redact_output

from ..hooks import Hooks
from .common import err


class ConsoleHooks(Hooks):
    """Plain progress lines on stderr, Terraform's words; a ticker says what is still running."""

    _VERBS: ClassVar[dict[str, tuple[str, str]]] = {
        "create": ("Creating...", "Creation complete"),
        "update": ("Modifying...", "Modifications complete"),
        "delete": ("Destroying...", "Destruction complete"),
        "replace (delete)": ("Destroying... (replace)", "Destruction complete"),
        "replace (create)": ("Creating... (replace)", "Creation complete"),
    }

    def __init__(self, tick: float = 10.0) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._tick = tick
        self._thread = threading.Thread(target=self._ticker, daemon=True, name="aibplan-progress")
        self._thread.start()

    def close(self) -> None:
        self._stop.set()

    def _ticker(self) -> None:
        while not self._stop.wait(self._tick):
            with self._lock:
                now = time.monotonic()
                for address, (action, started) in sorted(self._running.items()):
                    word = {"create": "creating", "update": "modifying"}.get(action, "destroying")
                    err(f"{address}: Still {word}... [{int(now - started)}s elapsed]\n")

    def pre_apply(self, address: str, action: str) -> None:
        with self._lock:
            self._running[address] = (action, time.monotonic())
            err(f"{address}: {self._VERBS.get(action, (action, ''))[0]}\n")

    def post_apply(self, address: str, action: str, elapsed: float, error: BaseException | None) -> None:
        with self._lock:
            self._running.pop(address, None)
            if error is None:
                err(f"{address}: {self._VERBS.get(action, ('', 'Done'))[1]} after {int(elapsed)}s\n")
            else:
                err(f"{address}: {action} failed after {int(elapsed)}s\n")

    def skipped(self, address: str, action: str, reason: str) -> None:
        with self._lock:
            err(f"{address}: skipped ({reason})\n")

    def retrying(self, address: str, action: str, attempt: int, delay: float, error: BaseException) -> None:
        with self._lock:
            err(f"{address}: retrying {action} in {delay:.1f}s (attempt {attempt}): {error}\n")

    def message(self, text: str) -> None:
        with self._lock:
            err(text + "\n")


_STILL = {"create": "creating", "update": "modifying", "replace (create)": "creating"}


class LiveHooks(Hooks):
    """Progress on a terminal, drawn with rich."""

    _VERBS: ClassVar[dict[str, tuple[str, str]]] = ConsoleHooks._VERBS

    def __init__(self, console: Console | None = None, refresh_per_second: float = 4) -> None:
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


def progress_hooks(stream: Any = None) -> Hooks:
    """Live progress on a terminal, plain lines otherwise. Call `close()` on the result when done."""
    stream = stream if stream is not None else sys.stderr
    if hasattr(stream, "isatty") and stream.isatty() and os.environ.get("TERM") != "dumb":
        return LiveHooks()
    return ConsoleHooks()


def close_hooks(hooks: Hooks) -> None:
    closer = getattr(hooks, "close", None)
    if callable(closer):
        closer()
