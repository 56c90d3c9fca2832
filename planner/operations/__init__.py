"""The operations: what aibplan does, as library calls (docs/architecture.md, "Operations").

Each takes a frozen request (requests.py), where it asks a question a `confirm` callback, `Hooks` for
progress and a `Stop` for interrupts (control.py), and returns a frozen result (results.py); nothing here
prints or ends the process. A front end (the command line, a test, a service) turns arguments into a
request, calls the operation, shows the result with a view (planner.views) and picks the exit code.
What stops an operation is raised: `OperationError` (a line, maybe with details), `StackRejected` (the
stack's diagnostics), `EngineError` (from the layers below: a lock held, a state that cannot be read).
"""

from .apply import apply, apply_saved, destroy, refresh
from .builds import artifact, cancel, outputs, run
from .control import Confirm, OperationError, StackRejected, Stop, always
from .generate import generate
from .plan import drift, graph, plan, show_saved_plan
from .requests import (
    ApplyOptions,
    ApplyRequest,
    BuildRequest,
    DriftRequest,
    GenerateRequest,
    ImportAllRequest,
    ImportRequest,
    OutputsRequest,
    PlanRequest,
    SavedApplyRequest,
    StackRequest,
    StateEditRequest,
)
from .results import (
    ApplyOutcome,
    ApplyStatus,
    BuildsResult,
    DriftResult,
    Generated,
    ImportedAll,
    OutputsResult,
    PlanResult,
    SavedPlanShown,
    StateEdited,
    StateEntry,
    StateListing,
    Unlocked,
)
from .state_edits import edit_state, force_unlock, import_all, import_resource, list_state, show_entry

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
