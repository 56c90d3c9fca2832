"""Values known only after apply: what `reference()` gives for a resource that does not exist yet.

An `Unknown` is a typed value the evaluator returns instead of guessing. It carries its residual: the
expression that computes the value once the resources it waits for exist, with everything already known
folded in as constants (`concat('x-', reference(id).principalId)` keeps `'x-'` and the reference call), and
the `reference()` targets it waits for. It travels through expressions as Terraform's unknown values do:

- a function with an unknown argument (anywhere inside it) gives an unknown (`and()` with a known false and
  `or()` with a known true excepted: their answer does not depend on the rest);
- a property or an index of an unknown, or an index that is unknown, is unknown;
- `if()` with a known condition picks its branch (the other is not evaluated); with an unknown condition
  the result is unknown;
- comparisons of unknowns are unknown.

A `References` answers `reference()` once the cloud can be asked (at plan and apply): with the resource's
value, or `NOT_YET` where a value (or the whole resource) will exist only after apply. `Evaluator.resolve`
evaluates an unknown's residual again against it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final, Protocol

from .errors import JsonPath
from .parser import Call, Index, Known, Literal, Member, Node


@dataclass(frozen=True)
class ReferenceTarget:
    """What one `reference()` call names: a resource id (or, as written, a resource name), the api version
    given (None when left out) and whether the whole resource was asked for (`'Full'`) or its properties."""

    resource: str
    api_version: str | None = None
    full: bool = False


@dataclass(frozen=True, eq=False)
class Unknown:
    """A value known only after apply: its residual expression and the references it waits for."""

    residual: Node
    targets: frozenset[ReferenceTarget]

    def __str__(self) -> str:
        return f"[{expression_text(self.residual)}]"

    def __repr__(self) -> str:
        return f"Unknown({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and str(other) == str(self)

    def __hash__(self) -> int:
        return hash(str(self))


class _NotYet:
    """The marker a `References` answers with where a value will exist only after apply."""

    def __repr__(self) -> str:
        return "NOT_YET"


NOT_YET: Final = _NotYet()


class References(Protocol):
    """Answers `reference()`: the resource's properties (or, with `full`, the whole resource object) as
    JSON, with `NOT_YET` for the whole or at the leaves that are known only after apply. Raises
    ExpressionError when the resource cannot be found."""

    def value_of(self, target: ReferenceTarget) -> Any: ...


# -- making unknowns --------------------------------------------------------------------------------------


def has_unknown(value: Any) -> bool:
    """Whether an unknown is anywhere inside `value`."""
    if isinstance(value, (dict, list)):
        # JSON can write a value without unknowns (an Unknown it cannot): one pass at C speed decides for
        # most bodies; a value json refuses for another reason is walked.
        try:
            json.dumps(value)
        except (TypeError, ValueError, RecursionError):
            return _has_unknown(value)
        return False
    return isinstance(value, Unknown)


def _has_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    items: Iterable[Any]
    if isinstance(value, dict):
        items = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return False
    for item in items:
        # Plain leaves are most of a body: passed over without a call (an apply asks this of every body).
        kind = type(item)
        if kind is str or kind is int or kind is bool or kind is float or item is None:
            continue
        if _has_unknown(item):
            return True
    return False


def any_unknown(values: list[Any]) -> bool:
    """Whether an unknown is in any of `values` (a call's arguments: most are strings and numbers, which
    are not searched)."""
    for value in values:
        kind = type(value)
        if (
            kind is not str
            and kind is not int
            and kind is not bool
            and value is not None
            and has_unknown(value)
        ):
            return True
    return False


def targets_in(value: Any) -> frozenset[ReferenceTarget]:
    """Every reference the unknowns inside `value` wait for."""
    found: set[ReferenceTarget] = set()
    for _path, unknown in unknown_leaves(value):
        found |= unknown.targets
    return frozenset(found)


def as_node(value: Any) -> Node:
    """A syntax tree that evaluates to `value`: an unknown's residual, a known value as a constant, and a
    container holding unknowns rebuilt with createObject()/createArray() around their residuals."""
    if isinstance(value, Unknown):
        return value.residual
    if isinstance(value, dict) and has_unknown(value):
        args: list[Node] = []
        for key, item in value.items():
            args += [Known(key), as_node(item)]
        return Call("createObject", tuple(args), 0)
    if isinstance(value, list) and has_unknown(value):
        return Call("createArray", tuple(as_node(item) for item in value), 0)
    return Known(value)


def unknown_call(name: str, args: list[Any]) -> Unknown:
    """`name(args...)` when some argument is unknown."""
    return Unknown(Call(name, tuple(as_node(arg) for arg in args), 0), targets_in(args))


def unknown_access(target: Any, key: Any) -> Unknown:
    """`target.key` / `target[key]` when the target or the key is unknown."""
    if isinstance(key, str) and _is_identifier(key):
        node: Node = Member(as_node(target), key, 0)
    else:
        node = Index(as_node(target), as_node(key), 0)
    return Unknown(node, targets_in([target, key]))


def fill_not_yet(value: Any, base: Node, target: ReferenceTarget) -> Any:
    """A `References` answer with each NOT_YET made an unknown whose residual reads that part of the
    reference again (`reference(id).properties.x`)."""
    if value is NOT_YET:
        return Unknown(base, frozenset((target,)))
    if isinstance(value, dict):
        return {
            key: fill_not_yet(
                item, Member(base, key, 0) if _is_identifier(key) else Index(base, Known(key), 0), target
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [fill_not_yet(item, Index(base, Known(index), 0), target) for index, item in enumerate(value)]
    return value


# -- finding and replacing unknowns -----------------------------------------------------------------------


def unknown_leaves(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Unknown]]:
    """Each unknown inside `value` with its path."""
    if isinstance(value, Unknown):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from unknown_leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unknown_leaves(item, (*path, index))


def replace_unknowns(value: Any, replacement: Callable[[Unknown], Any]) -> Any:
    """`value` with each unknown inside replaced by `replacement(unknown)`; parts without one are shared."""
    if isinstance(value, Unknown):
        return replacement(value)
    if isinstance(value, dict):
        if not has_unknown(value):
            return value
        return {key: replace_unknowns(item, replacement) for key, item in value.items()}
    if isinstance(value, list):
        if not has_unknown(value):
            return value
        return [replace_unknowns(item, replacement) for item in value]
    return value


def rebind(unknown: Unknown, bound: Callable[[ReferenceTarget], ReferenceTarget | None]) -> Unknown:
    """The unknown with each reference() target replaced by `bound(target)` (a resource name by its id;
    None keeps the target as it is)."""

    def new(target: ReferenceTarget) -> ReferenceTarget:
        return bound(target) or target

    def walk(node: Node) -> Node:
        if isinstance(node, Call):
            args = tuple(walk(arg) for arg in node.args)
            if node.name.lower() == "reference" and args and isinstance(args[0], Known):
                target = target_of_call(node)
                if target is not None:
                    args = (Known(new(target).resource), *args[1:])
            return Call(node.name, args, node.position)
        if isinstance(node, Member):
            return Member(walk(node.target), node.name, node.position)
        if isinstance(node, Index):
            return Index(walk(node.target), walk(node.index), node.position)
        return node

    return Unknown(walk(unknown.residual), frozenset(new(t) for t in unknown.targets))


def target_of_call(node: Call) -> ReferenceTarget | None:
    """The target of a residual `reference(...)` call whose arguments are all known."""
    values = [arg.value for arg in node.args if isinstance(arg, (Known, Literal))]
    if len(values) != len(node.args) or not values or not isinstance(values[0], str):
        return None
    api_version = values[1] if len(values) > 1 and isinstance(values[1], str) else None
    full = len(values) > 2 and isinstance(values[2], str) and values[2].lower() == "full"
    return ReferenceTarget(values[0], api_version, full)


# -- as text ----------------------------------------------------------------------------------------------


def expression_text(node: Node) -> str:
    """The ARM expression (without brackets) that `node` stands for."""
    if isinstance(node, (Literal, Known)):
        return constant_text(node.value)
    if isinstance(node, Call):
        return f"{node.name}({', '.join(expression_text(arg) for arg in node.args)})"
    if isinstance(node, Member):
        return f"{expression_text(node.target)}.{node.name}"
    return f"{expression_text(node.target)}[{expression_text(node.index)}]"


def constant_text(value: Any) -> str:
    """A JSON value written as an ARM expression: `'text'`, `3`, `true()`, `null()`, `json('...')`."""
    if isinstance(value, bool):
        return "true()" if value else "false()"
    if value is None:
        return "null()"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return "json('" + text.replace("'", "''") + "')"


def _is_identifier(key: str) -> bool:
    return key.isidentifier() and key.isascii()
