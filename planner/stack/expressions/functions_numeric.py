"""Integer arithmetic as ARM does it (64-bit, division toward zero): add(), sub(), mul(), div(), mod(),
min(), max()."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ExpressionError
from .functions import Function, registrar, want_int
from .values import check_int64, trunc_div

if TYPE_CHECKING:
    from .evaluator import Evaluator

FUNCTIONS: dict[str, Function] = {}
_register = registrar(FUNCTIONS)


def _operands(name: str, args: list[Any]) -> tuple[int, int]:
    return (
        want_int(name, args[0], "integer operands"),
        want_int(name, args[1], "integer operands"),
    )


@_register("add", 2, 2)
def _fn_add(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _operands(name, args)
    return check_int64(name, left + right)


@_register("sub", 2, 2)
def _fn_sub(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _operands(name, args)
    return check_int64(name, left - right)


@_register("mul", 2, 2)
def _fn_mul(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _operands(name, args)
    return check_int64(name, left * right)


@_register("div", 2, 2)
def _fn_div(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _operands(name, args)
    if right == 0:
        raise ExpressionError(f"{name}(): division by zero")
    return check_int64(name, trunc_div(left, right))


@_register("mod", 2, 2)
def _fn_mod(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _operands(name, args)
    if right == 0:
        raise ExpressionError(f"{name}(): division by zero")
    return left - right * trunc_div(left, right)


def _numbers(name: str, args: list[Any]) -> list[int]:
    values = args[0] if len(args) == 1 and isinstance(args[0], list) else args
    if not values:
        raise ExpressionError(f"{name}() needs at least one integer")
    return [want_int(name, value, "integers or an array of integers") for value in values]


@_register("min", 1, None)
def _fn_min(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return min(_numbers(name, args))


@_register("max", 1, None)
def _fn_max(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return max(_numbers(name, args))
