"""Views: how each operation's result is shown, behind one interface per result (`View.show` gives the
text for stdout and stderr apart, `View.rejected` what to show when the stack's diagnostics stopped the
operation). A command chooses its view once, from its format option (`plan_view("json", color=...)`);
the views build on the renderers of plain data in planner.render and import neither click nor rich."""

from .adoption import GeneratedText
from .apply import ApplyText
from .base import Shown, View
from .builds import BuildsText, outputs_view
from .plans import PlanText, drift_view, plan_view, saved_plan_view
from .state import (
    Imported,
    ImportedAllText,
    Moved,
    MovedStateText,
    PulledText,
    Removed,
    StateEntryJson,
    UnlockedText,
    state_list_view,
)
from .validation import validation_view

__all__ = [
    "ApplyText",
    "BuildsText",
    "GeneratedText",
    "Imported",
    "ImportedAllText",
    "Moved",
    "MovedStateText",
    "PlanText",
    "PulledText",
    "Removed",
    "Shown",
    "StateEntryJson",
    "UnlockedText",
    "View",
    "drift_view",
    "outputs_view",
    "plan_view",
    "saved_plan_view",
    "state_list_view",
    "validation_view",
]
