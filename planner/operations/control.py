"""What a front end hands an operation besides its request, and what an operation raises.

- `Confirm`: asked before anything changes (the question in words); True goes ahead.
- `Stop`: a front end's way to stop an operation. While the operation makes changes (`changing` is
  true: apply's calls, builds), `request()` (a first Ctrl-C, SIGTERM, SIGHUP) stops new calls from
  starting while those in flight finish and are recorded; before that a front end may simply unwind
  the operation instead (nothing is in flight). `abort()` (a second signal) runs what the operation
  registered to leave nothing behind (the state lock released) before the front end leaves at once.
  Operations pass `Stop.event` down to the walks.
- `OperationError`: the operation stopped before it changed anything it should not have; the message
  is one line (with `details` to say first), the state holds whatever was done.
- `StackRejected`: the stack's diagnostics stop the way (a loader or rule error, a missing referenced
  resource found while planning).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence

from ..diagnostics import Diagnostic, EngineError, Severity

Confirm = Callable[[str], bool]


def always(question: str) -> bool:
    """The confirmation of `--auto-approve` (and of a saved plan, which was approved when it was made)."""
    return True


class Stop:
    """A stop request shared by a front end and the operation it runs (thread-safe)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._lock = threading.Lock()
        self._cleanups: list[Callable[[], None]] = []
        self._changing = 0

    @property
    def changing(self) -> bool:
        """Whether the operation is making changes now (calls in flight that a stop must let finish)."""
        return self._changing > 0

    @contextlib.contextmanager
    def making_changes(self) -> Iterator[None]:
        with self._lock:
            self._changing += 1
        try:
            yield
        finally:
            with self._lock:
                self._changing -= 1

    def request(self) -> None:
        self.event.set()

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    @contextlib.contextmanager
    def on_abort(self, cleanup: Callable[[], None]) -> Iterator[None]:
        """Run `cleanup` if the front end aborts while the block runs (a held lock's release)."""
        with self._lock:
            self._cleanups.append(cleanup)
        try:
            yield
        finally:
            with self._lock:
                if cleanup in self._cleanups:
                    self._cleanups.remove(cleanup)

    def abort(self) -> None:
        """Run the registered cleanups, newest first; each at most once, errors ignored."""
        self.request()
        with self._lock:
            cleanups, self._cleanups = list(reversed(self._cleanups)), []
        for cleanup in cleanups:
            with contextlib.suppress(Exception):
                cleanup()


class OperationError(EngineError):
    """An operation stopped; `details` are lines to say before the message (e.g. each blocking change)."""

    def __init__(self, message: str, *, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.details = tuple(details)


class StackRejected(OperationError):
    """Diagnostics stop the way: the stack (or what the plan found in the cloud) has errors."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        errors = sum(d.severity is Severity.ERROR for d in diagnostics)
        super().__init__(f"{errors} error(s) stop aibplan here; fix them and run again.")
        self.diagnostics = tuple(diagnostics)
