"""JSON values as ARM's functions see them: type names, equality, conversion to string, case-insensitive
lookup, 64-bit integer arithmetic."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .errors import ExpressionError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MASK64 = 2**64 - 1


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "floating-point number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def json_equal(left: Any, right: Any) -> bool:
    """Deep equality as ARM does it: strings case-sensitive, booleans are not numbers."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(
            json_equal(value, right[key]) for key, value in left.items()
        )
    return type(left) is type(right) and bool(left == right)


def copy_json(value: Any) -> Any:
    """Deep copy of a JSON structure (faster than copy.deepcopy for plain data)."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


def to_string(value: Any) -> str:
    """ARM's conversion to string: booleans 'True'/'False', containers as compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def fold(text: str) -> str:
    """Lower-case text without changing its length, so indexes stay valid."""
    if text.isascii():
        return text.lower()
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


def lookup(mapping: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    """Case-insensitive property lookup (exact match preferred), as ARM does."""
    if name in mapping:
        return True, mapping[name]
    lowered = name.lower()
    for key, value in mapping.items():
        if key.lower() == lowered:
            return True, value
    return False, None


def check_int64(function: str, value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise ExpressionError(f"{function}(): result {value} does not fit in a 64-bit integer")
    return value


def trunc_div(left: int, right: int) -> int:
    """Integer division rounding toward zero, as .NET does."""
    quotient = abs(left) // abs(right)
    return quotient if (left >= 0) == (right >= 0) else -quotient
