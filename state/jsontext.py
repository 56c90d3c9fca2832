"""Deterministic indented JSON, written fast: the same bytes as
`json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)`, about three times sooner.

The standard library's encoder falls back to pure-Python generators whenever `indent` is set; a state
file of 10,000 resources is tens of megabytes, written several times during an apply, so this direct
recursive writer (strings still escaped by the C encoder) is worth its few lines.
"""

from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any


def dumps_indented(value: Any, level: int = 0) -> str:
    """`value` as indented JSON; nested lines start `level` indents deep (the first line is not indented)."""
    out: list[str] = []
    _dump(value, level, out)
    return "".join(out)


def _dump(value: Any, level: int, out: list[str]) -> None:
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
