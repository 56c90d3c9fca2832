"""An image build as AIB runs it, reduced to a pure state machine in simulated minutes.

A build is fixed when it starts: its steps (runSubState values and how many simulated minutes each
takes), its timeout, and a failure a tester asked for. Its status at any moment follows from the
minutes elapsed since it started and when (if ever) a cancel arrived, so nothing has to run in the
background and every reader computes the same answer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

QUEUED = "Queued"
BUILDING = "Building"
CUSTOMIZING = "Customizing"
VALIDATING = "Validating"
OPTIMIZING = "Optimizing"
DISTRIBUTING = "Distributing"
# Steps a tester can make a build fail at (`aibplan sim build-fail --step`).
FAILABLE_STEPS = (BUILDING, CUSTOMIZING, VALIDATING, OPTIMIZING, DISTRIBUTING)

RUNNING = "Running"
CANCELING = "Canceling"
SUCCEEDED = "Succeeded"
PARTIALLY_SUCCEEDED = "PartiallySucceeded"
FAILED = "Failed"
CANCELED = "Canceled"
ENDED_STATES = (SUCCEEDED, PARTIALLY_SUCCEEDED, FAILED, CANCELED)

DEFAULT_TIMEOUT_MINUTES = 240
CANCEL_MINUTES = 3.0
# The service's words when buildTimeoutInMinutes runs out (the AIB reference, buildTimeoutInMinutes).
TIMEOUT_MESSAGE = (
    "Failed while waiting for packerizer: Timeout waiting for microservice to complete: "
    "'context deadline exceeded'"
)
CANCELED_MESSAGE = "The build was canceled by a cancel request; resources it made are being cleaned up."

_CUSTOMIZER_MINUTES = {
    "Shell": 2.0,
    "PowerShell": 2.0,
    "File": 1.0,
    "WindowsRestart": 3.0,
    "WindowsUpdate": 15.0,
}
_DEFAULT_FAILURES = {
    BUILDING: "Failed to create the build virtual machine: the source image could not be provisioned "
    "(simulated failure)",
    CUSTOMIZING: "Customization failed: [ERROR] Packer build command has failed: Script exited with "
    "non-zero exit status: 1 (simulated failure)",
    VALIDATING: "Validation failed: an in-VM validation exited with non-zero exit status: 1 "
    "(simulated failure)",
    OPTIMIZING: "Optimization failed: the VM boot optimization did not complete (simulated failure)",
    DISTRIBUTING: "Distribution failed: the image could not be published to its distribution targets "
    "(simulated failure)",
}


@dataclass(frozen=True)
class Fault:
    """A failure planted at a step: the step ends with `message`, or never ends (`hang`) until timeout."""

    step: str
    message: str | None = None
    hang: bool = False

    def text(self) -> str:
        return self.message or _DEFAULT_FAILURES.get(self.step, f"{self.step} failed (simulated failure)")


@dataclass(frozen=True)
class BuildPlan:
    """What one build will do, decided when it starts."""

    steps: tuple[tuple[str, float], ...]
    timeout: float
    fault: Fault | None = None

    def to_json(self) -> dict[str, Any]:
        fault = None
        if self.fault is not None:
            fault = {"step": self.fault.step, "message": self.fault.message, "hang": self.fault.hang}
        return {"steps": [list(s) for s in self.steps], "timeout": self.timeout, "fault": fault}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> BuildPlan:
        fault = data.get("fault")
        return BuildPlan(
            steps=tuple((str(name), float(minutes)) for name, minutes in data["steps"]),
            timeout=float(data["timeout"]),
            fault=None
            if not fault
            else Fault(str(fault["step"]), fault.get("message"), bool(fault.get("hang"))),
        )

    @property
    def minutes(self) -> float:
        return sum(minutes for _name, minutes in self.steps)


@dataclass(frozen=True)
class Status:
    """lastRunStatus at one moment; `ended_at` is the simulated minute the run ended (None while running)."""

    run_state: str
    sub_state: str
    message: str = ""
    ended_at: float | None = None

    @property
    def ended(self) -> bool:
        return self.run_state in ENDED_STATES


def steps_for(properties: Mapping[str, Any], fault: Fault | None = None) -> tuple[tuple[str, float], ...]:
    """The runSubStates a template's build passes through and their simulated minutes."""
    validate = properties.get("validate") if isinstance(properties.get("validate"), dict) else {}
    assert isinstance(validate, dict)
    validations = validate.get("inVMValidations") or []
    source_only = bool(validate.get("sourceValidationOnly"))
    steps: list[tuple[str, float]] = [(QUEUED, 1.0), (BUILDING, 4.0)]
    if not source_only:
        customizers = properties.get("customize") or []
        minutes = sum(
            _CUSTOMIZER_MINUTES.get(str(c.get("type")), 2.0) for c in customizers if isinstance(c, dict)
        )
        steps.append((CUSTOMIZING, max(1.0, minutes)))
    if validations or source_only:
        steps.append((VALIDATING, 2.0 + len(validations) if isinstance(validations, list) else 2.0))
    optimize = properties.get("optimize") or {}
    vm_boot = optimize.get("vmBoot") if isinstance(optimize, dict) else None
    if isinstance(vm_boot, dict) and vm_boot.get("state") == "Enabled":
        steps.append((OPTIMIZING, 5.0))
    if not source_only:
        steps.append((DISTRIBUTING, _distribution_minutes(properties.get("distribute") or [])))
    return tuple(steps)


def _distribution_minutes(targets: Sequence[Any]) -> float:
    """Targets are distributed side by side; a gallery version takes longer per extra region."""
    longest = 2.0
    for target in targets:
        if not isinstance(target, dict):
            continue
        kind = str(target.get("type", "")).lower()
        if kind == "sharedimage":
            regions = len(target.get("replicationRegions") or target.get("targetRegions") or [None])
            longest = max(longest, 8.0 + 4.0 * max(0, regions - 1))
        elif kind == "managedimage":
            longest = max(longest, 4.0)
        else:
            longest = max(longest, 3.0)
    return longest


def timeout_minutes(properties: Mapping[str, Any]) -> float:
    """buildTimeoutInMinutes; 0 or absent means the service default, 240 minutes."""
    value = properties.get("buildTimeoutInMinutes")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return float(DEFAULT_TIMEOUT_MINUTES)


def step_at(plan: BuildPlan, minute: float) -> str:
    """The runSubState at a simulated minute of a run that has not ended."""
    elapsed = 0.0
    for name, minutes in plan.steps:
        elapsed += minutes
        if minute < elapsed:
            return name
        if plan.fault is not None and plan.fault.hang and plan.fault.step == name:
            return name
    return plan.steps[-1][0]


def natural_end(plan: BuildPlan) -> tuple[float, str, str, str]:
    """When and how the run ends if nobody cancels it: (minute, runState, runSubState, message)."""
    elapsed = 0.0
    for name, minutes in plan.steps:
        if plan.fault is not None and plan.fault.step == name:
            if plan.fault.hang:
                return math.inf, FAILED, name, plan.fault.text()
            return elapsed + minutes, FAILED, name, plan.fault.text()
        elapsed += minutes
    return elapsed, SUCCEEDED, plan.steps[-1][0], ""


def status_at(plan: BuildPlan, minute: float, canceled_at: float | None = None) -> Status:
    """lastRunStatus `minute` simulated minutes after the start; `canceled_at` is when cancel arrived."""
    end, state, sub_state, message = natural_end(plan)
    if plan.timeout < end:
        end, state, sub_state, message = plan.timeout, FAILED, step_at(plan, plan.timeout), TIMEOUT_MESSAGE
    if canceled_at is not None and canceled_at < end:
        stopped_in = step_at(plan, canceled_at)
        if minute < canceled_at + CANCEL_MINUTES:
            return Status(CANCELING, stopped_in)
        return Status(CANCELED, stopped_in, CANCELED_MESSAGE, canceled_at + CANCEL_MINUTES)
    if minute < end:
        return Status(RUNNING, step_at(plan, minute))
    return Status(state, sub_state, message, end)


def version_key(version: str) -> tuple[int, ...]:
    """Gallery image versions compare as numbers: 0.24105.9 < 0.24105.10."""
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (-1,)


def next_version(existing: Sequence[str], versioning: Mapping[str, Any] | None, when: float) -> str:
    """The version an automatically versioned build publishes, always above every existing one.

    Without `versioning` AIB derives it from the date (0.YYDDD.SECONDS); scheme Latest adds one to the
    patch of the highest version (of `major`, when given).
    """
    keys = sorted((version_key(v) for v in existing if version_key(v) != (-1,)), reverse=True)
    if isinstance(versioning, dict) and versioning.get("scheme") == "Latest":
        major = versioning.get("major", -1)
        pool = [k for k in keys if not isinstance(major, int) or major < 0 or k[0] == major]
        if pool:
            top = pool[0]
            return f"{top[0]}.{top[1] if len(top) > 1 else 0}.{(top[2] if len(top) > 2 else 0) + 1}"
        return f"{major}.0.0" if isinstance(major, int) and major >= 0 else "0.0.1"
    moment = time.gmtime(when)
    candidate = (0, (moment.tm_year % 100) * 1000 + moment.tm_yday, int(when) % 86400)
    if keys and candidate <= keys[0]:
        top = keys[0]
        candidate = (top[0], top[1] if len(top) > 1 else 0, (top[2] if len(top) > 2 else 0) + 1)
    return ".".join(str(part) for part in candidate)
