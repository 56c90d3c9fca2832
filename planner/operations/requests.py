"""What the operations that change something (apply, builds, imports, state edits, generate) are asked to do,
as frozen values a front end fills in from its arguments; the read-only operations' requests are in
read_only.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..execution.timeouts import DEFAULT_CANCEL_TIMEOUT
from .read_only import PlanRequest, StackRequest


@dataclass(frozen=True)
class ApplyOptions:
    """How a plan is carried out, whether it was just made or saved: the same for apply and destroy."""

    parallelism: int = 10
    allow_vhd_loss: bool = False
    cancel_timeout: float = DEFAULT_CANCEL_TIMEOUT
    # Seconds to wait for another aibplan holding the state lock (0: fail at once).
    lock_timeout: float = 0.0
    # `--run`: build every template the apply created or replaced, once it succeeded.
    build: bool = False
    # `--run --ignore-permissions`: build even when a template's identity lacks a permission (AIB91xx).
    ignore_permissions: bool = False


@dataclass(frozen=True)
class ApplyRequest:
    """Make a plan and carry it out (destroy is `plan.destroy`; refresh-only is `plan.refresh_only`)."""

    plan: PlanRequest = field(default_factory=PlanRequest)
    options: ApplyOptions = field(default_factory=ApplyOptions)


@dataclass(frozen=True)
class SavedApplyRequest:
    """Carry out the plan saved in `path` exactly, or refuse when it no longer fits."""

    path: Path
    options: ApplyOptions = field(default_factory=ApplyOptions)
    # The environment asked for (--env, AIBPLAN_ENV): it must be the one the plan was made for.
    environment: str | None = None
    # The secret `--var`s the plan file keeps only as fingerprints, given again (NAME, VALUE).
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BuildRequest:
    """Build (run) or cancel image templates: all of the stack's when `addresses` is empty (run only)."""

    stack: StackRequest = field(default_factory=StackRequest)
    addresses: tuple[str, ...] = ()
    wait: bool = True
    # Minutes to wait for the builds before giving up waiting (None: no limit).
    timeout_minutes: float | None = None
    parallelism: int = 10
    lock_timeout: float = 0.0
    # Start builds even when a template's identity lacks a permission the build needs (AIB91xx).
    ignore_permissions: bool = False


@dataclass(frozen=True)
class OutputsRequest:
    """The run outputs of image templates (all of the stack's when `addresses` is empty)."""

    stack: StackRequest = field(default_factory=StackRequest)
    addresses: tuple[str, ...] = ()
    # Read them from the cloud first and save them to the state.
    refresh: bool = False
    lock_timeout: float = 0.0


@dataclass(frozen=True)
class ImportRequest:
    """Track an existing cloud resource as `address`, which the stack declares: the resource with
    `arm_id`, or (None) the one at the id the stack gives that address."""

    stack: StackRequest
    address: str
    arm_id: str | None = None
    lock_timeout: float = 0.0


@dataclass(frozen=True)
class ImportAllRequest:
    """`import --all`: track every resource the stack declares that exists and the state does not know."""

    stack: StackRequest = field(default_factory=StackRequest)
    lock_timeout: float = 0.0


@dataclass(frozen=True)
class StateEditRequest:
    """`state rm ADDRESS` (no `target`) or `state mv ADDRESS TARGET`: the state only, the cloud untouched."""

    root: Path
    address: str
    target: str | None = None
    lock_timeout: float = 0.0
    environment: str | None = None


@dataclass(frozen=True)
class GenerateRequest:
    """Write the files of what `scopes` hold into the stack folder `out`."""

    scopes: tuple[str, ...]
    out: Path
    # When `out` has no aibplan.json: the provider to read with, and the subscription of bare group names.
    provider: str | None = None
    subscription: str | None = None
