"""Image builds: start, follow and cancel them in order, and keep what the state records about them."""

from .order import BuildOrderError, build_order
from .outcome import BuildOutcome, BuildReport, BuildSettings, BuildTarget
from .record import BuildRecord, RunOutput, RunStatus, extra_after_replace, fingerprint
from .runner import cancel_builds, refresh_records, run_builds
from .state_updates import BuildRecorder

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
