"""Conversions: string(), int(), bool(), array(), createArray(), createObject(), json(), base64 and URI
encodings."""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from typing import TYPE_CHECKING, Any

from state.jsontext import JsonLimitError, loads

from .errors import ExpressionError
from .functions import Function, registrar, want_int, want_str
from .values import check_int64, is_int, to_string, type_name

if TYPE_CHECKING:
    from .evaluator import Evaluator

FUNCTIONS: dict[str, Function] = {}
_register = registrar(FUNCTIONS)


@_register("string", 1, 1)
def _fn_string(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return to_string(args[0])


@_register("int", 1, 1)
def _fn_int(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    if is_int(value):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return check_int64(name, int(value))
    if isinstance(value, str):
        raise ExpressionError(f"{name}(): '{value}' is not an integer")
    return want_int(name, value, "an integer or a string of digits")


@_register("bool", 1, 1)
def _fn_bool(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if is_int(value):
        return value != 0
    raise ExpressionError(
        f"{name}() expects a boolean, 'true'/'false' or an integer, got "
        + (repr(value) if isinstance(value, str) else type_name(value))
    )


@_register("array", 1, 1)
def _fn_array(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    return value if isinstance(value, list) else [value]


@_register("createArray", 0, None)
def _fn_create_array(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return list(args)


@_register("createObject", 0, None)
def _fn_create_object(ev: Evaluator, name: str, args: list[Any]) -> Any:
    if len(args) % 2:
        raise ExpressionError(f"{name}() expects key/value pairs (an even number of arguments)")
    result: dict[str, Any] = {}
    for key, value in zip(args[::2], args[1::2], strict=True):
        result[want_str(name, key, "string keys")] = value
    return result


@_register("json", 1, 1)
def _fn_json(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text = want_str(name, args[0])

    try:
        return loads(text)
    except JsonLimitError as exc:
        raise ExpressionError(f"{name}(): invalid JSON: {exc.message}") from None
    except ValueError as exc:
        raise ExpressionError(f"{name}(): invalid JSON: {exc}") from None


@_register("base64", 1, 1)
def _fn_base64(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return base64.b64encode(want_str(name, args[0]).encode("utf-8")).decode("ascii")


@_register("base64ToString", 1, 1)
def _fn_base64_to_string(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text = want_str(name, args[0])
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ExpressionError(f"{name}(): '{text}' is not valid base64 UTF-8 text: {exc}") from None


@_register("uri", 2, 2)
def _fn_uri(ev: Evaluator, name: str, args: list[Any]) -> Any:
    base = want_str(name, args[0], "a base URI (string)")
    relative = want_str(name, args[1], "a relative URI (string)")
    if not urllib.parse.urlsplit(base).scheme:
        raise ExpressionError(f"{name}(): base URI '{base}' is not absolute")
    return urllib.parse.urljoin(base, relative)


@_register("uriComponent", 1, 1)
def _fn_uri_component(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return urllib.parse.quote(want_str(name, args[0]), safe="")


@_register("uriComponentToString", 1, 1)
def _fn_uri_component_to_string(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return urllib.parse.unquote(want_str(name, args[0]))
