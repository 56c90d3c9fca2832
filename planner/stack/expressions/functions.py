"""The function library's table: each function's arity, the argument checks functions share, and the ARM
functions aibplan knows but does not evaluate (they need the deployment, or are not implemented)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ExpressionError
from .values import is_int, type_name

if TYPE_CHECKING:
    from .evaluator import Evaluator

# Functions ARM knows that need the deployment (or a copy loop) to produce a value.
RUNTIME_ONLY = {
    name.lower()
    for name in (
        "providers",
        "environment",
        "pickZones",
        "managementGroup",
        "managementGroupResourceId",
        "deployer",
        "copyIndex",
        "resourceInfo",
        "lambdaVariables",
    )
}
# Functions ARM knows that aibplan does not implement (yet).
NOT_IMPLEMENTED = {
    name.lower()
    for name in (
        "items",
        "dateTimeAdd",
        "dateTimeFromEpoch",
        "dateTimeToEpoch",
        "filter",
        "map",
        "reduce",
        "sort",
        "toObject",
        "lambda",
        "mapValues",
        "groupBy",
        "shallowMerge",
        "indexFromEnd",
        "tryIndexFromEnd",
        "parseCidr",
        "cidrSubnet",
        "cidrHost",
        "base64ToJson",
        "dataUri",
        "dataUriToString",
    )
}


Impl = Callable[["Evaluator", str, list[Any]], Any]


@dataclass(frozen=True)
class Function:
    """One function of the library: what computes it and how many arguments it takes."""

    impl: Impl
    min_args: int
    max_args: int | None  # None: unbounded


def arity_message(name: str, spec: Function, got: int) -> str:
    low, high = spec.min_args, spec.max_args
    if high == low:
        expected = f"{low} argument{'s' if low != 1 else ''}" if low else "no arguments"
    elif high is None:
        expected = f"at least {low} argument{'s' if low != 1 else ''}"
    else:
        expected = f"{low} to {high} arguments"
    return f"{name}() expects {expected}, got {got}"


def want(name: str, value: Any, expected: str, ok: bool) -> None:
    if not ok:
        raise ExpressionError(f"{name}() expects {expected}, got {type_name(value)}")


def want_str(name: str, value: Any, what: str = "a string") -> str:
    want(name, value, what, isinstance(value, str))
    return str(value)


def want_int(name: str, value: Any, what: str = "an integer") -> int:
    if isinstance(value, float):
        raise ExpressionError(
            f"{name}() expects {what}, got a floating-point number ({value}); "
            "ARM expressions only support integers"
        )
    want(name, value, what, is_int(value))
    return int(value)


def want_bool(name: str, value: Any, what: str = "a boolean") -> bool:
    want(name, value, what, isinstance(value, bool))
    return bool(value)


def registrar(table: dict[str, Function]) -> Callable[[str, int, int | None], Callable[[Impl], Impl]]:
    """A decorator that adds a function to `table` under its ARM name (looked up without case)."""

    def register(name: str, min_args: int, max_args: int | None) -> Callable[[Impl], Impl]:
        def decorator(impl: Impl) -> Impl:
            table[name.lower()] = Function(impl, min_args, max_args)
            return impl

        return decorator

    return register
