"""What the operations that change something give back, as frozen values a view shows and a front end turns
into an exit code; the read-only operations' results are in read_only.py."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from state import ResourceState, State
from state.lock import LockInfo

from ..plans.plan import Plan

if TYPE_CHECKING:  # what only the annotations name: an apply's result does not load builds
    from ..builds import BuildReport
    from ..builds.record import TemplateOutputs
    from ..execution.apply import ApplyResult
    from ..execution.refresh import Refreshed


class ApplyStatus(str, enum.Enum):
    NO_CHANGES = "no-changes"  # the plan had nothing to do
    DECLINED = "declined"  # the confirmation said no; nothing was changed
    APPLIED = "applied"  # the changes were made (see `applied` for failures and interrupts)
    REFRESHED = "refreshed"  # refresh-only: the state now holds the cloud's bodies
    ALREADY_REFRESHED = "already-refreshed"  # refresh-only: the state already matched the cloud


@dataclass(frozen=True)
class ApplyOutcome:
    """What apply, destroy or a saved plan's apply did."""

    plan: Plan
    status: ApplyStatus
    applied: ApplyResult | None = None
    refreshed: Refreshed | None = None
    # `--run`: the builds after a successful apply (None when none ran), or why none started.
    builds: BuildReport | None = None
    builds_not_started: str | None = None
    # `--run` started no build: the templates' identities lack what their builds need (one line each).
    builds_refused: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        if self.status is ApplyStatus.DECLINED:
            return False
        if self.applied is not None and not self.applied.ok:
            return False
        if self.builds_refused:
            return False
        return self.builds is None or self.builds.ok

    @property
    def interrupted(self) -> bool:
        return bool(
            (self.applied is not None and self.applied.interrupted)
            or (self.builds is not None and self.builds.interrupted)
        )


@dataclass(frozen=True)
class BuildsResult:
    """What run or cancel did to each template's build, and what the user should know besides."""

    report: BuildReport
    notes: tuple[str, ...] = ()
    # Build records that could not be written into the state (each a sentence).
    missed: tuple[str, ...] = ()
    # Templates that build from an image rebuilt here and were not rebuilt themselves.
    stale_dependents: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutputsResult:
    """`aibplan output`: each template's last build and run outputs, and what could not be read or saved."""

    templates: tuple[TemplateOutputs, ...]
    refreshed: bool = False
    # Templates whose outputs could not be read from the cloud (`--refresh`), each with why.
    errors: tuple[str, ...] = ()
    missed: tuple[str, ...] = ()


@dataclass(frozen=True)
class StateListing:
    """`state list`: the state as stored, whether there is one yet, and its environment."""

    state: State
    exists: bool
    environment: str | None = None


@dataclass(frozen=True)
class StateEntry:
    """`state show`: one entry of the state, as the state holds it."""

    entry: ResourceState


@dataclass(frozen=True)
class StateEdited:
    """A state edit or an import: the state as saved, and notes about it."""

    state: State
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportedAll:
    """`import --all`: the state as saved, what it now tracks, and what it left alone."""

    state: State
    # (address, ARM id) of each resource imported.
    imported: tuple[tuple[str, str], ...]
    # Declared resources that do not exist yet (apply creates them).
    absent: tuple[str, ...]
    # Declared resources the state already tracked.
    tracked: tuple[str, ...]


@dataclass(frozen=True)
class Unlocked:
    """`force-unlock`: who held the lock it cleared, and whether their run left a journal."""

    holder: LockInfo
    journal_left: bool


@dataclass(frozen=True)
class Generated:
    """What generate wrote (file names relative to `out`) and what it left out."""

    out: Path
    files: tuple[str, ...]
    config_written: bool
    # Addresses the stack in `out` already declared (not written again).
    declared: tuple[str, ...]
    # The resource group the files came from, as an id.
    group: str
