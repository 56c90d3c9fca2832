"""The operations: what aibplan does, as library calls (docs/architecture.md, "Operations").

Each takes a frozen request (read_only.py for plan, drift, graph and show; requests.py for the others),
where it asks a question a `confirm` callback, `Hooks` for progress and a `Stop` for interrupts
(control.py), and returns a frozen result (read_only.py, results.py); nothing here prints or ends the
process. A front end (the command line, a test, a service) turns arguments into a
request, calls the operation, shows the result with a view (planner.views) and picks the exit code.
What stops an operation is raised: `OperationError` (a line, maybe with details), `StackRejected` (the
stack's diagnostics), `EngineError` (from the layers below: a lock held, a state that cannot be read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports
from .control import Confirm, OperationError, StackRejected, Stop, always
from .read_only import DriftRequest, DriftResult, PlanRequest, PlanResult, SavedPlanShown, StackRequest

if TYPE_CHECKING:
    from .applying import apply, apply_saved, destroy, refresh
    from .builds import artifact, cancel, outputs, run
    from .generating import generate
    from .planning import drift, graph, plan, show_saved_plan
    from .requests import (
        ApplyOptions,
        ApplyRequest,
        BuildRequest,
        GenerateRequest,
        ImportAllRequest,
        ImportRequest,
        OutputsRequest,
        SavedApplyRequest,
        StateEditRequest,
    )
    from .results import (
        ApplyOutcome,
        ApplyStatus,
        BuildsResult,
        Generated,
        ImportedAll,
        OutputsResult,
        StateEdited,
        StateEntry,
        StateListing,
        Unlocked,
    )
    from .state_edits import edit_state, force_unlock, import_all, import_resource, list_state, show_entry

# The operations, each imported from its module when first asked for: a plan does not load the apply
# engine, nor a build the planner's drift (docs/performance.md, "Start-up"); so are the other operations'
# requests and results (a plan makes none of their classes).
_OPERATIONS = {
    "applying": ("apply", "apply_saved", "destroy", "refresh"),
    "builds": ("artifact", "cancel", "outputs", "run"),
    "generating": ("generate",),
    "planning": ("drift", "graph", "plan", "show_saved_plan"),
    "state_edits": (
        "edit_state",
        "force_unlock",
        "import_all",
        "import_resource",
        "list_state",
        "show_entry",
    ),
    "requests": (
        "ApplyOptions",
        "ApplyRequest",
        "BuildRequest",
        "GenerateRequest",
        "ImportAllRequest",
        "ImportRequest",
        "OutputsRequest",
        "SavedApplyRequest",
        "StateEditRequest",
    ),
    "results": (
        "ApplyOutcome",
        "ApplyStatus",
        "BuildsResult",
        "Generated",
        "ImportedAll",
        "OutputsResult",
        "StateEdited",
        "StateEntry",
        "StateListing",
        "Unlocked",
    ),
}
__getattr__ = lazy_exports(__name__, _OPERATIONS)


__all__ = [
    "ApplyOptions",
    "ApplyOutcome",
    "ApplyRequest",
    "ApplyStatus",
    "BuildRequest",
    "BuildsResult",
    "Confirm",
    "DriftRequest",
    "DriftResult",
    "GenerateRequest",
    "Generated",
    "ImportAllRequest",
    "ImportRequest",
    "ImportedAll",
    "OperationError",
    "OutputsRequest",
    "OutputsResult",
    "PlanRequest",
    "PlanResult",
    "SavedApplyRequest",
    "SavedPlanShown",
    "StackRejected",
    "StackRequest",
    "StateEditRequest",
    "StateEdited",
    "StateEntry",
    "StateListing",
    "Stop",
    "Unlocked",
    "always",
    "apply",
    "apply_saved",
    "artifact",
    "cancel",
    "destroy",
    "drift",
    "edit_state",
    "force_unlock",
    "generate",
    "graph",
    "import_all",
    "import_resource",
    "list_state",
    "outputs",
    "plan",
    "refresh",
    "run",
    "show_entry",
    "show_saved_plan",
]
