"""A schema (providers.catalog.schema) compiled for one api version: plain structures, dict lookups only,
built once per (type, api version) and cached, with what a validator needs to explain a mistake (the names
a field may have been meant as, why a known name is not allowed in this version).

Only what checks a body against a schema needs it (the rules of AIB2xxx-AIB3xxx, the simulated service's
request check): a plan whose stack's findings were kept does not import it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .paths import api_version_key, in_force
from .schema import (
    AnyValue,
    Arr,
    Bool,
    Field,
    Int,
    MapOf,
    Node,
    Obj,
    Schema,
    Str,
    Union,
    Versioned,
    field_paths,
    nearest_version,
)


@dataclass(frozen=True, slots=True)
class CStr:
    """A Str for one api version: the enum values it takes (and those only later ones take), its limits."""

    enum: frozenset[str]
    enum_lower: Mapping[str, str]
    enum_later: Mapping[str, str]  # value -> the version that introduced it
    extensible: bool
    pattern: re.Pattern[str] | None
    pattern_text: str | None
    max_length: int | None
    code: str | None


@dataclass(frozen=True, slots=True)
class CInt:
    """An Int for one api version."""

    minimum: int | None
    maximum: int | None
    code: str | None


@dataclass(frozen=True, slots=True)
class CBool:
    """A boolean."""


@dataclass(frozen=True, slots=True)
class CAny:
    """Any value (checked elsewhere, or free-form)."""


@dataclass(frozen=True, slots=True)
class CArr:
    """A list whose every item is `items`."""

    items: CNode


@dataclass(frozen=True, slots=True)
class CMap:
    """An object with free keys whose every value is `values`."""

    values: CNode


@dataclass(frozen=True, slots=True)
class CField:
    """A field of a CObj: its value's node, and whether it is read-only."""

    node: CNode
    read_only: bool
    # What a walk may skip without a call: 1 any value (checked elsewhere); 2 any string (a string without
    # constraints); 3 any list of strings; 4 any boolean. 0: check the value against `node`.
    leaf: int = 0


@dataclass(frozen=True, slots=True)
class CObj:
    """An object for one api version: its fields, and what explains a name it does not take (another case,
    another version, another variant, elsewhere in the body)."""

    fields: Mapping[str, CField]
    lower: Mapping[str, str]  # lower-case name -> the name as the api spells it
    absent: Mapping[str, str]  # a known name that this version does not take -> why
    required: tuple[tuple[str, str | None], ...]  # (name, rule id)
    hints: Mapping[str, str]  # a name that belongs to another union variant -> which
    where: Mapping[str, str]  # a name that is a field elsewhere in the body -> where


@dataclass(frozen=True, slots=True)
class CUnion:
    """A Union for one api version: the variants it takes by discriminator value, and why not the others."""

    key: str
    variants: Mapping[str, CObj]
    variants_lower: Mapping[str, str]
    absent: Mapping[str, str]  # a known variant this version does not take -> why
    code: str | None


CNode = CStr | CInt | CBool | CAny | CArr | CMap | CObj | CUnion


@dataclass(frozen=True)
class CompiledSchema:
    """A resource type's schema as one api version sees it (`compile_schema`)."""

    arm_type: str
    api_version: str
    root: CObj
    codes: Mapping[str, str]
    strict: bool  # unknown and mis-cased fields are errors (the service rejects them)


def available(since: str | None, until: str | None, version: str) -> bool:
    return in_force(since, until, version)


def _why_absent(since: str | None, until: str | None, version: str, note: str | None = None) -> str:
    if since is not None and api_version_key(version) < api_version_key(since):
        return f"introduced in api version {since}"
    text = f"removed in api version {until}"
    return f"{text} ({note})" if note else text


def compile_schema(schema: Schema, version: str) -> CompiledSchema:
    """The schema as one api version sees it."""
    where: dict[str, str] = {}
    for path, name in field_paths(schema.root, ""):
        where.setdefault(name, path)
    compiler = _Compiler(version, where)
    strict = schema.strict_since is not None and api_version_key(version) >= api_version_key(
        schema.strict_since
    )
    root = compiler.obj(schema.root.fields)
    return CompiledSchema(schema.arm_type, version, root, schema.codes, strict)


@dataclass
class _Compiler:
    """Compiles schema nodes for one api version; `where` says where each field name is in the body."""

    version: str
    where: Mapping[str, str]

    def node(self, node: Node) -> CNode:
        if isinstance(node, Versioned):
            chosen = node.choices[0][1]
            for since, candidate in node.choices:
                if api_version_key(self.version) >= api_version_key(since):
                    chosen = candidate
            return self.node(chosen)
        if isinstance(node, Str):
            enum = frozenset(v for v in node.enum if available(node.enum_since.get(v), None, self.version))
            later = {v: node.enum_since[v] for v in node.enum if v not in enum and v in node.enum_since}
            return CStr(
                enum,
                {v.lower(): v for v in enum},
                later,
                node.extensible,
                re.compile(node.pattern) if node.pattern else None,
                node.pattern_text or node.pattern,
                node.max_length,
                node.code,
            )
        if isinstance(node, Int):
            return CInt(node.minimum, node.maximum, node.code)
        if isinstance(node, Bool):
            return CBool()
        if isinstance(node, AnyValue):
            return CAny()
        if isinstance(node, Arr):
            return CArr(self.node(node.items))
        if isinstance(node, MapOf):
            return CMap(self.node(node.values))
        if isinstance(node, Obj):
            return self.obj(node.fields)
        return self.union(node)

    def obj(self, fields: Mapping[str, Field], hints: Mapping[str, str] | None = None) -> CObj:
        present: dict[str, CField] = {}
        absent: dict[str, str] = {}
        required: list[tuple[str, str | None]] = []
        for name, spec in fields.items():
            if not available(spec.since, spec.until, self.version):
                absent.setdefault(name, _why_absent(spec.since, spec.until, self.version, spec.note))
                continue
            absent.pop(name, None)
            compiled = self.node(spec.node)
            present[name] = CField(compiled, spec.read_only, _leaf(compiled))
            versioned = spec.required_since is not None or spec.required_until is not None
            if spec.required or (
                versioned and available(spec.required_since, spec.required_until, self.version)
            ):
                required.append((name, spec.code))
        return CObj(
            present, {n.lower(): n for n in present}, absent, tuple(required), hints or {}, self.where
        )

    def union(self, node: Union) -> CUnion:
        variants: dict[str, CObj] = {}
        absent: dict[str, str] = {}
        for name, variant in node.variants.items():
            if not available(variant.since, variant.until, self.version):
                absent[name] = _why_absent(variant.since, variant.until, self.version)
                continue
            fields = {node.key: Field(AnyValue(), required=True), **node.common, **variant.fields}
            # Fields of the other variants are "known here but not for this type".
            others = {
                other: f"a field of type '{other_name}', not of type '{name}'"
                for other_name, other_variant in node.variants.items()
                if other_name != name and available(other_variant.since, other_variant.until, self.version)
                for other in other_variant.fields
                if other not in fields
            }
            variants[name] = self.obj(fields, others)
        return CUnion(node.key, variants, {v.lower(): v for v in variants}, absent, node.code)


def _leaf(node: CNode) -> int:
    if isinstance(node, CAny):
        return 1
    if isinstance(node, CStr) and not node.enum and node.pattern is None and node.max_length is None:
        return 2
    if isinstance(node, CArr) and _leaf(node.items) == 2:
        return 3
    return 4 if isinstance(node, CBool) else 0


class SchemaCache:
    """Compiled schemas, each built once per (type, api version)."""

    def __init__(self, schemas: Mapping[str, Schema]) -> None:
        self._schemas = schemas
        self._compiled: dict[tuple[str, str], CompiledSchema] = {}

    def get(self, kind: str, api_version: str) -> CompiledSchema | None:
        key = (kind, api_version)
        found = self._compiled.get(key)
        if found is None:
            schema = self._schemas.get(kind)
            if schema is None:
                return None
            found = self._compiled[key] = compile_schema(
                schema, nearest_version(schema.versions, api_version)
            )
        return found
