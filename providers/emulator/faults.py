"""Faults the ARM emulator injects into its answers: throttling, server errors, or any ARM error.

A fault matches requests by method and by a piece of the path, fires with a probability (from a seeded
generator, so a run can be repeated) and at most a number of times. It is answered before the request
reaches the simulated service, so nothing changes when a fault fires, as with Azure's own throttling;
except a lost answer (`answer_lost`), which is the other way round: the request is carried out and
committed, then the connection is reset without an answer, as when a network drops a reply.
Retry-After is sent as given: `aibplan emulator` gives whole seconds, as HTTP and Azure do; tests give
fractions to stay fast (aibplan's clients read either).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Fault:
    """One kind of failure and which requests it hits."""

    status: int
    code: str
    message: str
    rate: float = 1.0
    times: int | None = None
    methods: frozenset[str] = frozenset()
    path_contains: str = ""
    retry_after: float | None = None
    target: str | None = None
    # Carry the request out, then reset the connection instead of answering (status and code unused).
    answer_lost: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.methods and method.upper() not in self.methods:
            return False
        return self.path_contains.lower() in path.lower()


def throttling(rate: float, retry_after: float = 1.0, **match: object) -> Fault:
    """429 TooManyRequests with Retry-After, as ARM answers when a subscription's request budget is spent."""
    return Fault(
        429,
        "TooManyRequests",
        "The request is being throttled as the limit has been reached for operation type. "
        f"Please retry after {retry_after:g} seconds.",
        rate=rate,
        retry_after=retry_after,
        **match,  # type: ignore[arg-type]
    )


def answer_lost(**match: object) -> Fault:
    """The request is carried out and committed; its answer never arrives (the connection is reset)."""
    return Fault(
        0,
        "AnswerLost",
        "The connection was reset after the request was carried out.",
        answer_lost=True,
        **match,  # type: ignore[arg-type]
    )


def server_error(rate: float, status: int = 500, **match: object) -> Fault:
    """A transient 5xx, the kind ARM asks clients to retry."""
    code = {500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable"}.get(
        status, "ServerError"
    )
    return Fault(
        status,
        code,
        "The server encountered an internal error; please retry the request.",
        rate=rate,
        **match,  # type: ignore[arg-type]
    )


@dataclass
class _Armed:
    """A fault in force, and how many more times it may fire (None: no limit)."""

    fault: Fault
    remaining: int | None


@dataclass
class FaultPlan:
    """The faults in force; thread-safe. `injected` counts what fired by status code, `fired` lists
    (method, path, status) in order."""

    seed: int = 0
    injected: Counter[int] = field(default_factory=Counter)
    fired: list[tuple[str, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(self.seed)
        self._armed: list[_Armed] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._armed.append(_Armed(fault, fault.times))
        return fault

    def remove(self, fault: Fault) -> None:
        with self._lock:
            self._armed = [a for a in self._armed if a.fault is not fault]

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault that hits this request, if any (the first matching rule that fires)."""
        with self._lock:
            for armed in self._armed:
                if armed.remaining == 0 or not armed.fault.matches(method, path):
                    continue
                if armed.fault.rate < 1.0 and self._random.random() >= armed.fault.rate:
                    continue
                if armed.remaining is not None:
                    armed.remaining -= 1
                self.injected[armed.fault.status] += 1
                self.fired.append((method.upper(), path, armed.fault.status))
                return armed.fault
        return None
