"""What the read-only operations (plan, drift, graph, show) are asked and give back, as frozen values.

Kept apart from the other operations' requests (requests.py) and results (results.py), which build on
these, so that a plan makes only the classes it uses (docs/performance.md, "Start-up")."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .control import OperationError

if TYPE_CHECKING:  # what only the annotations name
    from ..plans.drift import DriftReport
    from ..plans.plan import Plan
    from ..plans.saved import SavedPlan


@dataclass(frozen=True)
class StackRequest:
    """Which stack, and how it is loaded: `--var NAME=VALUE` pairs, `--var-file`s, `--provider`."""

    root: Path = Path(".")
    variables: tuple[tuple[str, str], ...] = ()
    var_files: tuple[Path, ...] = ()
    provider: str | None = None
    # `--env NAME` (or AIBPLAN_ENV): the environment acted on; None: the stack's default.
    environment: str | None = None


@dataclass(frozen=True)
class PlanRequest:
    """A plan: compare the stack with the state (and the cloud, unless `refresh` is off).

    `destroy` plans to delete everything in the state; `refresh_only` only takes what changed outside
    aibplan; `targets` narrow the plan, `replace` forces replacements; `out` saves the plan there.
    """

    stack: StackRequest = field(default_factory=StackRequest)
    refresh: bool = True
    destroy: bool = False
    refresh_only: bool = False
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    out: Path | None = None

    def check(self) -> None:
        """OperationError for options that contradict each other."""
        if self.refresh_only and self.destroy:
            raise OperationError("--refresh-only and --destroy cannot be used together")
        if self.refresh_only and not self.refresh:
            raise OperationError("--refresh-only reads the cloud; it cannot be used with --no-refresh")
        if self.refresh_only and self.replace:
            raise OperationError(
                "--refresh-only changes nothing in the cloud; it cannot be used with --replace"
            )
        if self.destroy and self.replace:
            raise OperationError("--destroy deletes everything; it cannot be used with --replace")


@dataclass(frozen=True)
class DriftRequest:
    """Compare the cloud with the state, read-only."""

    stack: StackRequest = field(default_factory=StackRequest)
    include_unmanaged: bool = False


@dataclass(frozen=True)
class PlanResult:
    """A plan, and the file it was saved to (`--out`)."""

    plan: Plan
    saved: SavedPlan | None = None


@dataclass(frozen=True)
class DriftResult:
    """`aibplan drift`: what changed in the cloud outside aibplan."""

    report: DriftReport


@dataclass(frozen=True)
class SavedPlanShown:
    """A plan file as `aibplan show` reads it (without touching the stack, the state or the cloud)."""

    saved: SavedPlan
    path: Path
