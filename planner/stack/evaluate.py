"""Evaluate a resource's values one string at a time when a whole-value evaluation fails, so one bad or
unknown expression costs only its own value: the rest of the resource is still loaded and validated.

A string that cannot be evaluated stays as written and its path is marked unresolved (rules skip it).
Why it failed is kept: a value that is simply not known here (a parameter without a value, the resource
group's location when a file is validated alone) or a real error in the expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import JsonPath
from .expressions import Evaluator, ExpressionError, Unknown
from .expressions.evaluator import property_name_problem


@dataclass
class Evaluated:
    value: Any
    unresolved: list[JsonPath] = field(default_factory=list)
    missing: list[tuple[str, JsonPath]] = field(default_factory=list)  # (what is not known, where)
    errors: list[ExpressionError] = field(default_factory=list)  # with .path set


def evaluate(evaluator: Evaluator, value: Any, path: JsonPath, unknown: frozenset[str]) -> Evaluated:
    """`value` with its expressions evaluated. `unknown` names what may be missing without being an error
    (e.g. "parameter 'location'"); anything else that fails is an error."""
    try:
        return Evaluated(_fast(evaluator, value))
    except ExpressionError:
        pass
    out = Evaluated(None)
    out.value = _walk(evaluator, value, path, unknown, out)
    return out


def _fast(evaluator: Evaluator, value: Any) -> Any:
    """`value` evaluated; parts without an expression are returned as they are (not copied), which keeps
    loading a large stack cheap. Raises on the first failure (the caller then goes string by string)."""
    kind = type(value)
    if kind is str:
        return evaluator.evaluate_string(value) if value[:1] == "[" else value
    if kind is dict:
        changed: dict[str, Any] | None = None
        for key, item in value.items():
            new = _fast(evaluator, item)
            new_key = key
            if key[:1] == "[" and key[-1:] == "]":
                new_key = evaluator.evaluate_string(key)
                if not isinstance(new_key, str):
                    raise ExpressionError("a property name must evaluate to a string")
            if changed is None and (new is not item or new_key is not key):
                changed = {}
                for earlier, earlier_item in value.items():
                    if earlier == key:
                        break
                    changed[earlier] = earlier_item
            if changed is not None:
                changed[new_key] = new
        return value if changed is None else changed
    if kind is list:
        out: list[Any] | None = None
        for index, item in enumerate(value):
            new = _fast(evaluator, item)
            if out is None and new is not item:
                out = value[:index]
            if out is not None:
                out.append(new)
        return value if out is None else out
    return value


def _walk(evaluator: Evaluator, value: Any, path: JsonPath, unknown: frozenset[str], out: Evaluated) -> Any:
    if isinstance(value, str):
        try:
            return evaluator.evaluate_string(value)
        except ExpressionError as exc:
            _record(exc, path, unknown, out)
            return value
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            new_key = key
            if key.startswith("[") and key.endswith("]"):
                try:
                    evaluated = evaluator.evaluate_string(key)
                except ExpressionError as exc:
                    _record(exc, (*path, key), unknown, out)
                    evaluated = key
                if isinstance(evaluated, Unknown):
                    _record(ExpressionError(property_name_problem(evaluated)), (*path, key), unknown, out)
                new_key = evaluated if isinstance(evaluated, str) else key
            result[new_key] = _walk(evaluator, item, (*path, new_key), unknown, out)
        return result
    if isinstance(value, list):
        return [_walk(evaluator, item, (*path, i), unknown, out) for i, item in enumerate(value)]
    return value


def _record(exc: ExpressionError, path: JsonPath, unknown: frozenset[str], out: Evaluated) -> None:
    out.unresolved.append(path)
    if exc.missing is not None and exc.missing in unknown:
        out.missing.append((exc.missing, path))
    else:
        exc.path = path
        out.errors.append(exc)
