"""What a build run is given and what it gives back: the templates to build, how to wait, and per
template the result (one of the result words below), its last lastRunStatus and its run outputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import ResourceRef

from .record import RunOutput, RunStatus, fingerprint

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
    """What became of one template's build: its result (one of the words above), its last lastRunStatus,
    its run outputs, and how long it took."""

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
    """How a build run goes: how many builds at once, and whether and how long to wait for them."""

    parallelism: int = 10
    wait: bool = True
    # Seconds between two reads of a template's lastRunStatus.
    poll_interval: float = 1.0
    # Seconds aibplan waits for all builds before it stops waiting (None: no limit).
    timeout: float | None = None


@dataclass
class BuildReport:
    """What a build run gave back: an outcome per template, and whether it was interrupted."""

    outcomes: list[BuildOutcome] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(o.ok for o in self.outcomes)
