"""Deterministic indented JSON, written fast: the same bytes as
`json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)`, about three times sooner. And what
aibplan refuses to read although json.loads takes it (or fails on it with a traceback): nesting deeper
than MAX_DEPTH, numbers with too many digits or too big to be finite, lone surrogate escapes; every reader
of JSON (stack files, parameter values, the state, its journal, saved plans) says so as one clear error.

The standard library's encoder falls back to pure-Python generators whenever `indent` is set; a state
file of 10,000 resources is tens of megabytes, written several times during an apply, so this direct
recursive writer (strings still escaped by the C encoder) is worth its few lines.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

import orjson


def dumps_indented(value: Any, level: int = 0) -> str:
    """`value` as indented JSON; nested lines start `level` indents deep (the first line is not indented)."""
    out: list[str] = []
    _dump(value, level, out)
    return "".join(out)


def _dump(value: Any, level: int, out: list[str]) -> None:
    kind = type(value)
    if kind is str:  # the common kinds first, by their exact type; subclasses take the checks below
        out.append(encode_basestring(value))
        return
    if kind is dict and value:
        inner = "\n" + "  " * (level + 1)
        separator = "{" + inner
        for key in sorted(value):
            out.append(separator)
            separator = "," + inner
            out.append(encode_basestring(key if type(key) is str else _key(key)))
            out.append(": ")
            item = value[key]
            if type(item) is str:
                out.append(encode_basestring(item))
            else:
                _dump(item, level + 1, out)
        out.append("\n" + "  " * level + "}")
        return
    if kind is list and value:
        inner = "\n" + "  " * (level + 1)
        separator = "[" + inner
        for item in value:
            out.append(separator)
            separator = "," + inner
            if type(item) is str:
                out.append(encode_basestring(item))
            else:
                _dump(item, level + 1, out)
        out.append("\n" + "  " * level + "]")
        return
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value!r} cannot be written as JSON")
        out.append(float.__repr__(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = "\n" + "  " * (level + 1)
        separator = "{" + inner
        for key in sorted(value):
            out.append(separator)
            separator = "," + inner
            out.append(encode_basestring(key if isinstance(key, str) else _key(key)))
            out.append(": ")
            _dump(value[key], level + 1, out)
        out.append("\n" + "  " * level + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = "\n" + "  " * (level + 1)
        separator = "[" + inner
        for item in value:
            out.append(separator)
            separator = "," + inner
            _dump(item, level + 1, out)
        out.append("\n" + "  " * level + "]")
    else:
        raise TypeError(f"{type(value).__name__} cannot be written as JSON")


def _key(key: Any) -> str:
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, (int, float)):
        return repr(key)
    raise TypeError(f"keys must be strings, not {type(key).__name__}")


# -- reading: what json.loads accepts but aibplan cannot carry -------------------------------------------

# Deeper than any body Azure takes (an image template is about 8 levels deep); also keeps every walk over a
# value far from Python's recursion limit.
MAX_DEPTH = 64
# Python's own limit on the digits of an integer it reads (json.loads refuses more).
MAX_DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 4300)() or 4300

_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_STRING_OR_LONG_NUMBER = re.compile(rf'"(?:[^"\\]|\\.)*"|-?\d{{{MAX_DIGITS + 1},}}')
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


@functools.cache
def _surrogate() -> re.Pattern[str]:
    """A lone surrogate: compiled when first asked for (the class of every surrogate takes milliseconds to
    compile, at the start of every command otherwise)."""
    return re.compile("[\ud800-\udfff]")


_FLOAT_OR_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|-?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|NaN|Infinity)')


class JsonLimitError(ValueError):
    """JSON that parses (or would, but for Python's own limits) that aibplan refuses: the message says
    what is allowed; `offset` is where in the text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a character offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def limit_problem(error: BaseException, text: str) -> JsonLimitError | None:
    """What json.loads failing with `error` on `text` means, when it is one of aibplan's limits: nesting
    too deep (RecursionError) or a number too long (ValueError). None for anything else."""
    if isinstance(error, RecursionError):
        return JsonLimitError(_too_deep(), _depth_offset(text))
    if isinstance(error, ValueError) and "integer string conversion" in str(error):
        for match in _STRING_OR_LONG_NUMBER.finditer(text):
            if match.group()[0] != '"':
                digits = len(match.group().lstrip("-"))
                return JsonLimitError(
                    f"a number with {digits} digits; numbers have at most {MAX_DIGITS} digits (an ARM "
                    "integer at most 19)",
                    match.start(),
                )
        return JsonLimitError(f"a number with more than {MAX_DIGITS} digits", 0)
    return None


def loads(text: str, **options: Any) -> Any:
    """json.loads within aibplan's limits. Raises json.JSONDecodeError for what is not JSON, JsonLimitError
    (with the offset) for what JSON allows but aibplan refuses: see check_limits, and numbers that are not
    finite (`1e999`, `NaN`, `Infinity`)."""
    options.setdefault("parse_float", _finite_float)
    options.setdefault("parse_constant", _no_constant)
    try:
        value = json.loads(text, **options)
    except json.JSONDecodeError:
        raise
    except _NotFinite as exc:
        raise JsonLimitError(exc.message, _float_offset(text, exc.literal)) from None
    except (ValueError, RecursionError) as exc:
        problem = limit_problem(exc, text)
        if problem is None:
            raise
        raise problem from None
    check_limits(value, text)
    return value


def read_json(text: str) -> Any:
    """json.loads(text), read by orjson where it gives the same value: for text that need not be checked
    against aibplan's limits (what aibplan stored itself). orjson reads the many small bodies of the local
    cloud about a third sooner (0.08-0.12 s against 0.13-0.18 s for 5,602 bodies); on one big document
    (a state) it gains nothing on json.loads."""
    value = read_fast(text)
    return json.loads(text) if value is UNREAD else value


UNREAD = object()
# Each byte to b"1" for a digit and b"0" for anything else: a run of 19 digits is then a plain search.
_DIGITS = bytes(0x31 if 0x30 <= byte <= 0x39 else 0x30 for byte in range(256))
_NINETEEN_DIGITS = b"1" * 19


def read_fast(text: str) -> Any:
    """orjson's value of `text`, or UNREAD where json.loads must read it: what orjson refuses (json.loads
    then takes it, or refuses it in its own words: NaN, `1e999`, a lone surrogate escape, a byte order
    mark), and any text with 19 digits in a row (orjson reads an integer beyond 64 bits as a float; json.loads
    keeps it whole)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in the text itself
        return UNREAD
    if _NINETEEN_DIGITS in data.translate(_DIGITS):
        return UNREAD
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return UNREAD


class _NotFinite(ValueError):
    def __init__(self, literal: str, message: str) -> None:
        super().__init__(message)
        self.literal, self.message = literal, message


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _NotFinite(literal, f"{literal} is too big to be a finite number (at most about 1.8e308)")
    return value


def _no_constant(literal: str) -> Any:
    raise _NotFinite(literal, f"{literal} is not a JSON number (only finite numbers are allowed)")


def _float_offset(text: str, literal: str) -> int:
    for match in _FLOAT_OR_STRING.finditer(text):
        if match.group() == literal or match.group().lstrip("-") == literal.lstrip("-"):
            return match.start()
    return 0


def check_limits(value: Any, text: str) -> None:
    """Raise JsonLimitError when the parsed `value` of `text` is nested more than MAX_DEPTH levels or holds
    a lone surrogate escape (`\\ud800`: not a character, so it cannot be written as UTF-8). Each check
    runs only when a cheap test of the text says it may be needed."""
    if (len(text) > _COUNTED or text.count("{") + text.count("[") > MAX_DEPTH) and _depth_exceeds(value):
        raise JsonLimitError(_too_deep(), _depth_offset(text))
    if _SURROGATE_ESCAPE.search(text) and _any_leaf(value, _has_surrogate):
        escape, offset = _lone_surrogate_escape(text)
        raise JsonLimitError(
            f"a lone surrogate escape ({escape}) is not a character and cannot be stored; write the "
            "character itself, or both halves of its pair (\\ud83d\\ude00)",
            offset,
        )


# Up to this length the brackets are counted first (a text with fewer than MAX_DEPTH of them cannot be too
# deep); a longer one holds more almost always, and counting them in a state of 15 MB took 27 ms.
_COUNTED = 1 << 16


def _lone_surrogate_escape(text: str) -> tuple[str, int]:
    """The first surrogate escape that is not half of a pair (high then low), and where it is."""
    matches = list(_SURROGATE_ESCAPE.finditer(text))
    index = 0
    while index < len(matches):
        match = matches[index]
        high = match.group()[3].lower() in "89ab"
        following = matches[index + 1] if index + 1 < len(matches) else None
        if (
            high
            and following is not None
            and following.start() == match.end()
            and following.group()[3].lower() in "cdef"
        ):
            index += 2
            continue
        return match.group(), match.start()
    return "\\udXXX", 0


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep (objects and arrays); aibplan reads at most {MAX_DEPTH}"


def _depth_exceeds(value: Any) -> bool:
    if type(value) not in (dict, list):
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if type(item) is dict else item
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                if depth >= MAX_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def _depth_offset(text: str) -> int:
    """Where the first object or array more than MAX_DEPTH levels deep opens (strings skipped)."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return match.start()
        elif token in "]}":
            depth -= 1
    return 0


def _any_leaf(value: Any, test: Callable[[Any], bool]) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif test(item):
            return True
    return False


def _has_surrogate(item: Any) -> bool:
    return isinstance(item, str) and _surrogate().search(item) is not None


def lone_surrogate_path(value: Any) -> tuple[str | int, ...] | None:
    """Where `value` holds text that is not Unicode (a lone surrogate, as Python keeps a byte that is not
    UTF-8 from a command line or a stray `\\ud800` escape), or None."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if _surrogate().search(item):
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and _surrogate().search(key):
                    return (*path, key)
                stack.append((child, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, (*path, index)) for index, child in enumerate(item))
    return None


def unicode_text(text: str) -> str:
    """`text` with each lone surrogate (not Unicode, cannot be written as UTF-8) shown as U+FFFD."""
    return _surrogate().sub("\ufffd", text) if _surrogate().search(text) else text
