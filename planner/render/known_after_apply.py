"""How a value known only after apply is shown: `(known after apply)`, as Terraform shows it."""

from __future__ import annotations

from typing import Any, Final

from state.redact import redact

from ..plans.plan import Change
from ..stack.expressions.unknown import replace_unknowns
from ..stack.model import with_value_at

KNOWN_AFTER_APPLY: Final = "(known after apply)"


class _AfterApply:
    def __repr__(self) -> str:
        return KNOWN_AFTER_APPLY


# Stands in a shown body where a value is known only after apply (renderers print KNOWN_AFTER_APPLY).
AFTER_APPLY: Final = _AfterApply()


def shown_created(change: Change) -> Any:
    """The body a create shows: as written (its request body), each value known only after apply marked;
    without a request body (a plan file shown), the plan's `after` with its `after_unknown` paths marked.

    A plan's request bodies hold an `Unknown` only where the plan could not evaluate it. Applying a plan
    file reads them again from the stack, where every reference() is one until the apply evaluates it:
    shown then as known after apply too."""
    if change.body is None:
        shown: Any = dict(change.after or {})
        for path in change.after_unknown:
            shown = with_value_at(shown, path, AFTER_APPLY)
        return shown
    return replace_unknowns(dict(change.body), lambda _unknown: AFTER_APPLY)


def shown_created_redacted(change: Change) -> Any:
    """`shown_created(change)` with its secrets fingerprinted: the change's own redacted body where nothing
    in it is known only after apply (the one the state keeps, made once)."""
    if change.body is not None and not change.body_has_unknown:
        return change.body_redacted
    return redact(shown_created(change))
