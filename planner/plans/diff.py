"""One attribute-level difference between two normalised bodies, as frozen data (planner.planning.diff
computes them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..diagnostics import JsonPath

ABSENT: Any = None  # how an absent value is shown in a diff (before of an addition, after of a removal)


@dataclass(frozen=True)
class AttributeDiff:
    """One changed value: where, before, after, and whether the change forces delete + create."""

    path: JsonPath
    before: Any
    after: Any
    forces_replacement: bool = False
    before_present: bool = True
    after_present: bool = True
    # The new value is known only after apply (a reference() of what the apply makes); `after` is None.
    after_unknown: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "path": list(self.path),
            "before": self.before,
            "after": self.after,
            "forces_replacement": self.forces_replacement,
            "before_present": self.before_present,
            "after_present": self.after_present,
            "after_unknown": self.after_unknown,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> AttributeDiff:
        return AttributeDiff(
            path=tuple(data["path"]),
            before=data.get("before"),
            after=data.get("after"),
            forces_replacement=bool(data.get("forces_replacement", False)),
            before_present=bool(data.get("before_present", True)),
            after_present=bool(data.get("after_present", True)),
            after_unknown=bool(data.get("after_unknown", False)),
        )
