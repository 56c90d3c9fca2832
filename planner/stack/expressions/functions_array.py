"""Array and object functions: length(), contains(), take(), skip(), first(), last(), union(),
intersection(), range(), objectKeys(), flatten(), tryGet()."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ExpressionError
from .functions import Function, registrar, want, want_int, want_str
from .values import check_int64, is_int, json_equal, lookup, to_string, type_name

if TYPE_CHECKING:
    from .evaluator import Evaluator

FUNCTIONS: dict[str, Function] = {}
_register = registrar(FUNCTIONS)

_MAX_RANGE = 10000


@_register("length", 1, 1)
def _fn_length(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    want(name, value, "a string, array or object", isinstance(value, (str, list, dict)))
    return len(value)


@_register("contains", 2, 2)
def _fn_contains(ev: Evaluator, name: str, args: list[Any]) -> Any:
    container, item = args
    if isinstance(container, list):
        return any(json_equal(element, item) for element in container)
    if isinstance(container, dict):
        key = want_str(name, item, "a key (string) when searching an object")
        return lookup(container, key)[0]
    text = want_str(name, container, "a string, array or object")
    want(name, item, "a string to find", isinstance(item, (str, int)))
    return to_string(item) in text


def _take_or_skip(name: str, args: list[Any], take: bool) -> Any:
    value = args[0]
    want(name, value, "a string or array", isinstance(value, (str, list)))
    count = max(want_int(name, args[1], "an integer count"), 0)
    return value[:count] if take else value[count:]


@_register("take", 2, 2)
def _fn_take(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return _take_or_skip(name, args, take=True)


@_register("skip", 2, 2)
def _fn_skip(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return _take_or_skip(name, args, take=False)


@_register("first", 1, 1)
def _fn_first(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    want(name, value, "a string or array", isinstance(value, (str, list)))
    if isinstance(value, str):
        return value[:1]
    return value[0] if value else None


@_register("last", 1, 1)
def _fn_last(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    want(name, value, "a string or array", isinstance(value, (str, list)))
    if isinstance(value, str):
        return value[-1:]
    return value[-1] if value else None


def _merge_objects(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """union() of objects: later values win, nested objects are merged recursively."""
    result = dict(left)
    for key, value in right.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge_objects(result[key], value)
        else:
            result[key] = value
    return result


def _same_kind(name: str, args: list[Any]) -> type:
    if all(isinstance(arg, list) for arg in args):
        return list
    if all(isinstance(arg, dict) for arg in args):
        return dict
    raise ExpressionError(
        f"{name}() expects all arrays or all objects, got " + ", ".join(type_name(arg) for arg in args)
    )


@_register("union", 1, None)
def _fn_union(ev: Evaluator, name: str, args: list[Any]) -> Any:
    if _same_kind(name, args) is dict:
        merged: dict[str, Any] = {}
        for arg in args:
            merged = _merge_objects(merged, arg)
        return merged
    result: list[Any] = []
    for arg in args:
        for item in arg:
            if not any(json_equal(item, existing) for existing in result):
                result.append(item)
    return result


@_register("intersection", 2, None)
def _fn_intersection(ev: Evaluator, name: str, args: list[Any]) -> Any:
    first, rest = args[0], args[1:]
    if _same_kind(name, args) is dict:
        return {
            key: value
            for key, value in first.items()
            if all(key in other and json_equal(other[key], value) for other in rest)
        }
    result: list[Any] = []
    for item in first:
        if any(json_equal(item, existing) for existing in result):
            continue
        if all(any(json_equal(item, element) for element in other) for other in rest):
            result.append(item)
    return result


@_register("range", 2, 2)
def _fn_range(ev: Evaluator, name: str, args: list[Any]) -> Any:
    start = want_int(name, args[0], "an integer start")
    count = want_int(name, args[1], "an integer count")
    if count < 0 or count > _MAX_RANGE:
        raise ExpressionError(f"{name}(): count must be between 0 and {_MAX_RANGE}, got {count}")
    check_int64(name, start + count)
    return list(range(start, start + count))


@_register("objectKeys", 1, 1)
def _fn_object_keys(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    want(name, value, "an object", isinstance(value, dict))
    return list(value)


@_register("flatten", 1, 1)
def _fn_flatten(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    want(name, value, "an array of arrays", isinstance(value, list))
    result: list[Any] = []
    for item in value:
        want(name, item, "an array of arrays", isinstance(item, list))
        result.extend(item)
    return result


@_register("tryGet", 2, None)
def _fn_try_get(ev: Evaluator, name: str, args: list[Any]) -> Any:
    current = args[0]
    for key in args[1:]:
        if isinstance(current, dict) and isinstance(key, str):
            found, current = lookup(current, key)
            if not found:
                return None
        elif isinstance(current, list) and is_int(key):
            if not 0 <= key < len(current):
                return None
            current = current[key]
        else:
            return None
    return current
