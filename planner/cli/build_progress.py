"""Live build progress on stderr: a rich table redrawn in place on a terminal, plain lines elsewhere
(rich imported when the table is first drawn, as in cli.progress)."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from state.redact import redact_output

from ..hooks import Hooks
from .common import err

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

_DONE_STYLE = {"Succeeded": "green", "Started": "green", "Canceled": "yellow", "NotRunning": "dim"}


@dataclass
class _Row:
    """One template's build as the progress shows it: its runState and step, when it started, how it ended."""

    state: str
    step: str
    started: float
    ended: float | None = None
    result: str | None = None


class Ticking:
    """Plain progress lines with a ticker: every `tick` seconds, `still_going` says what still runs
    (under the lock that the event methods take too)."""

    def __init__(self, tick: float, name: str) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._tick = tick
        self._thread = threading.Thread(target=self._ticker, daemon=True, name=name)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()

    def _ticker(self) -> None:
        while not self._stop.wait(self._tick):
            with self._lock:
                self.still_going(time.monotonic())

    def still_going(self, now: float) -> None:
        """Say what is still running, one line each."""


class PlainBuildProgress(Ticking, Hooks):
    """One line per change of state; a line every `tick` seconds for builds still going."""

    def __init__(self, tick: float = 30.0) -> None:
        self._rows: dict[str, _Row] = {}
        super().__init__(tick, "aibplan-build-progress")

    def still_going(self, now: float) -> None:
        for address, row in sorted(self._rows.items()):
            if row.ended is None and row.state != "Starting":
                seconds = int(now - row.started)
                err(f"{address}: still {row.state.lower()} ({row.step}) [{seconds}s elapsed]\n")

    def build_progress(self, address: str, run_state: str, sub_state: str, elapsed: float) -> None:
        with self._lock:
            row = self._rows.setdefault(address, _Row(run_state, sub_state, time.monotonic() - elapsed))
            row.state, row.step = run_state, sub_state
            if run_state == "Starting":
                err(f"{address}: starting the build...\n")
            else:
                err(f"{address}: {run_state} ({sub_state}) [{int(elapsed)}s elapsed]\n")

    def build_ended(self, address: str, result: str, elapsed: float, summary: str) -> None:
        with self._lock:
            row = self._rows.setdefault(address, _Row(result, "", time.monotonic() - elapsed))
            row.ended, row.result = elapsed, result
            err(f"{address}: {summary} after {int(elapsed)}s\n")

    def skipped(self, address: str, action: str, reason: str) -> None:
        self.build_skipped(address, reason)

    def build_skipped(self, address: str, reason: str) -> None:
        with self._lock:
            err(f"{address}: {reason}\n")

    def message(self, text: str) -> None:
        with self._lock:
            err(text + "\n")


class LiveBuildProgress(Hooks):
    """A table of builds redrawn in place: spinner, runState, runSubState and elapsed time per template."""

    def __init__(self, console: Console) -> None:
        from rich.live import Live

        self._lock = threading.Lock()
        self._rows: dict[str, _Row] = {}
        self._notes: dict[str, str] = {}
        self._console = console
        self._live = Live(self, console=console, refresh_per_second=4, transient=False)
        self._live.start()

    def close(self) -> None:
        self._live.stop()

    def __rich__(self) -> Table:
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for column in ("", "TEMPLATE", "STATE", "STEP", "ELAPSED"):
            table.add_column(column)
        now = time.monotonic()
        with self._lock:
            for address, row in sorted(self._rows.items()):
                if row.ended is None:
                    mark: Any = Spinner("dots")
                    seconds = now - row.started
                    state = Text(row.state)
                else:
                    ok = row.result in _DONE_STYLE
                    mark = Text("✓" if ok else "✗", style=_DONE_STYLE.get(row.result or "", "red"))
                    seconds = row.ended
                    state = Text(row.result or "", style=_DONE_STYLE.get(row.result or "", "red"))
                table.add_row(mark, address, state, row.step or "-", f"{int(seconds)}s")
            for address, note in sorted(self._notes.items()):
                table.add_row(Text("-", style="yellow"), address, Text("Skipped", style="yellow"), "-", note)
        return table

    def build_progress(self, address: str, run_state: str, sub_state: str, elapsed: float) -> None:
        with self._lock:
            row = self._rows.setdefault(address, _Row(run_state, sub_state, time.monotonic() - elapsed))
            row.state, row.step = run_state, sub_state

    def build_ended(self, address: str, result: str, elapsed: float, summary: str) -> None:
        with self._lock:
            row = self._rows.setdefault(address, _Row(result, "", time.monotonic() - elapsed))
            row.ended, row.result = elapsed, result

    def build_skipped(self, address: str, reason: str) -> None:
        with self._lock:
            self._notes[address] = reason if len(reason) < 80 else reason[:77] + "..."

    def message(self, text: str) -> None:
        self._console.print(redact_output(text), markup=False, highlight=False)


def build_progress(*, color: bool = True) -> PlainBuildProgress | LiveBuildProgress:
    """Live on a terminal (stderr), plain lines otherwise."""
    if sys.stderr.isatty():
        from rich.console import Console

        return LiveBuildProgress(Console(stderr=True, no_color=not color or None))
    return PlainBuildProgress()
