"""Evaluate a resource's values one string at a time when a whole-value evaluation fails, so one bad or
unknown expression costs only its own value: the rest of the resource is still loaded and validated.

A string that cannot be evaluated stays as written and its path is marked unresolved (rules skip it).
Why it failed is kept: a value that is simply not known here (a parameter without a value, the resource
group's location when a file is validated alone) or a real error in the expression.

Under a resource's `properties`, an object's `"copy": [{name, count, input}, ...]` is ARM's property
iteration: each loop makes the property of its name, an array of `input` evaluated once per index
(copyIndex('name')). What fails inside one is reported where it is written and marks the property it makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import JsonPath
from .expressions import Evaluator, ExpressionError, Unknown
from .expressions.evaluator import property_name_problem
from .expressions.loops import COPY_SHAPE, checked_count, entry_problem, loop_entries


@dataclass
class Evaluated:
    """A value evaluated as far as it could be, the paths left as written, what was not known there and
    what failed."""

    value: Any
    unresolved: list[JsonPath] = field(default_factory=list)
    missing: list[tuple[str, JsonPath]] = field(default_factory=list)  # (what is not known, where)
    errors: list[ExpressionError] = field(default_factory=list)  # with .path set


def evaluate(
    evaluator: Evaluator, value: Any, path: JsonPath, unknown: frozenset[str], *, loops: bool = False
) -> Evaluated:
    """`value` with its expressions evaluated. `unknown` names what may be missing without being an error
    (e.g. "parameter 'location'"); anything else that fails is an error. With `loops` (a resource's
    properties), a `copy` list in an object is a property loop."""
    try:
        return Evaluated(_fast(evaluator, value, loops))
    except (ExpressionError, _HasLoops):
        pass
    out = Evaluated(None)
    out.value = _walk(evaluator, value, path, unknown, out, loops)
    return out


class _HasLoops(Exception):
    """A property loop was met on the fast path: the walk makes it."""


def _fast(evaluator: Evaluator, value: Any, loops: bool) -> Any:
    """`value` evaluated; parts without an expression are returned as they are (not copied), which keeps
    loading a large stack cheap. Raises on the first failure (the caller then goes string by string)."""
    kind = type(value)
    if kind is str:
        return evaluator.evaluate_string(value) if value[:1] == "[" else value
    if kind is dict:
        if loops and _loop_key(value) is not None:
            raise _HasLoops
        changed: dict[str, Any] | None = None
        for key, item in value.items():
            new = _fast(evaluator, item, loops)
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
            new = _fast(evaluator, item, loops)
            if out is None and new is not item:
                out = value[:index]
            if out is not None:
                out.append(new)
        return value if out is None else out
    return value


def _walk(
    evaluator: Evaluator, value: Any, path: JsonPath, unknown: frozenset[str], out: Evaluated, loops: bool
) -> Any:
    if isinstance(value, str):
        try:
            return evaluator.evaluate_string(value)
        except ExpressionError as exc:
            _record(exc, path, unknown, out)
            return value
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        loop_key = _loop_key(value) if loops else None
        for key, item in value.items():
            if key == loop_key:
                result.update(
                    _property_loops(evaluator, item, (*path, key), unknown, out, set(value) - {key})
                )
                continue
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
            result[new_key] = _walk(evaluator, item, (*path, new_key), unknown, out, loops)
        return result
    if isinstance(value, list):
        return [_walk(evaluator, item, (*path, i), unknown, out, loops) for i, item in enumerate(value)]
    return value


def _loop_key(value: dict[str, Any]) -> str | None:
    """The key of an object's property loops (`copy`, any case, holding a list), if it has one."""
    for key, item in value.items():
        if key.lower() == "copy" and isinstance(item, list):
            return key
    return None


def _property_loops(
    evaluator: Evaluator,
    loops: list[Any],
    path: JsonPath,
    unknown: frozenset[str],
    out: Evaluated,
    written: set[str],
) -> dict[str, Any]:
    """The properties an object's `copy` list makes. What fails inside a loop is reported at the place it
    is written (`path`: the `copy` key's) and marks the whole property it makes unresolved."""
    made: dict[str, Any] = {}
    parent = path[:-1]
    entries = loop_entries(loops)
    if entries is None:
        _record(
            ExpressionError("'copy' holds a list of loops, each {name, count, input}", code=COPY_SHAPE),
            path,
            unknown,
            out,
        )
        return made
    for position, entry in enumerate(entries):
        where = (*path, position)
        problem = entry_problem(entry)
        name = entry.get("name")
        if problem is None and (name in written or name in made):
            problem = f"property '{name}' is both written and made by a copy loop"
        if problem is not None:
            _record(ExpressionError(problem, code=COPY_SHAPE), where, unknown, out)
            if isinstance(name, str):
                made[name] = []
                out.unresolved.append((*parent, name))
            continue
        name = str(name)
        inner = Evaluated(None)
        count = _walk(evaluator, entry["count"], (*where, "count"), unknown, inner, False)
        items: list[Any] = []
        if not inner.unresolved:
            try:
                count = checked_count(count, name)
            except ExpressionError as exc:
                _record(exc, (*where, "count"), unknown, inner)
                count = 0
            for index in range(count):
                with evaluator.loops.item(name, index):
                    items.append(_walk(evaluator, entry["input"], (*where, "input"), unknown, inner, True))
        out.errors += inner.errors
        out.missing += inner.missing
        if inner.unresolved:
            out.unresolved.append((*parent, name))
        made[name] = items
    return made


def _record(exc: ExpressionError, path: JsonPath, unknown: frozenset[str], out: Evaluated) -> None:
    out.unresolved.append(path)
    if exc.missing is not None and exc.missing in unknown:
        out.missing.append((exc.missing, path))
    else:
        exc.path = path
        out.errors.append(exc)
