"""Literals, logic and comparison: true(), false(), null(), equals(), not(), and(), or(), less() and the
other comparisons, empty(), coalesce(). (if() is the evaluator's: only the branch it picks is evaluated.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ExpressionError
from .functions import Function, registrar, want, want_bool
from .values import is_int, json_equal, type_name

if TYPE_CHECKING:
    from .evaluator import Evaluator

FUNCTIONS: dict[str, Function] = {}
_register = registrar(FUNCTIONS)


@_register("true", 0, 0)
def _fn_true(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return True


@_register("false", 0, 0)
def _fn_false(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return False


@_register("null", 0, 0)
def _fn_null(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return None


@_register("equals", 2, 2)
def _fn_equals(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return json_equal(args[0], args[1])


@_register("not", 1, 1)
def _fn_not(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return not want_bool(name, args[0])


@_register("and", 2, None)
def _fn_and(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return all([want_bool(name, arg, "boolean arguments") for arg in args])


@_register("or", 2, None)
def _fn_or(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return any([want_bool(name, arg, "boolean arguments") for arg in args])


def _comparable(name: str, left: Any, right: Any) -> tuple[Any, Any]:
    if (is_int(left) and is_int(right)) or (isinstance(left, str) and isinstance(right, str)):
        return left, right
    raise ExpressionError(
        f"{name}() expects two integers or two strings, got {type_name(left)} and {type_name(right)}"
    )


@_register("less", 2, 2)
def _fn_less(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _comparable(name, *args)
    return bool(left < right)


@_register("lessOrEquals", 2, 2)
def _fn_less_or_equals(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _comparable(name, *args)
    return bool(left <= right)


@_register("greater", 2, 2)
def _fn_greater(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _comparable(name, *args)
    return bool(left > right)


@_register("greaterOrEquals", 2, 2)
def _fn_greater_or_equals(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _comparable(name, *args)
    return bool(left >= right)


@_register("empty", 1, 1)
def _fn_empty(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    if value is None:
        return True
    want(name, value, "a string, array, object or null", isinstance(value, (str, list, dict)))
    return len(value) == 0


@_register("coalesce", 1, None)
def _fn_coalesce(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return next((arg for arg in args if arg is not None), None)
