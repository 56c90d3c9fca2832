"""Evaluator for ARM template language expressions (``"[concat('a', parameters('b'))]"``).

Only the deterministic part of the language is supported: everything that can be
known before a deployment runs. Functions that need the live deployment
(``reference``, ``list*``...) raise :class:`ExpressionError` naming the function, so
callers can report "cannot be planned" instead of guessing.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, NoReturn

__all__ = [
    "Evaluator",
    "ExpressionError",
    "Scope",
    "arm_guid",
    "is_expression",
    "unique_string",
]

JsonPath = tuple[str | int, ...]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_MASK32 = 0xFFFFFFFF
_MASK64 = 2**64 - 1
_GUID_NAMESPACE = uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830")
_BASE32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_MAX_RANGE = 10000


class ExpressionError(Exception):
    """An expression that cannot be evaluated.

    ``function`` is set (to the name as written) only when the problem is an unknown or
    unsupported function; ``path`` is the location of the offending string, relative to
    the path given to :meth:`Evaluator.evaluate_value` (``()`` until it is filled in);
    ``expression`` is the source text of that string. When the failure happened inside a
    variable's definition, ``variable_path`` is ``("variables", name, ...)`` pointing into
    it and the message starts with ``in variable 'name':``. ``missing`` names the value that was not
    known (``parameter 'x'``, ``resourceGroup().location``...) when that is the whole problem, so a
    caller validating a file without its stack can report it instead of failing.
    """

    def __init__(
        self,
        message: str,
        *,
        function: str | None = None,
        path: JsonPath | None = None,
        expression: str | None = None,
        missing: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing
        self.function = function
        self.path: JsonPath = tuple(path) if path is not None else ()
        self.expression = expression
        self.variable_path: JsonPath | None = None
        self._located = path is not None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Scope:
    """Where the template is deployed; None means not known (no guessing is done)."""

    subscription_id: str | None
    resource_group: str | None
    location: str | None
    tenant_id: str = "00000000-0000-0000-0000-000000000000"
    deployment_name: str = "aibplan"


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class _Literal:
    value: str | int


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    args: tuple[_Node, ...]
    position: int


@dataclass(frozen=True, slots=True)
class _Member:
    target: _Node
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class _Index:
    target: _Node
    index: _Node
    position: int


_Node = _Literal | _Call | _Member | _Index

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),.\[\]])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "string", "number", "ident", "punct", "end"
    text: str
    position: int  # 1-based character in the whole string value ('[' is character 1)


def is_expression(value: str) -> bool:
    """True when a JSON string is an ARM expression: ``[...]`` but not ``[[...``."""
    return len(value) >= 2 and value[0] == "[" and value[-1] == "]" and not value.startswith("[[")


def _tokenize(source: str) -> list[_Token]:
    """Split the inside of ``[...]`` into tokens; positions count from the '['."""
    tokens: list[_Token] = []
    index = 0
    length = len(source)
    while index < length:
        match = _TOKEN.match(source, index)
        position = index + 2
        if match is None:
            char = source[index]
            if char == "'":
                raise ExpressionError(f"unterminated string literal starting at character {position}")
            raise ExpressionError(f"unexpected character {char!r} at character {position}")
        kind = match.lastgroup
        assert kind is not None
        text = match.group()
        if kind == "number" and source.startswith(".", match.end()):
            after = match.end() + 1
            if after < length and source[after].isdigit():
                raise ExpressionError(f"floating-point literal at character {position} is not supported")
        if kind != "space":
            tokens.append(_Token(kind, text, position))
        index = match.end()
    tokens.append(_Token("end", "", length + 2))
    return tokens


class _Parser:
    """Recursive-descent parser: call, literal, then any number of .member / [index]."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, token: _Token, expected: str = "") -> NoReturn:
        what = "end of expression" if token.kind == "end" else repr(token.text)
        suffix = f" (expected {expected})" if expected else ""
        raise ExpressionError(f"unexpected {what} at character {token.position}{suffix}")

    def expect(self, text: str) -> _Token:
        token = self.advance()
        if token.kind != "punct" or token.text != text:
            self.fail(token, repr(text))
        return token

    def parse(self) -> _Node:
        if self.peek().kind == "end":
            raise ExpressionError("empty expression")
        node = self.expression()
        token = self.peek()
        if token.kind != "end":
            self.fail(token, "end of expression")
        return node

    def expression(self) -> _Node:
        node = self.primary()
        while True:
            token = self.peek()
            if token.kind == "punct" and token.text == ".":
                self.advance()
                name = self.advance()
                if name.kind != "ident":
                    self.fail(name, "a property name")
                node = _Member(node, name.text, name.position)
            elif token.kind == "punct" and token.text == "[":
                self.advance()
                index = self.expression()
                self.expect("]")
                node = _Index(node, index, token.position)
            else:
                return node

    def primary(self) -> _Node:
        token = self.advance()
        if token.kind == "string":
            return _Literal(token.text[1:-1].replace("''", "'"))
        if token.kind == "number":
            return _Literal(int(token.text))
        if token.kind != "ident":
            self.fail(token, "a function call or a literal")
        name = token.text
        follow = self.peek()
        # User-defined functions are written namespace.name(...).
        if (
            follow.kind == "punct"
            and follow.text == "."
            and self.tokens[self.index + 1].kind == "ident"
            and self.tokens[self.index + 2].text == "("
        ):
            qualified = f"{name}.{self.tokens[self.index + 1].text}"
            raise ExpressionError(
                f"unsupported function '{qualified}': user-defined functions are not supported",
                function=qualified,
            )
        if follow.kind != "punct" or follow.text != "(":
            if name.lower() in ("true", "false", "null"):
                self.fail(token, f"{name}() - literals are written as function calls")
            self.fail(follow, f"'(' after function name {name!r}")
        self.advance()
        args: list[_Node] = []
        if self.peek().kind == "punct" and self.peek().text == ")":
            self.advance()
            return _Call(name, tuple(args), token.position)
        while True:
            args.append(self.expression())
            separator = self.advance()
            if separator.kind == "punct" and separator.text == ")":
                return _Call(name, tuple(args), token.position)
            if separator.kind != "punct" or separator.text != ",":
                self.fail(separator, "',' or ')'")


@lru_cache(maxsize=4096)
def _parse(text: str) -> _Node:
    """Parse an expression string (including its brackets); cached, ASTs are immutable."""
    return _Parser(text[1:-1]).parse()


# ------------------------------------------------------------------ value helpers


def _type_name(value: Any) -> str:
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


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_equal(left: Any, right: Any) -> bool:
    """Deep equality as ARM does it: strings case-sensitive, booleans are not numbers."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_json_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(
            _json_equal(value, right[key]) for key, value in left.items()
        )
    return type(left) is type(right) and bool(left == right)


def _copy_json(value: Any) -> Any:
    """Deep copy of a JSON structure (faster than copy.deepcopy for plain data)."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value


def _to_string(value: Any) -> str:
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


def _fold(text: str) -> str:
    """Lower-case text without changing its length, so indexes stay valid."""
    if text.isascii():
        return text.lower()
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


def _lookup(mapping: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    """Case-insensitive property lookup (exact match preferred), as ARM does."""
    if name in mapping:
        return True, mapping[name]
    lowered = name.lower()
    for key, value in mapping.items():
        if key.lower() == lowered:
            return True, value
    return False, None


def _check_int64(function: str, value: int) -> int:
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ExpressionError(f"{function}(): result {value} does not fit in a 64-bit integer")
    return value


def _trunc_div(left: int, right: int) -> int:
    """Integer division rounding toward zero, as .NET does."""
    quotient = abs(left) // abs(right)
    return quotient if (left >= 0) == (right >= 0) else -quotient


# --------------------------------------------------------------- uniqueString / guid


def _rotl32(value: int, amount: int) -> int:
    return ((value << amount) | (value >> (32 - amount))) & _MASK32


def _fmix32(value: int) -> int:
    value ^= value >> 16
    value = (value * 0x85EBCA6B) & _MASK32
    value ^= value >> 13
    value = (value * 0xC2B2AE35) & _MASK32
    value ^= value >> 16
    return value


def _murmur64(data: bytes) -> int:
    """Microsoft's MurmurHash64 variant used by ARM's uniqueString()."""
    c1, c2 = 0x239B961B, 0xAB0E9789
    h1 = h2 = 0
    length = len(data)
    full = length - length % 8
    for i in range(0, full, 8):
        k1 = int.from_bytes(data[i : i + 4], "little")
        k2 = int.from_bytes(data[i + 4 : i + 8], "little")
        k1 = (_rotl32((k1 * c1) & _MASK32, 15) * c2) & _MASK32
        h1 ^= k1
        h1 = (_rotl32(h1, 19) + h2) & _MASK32
        h1 = (h1 * 5 + 0x561CCD1B) & _MASK32
        k2 = (_rotl32((k2 * c2) & _MASK32, 17) * c1) & _MASK32
        h2 ^= k2
        h2 = (_rotl32(h2, 13) + h1) & _MASK32
        h2 = (h2 * 5 + 0x0BCAA747) & _MASK32
    tail = length - full
    if tail:
        k1 = int.from_bytes(data[full : full + min(4, tail)], "little")
        h1 ^= (_rotl32((k1 * c1) & _MASK32, 15) * c2) & _MASK32
        if tail > 4:
            k2 = int.from_bytes(data[full + 4 : length], "little")
            h2 ^= (_rotl32((k2 * c2) & _MASK32, 17) * c1) & _MASK32
    h1 ^= length & _MASK32
    h2 ^= length & _MASK32
    h1 = (h1 + h2) & _MASK32
    h2 = (h2 + h1) & _MASK32
    h1 = _fmix32(h1)
    h2 = _fmix32(h2)
    h1 = (h1 + h2) & _MASK32
    h2 = (h2 + h1) & _MASK32
    return (h2 << 32) | h1


def unique_string(*parts: str) -> str:
    """ARM's uniqueString(): a 13-character base32 rendering of a 64-bit Murmur hash."""
    value = _murmur64("-".join(parts).encode("utf-8"))
    chars = []
    for _ in range(13):
        chars.append(_BASE32_ALPHABET[value >> 59])
        value = (value << 5) & _MASK64
    return "".join(chars)


def arm_guid(*parts: str) -> str:
    """ARM's guid(): a name-based (v5) UUID in ARM's fixed namespace."""
    return str(uuid.uuid5(_GUID_NAMESPACE, "-".join(parts)))


# --------------------------------------------------------------------- formatting

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
            text = format(value & _MASK64 if value < 0 else value, "x").zfill(precision or 0)
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


def _dotnet_format(template: str, args: list[Any]) -> str:
    """.NET composite formatting: ``{index[,alignment][:format]}`` with ``{{``/``}}`` escapes."""
    out: list[str] = []
    index = 0
    length = len(template)
    while index < length:
        char = template[index]
        if char == "{":
            if template.startswith("{{", index):
                out.append("{")
                index += 2
                continue
            match = _FORMAT_ITEM.match(template, index)
            if match is None:
                raise ExpressionError(f"format(): invalid format item at position {index} in {template!r}")
            arg_index = int(match.group(1))
            if arg_index >= len(args):
                raise ExpressionError(
                    f"format(): format item {{{arg_index}}} refers to a missing argument ({len(args)} given)"
                )
            value = args[arg_index]
            spec = match.group(3) or ""
            text = _format_number(value, spec) if _is_int(value) else _to_string(value)
            if match.group(2):
                width = int(match.group(2))
                text = text.ljust(-width) if width < 0 else text.rjust(width)
            out.append(text)
            index = match.end()
        elif char == "}":
            if template.startswith("}}", index):
                out.append("}")
                index += 2
                continue
            raise ExpressionError(f"format(): unmatched '}}' at position {index} in {template!r}")
        else:
            next_brace = min(
                (pos for pos in (template.find("{", index), template.find("}", index)) if pos >= 0),
                default=length,
            )
            out.append(template[index:next_brace])
            index = next_brace
    return "".join(out)


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


def _dotnet_datetime(moment: datetime, fmt: str) -> str:
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


# ----------------------------------------------------------------------- functions

# Functions ARM knows that need the deployment (or a copy loop) to produce a value.
_RUNTIME_ONLY = {
    name.lower()
    for name in (
        "reference",
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
_NOT_IMPLEMENTED = {
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

_TYPE_PATTERN = re.compile(r"[A-Za-z0-9][\w-]*(?:\.[\w-]+)+(?:/[^/]+)+")

_Impl = Callable[["Evaluator", str, list[Any]], Any]


@dataclass(frozen=True)
class _Function:
    impl: _Impl
    min_args: int
    max_args: int | None  # None: unbounded


def _arity_message(name: str, spec: _Function, got: int) -> str:
    low, high = spec.min_args, spec.max_args
    if high == low:
        expected = f"{low} argument{'s' if low != 1 else ''}" if low else "no arguments"
    elif high is None:
        expected = f"at least {low} argument{'s' if low != 1 else ''}"
    else:
        expected = f"{low} to {high} arguments"
    return f"{name}() expects {expected}, got {got}"


def _want(name: str, value: Any, expected: str, ok: bool) -> None:
    if not ok:
        raise ExpressionError(f"{name}() expects {expected}, got {_type_name(value)}")


def _want_str(name: str, value: Any, what: str = "a string") -> str:
    _want(name, value, what, isinstance(value, str))
    return str(value)


def _want_int(name: str, value: Any, what: str = "an integer") -> int:
    if isinstance(value, float):
        raise ExpressionError(
            f"{name}() expects {what}, got a floating-point number ({value}); "
            "ARM expressions only support integers"
        )
    _want(name, value, what, _is_int(value))
    return int(value)


def _want_bool(name: str, value: Any, what: str = "a boolean") -> bool:
    _want(name, value, what, isinstance(value, bool))
    return bool(value)


_REGISTRY: dict[str, _Function] = {}


def _register(name: str, min_args: int, max_args: int | None) -> Callable[[_Impl], _Impl]:
    def decorator(impl: _Impl) -> _Impl:
        _REGISTRY[name.lower()] = _Function(impl, min_args, max_args)
        return impl

    return decorator


# Deployment values -----------------------------------------------------------------


@_register("parameters", 1, 1)
def _fn_parameters(ev: Evaluator, name: str, args: list[Any]) -> Any:
    key = _want_str(name, args[0], "a parameter name (string)")
    found, value = _lookup(ev._parameters, key)
    if not found:
        raise ExpressionError(f"parameter '{key}' is not defined", missing=f"parameter '{key}'")
    return value


@_register("variables", 1, 1)
def _fn_variables(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return ev._variable(_want_str(name, args[0], "a variable name (string)"))


@_register("resourceGroup", 0, 0)
def _fn_resource_group(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return ev._scope_object("resourcegroup", None)


@_register("subscription", 0, 0)
def _fn_subscription(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return ev._scope_object("subscription", None)


@_register("tenant", 0, 0)
def _fn_tenant(ev: Evaluator, name: str, args: list[Any]) -> Any:
    tenant = ev._scope.tenant_id
    return {"id": f"/tenants/{tenant}", "tenantId": tenant}


@_register("deployment", 0, 0)
def _fn_deployment(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return {"name": ev._scope.deployment_name, "properties": {}}


def _split_type(name: str, args: list[Any], leading_max: int) -> tuple[list[str], str, list[str]]:
    """Split resourceId-style arguments into (leading args, resource type, names)."""
    for arg in args:
        _want_str(name, arg, "string arguments")
    type_index = next((i for i, arg in enumerate(args) if "/" in arg and _TYPE_PATTERN.fullmatch(arg)), None)
    if type_index is None:
        raise ExpressionError(
            f"{name}() needs a resource type such as 'Microsoft.Compute/galleries' among its arguments"
        )
    if type_index > leading_max:
        raise ExpressionError(
            f"{name}() accepts at most {leading_max} argument(s) before the resource type, got {type_index}"
        )
    resource_type = args[type_index]
    names = args[type_index + 1 :]
    segments = resource_type.split("/")[1:]
    if len(names) != len(segments):
        raise ExpressionError(
            f"{name}(): resource type '{resource_type}' needs {len(segments)} resource "
            f"name(s), got {len(names)}"
        )
    return args[:type_index], resource_type, names


def _provider_path(resource_type: str, names: list[str]) -> str:
    namespace, *segments = resource_type.split("/")
    parts = [f"/providers/{namespace}"]
    for segment, resource_name in zip(segments, names, strict=True):
        parts.append(f"/{segment}/{resource_name}")
    return "".join(parts)


@_register("resourceId", 2, None)
def _fn_resource_id(ev: Evaluator, name: str, args: list[Any]) -> Any:
    leading, resource_type, names = _split_type(name, args, 2)
    if len(leading) == 2:
        subscription, group = leading
    elif len(leading) == 1:
        subscription, group = ev._subscription_id(), leading[0]
    else:
        subscription, group = ev._subscription_id(), ev._resource_group()
    return f"/subscriptions/{subscription}/resourceGroups/{group}" + _provider_path(resource_type, names)


@_register("subscriptionResourceId", 2, None)
def _fn_subscription_resource_id(ev: Evaluator, name: str, args: list[Any]) -> Any:
    leading, resource_type, names = _split_type(name, args, 1)
    subscription = leading[0] if leading else ev._subscription_id()
    return f"/subscriptions/{subscription}" + _provider_path(resource_type, names)


@_register("tenantResourceId", 2, None)
def _fn_tenant_resource_id(ev: Evaluator, name: str, args: list[Any]) -> Any:
    _, resource_type, names = _split_type(name, args, 0)
    return _provider_path(resource_type, names)


@_register("extensionResourceId", 3, None)
def _fn_extension_resource_id(ev: Evaluator, name: str, args: list[Any]) -> Any:
    base = _want_str(name, args[0], "a resource id (string) as first argument")
    _, resource_type, names = _split_type(name, args[1:], 0)
    return base.rstrip("/") + _provider_path(resource_type, names)


# Literals / logic ------------------------------------------------------------------


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
    return _json_equal(args[0], args[1])


@_register("not", 1, 1)
def _fn_not(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return not _want_bool(name, args[0])


@_register("and", 2, None)
def _fn_and(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return all([_want_bool(name, arg, "boolean arguments") for arg in args])


@_register("or", 2, None)
def _fn_or(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return any([_want_bool(name, arg, "boolean arguments") for arg in args])


def _comparable(name: str, left: Any, right: Any) -> tuple[Any, Any]:
    if (_is_int(left) and _is_int(right)) or (isinstance(left, str) and isinstance(right, str)):
        return left, right
    raise ExpressionError(
        f"{name}() expects two integers or two strings, got {_type_name(left)} and {_type_name(right)}"
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
    _want(name, value, "a string, array, object or null", isinstance(value, (str, list, dict)))
    return len(value) == 0


@_register("coalesce", 1, None)
def _fn_coalesce(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return next((arg for arg in args if arg is not None), None)


# Conversions -----------------------------------------------------------------------


@_register("string", 1, 1)
def _fn_string(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return _to_string(args[0])


@_register("int", 1, 1)
def _fn_int(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    if _is_int(value):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return _check_int64(name, int(value))
    if isinstance(value, str):
        raise ExpressionError(f"{name}(): '{value}' is not an integer")
    return _want_int(name, value, "an integer or a string of digits")


@_register("bool", 1, 1)
def _fn_bool(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if _is_int(value):
        return value != 0
    raise ExpressionError(
        f"{name}() expects a boolean, 'true'/'false' or an integer, got "
        + (repr(value) if isinstance(value, str) else _type_name(value))
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
        result[_want_str(name, key, "string keys")] = value
    return result


@_register("json", 1, 1)
def _fn_json(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text = _want_str(name, args[0])

    def reject(constant: str) -> Any:
        raise ValueError(f"{constant} is not valid JSON")

    try:
        return json.loads(text, parse_constant=reject)
    except ValueError as exc:
        raise ExpressionError(f"{name}(): invalid JSON: {exc}") from None


@_register("base64", 1, 1)
def _fn_base64(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return base64.b64encode(_want_str(name, args[0]).encode("utf-8")).decode("ascii")


@_register("base64ToString", 1, 1)
def _fn_base64_to_string(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text = _want_str(name, args[0])
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ExpressionError(f"{name}(): '{text}' is not valid base64 UTF-8 text: {exc}") from None


@_register("uri", 2, 2)
def _fn_uri(ev: Evaluator, name: str, args: list[Any]) -> Any:
    base = _want_str(name, args[0], "a base URI (string)")
    relative = _want_str(name, args[1], "a relative URI (string)")
    if not urllib.parse.urlsplit(base).scheme:
        raise ExpressionError(f"{name}(): base URI '{base}' is not absolute")
    return urllib.parse.urljoin(base, relative)


@_register("uriComponent", 1, 1)
def _fn_uri_component(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return urllib.parse.quote(_want_str(name, args[0]), safe="")


@_register("uriComponentToString", 1, 1)
def _fn_uri_component_to_string(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return urllib.parse.unquote(_want_str(name, args[0]))


# Strings ---------------------------------------------------------------------------


@_register("concat", 1, None)
def _fn_concat(ev: Evaluator, name: str, args: list[Any]) -> Any:
    if isinstance(args[0], list):
        result: list[Any] = []
        for arg in args:
            _want(name, arg, "arrays only (the first argument is an array)", isinstance(arg, list))
            result.extend(arg)
        return result
    parts = []
    for arg in args:
        _want(
            name,
            arg,
            "strings, integers or booleans (or arrays only)",
            arg is None or isinstance(arg, (str, int)),
        )
        parts.append(_to_string(arg))
    return "".join(parts)


@_register("format", 1, None)
def _fn_format(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return _dotnet_format(_want_str(name, args[0], "a format string"), args[1:])


@_register("toLower", 1, 1)
def _fn_to_lower(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return _want_str(name, args[0]).lower()


@_register("toUpper", 1, 1)
def _fn_to_upper(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return _want_str(name, args[0]).upper()


@_register("trim", 1, 1)
def _fn_trim(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return _want_str(name, args[0]).strip()


@_register("replace", 3, 3)
def _fn_replace(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text = _want_str(name, args[0])
    old = _want_str(name, args[1], "a string to replace")
    new = _want_str(name, args[2], "a replacement string")
    if not old:
        raise ExpressionError(f"{name}(): the string to replace must not be empty")
    return text.replace(old, new)


@_register("split", 2, 2)
def _fn_split(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text = _want_str(name, args[0])
    delimiter = args[1]
    if isinstance(delimiter, str):
        delimiters = [delimiter]
    elif isinstance(delimiter, list) and all(isinstance(d, str) for d in delimiter):
        delimiters = list(delimiter)
    else:
        raise ExpressionError(
            f"{name}() expects a delimiter string or array of strings, got {_type_name(delimiter)}"
        )
    delimiters = [d for d in delimiters if d]
    if not delimiters:
        return [text]
    return re.split("|".join(re.escape(d) for d in delimiters), text)


@_register("join", 2, 2)
def _fn_join(ev: Evaluator, name: str, args: list[Any]) -> Any:
    items = args[0]
    _want(name, items, "an array as first argument", isinstance(items, list))
    delimiter = _want_str(name, args[1], "a delimiter string")
    for item in items:
        _want(
            name,
            item,
            "an array of strings, integers or booleans",
            isinstance(item, (str, int)) or item is None,
        )
    return delimiter.join(_to_string(item) for item in items)


@_register("substring", 2, 3)
def _fn_substring(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text = _want_str(name, args[0])
    start = _want_int(name, args[1], "an integer start index")
    if start < 0 or start > len(text):
        raise ExpressionError(f"{name}(): start index {start} is outside the string (length {len(text)})")
    if len(args) == 2 or args[2] is None:
        return text[start:]
    length = _want_int(name, args[2], "an integer length")
    if length < 0 or start + length > len(text):
        raise ExpressionError(
            f"{name}(): start index {start} plus length {length} exceeds the string length {len(text)}"
        )
    return text[start : start + length]


@_register("padLeft", 2, 3)
def _fn_pad_left(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    _want(name, value, "a string or integer to pad", isinstance(value, str) or _is_int(value))
    width = _want_int(name, args[1], "an integer total length")
    pad = " "
    if len(args) == 3:
        pad = _want_str(name, args[2], "a single padding character")
        if len(pad) != 1:
            raise ExpressionError(f"{name}(): the padding character must be exactly one character")
    return _to_string(value).rjust(width, pad)


@_register("startsWith", 2, 2)
def _fn_starts_with(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text, prefix = _want_str(name, args[0]), _want_str(name, args[1])
    return _fold(text).startswith(_fold(prefix))


@_register("endsWith", 2, 2)
def _fn_ends_with(ev: Evaluator, name: str, args: list[Any]) -> Any:
    text, suffix = _want_str(name, args[0]), _want_str(name, args[1])
    return _fold(text).endswith(_fold(suffix))


def _find(name: str, args: list[Any], last: bool) -> int:
    container, item = args
    if isinstance(container, list):
        indexes = range(len(container) - 1, -1, -1) if last else range(len(container))
        return next((i for i in indexes if _json_equal(container[i], item)), -1)
    text = _want_str(name, container, "a string or array")
    needle = _want_str(name, item, "a string to find")
    return _fold(text).rfind(_fold(needle)) if last else _fold(text).find(_fold(needle))


@_register("indexOf", 2, 2)
def _fn_index_of(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return _find(name, args, last=False)


@_register("lastIndexOf", 2, 2)
def _fn_last_index_of(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return _find(name, args, last=True)


@_register("guid", 1, None)
def _fn_guid(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return arm_guid(*[_want_str(name, arg, "string arguments") for arg in args])


@_register("uniqueString", 1, None)
def _fn_unique_string(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return unique_string(*[_want_str(name, arg, "string arguments") for arg in args])


@_register("newGuid", 0, 0)
def _fn_new_guid(ev: Evaluator, name: str, args: list[Any]) -> Any:
    ev._require_nondeterministic(name)
    return str(uuid.uuid4())


@_register("utcNow", 0, 1)
def _fn_utc_now(ev: Evaluator, name: str, args: list[Any]) -> Any:
    ev._require_nondeterministic(name)
    fmt = _want_str(name, args[0], "a format string") if args else "yyyyMMddTHHmmssZ"
    return _dotnet_datetime(ev._clock(), fmt)


# Arrays and objects ----------------------------------------------------------------


@_register("length", 1, 1)
def _fn_length(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    _want(name, value, "a string, array or object", isinstance(value, (str, list, dict)))
    return len(value)


@_register("contains", 2, 2)
def _fn_contains(ev: Evaluator, name: str, args: list[Any]) -> Any:
    container, item = args
    if isinstance(container, list):
        return any(_json_equal(element, item) for element in container)
    if isinstance(container, dict):
        key = _want_str(name, item, "a key (string) when searching an object")
        return _lookup(container, key)[0]
    text = _want_str(name, container, "a string, array or object")
    _want(name, item, "a string to find", isinstance(item, (str, int)))
    return _to_string(item) in text


def _take_or_skip(name: str, args: list[Any], take: bool) -> Any:
    value = args[0]
    _want(name, value, "a string or array", isinstance(value, (str, list)))
    count = max(_want_int(name, args[1], "an integer count"), 0)
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
    _want(name, value, "a string or array", isinstance(value, (str, list)))
    if isinstance(value, str):
        return value[:1]
    return value[0] if value else None


@_register("last", 1, 1)
def _fn_last(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    _want(name, value, "a string or array", isinstance(value, (str, list)))
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
        f"{name}() expects all arrays or all objects, got " + ", ".join(_type_name(arg) for arg in args)
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
            if not any(_json_equal(item, existing) for existing in result):
                result.append(item)
    return result


@_register("intersection", 2, None)
def _fn_intersection(ev: Evaluator, name: str, args: list[Any]) -> Any:
    first, rest = args[0], args[1:]
    if _same_kind(name, args) is dict:
        return {
            key: value
            for key, value in first.items()
            if all(key in other and _json_equal(other[key], value) for other in rest)
        }
    result: list[Any] = []
    for item in first:
        if any(_json_equal(item, existing) for existing in result):
            continue
        if all(any(_json_equal(item, element) for element in other) for other in rest):
            result.append(item)
    return result


@_register("range", 2, 2)
def _fn_range(ev: Evaluator, name: str, args: list[Any]) -> Any:
    start = _want_int(name, args[0], "an integer start")
    count = _want_int(name, args[1], "an integer count")
    if count < 0 or count > _MAX_RANGE:
        raise ExpressionError(f"{name}(): count must be between 0 and {_MAX_RANGE}, got {count}")
    _check_int64(name, start + count)
    return list(range(start, start + count))


@_register("objectKeys", 1, 1)
def _fn_object_keys(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    _want(name, value, "an object", isinstance(value, dict))
    return list(value)


@_register("flatten", 1, 1)
def _fn_flatten(ev: Evaluator, name: str, args: list[Any]) -> Any:
    value = args[0]
    _want(name, value, "an array of arrays", isinstance(value, list))
    result: list[Any] = []
    for item in value:
        _want(name, item, "an array of arrays", isinstance(item, list))
        result.extend(item)
    return result


@_register("tryGet", 2, None)
def _fn_try_get(ev: Evaluator, name: str, args: list[Any]) -> Any:
    current = args[0]
    for key in args[1:]:
        if isinstance(current, dict) and isinstance(key, str):
            found, current = _lookup(current, key)
            if not found:
                return None
        elif isinstance(current, list) and _is_int(key):
            if not 0 <= key < len(current):
                return None
            current = current[key]
        else:
            return None
    return current


# Arithmetic ------------------------------------------------------------------------


def _operands(name: str, args: list[Any]) -> tuple[int, int]:
    return (
        _want_int(name, args[0], "integer operands"),
        _want_int(name, args[1], "integer operands"),
    )


@_register("add", 2, 2)
def _fn_add(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _operands(name, args)
    return _check_int64(name, left + right)


@_register("sub", 2, 2)
def _fn_sub(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _operands(name, args)
    return _check_int64(name, left - right)


@_register("mul", 2, 2)
def _fn_mul(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _operands(name, args)
    return _check_int64(name, left * right)


@_register("div", 2, 2)
def _fn_div(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _operands(name, args)
    if right == 0:
        raise ExpressionError(f"{name}(): division by zero")
    return _check_int64(name, _trunc_div(left, right))


@_register("mod", 2, 2)
def _fn_mod(ev: Evaluator, name: str, args: list[Any]) -> Any:
    left, right = _operands(name, args)
    if right == 0:
        raise ExpressionError(f"{name}(): division by zero")
    return left - right * _trunc_div(left, right)


def _numbers(name: str, args: list[Any]) -> list[int]:
    values = args[0] if len(args) == 1 and isinstance(args[0], list) else args
    if not values:
        raise ExpressionError(f"{name}() needs at least one integer")
    return [_want_int(name, value, "integers or an array of integers") for value in values]


@_register("min", 1, None)
def _fn_min(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return min(_numbers(name, args))


@_register("max", 1, None)
def _fn_max(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return max(_numbers(name, args))


# ----------------------------------------------------------------------- evaluator

_MISSING_SUBSCRIPTION = "subscription id is not known: validate inside a stack or set subscriptionId"
_MISSING_RESOURCE_GROUP = "resource group is not known: validate inside a stack or set resourceGroup"
_MISSING_LOCATION = "resource group location is not known: validate inside a stack or set location"


class Evaluator:
    """Evaluates ARM expressions against known parameters, variables and scope.

    Variables are evaluated lazily on first use and cached; ``if()`` only evaluates
    the branch it picks. ``newGuid()``/``utcNow()`` are rejected unless
    ``allow_nondeterministic`` is set (ARM only allows them in a parameter's
    ``defaultValue``); ``clock`` supplies "now" for ``utcNow()`` (tests).
    """

    def __init__(
        self,
        scope: Scope,
        parameters: Mapping[str, Any],
        variables: Mapping[str, Any],
        *,
        allow_nondeterministic: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._scope = scope
        self._parameters = parameters
        self._raw_variables = variables
        self._variable_names = {name.lower(): name for name in variables}
        self._variable_cache: dict[str, Any] = {}
        self._in_progress: list[str] = []
        self._allow_nondeterministic = allow_nondeterministic
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(timezone.utc))

    # -- public API

    def evaluate_value(self, value: Any, path: JsonPath = ()) -> Any:
        """Return a new structure with every expression string inside value evaluated.

        Errors carry ``path``: the given path plus the location of the offending string.
        """
        if isinstance(value, str):
            try:
                return self.evaluate_string(value)
            except ExpressionError as exc:
                if not exc._located:
                    exc.path = tuple(path)
                    exc._located = True
                raise
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                new_key = key
                if key.startswith("[") and key.endswith("]"):
                    # ARM evaluates expressions in property names too (userAssignedIdentities keys).
                    new_key = self.evaluate_value(key, (*path, key))
                    if not isinstance(new_key, str):
                        raise ExpressionError(
                            f"a property name must evaluate to a string, not {type(new_key).__name__}",
                            path=(*path, key),
                        )
                out[new_key] = self.evaluate_value(item, (*path, key))
            return out
        if isinstance(value, list):
            return [self.evaluate_value(item, (*path, i)) for i, item in enumerate(value)]
        return value

    def evaluate_string(self, text: str) -> Any:
        """Evaluate one JSON string: an expression, an escaped ``[[`` literal or plain text."""
        if not text or text[0] != "[" or text[-1] != "]":
            return text
        if text.startswith("[["):
            return text[1:]
        try:
            return _copy_json(self._eval(_parse(text)))
        except ExpressionError as exc:
            if exc.expression is None:
                exc.expression = text
            raise
        except RecursionError:
            raise ExpressionError("expression is nested too deeply", expression=text) from None

    # -- evaluation

    def _eval(self, node: _Node) -> Any:
        if isinstance(node, _Literal):
            return node.value
        if isinstance(node, _Call):
            return self._call(node)
        if isinstance(node, _Member):
            return self._access(node.target, node.name, f"property '{node.name}'")
        key = self._eval(node.index)
        return self._access(node.target, key, f"index [{json.dumps(key)}]")

    def _access(self, target_node: _Node, key: Any, what: str) -> Any:
        # resourceGroup().location etc.: only the requested property must be known.
        if (
            isinstance(target_node, _Call)
            and not target_node.args
            and target_node.name.lower() in ("resourcegroup", "subscription")
            and isinstance(key, str)
        ):
            target = self._scope_object(target_node.name.lower(), key)
        else:
            target = self._eval(target_node)
        if isinstance(target, dict):
            if not isinstance(key, str):
                raise ExpressionError(f"cannot index an object with {_type_name(key)} {key!r}")
            found, value = _lookup(target, key)
            if not found:
                available = ", ".join(target) or "none"
                raise ExpressionError(f"property '{key}' does not exist (available: {available})")
            return value
        if isinstance(target, list):
            if not _is_int(key):
                raise ExpressionError(f"cannot access {what} of an array: use an integer index")
            if not 0 <= key < len(target):
                raise ExpressionError(f"index {key} is out of range for an array of length {len(target)}")
            return target[key]
        if isinstance(target, str) and _is_int(key):
            if not 0 <= key < len(target):
                raise ExpressionError(f"index {key} is out of range for a string of length {len(target)}")
            return target[key]
        raise ExpressionError(f"cannot access {what} of {_type_name(target)}")

    def _call(self, node: _Call) -> Any:
        lowered = node.name.lower()
        spec = _REGISTRY.get(lowered)
        if spec is None and lowered != "if":
            self._unknown_function(node.name)
        count = len(node.args)
        if lowered == "if":
            if count != 3:
                raise ExpressionError(f"{node.name}() expects 3 arguments, got {count}")
            condition = self._eval(node.args[0])
            if not isinstance(condition, bool):
                raise ExpressionError(
                    f"{node.name}() expects a boolean condition, got {_type_name(condition)}"
                )
            return self._eval(node.args[1] if condition else node.args[2])
        assert spec is not None
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            raise ExpressionError(_arity_message(node.name, spec, count))
        return spec.impl(self, node.name, [self._eval(arg) for arg in node.args])

    @staticmethod
    def _unknown_function(name: str) -> NoReturn:
        lowered = name.lower()
        if lowered in _RUNTIME_ONLY or lowered.startswith("list"):
            raise ExpressionError(
                f"unsupported function '{name}': it cannot be evaluated before deployment",
                function=name,
            )
        if lowered in _NOT_IMPLEMENTED:
            raise ExpressionError(f"unsupported function '{name}': not implemented by aibplan", function=name)
        raise ExpressionError(f"unknown function '{name}'", function=name)

    def _variable(self, name: str) -> Any:
        lowered = name.lower()
        if lowered in self._variable_cache:
            return self._variable_cache[lowered]
        actual = self._variable_names.get(lowered)
        if actual is None:
            raise ExpressionError(f"variable '{name}' is not defined")
        if lowered in self._in_progress:
            start = self._in_progress.index(lowered)
            chain = [self._variable_names[v] for v in self._in_progress[start:]] + [actual]
            raise ExpressionError("variable cycle: " + " -> ".join(chain))
        self._in_progress.append(lowered)
        try:
            value = self.evaluate_value(self._raw_variables[actual], ("variables", actual))
        except ExpressionError as exc:
            if exc.variable_path is None:
                # Keep where inside the variable it failed; the caller's string gets the path.
                exc.variable_path = exc.path
                exc.message = f"in variable '{actual}': {exc.message}"
            exc.path, exc.expression, exc._located = (), None, False
            raise
        finally:
            self._in_progress.pop()
        self._variable_cache[lowered] = value
        return value

    def _require_nondeterministic(self, name: str) -> None:
        if not self._allow_nondeterministic:
            raise ExpressionError(f"{name}() is only allowed in a parameter's defaultValue")

    # -- scope

    def _subscription_id(self) -> str:
        if self._scope.subscription_id is None:
            raise ExpressionError(_MISSING_SUBSCRIPTION, missing="the subscription id")
        return self._scope.subscription_id

    def _resource_group(self) -> str:
        if self._scope.resource_group is None:
            raise ExpressionError(_MISSING_RESOURCE_GROUP, missing="the resource group")
        return self._scope.resource_group

    def _location(self) -> str:
        if self._scope.location is None:
            raise ExpressionError(_MISSING_LOCATION, missing="the resource group's location")
        return self._scope.location

    def _scope_object(self, kind: str, wanted: str | None) -> dict[str, Any]:
        """resourceGroup()/subscription(); with wanted, only that property must be known."""
        builders: dict[str, Callable[[], Any]]
        if kind == "resourcegroup":
            builders = {
                "id": lambda: (
                    f"/subscriptions/{self._subscription_id()}/resourceGroups/{self._resource_group()}"
                ),
                "name": self._resource_group,
                "type": lambda: "Microsoft.Resources/resourceGroups",
                "location": self._location,
                "properties": lambda: {"provisioningState": "Succeeded"},
            }
        else:
            builders = {
                "id": lambda: f"/subscriptions/{self._subscription_id()}",
                "subscriptionId": self._subscription_id,
                "tenantId": lambda: self._scope.tenant_id,
            }
        if wanted is None:
            return {key: build() for key, build in builders.items()}
        found, build = _lookup(builders, wanted)
        if kind == "subscription" and wanted.lower() == "displayname":
            raise ExpressionError("subscription().displayName is not known before deployment", function=None)
        if not found:
            return {key: None for key in builders}  # lets _access report the missing name
        return {wanted: build()}
