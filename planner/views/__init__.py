"""Views: how each operation's result is shown, behind one interface per result (`View.show` gives the
text for stdout and stderr apart, `View.rejected` what to show when the stack's diagnostics stopped the
operation). A command chooses its view once, from its format option (`plan_view("json", color=...)`);
the views build on the renderers of plain data in planner.render and import neither click nor rich.

Each view is imported from its module when first asked for: a plan does not load the state commands'
views (nor what they show), as planner.operations does not load their operations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports
from .base import Shown, View

if TYPE_CHECKING:
    from .adoption import GeneratedText
    from .apply import ApplyText
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

_VIEWS = {
    "adoption": ("GeneratedText",),
    "apply": ("ApplyText",),
    "builds": ("BuildsText", "outputs_view"),
    "plans": ("PlanText", "drift_view", "plan_view", "saved_plan_view"),
    "state": (
        "Imported",
        "ImportedAllText",
        "Moved",
        "MovedStateText",
        "PulledText",
        "Removed",
        "StateEntryJson",
        "UnlockedText",
        "state_list_view",
    ),
    "validation": ("validation_view",),
}
__getattr__ = lazy_exports(__name__, _VIEWS)


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
