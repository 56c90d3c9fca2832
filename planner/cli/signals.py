"""Signals, as a person at a terminal, a CI runner cancelling a job (SIGTERM) or a closed terminal (SIGHUP)
sends them.

While an operation makes its changes (apply, destroy, run, cancel: `Stop.changing`), `interruptible`
turns the first SIGINT, SIGTERM or SIGHUP into a stop request: no new call starts, those in flight
finish and are recorded, the state lock is released, and the command exits 128 + the signal's number
(130, 143, 129) with a message. A second signal leaves at once, after releasing the lock; the journal
knows what was in flight and the next command reconciles it. Before the changes start (while the plan
is made, while the question is asked) nothing is in flight: the first signal unwinds the command, as
below.

Elsewhere (`guarded`, around every command) SIGTERM and SIGHUP unwind the command as Ctrl-C does, so
that a lock it holds is released on the way out, and exit 143 or 129.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .common import err

if TYPE_CHECKING:
    from ..operations import Stop

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_NAMES: dict[int, str] = {signal.SIGINT: "Interrupt", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}


def exit_code(signum: int) -> int:
    return 128 + signum


class Terminated(BaseException):
    """SIGTERM or SIGHUP outside an interruptible operation: unwinds the command (locks released)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Interrupts:
    """The signals received while an operation ran: the first one decides the exit code."""

    def __init__(self, stop: Stop) -> None:
        self.stop = stop
        self.first: int | None = None

    @property
    def exit_code(self) -> int:
        return exit_code(self.first if self.first is not None else signal.SIGINT)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def interruptible(
    stop: Stop, *, what: str = "changes", on_abort: Callable[[], None] | None = None
) -> Iterator[Interrupts]:
    """First signal: `stop.request()`. Second: `on_abort()` (the front end's own: close the progress
    display), `stop.abort()` (the operation's: release the lock), then leave at once."""
    received = Interrupts(stop)
    if not _in_main_thread():
        yield received
        return

    def handler(signum: int, frame: Any) -> None:
        if received.first is None and not stop.changing:
            # Nothing is in flight (a plan being made, a question asked): unwind, releasing the lock.
            received.first = signum
            raise KeyboardInterrupt if signum == signal.SIGINT else Terminated(signum)
        if received.first is not None:
            if on_abort is not None:
                with contextlib.suppress(Exception):
                    on_abort()
            stop.abort()
            err("\nSecond interrupt: leaving now; the next command reconciles what was in flight.\n")
            os._exit(received.exit_code)
        received.first = signum
        stop.request()
        name = _NAMES.get(signum, "Signal")
        err(f"\n{name} received: no new {what} will start; waiting for those in flight...\n")

    previous = {signum: signal.signal(signum, handler) for signum in SIGNALS}
    try:
        yield received
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """SIGTERM and SIGHUP raise Terminated in the main thread while the block runs (see the module)."""
    if not _in_main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated(signum)

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
