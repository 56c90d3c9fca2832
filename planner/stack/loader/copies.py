"""A resource's ARM copy loop: its `copy` object read and checked as ARM checks it, and the loop names a
stack declares checked for clashes.

`"copy": {"name": "web", "count": 3, "mode": "serial", "batchSize": 1}` makes three instances of the
resource, addressed `KIND.web[0]` to `KIND.web[2]`; copyIndex() gives each its index. The rules (ids in
expressions.loops, documented in rules.staged): the copy is an object with a name and a count, mode serial
or parallel, batchSize a positive integer (AIB0030); count an integer from 0 to 800 known before apply
(AIB0031); no copy on a resource declared inside another's `resources` (AIB0032, ARM allows loops on
top-level resources only, property loops included); one loop name per loop in a template and, with its
kind, in the stack (AIB0034).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...diagnostics import JsonPath, Severity
from ..expressions import ExpressionError
from ..expressions.loops import COPY_COUNT, COPY_NAME_TAKEN, COPY_ON_CHILD, COPY_SHAPE, checked_count
from ..model import CopyInstance, Resource
from .loading import DeclaredLoop, Loading

_KEYS = {"name": "name", "count": "count", "mode": "mode", "batchsize": "batchSize"}


@dataclass(frozen=True)
class CopyLoop:
    """A resource copy loop as read: its name, how many instances, and how they deploy."""

    name: str
    count: int
    serial: bool
    batch_size: int

    def instances(self) -> list[CopyInstance]:
        return [CopyInstance(self.name, i, self.serial, self.batch_size) for i in range(self.count)]


Evaluate = Callable[[Any, JsonPath], tuple[Any, bool]]


def read_loop(
    raw: Any,
    evaluate: Evaluate,
    shown: str,
    pointer: JsonPath,
    loading: Loading,
    *,
    child: bool,
) -> CopyLoop | None:
    """The resource's loop from its `copy` value (`evaluate(value, path)` gives the value and whether it is
    known); None when it cannot be used (reported, or a value not known here, which the caller's evaluation
    recorded)."""

    def refuse(code: str, message: str, path: JsonPath = ("copy",), hint: str | None = None) -> None:
        loading.add(code, Severity.ERROR, message, file=shown, path=path, pointer=pointer, hint=hint)

    if child:
        refuse(
            COPY_ON_CHILD,
            "a resource declared inside another's 'resources' cannot have a copy loop (ARM allows loops on "
            "top-level resources only)",
            hint="declare it at the top level, its name and type in full (PARENT/CHILD), and its dependsOn "
            "the parent",
        )
        return None
    if not isinstance(raw, dict):
        refuse(COPY_SHAPE, "a resource's 'copy' is an object: {name, count, mode, batchSize}")
        return None
    spec = {_KEYS.get(key.lower(), key): value for key, value in raw.items()}
    if "name" not in spec:
        refuse(COPY_SHAPE, "the copy loop needs a 'name' (dependsOn can name it; addresses are NAME[INDEX])")
        return None
    name, known = evaluate(spec["name"], ("copy", "name"))
    if not known:
        return None
    if not isinstance(name, str) or not name or any(c in name for c in "[]. "):
        refuse(
            COPY_SHAPE,
            f"the copy loop's name must be a word (no '.', '[', ']' or spaces), got {name!r}",
            ("copy", "name"),
        )
        return None
    if "count" not in spec:
        refuse(COPY_SHAPE, f"copy loop '{name}' needs a 'count'")
        return None
    count, known = evaluate(spec["count"], ("copy", "count"))
    if not known:
        return None
    try:
        count = checked_count(count, name)
    except ExpressionError as exc:
        refuse(COPY_COUNT, exc.message, ("copy", "count"))
        return None
    mode, known = evaluate(spec.get("mode", "parallel"), ("copy", "mode"))
    if not known:
        return None
    if not isinstance(mode, str) or mode.lower() not in ("serial", "parallel"):
        refuse(
            COPY_SHAPE, f"copy loop '{name}': mode is 'serial' or 'parallel', got {mode!r}", ("copy", "mode")
        )
        return None
    batch_size, known = evaluate(spec.get("batchSize", 1), ("copy", "batchSize"))
    if not known:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 800:
        refuse(
            COPY_SHAPE,
            f"copy loop '{name}': batchSize is an integer from 1 to 800, got {batch_size!r}",
            ("copy", "batchSize"),
        )
        return None
    loading.copy_loops.append(DeclaredLoop(name, shown, pointer))
    return CopyLoop(name, count, mode.lower() == "serial", batch_size)


def child_has_property_loop(properties: Any) -> bool:
    """Whether a resource's properties hold a property loop (a `copy` list in any object)."""
    stack = [properties]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key.lower() == "copy" and isinstance(value, list):
                    return True
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return False


def check_loop_names(loading: Loading) -> None:
    """AIB0034: a loop name used twice in one file, or by two loops of one kind (one set of addresses)."""
    seen: dict[str, DeclaredLoop] = {}
    for loop in loading.copy_loops:
        key = f"{loop.file}\0{loop.name.lower()}"
        if key in seen and seen[key].pointer != loop.pointer:
            loading.add(
                COPY_NAME_TAKEN,
                Severity.ERROR,
                f"the copy loop name '{loop.name}' is used by two loops in {loop.file}",
                file=loop.file,
                path=("copy", "name"),
                pointer=loop.pointer,
                hint="give each loop its own name: dependsOn and addresses name a loop",
            )
        seen.setdefault(key, loop)
    first: dict[str, Resource] = {}
    kept: list[Resource] = []
    for resource in loading.resources:
        other = first.setdefault(resource.address.lower(), resource)
        if other is resource or resource.copy is None or other.source == resource.source:
            kept.append(resource)
        elif other.source.file != resource.source.file:  # in one file: reported by name above
            loading.add(
                COPY_NAME_TAKEN,
                Severity.ERROR,
                f"{resource.address} is made by two copy loops (also in {other.source.file}); each instance "
                "needs its own address",
                file=resource.source.file,
                path=("copy", "name"),
                pointer=resource.source.pointer,
                address=resource.address,
                hint="rename one of the loops",
            )
    loading.resources[:] = kept
