"""The .NET formatting ARM uses: composite format strings for format(), date and time patterns for
utcNow()."""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any

from .errors import ExpressionError
from .values import MASK64, is_int, to_string

_FORMAT_ITEM = re.compile(r"\{(\d+)\s*(?:,\s*(-?\d+)\s*)?(?::([^{}]*))?\}")


def _format_number(value: int, spec: str) -> str:
    """The subset of .NET numeric format strings that makes sense for integers."""
    if not spec:
        return str(value)
    letter, digits = spec[0], spec[1:]
    if re.fullmatch(r"[A-Za-z]\d{0,2}", spec):
        precision = int(digits) if digits else None
        upper = letter.upper()
        if upper == "D":
            body = str(abs(value)).zfill(precision or 0)
            return ("-" if value < 0 else "") + body
        if upper == "X":
            text = format(value & MASK64 if value < 0 else value, "x").zfill(precision or 0)
            return text.upper() if letter == "X" else text
        if upper == "N":
            return format(value, f",.{2 if precision is None else precision}f")
        if upper == "F":
            return format(value, f".{2 if precision is None else precision}f")
        if upper == "G":
            return str(value)
        raise ExpressionError(f"format(): unsupported format specifier '{spec}'")
    if re.fullmatch(r"0+", spec):
        return ("-" if value < 0 else "") + str(abs(value)).zfill(len(spec))
    raise ExpressionError(f"format(): unsupported format specifier '{spec}'")


def dotnet_format(template: str, args: list[Any]) -> str:
    """.NET composite formatting: ``{index[,alignment][:format]}`` with ``{{``/``}}`` escapes."""
    pieces, problem = _pieces(template)
    out: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        arg_index, width, spec = piece
        if arg_index >= len(args):
            raise ExpressionError(
                f"format(): format item {{{arg_index}}} refers to a missing argument ({len(args)} given)"
            )
        value = args[arg_index]
        text = _format_number(value, spec) if is_int(value) else to_string(value)
        if width is not None:
            text = text.ljust(-width) if width < 0 else text.rjust(width)
        out.append(text)
    if problem is not None:
        raise ExpressionError(problem)
    return "".join(out)


# A format item: (argument index, alignment or None, format specifier).
_Item = tuple[int, int | None, str]


@functools.lru_cache(maxsize=1024)
def _pieces(template: str) -> tuple[tuple[str | _Item, ...], str | None]:
    """A composite format string read once (a template formats the same few thousands of times): its
    text and format items in order, and what is wrong after them (reported once they are formatted)."""
    pieces: list[str | _Item] = []
    index = 0
    length = len(template)
    while index < length:
        char = template[index]
        if char == "{":
            if template.startswith("{{", index):
                pieces.append("{")
                index += 2
                continue
            match = _FORMAT_ITEM.match(template, index)
            if match is None:
                return tuple(pieces), f"format(): invalid format item at position {index} in {template!r}"
            width = int(match.group(2)) if match.group(2) else None
            pieces.append((int(match.group(1)), width, match.group(3) or ""))
            index = match.end()
        elif char == "}":
            if template.startswith("}}", index):
                pieces.append("}")
                index += 2
                continue
            return tuple(pieces), f"format(): unmatched '}}' at position {index} in {template!r}"
        else:
            next_brace = min(
                (pos for pos in (template.find("{", index), template.find("}", index)) if pos >= 0),
                default=length,
            )
            pieces.append(template[index:next_brace])
            index = next_brace
    return tuple(pieces), None


_DATETIME_TOKEN = re.compile(
    r"yyyy|yy|MMM|MM|M|ddd|dd|d|HH|H|hh|h|mm|m|ss|s|f{1,7}|tt|zzz|K|'[^']*'|\"[^\"]*\"|\\.|%|.",
    re.DOTALL,
)


_STANDARD_DATETIME_FORMATS = {
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
    "r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
}
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def dotnet_datetime(moment: datetime, fmt: str) -> str:
    """Render a UTC datetime with a .NET custom format string (or o/s/u/r standard ones)."""
    if len(fmt) == 1:
        standard = _STANDARD_DATETIME_FORMATS.get(fmt.lower())
        if standard is None:
            raise ExpressionError(f"utcNow(): unsupported standard format '{fmt}'")
        fmt = standard
    out: list[str] = []
    for match in _DATETIME_TOKEN.finditer(fmt):
        token = match.group()
        first = token[0]
        if token == "yy":
            out.append(f"{moment.year % 100:02d}")
        elif first == "y":
            out.append(f"{moment.year:04d}")
        elif token == "MMM":
            out.append(_MONTH_NAMES[moment.month - 1])
        elif first == "M":
            out.append(f"{moment.month:0{len(token)}d}")
        elif token == "ddd":
            out.append(_DAY_NAMES[moment.weekday()])
        elif first == "d":
            out.append(f"{moment.day:0{len(token)}d}")
        elif first == "H":
            out.append(f"{moment.hour:0{len(token)}d}")
        elif first == "h":
            out.append(f"{(moment.hour % 12) or 12:0{len(token)}d}")
        elif first == "m":
            out.append(f"{moment.minute:0{len(token)}d}")
        elif first == "s":
            out.append(f"{moment.second:0{len(token)}d}")
        elif first == "f":
            out.append(f"{moment.microsecond:06d}0"[: len(token)])
        elif token == "tt":
            out.append("AM" if moment.hour < 12 else "PM")
        elif token == "zzz":
            out.append("+00:00")
        elif token == "K":
            out.append("Z")
        elif first in "'\"":
            out.append(token[1:-1])
        elif first == "\\":
            out.append(token[1:])
        elif token != "%":
            out.append(token)
    return "".join(out)
