"""Plan data to plain JSON values and back, field by field, for the saved plan file (plans.saved).

The encoding follows the dataclasses themselves (Plan, Change, AttributeDiff, ResourceDrift, Diagnostic):
each field is written under its own name, enums as their values, tuples as lists. Decoding reads the
field types back from the annotations, so a field added to the plan data is saved and read with no
change here; a field missing from a file takes its default. This is not the JSON view (`plan --json`,
planner.render.json_plan), whose names are a documented interface of their own.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any

from ..diagnostics import Diagnostic
from .plan import Change, Plan

# Fields that are never saved: the request bodies (they may hold secrets; applying a saved plan takes
# them from the stack loaded again, which the inputs hash proves identical), and what only the process
# that made the plan needs.
_NOT_SAVED: Mapping[type, frozenset[str]] = {
    Change: frozenset({"body"}),
    Plan: frozenset({"stack_root"}),
    Diagnostic: frozenset({"extra"}),
}


class CodecError(ValueError):
    """The value does not have the shape the field's type asks for."""


def encode(value: Any) -> Any:
    """Plain JSON values for plan data (dataclasses, enums, tuples, mappings, scalars)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        skipped = _NOT_SAVED.get(type(value), frozenset())
        return {
            f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name not in skipped
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def decode(cls: type[Any], data: Any) -> Any:
    """An instance of the dataclass `cls` from what `encode` wrote (CodecError when it does not fit)."""
    return _value(cls, data, cls.__name__)


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _dataclass(cls: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise CodecError(f"{where}: expected an object")
    hints = _hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = _value(hints[f.name], data[f.name], f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise CodecError(f"{where}.{f.name}: missing")
    return cls(**values)


def _value(kind: Any, data: Any, where: str) -> Any:
    if kind is Any:
        return data
    if isinstance(kind, type):
        if dataclasses.is_dataclass(kind):
            return _dataclass(kind, data, where)
        if issubclass(kind, enum.Enum):
            try:
                return kind(data)
            except ValueError:
                raise CodecError(f"{where}: {data!r} is not one of {[e.value for e in kind]}") from None
        if kind is bool or kind is str or kind is int or kind is float:
            if type(data) is not kind and not (kind is float and type(data) is int):
                raise CodecError(f"{where}: expected {kind.__name__}, found {type(data).__name__}")
            return data
        if kind is type(None):
            if data is not None:
                raise CodecError(f"{where}: expected null")
            return None
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        errors = []
        for arm in args:
            try:
                return _value(arm, data, where)
            except CodecError as exc:
                errors.append(str(exc))
        raise CodecError(errors[-1])
    if origin is tuple:
        if not isinstance(data, list):
            raise CodecError(f"{where}: expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise CodecError(f"{where}: expected {len(args)} items")
        return tuple(_value(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True)))
    if origin in (Mapping, dict, typing.Mapping) or kind in (Mapping, dict):
        if not isinstance(data, Mapping):
            raise CodecError(f"{where}: expected an object")
        return dict(data)
    raise CodecError(f"{where}: cannot read a value of type {kind}")
