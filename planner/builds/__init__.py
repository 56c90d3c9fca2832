"""Image builds: start, follow and cancel them in order, and keep what the state records about them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .order import BuildOrderError, build_order
    from .outcome import BuildOutcome, BuildReport, BuildSettings, BuildTarget
    from .record import BuildRecord, RunOutput, RunStatus, extra_after_replace, fingerprint
    from .runner import cancel_builds, refresh_records, run_builds
    from .state_updates import BuildRecorder

# Each name imported from its module when first asked for: a plan reads the build records (builds.checks)
# without the runner and the build order, which need networkx (docs/performance.md, "Start-up").
__getattr__ = lazy_exports(
    __name__,
    {
        "order": ("BuildOrderError", "build_order"),
        "outcome": ("BuildOutcome", "BuildReport", "BuildSettings", "BuildTarget"),
        "record": ("BuildRecord", "RunOutput", "RunStatus", "extra_after_replace", "fingerprint"),
        "runner": ("cancel_builds", "refresh_records", "run_builds"),
        "state_updates": ("BuildRecorder",),
    },
)

__all__ = [
    "BuildOrderError",
    "BuildOutcome",
    "BuildRecord",
    "BuildRecorder",
    "BuildReport",
    "BuildSettings",
    "BuildTarget",
    "RunOutput",
    "RunStatus",
    "build_order",
    "cancel_builds",
    "extra_after_replace",
    "fingerprint",
    "refresh_records",
    "run_builds",
]
