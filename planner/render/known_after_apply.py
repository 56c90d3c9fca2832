"""How a value known only after apply is shown: `(known after apply)`, as Terraform shows it."""

from __future__ import annotations

from typing import Any, Final

from ..plans.plan import Change
from ..stack.expressions.unknown import unknown_leaves
from ..stack.model import with_value_at

KNOWN_AFTER_APPLY: Final = "(known after apply)"


class _AfterApply:
    def __repr__(self) -> str:
        return KNOWN_AFTER_APPLY


# Stands in a shown body where a value is known only after apply (renderers print KNOWN_AFTER_APPLY).
AFTER_APPLY: Final = _AfterApply()


def shown_created(change: Change) -> Any:
    """The body a create shows: as written (its request body), each value known only after apply marked.

    A request body read again from the stack (a saved plan) holds an `Unknown` for every reference(), also
    those the plan could evaluate: those show the plan's value. Without a request body (a plan file shown),
    the plan's `after` with its `after_unknown` paths marked."""
    if change.body is None:
        shown: Any = dict(change.after or {})
        for path in change.after_unknown:
            shown = with_value_at(shown, path, AFTER_APPLY)
        return shown
    unknown_paths = set(change.after_unknown)
    body: Any = dict(change.body)
    for path, _unknown in list(unknown_leaves(body)):
        value = _at(change.after, path)
        known = path not in unknown_paths and value is not _MISSING
        body = with_value_at(body, path, value if known else AFTER_APPLY)
    return body


_MISSING: Final = object()


def _at(value: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        found = (isinstance(value, dict) and step in value) or (
            isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value)
        )
        if not found:
            return _MISSING
        value = value[step]
    return value
