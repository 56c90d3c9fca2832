"""Drift as frozen data: a resource that is not as aibplan left it, and what `aibplan drift` found
(planner.planning.drift finds it)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Diagnostic
from .diff import AttributeDiff


class DriftKind(str, enum.Enum):
    CHANGED = "changed"
    DELETED = "deleted"
    FAILED = "failed"
    UNMANAGED = "unmanaged"


@dataclass(frozen=True)
class ResourceDrift:
    """One resource that is not as aibplan left it."""

    address: str
    arm_type: str
    arm_id: str
    drift: DriftKind
    message: str
    # Observed (before) against the cloud now (after), both normalised; empty unless `changed`.
    attribute_diffs: tuple[AttributeDiff, ...] = ()
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    # The managed resources it was applied after (from the state), for graphs of what drifted.
    dependencies: tuple[str, ...] = ()
    # Unmanaged only: the stack declares it (under `address`), so `aibplan import ADDRESS` adopts it.
    declared: bool = False

    @property
    def kind(self) -> str:
        return self.address.partition(".")[0]

    @property
    def name(self) -> str:
        return self.address.partition(".")[2]


@dataclass(frozen=True)
class DriftReport:
    """What `aibplan drift` found, with what it was checked against."""

    provider: str
    state_lineage: str | None
    state_serial: int | None
    checked: int
    drift: tuple[ResourceDrift, ...]
    include_unmanaged: bool = False
    # Worth knowing but not drift (templates whose last build did not succeed); no effect on the exit code.
    warnings: tuple[Diagnostic, ...] = ()
    # The environment checked (None: the stack has no environments).
    environment: str | None = None

    @property
    def has_drift(self) -> bool:
        return bool(self.drift)

    def count(self, kind: DriftKind) -> int:
        return sum(d.drift is kind for d in self.drift)
