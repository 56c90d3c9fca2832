"""String functions: concat(), format(), case, trimming, replace(), split(), join(), substring(),
padLeft(), searches; guid() and uniqueString(); newGuid() and utcNow() (only in a defaultValue)."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from .errors import ExpressionError
from .formatting import dotnet_datetime, dotnet_format
from .functions import Function, registrar, want, want_int, want_str
from .hashing import arm_guid, unique_string
from .values import fold, is_int, json_equal, to_string, type_name

if TYPE_CHECKING:
    from .evaluator import Evaluator

FUNCTIONS: dict[str, Function] = {}
_register = registrar(FUNCTIONS)


@_register("concat", 1, None)
def _fn_concat(ev: Evaluator, name: str, args: list[Any]) -> Any:
    if isinstance(args[0], list):
        result: list[Any] = []
        for arg in args:
            want(name, arg, "arrays only (the first argument is an array)", isinstance(arg, list))
            result.extend(arg)
        return result
    parts = []
    for arg in args:
        want(
            name,
            arg,
            "strings, integers or booleans (or arrays only)",
            arg is None or isinstance(arg, (str, int)),
        )
        parts.append(to_string(arg))
    return "".join(parts)


@_register("format", 1, None)
def _fn_format(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return dotnet_format(want_str(name, args[0], "a format string"), args[1:])


@_register("toLower", 1, 1)
def _fn_to_lower(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return want_str(name, args[0]).lower()


@_register("toUpper", 1, 1)
def _fn_to_upper(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return want_str(name, args[0]).upper()


@_register("trim", 1, 1)
def _fn_trim(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return want_str(name, args[0]).strip()


@_register("replace", 3, 3)
def _fn_replace(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text = want_str(name, args[0])
    old = want_str(name, args[1], "a string to replace")
    new = want_str(name, args[2], "a replacement string")
    if not old:
        raise ExpressionError(f"{name}(): the string to replace must not be empty")
    return text.replace(old, new)


@_register("split", 2, 2)
def _fn_split(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text = want_str(name, args[0])
    delimiter = args[1]
    if isinstance(delimiter, str):
        delimiters = [delimiter]
    elif isinstance(delimiter, list) and all(isinstance(d, str) for d in delimiter):
        delimiters = list(delimiter)
    else:
        raise ExpressionError(
            f"{name}() expects a delimiter string or array of strings, got {type_name(delimiter)}"
        )
    delimiters = [d for d in delimiters if d]
    if not delimiters:
        return [text]
    return re.split("|".join(re.escape(d) for d in delimiters), text)


@_register("join", 2, 2)
def _fn_join(ev: Evaluator, name: str, args: list[Any]) -> Any:
    items = args[0]
    want(name, items, "an array as first argument", isinstance(items, list))
    delimiter = want_str(name, args[1], "a delimiter string")
    for item in items:
        want(
            name,
            item,
            "an array of strings, integers or booleans",
            isinstance(item, (str, int)) or item is None,
        )
    return delimiter.join(to_string(item) for item in items)


@_register("substring", 2, 3)
def _fn_substring(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text = want_str(name, args[0])
    start = want_int(name, args[1], "an integer start index")
    if start < 0 or start > len(text):
        raise ExpressionError(f"{name}(): start index {start} is outside the string (length {len(text)})")
    if len(args) == 2 or args[2] is None:
        return text[start:]
    length = want_int(name, args[2], "an integer length")
    if length < 0 or start + length > len(text):
        raise ExpressionError(
            f"{name}(): start index {start} plus length {length} exceeds the string length {len(text)}"
        )
    return text[start : start + length]


@_register("padLeft", 2, 3)
def _fn_pad_left(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    want(name, value, "a string or integer to pad", isinstance(value, str) or is_int(value))
    width = want_int(name, args[1], "an integer total length")
    pad = " "
    if len(args) == 3:
        pad = want_str(name, args[2], "a single padding character")
        if len(pad) != 1:
            raise ExpressionError(f"{name}(): the padding character must be exactly one character")
    return to_string(value).rjust(width, pad)


@_register("startsWith", 2, 2)
def _fn_starts_with(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text, prefix = want_str(name, args[0]), want_str(name, args[1])
    return fold(text).startswith(fold(prefix))


@_register("endsWith", 2, 2)
def _fn_ends_with(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text, suffix = want_str(name, args[0]), want_str(name, args[1])
    return fold(text).endswith(fold(suffix))


def _find(name: str, args: list[Any], last: bool) -> int:
    container, item = args
    if isinstance(container, list):
        indexes = range(len(container) - 1, -1, -1) if last else range(len(container))
        return next((i for i in indexes if json_equal(container[i], item)), -1)
    text = want_str(name, container, "a string or array")
    needle = want_str(name, item, "a string to find")
    return fold(text).rfind(fold(needle)) if last else fold(text).find(fold(needle))


@_register("indexOf", 2, 2)
def _fn_index_of(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return _find(name, args, last=False)


@_register("lastIndexOf", 2, 2)
def _fn_last_index_of(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return _find(name, args, last=True)


@_register("guid", 1, None)
def _fn_guid(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return arm_guid(*[want_str(name, arg, "string arguments") for arg in args])


@_register("uniqueString", 1, None)
def _fn_unique_string(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return unique_string(*[want_str(name, arg, "string arguments") for arg in args])


@_register("newGuid", 0, 0)
def _fn_new_guid(ev: Evaluator, name: str, args: list[Any]) -> Any:
    ev.require_nondeterministic(name)
    return str(uuid.uuid4())


@_register("utcNow", 0, 1)
def _fn_utc_now(ev: Evaluator, name: str, args: list[Any]) -> Any:
    ev.require_nondeterministic(name)
    fmt = want_str(name, args[0], "a format string") if args else "yyyyMMddTHHmmssZ"
    return dotnet_datetime(ev.clock(), fmt)
