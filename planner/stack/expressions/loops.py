"""ARM copy loops as the expression language sees them: which loops enclose what is being evaluated, what
`copyIndex()` gives inside them, and a loop's count checked as ARM checks it.

A resource's copy loop is the one `copyIndex()` without a loop name means; a property's or a variable's loop
is named (`copyIndex('dataDisks')`). Loops nest: a property loop inside a resource loop sees both, and an
inner loop of the same name hides the outer one. Outside every loop `copyIndex()` is an error (AIB0033), as
ARM refuses it ("can only be used in a resource with copy specified").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .errors import ExpressionError, JsonPath
from .functions import Function, registrar, want_int, want_str
from .unknown import Unknown
from .values import is_int, type_name

if TYPE_CHECKING:
    from .evaluator import Evaluator

# ARM's limit on a copy loop's count (resources, properties, variables and outputs alike).
MAX_COUNT = 800

# Rule ids the loader and the evaluator report copy loops under (planner.rules.staged documents them).
COPY_SHAPE = "AIB0030"
COPY_COUNT = "AIB0031"
COPY_ON_CHILD = "AIB0032"
COPY_INDEX_OUTSIDE = "AIB0033"
COPY_NAME_TAKEN = "AIB0034"


class Loops:
    """The copy loops enclosing what is evaluated now: the resource's own (`resource`) and the property or
    variable loops entered inside it, innermost last."""

    def __init__(self) -> None:
        self.resource: tuple[str, int] | None = None
        self.named: list[tuple[str, int]] = []

    @contextmanager
    def resource_instance(self, name: str, index: int) -> Iterator[None]:
        """Evaluate one instance of a resource copy loop."""
        outer, outer_named = self.resource, self.named
        self.resource, self.named = (name, index), []
        try:
            yield
        finally:
            self.resource, self.named = outer, outer_named

    @contextmanager
    def item(self, name: str, index: int) -> Iterator[None]:
        """Evaluate one item of a property or variable copy loop."""
        self.named.append((name, index))
        try:
            yield
        finally:
            self.named.pop()

    @contextmanager
    def none(self) -> Iterator[None]:
        """Evaluate outside every loop (a variable's value is the template's, whatever loop uses it)."""
        outer, outer_named = self.resource, self.named
        self.resource, self.named = None, []
        try:
            yield
        finally:
            self.resource, self.named = outer, outer_named

    def state(self) -> tuple[tuple[str, int] | None, tuple[tuple[str, int], ...]]:
        """Every loop around what is evaluated now with its index: what copyIndex() may read."""
        return self.resource, tuple(self.named)

    def index(self, loop: str | None) -> int:
        """The current index of `loop` (None: the resource's loop)."""
        if loop is None:
            if self.resource is not None:
                return self.resource[1]
            if self.named:
                names = ", ".join(f"'{n}'" for n, _ in self.named)
                raise ExpressionError(
                    "copyIndex() without a loop name means the resource's copy loop, and this resource has "
                    f"none: name the loop it is in, copyIndex({names.split(', ')[-1]})",
                    code=COPY_INDEX_OUTSIDE,
                )
            raise ExpressionError(
                "copyIndex() is only allowed inside a copy loop (a resource's, a property's or a "
                "variable's 'copy')",
                code=COPY_INDEX_OUTSIDE,
            )
        for name, index in reversed(self.named):
            if name.lower() == loop.lower():
                return index
        if self.resource is not None and self.resource[0].lower() == loop.lower():
            return self.resource[1]
        inside = [n for n, _ in self.named] + ([self.resource[0]] if self.resource else [])
        where = f"it is inside {', '.join(repr(n) for n in inside)}" if inside else "it is inside no loop"
        raise ExpressionError(
            f"copyIndex('{loop}'): no copy loop of that name encloses it ({where})", code=COPY_INDEX_OUTSIDE
        )


def checked_count(value: Any, loop: str) -> int:
    """A loop's evaluated count, as ARM allows it: an integer from 0 to 800, known before apply."""
    if isinstance(value, Unknown):
        raise ExpressionError(
            f"copy loop '{loop}': count must be known before apply; a reference() value is known only "
            "after it",
            code=COPY_COUNT,
        )
    if not is_int(value):
        raise ExpressionError(
            f"copy loop '{loop}': count must be an integer from 0 to {MAX_COUNT}, got {type_name(value)}",
            code=COPY_COUNT,
        )
    if not 0 <= value <= MAX_COUNT:
        raise ExpressionError(
            f"copy loop '{loop}': count is {value}; ARM allows 0 to {MAX_COUNT}", code=COPY_COUNT
        )
    return int(value)


def loop_entries(value: Any) -> list[dict[str, Any]] | None:
    """The entries of a property or variable `copy` (a list of {name, count, input}); None when `value` is
    not one (the caller reports what is wrong with it)."""
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        return None
    return [{key.lower(): item for key, item in entry.items()} for entry in value]


def entry_problem(entry: dict[str, Any]) -> str | None:
    """What is wrong with one property or variable loop's entry (keys lower-cased), or None."""
    if not isinstance(entry.get("name"), str) or not entry["name"]:
        return "a copy loop needs a 'name' (the property or variable it makes)"
    if "count" not in entry:
        return f"copy loop '{entry['name']}' needs a 'count'"
    if "input" not in entry:
        return f"copy loop '{entry['name']}' needs an 'input' (the value of each item)"
    extra = sorted(set(entry) - {"name", "count", "input"})
    if extra:
        shown = ", ".join(repr(k) for k in extra)
        return f"copy loop '{entry['name']}' has {shown}; it takes name, count and input"
    return None


def variable_loops(variables: Mapping[str, Any]) -> dict[str, tuple[int, dict[str, Any]]]:
    """The variables a template's top-level `"copy": [...]` in `variables` makes: lower-case name →
    (position in the list, the entry with its keys lower-cased). Entries without a name make none (the loader
    reports them)."""
    key = next((name for name in variables if name.lower() == "copy"), None)
    entries = loop_entries(variables[key]) if key is not None else None
    return {
        entry["name"].lower(): (position, entry)
        for position, entry in enumerate(entries or ())
        if isinstance(entry.get("name"), str) and entry["name"]
    }


def copy_loop(ev: Evaluator, entry: dict[str, Any], path: JsonPath) -> list[Any]:
    """The array a property or variable copy loop makes (`entry`: its keys lower-cased; `path`: where it is
    written): `input` evaluated once per index, copyIndex('name') giving the index."""
    problem = entry_problem(entry)
    if problem is not None:
        raise ExpressionError(problem, path=path, code=COPY_SHAPE)
    name = entry["name"]
    count = ev.evaluate_value(entry["count"], (*path, "count"))
    try:
        count = checked_count(count, name)
    except ExpressionError as exc:
        exc.path, exc._located = (*path, "count"), True
        raise
    items = []
    for index in range(count):
        with ev.loops.item(name, index):
            items.append(ev.evaluate_value(entry["input"], (*path, "input")))
    return items


def object_loops(ev: Evaluator, value: Any, path: JsonPath) -> dict[str, list[Any]]:
    """The properties a `"copy": [...]` inside an object makes, by loop name."""
    entries = loop_entries(value)
    if entries is None:
        raise ExpressionError(
            "'copy' holds a list of loops, each {name, count, input}", path=path, code=COPY_SHAPE
        )
    return {
        str(entry.get("name")): copy_loop(ev, entry, (*path, position))
        for position, entry in enumerate(entries)
    }


FUNCTIONS: dict[str, Function] = {}
_register = registrar(FUNCTIONS)


@_register("copyIndex", 0, 2)
def _fn_copy_index(ev: Evaluator, name: str, args: list[Any]) -> Any:
    loop: str | None = None
    offset = 0
    if args and isinstance(args[0], str):
        loop = want_str(name, args[0], "a loop name")
        args = args[1:]
    elif len(args) == 2:
        want_str(name, args[0], "a loop name as its first argument")
    if args:
        offset = want_int(name, args[0], "an integer offset")
    return ev.loops.index(loop) + offset
