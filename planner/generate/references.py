"""Ids of other generated resources written as `[resourceId(...)]`: the stack then names what it refers
to, as a person writes it, and the references follow the stack to another subscription or group.

A reference is rewritten only where the plan cannot tell the difference: the value is the id exactly, or
the normaliser folds the two to one (an id the catalog compares without case). Strings that start with
`[` and end with `]` but are not expressions are escaped (`[[`), as ARM templates write them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from providers.catalog.arm_ids import fold_id, parse_resource_id

_ID, _EXPRESSION = 0, 1


def resource_id_expression(arm_id: str) -> str:
    """`[resourceId('Microsoft.Compute/galleries/images', 'corpImages', 'ubuntu2204')]` for an id in the
    stack's own subscription and resource group."""
    rid = parse_resource_id(arm_id)
    if rid is None:
        raise ValueError(f"not an ARM resource id: {arm_id}")
    args = ", ".join(_quoted(part) for part in (rid.arm_type, *rid.names))
    return f"[resourceId({args})]"


def rewrite_references(
    body: dict[str, Any],
    expressions: Mapping[str, tuple[str, str]],
    same_for_plan: Callable[[dict[str, Any], dict[str, Any]], bool],
) -> dict[str, Any]:
    """`body` with each string (value or key) that is the id of a generated resource written as its
    expression, where `same_for_plan(body, body with the id as written by the expression)` holds.

    `expressions` maps a folded id to (the id as the expression evaluates to it, the expression)."""
    canonical = _replace(body, expressions, _ID)
    if canonical != body and not same_for_plan(body, canonical):
        # Some reference differs from its canonical id in a way the plan would see: keep those literal.
        expressions = {
            key: pair
            for key, pair in expressions.items()
            if same_for_plan(body, _replace(body, {key: pair}, _ID))
        }
    # Ids start with "/", so escaping first never touches a reference, and the expressions stay as written.
    rewritten: dict[str, Any] = _replace(_escape(body), expressions, _EXPRESSION)
    return rewritten


def _replace(value: Any, table: Mapping[str, tuple[str, str]], which: int) -> Any:
    """`value` with each id in `table` replaced by its canonical form (`_ID`) or its expression."""
    if isinstance(value, str):
        found = table.get(fold_id(value)) if value.startswith("/") else None
        return found[which] if found is not None else value
    if isinstance(value, dict):
        return {_replace(k, table, which): _replace(v, table, which) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, table, which) for v in value]
    return value


def _escape(value: Any) -> Any:
    """Literal strings that would read as expressions get ARM's `[[` escape; expressions stay."""
    if isinstance(value, str):
        return "[" + value if _reads_as_expression(value) else value
    if isinstance(value, dict):
        return {_escape(k): _escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape(v) for v in value]
    return value


def _reads_as_expression(text: str) -> bool:
    return text.startswith("[") and text.endswith("]")


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
