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
import functools
import types
import typing
from collections.abc import Callable, Mapping
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


def encode(value: Any, *, keep: frozenset[str] = frozenset()) -> Any:
    """Plain JSON values for plan data (dataclasses, enums, tuples, mappings, scalars). A field the saved
    file leaves out is written when `keep` names it (the plan cache keeps what a saved plan does not)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        skipped = _NOT_SAVED.get(type(value), frozenset()) - keep
        return {
            f.name: encode(getattr(value, f.name), keep=keep)
            for f in dataclasses.fields(value)
            if f.name not in skipped
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [encode(v, keep=keep) for v in value]
    if isinstance(value, Mapping):
        return {str(k): encode(v, keep=keep) for k, v in value.items()}
    return value


def decode(cls: type[Any], data: Any) -> Any:
    """An instance of the dataclass `cls` from what `encode` wrote (CodecError when it does not fit)."""
    kind: Any = cls
    try:
        return _decoder(kind)(data)
    except _Misfit as exc:
        raise CodecError(f"{cls.__name__}{''.join(reversed(exc.where))}: {exc.reason}") from None


# Each type's reader is made once from its annotation (a closure per field), so reading a plan of thousands
# of changes costs one call per value; where a value does not fit is put together only then.
_Decoder = Callable[[Any], Any]


class _Misfit(Exception):
    """A value that does not fit its type: why, and where (innermost first, joined when reported)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.where: list[str] = []


def _at(where: str, exc: _Misfit) -> _Misfit:
    exc.where.append(where)
    return exc


@functools.cache
def _decoder(kind: Any) -> _Decoder:
    if kind is Any:
        return _same
    if isinstance(kind, type):
        if dataclasses.is_dataclass(kind):
            return _dataclass_decoder(kind)
        if issubclass(kind, enum.Enum):
            return _enum_decoder(kind)
        if kind in (bool, str, int, float):
            return _scalar_decoder(kind)
        if kind is type(None):
            return _null
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        return _union_decoder(tuple(_decoder(arm) for arm in args))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _sequence_decoder(_decoder(args[0]))
        return _fixed_tuple_decoder(tuple(_decoder(a) for a in args))
    if origin in (Mapping, dict, typing.Mapping) or kind in (Mapping, dict):
        return _mapping
    raise CodecError(f"cannot read a value of type {kind}")


def _same(data: Any) -> Any:
    return data


def _null(data: Any) -> None:
    if data is not None:
        raise _Misfit("expected null")


def _mapping(data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise _Misfit("expected an object")
    return dict(data)


def _scalar_decoder(kind: type) -> _Decoder:
    def scalar(data: Any) -> Any:
        if type(data) is not kind and not (kind is float and type(data) is int):
            raise _Misfit(f"expected {kind.__name__}, found {type(data).__name__}")
        return data

    return scalar


def _enum_decoder(kind: type[enum.Enum]) -> _Decoder:
    def member(data: Any) -> Any:
        try:
            return kind(data)
        except ValueError:
            raise _Misfit(f"{data!r} is not one of {[e.value for e in kind]}") from None

    return member


def _union_decoder(arms: tuple[_Decoder, ...]) -> _Decoder:
    none_allowed = _null in arms

    def union(data: Any) -> Any:
        if data is None and none_allowed:
            return None
        last: _Misfit | None = None
        for arm in arms:
            try:
                return arm(data)
            except _Misfit as exc:
                last = exc
        assert last is not None
        raise last

    return union


def _sequence_decoder(item: _Decoder) -> _Decoder:
    def sequence(data: Any) -> tuple[Any, ...]:
        if not isinstance(data, list):
            raise _Misfit("expected a list")
        if not data:
            return ()
        try:
            return tuple([item(v) for v in data])
        except _Misfit as exc:
            for i, v in enumerate(data):  # found again, to say where
                try:
                    item(v)
                except _Misfit as inner:
                    raise _at(f"[{i}]", inner) from None
            raise exc from None

    return sequence


def _fixed_tuple_decoder(items: tuple[_Decoder, ...]) -> _Decoder:
    def fixed(data: Any) -> tuple[Any, ...]:
        if not isinstance(data, list):
            raise _Misfit("expected a list")
        if len(items) != len(data):
            raise _Misfit(f"expected {len(items)} items")
        values = []
        for i, (item, v) in enumerate(zip(items, data, strict=True)):
            try:
                values.append(item(v))
            except _Misfit as exc:
                raise _at(f"[{i}]", exc) from None
        return tuple(values)

    return fixed


_SCALARS: Mapping[Any, frozenset[type]] = {
    str: frozenset({str}),
    bool: frozenset({bool}),
    int: frozenset({int}),
    float: frozenset({float, int}),
    type(None): frozenset({type(None)}),
}


def _simple(kind: Any) -> frozenset[type] | None:
    """The exact types a scalar field (or a union of scalars, such as `str | None`) takes; None for others."""
    if kind in _SCALARS:
        return _SCALARS[kind]
    if typing.get_origin(kind) in (types.UnionType, typing.Union):
        arms = [_SCALARS.get(arm) for arm in typing.get_args(kind)]
        if all(arm is not None for arm in arms):
            return frozenset().union(*[arm for arm in arms if arm is not None])
    return None


def _dataclass_decoder(cls: type[Any]) -> _Decoder:
    hints = typing.get_type_hints(cls)
    fields = [
        (
            f.name,
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
            hints[f.name],
        )
        for f in dataclasses.fields(cls)
    ]
    decoder = _decoder
    # A scalar field's type is checked where it is read; a class without __post_init__ is made without its
    # __init__ (what a frozen dataclass's __init__ does, field by field, costs more than the reading).
    direct = not hasattr(cls, "__post_init__") and not hasattr(cls, "__slots__")
    defaults = {
        f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory
        for f in dataclasses.fields(cls)
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    }
    factories = {f.name for f in dataclasses.fields(cls) if f.default_factory is not dataclasses.MISSING}
    readers: list[tuple[str, bool, frozenset[type] | None, _Decoder]] | None = None

    def instance(data: Any) -> Any:
        nonlocal readers
        if readers is None:  # made on first use: a dataclass may hold itself
            readers = [(name, required, _simple(kind), decoder(kind)) for name, required, kind in fields]
        if not isinstance(data, Mapping):
            raise _Misfit("expected an object")
        values = {}
        for name, required, simple, read in readers:
            if name in data:
                value = data[name]
                if simple is not None and type(value) in simple:
                    values[name] = value
                    continue
                try:
                    values[name] = read(value)
                except _Misfit as exc:
                    raise _at(f".{name}", exc) from None
            elif required:
                raise _at(f".{name}", _Misfit("missing"))
            elif direct:
                default = defaults[name]
                values[name] = default() if name in factories else default  # type: ignore[operator]
        if not direct:
            return cls(**values)
        made = object.__new__(cls)
        made.__dict__.update(values)
        return made

    return instance
