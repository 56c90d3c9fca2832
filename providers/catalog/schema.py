"""A small language for the fields a resource body may hold, per api version.

A type's schema is written once for all of its api versions: every field, union variant and enum value
says which version introduced it (`since`) and, when it is gone, the first version without it (`until`).
`providers.catalog.compiled.compile_schema` turns it into one plain structure per api version (dict
lookups only), built once and cached, with what a validator needs to explain a mistake: the names a field
may have been meant as (case-insensitive match, a near miss, or the same name elsewhere in the body) and
why a known name is not allowed in this version.

The catalog holds facts only; the walk that checks a body against a compiled schema is the validator's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from .paths import PathPattern, api_version_key

# ------------------------------------------------------------------------------------------ written form


@dataclass(frozen=True)
class Str:
    """A string; optionally one of `enum` (exact case), matching `pattern`, of bounded length."""

    enum: tuple[str, ...] = ()
    # value -> first api version that accepts it (values not listed are as old as the field)
    enum_since: Mapping[str, str] = field(default_factory=dict)
    # The service accepts other values too (swagger `modelAsString`): unknown values warn.
    extensible: bool = False
    pattern: str | None = None
    pattern_text: str | None = None  # how the pattern is said to people
    max_length: int | None = None
    code: str | None = None  # the rule a broken constraint reports under


@dataclass(frozen=True)
class Int:
    """An integer, optionally between `minimum` and `maximum`."""

    minimum: int | None = None
    maximum: int | None = None
    code: str | None = None


@dataclass(frozen=True)
class Bool:
    """A boolean."""


@dataclass(frozen=True)
class AnyValue:
    """Checked elsewhere (by a rule of its own) or free-form."""


@dataclass(frozen=True)
class Arr:
    """A list whose every item is `items`."""

    items: Node


@dataclass(frozen=True)
class MapOf:
    """An object with free keys (tags, userAssignedIdentities); every value is `values`."""

    values: Node


@dataclass(frozen=True)
class Field:
    """A field of an object: its value, the api versions that have it, and whether it is required."""

    node: Node
    since: str | None = None
    until: str | None = None
    required: bool = False
    required_since: str | None = None
    required_until: str | None = None
    read_only: bool = False
    code: str | None = None  # the rule a missing required field reports under
    note: str | None = None  # e.g. what replaced a removed field


@dataclass(frozen=True)
class Obj:
    """An object with named fields."""

    fields: Mapping[str, Field]


@dataclass(frozen=True)
class Variant:
    """One variant of a Union: its own fields, and the api versions that take it."""

    fields: Mapping[str, Field]
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class Union:
    """An object whose `key` field (the discriminator) picks the variant; `common` fields are in all."""

    key: str
    variants: Mapping[str, Variant]
    common: Mapping[str, Field] = field(default_factory=dict)
    code: str | None = None  # the rule an unknown or missing discriminator reports under


@dataclass(frozen=True)
class Versioned:
    """A node that differs between api versions: ((since, node), ...) in version order."""

    choices: tuple[tuple[str, Node], ...]


Node = Str | Int | Bool | AnyValue | Arr | MapOf | Obj | Union | Versioned


@dataclass(frozen=True)
class Schema:
    """A resource type's body for all its api versions, and the rule ids of the generic findings."""

    arm_type: str
    versions: tuple[str, ...]
    root: Obj
    codes: Mapping[str, str]  # unknown, case, version, read_only, type, enum, range, required
    strict_since: str | None = None  # from this version, unknown or mis-cased fields are rejected
    # The api versions whose published schemas the fields were read from (empty: every version); another
    # version is checked with these fields, and the validator says which version it was checked as.
    read_from: tuple[str, ...] = ()

    def described_as(self, api_version: str) -> str | None:
        """The version whose published fields check `api_version` when they were not read for it itself;
        None when they were (or when every version's were)."""
        if not self.read_from or api_version in self.read_from:
            return None
        return nearest_version(self.read_from, api_version)


def field_paths(node: Node, prefix: str) -> Iterator[tuple[str, str]]:
    """(where, name) for every field name anywhere in a schema, for "belongs elsewhere" hints."""
    if isinstance(node, Versioned):
        for _, choice in node.choices:
            yield from field_paths(choice, prefix)
    elif isinstance(node, Arr):
        yield from field_paths(node.items, prefix + "[]")
    elif isinstance(node, MapOf):
        yield from field_paths(node.values, prefix + ".*")
    elif isinstance(node, Obj):
        for name, spec in node.fields.items():
            yield prefix or "the top level", name
            yield from field_paths(spec.node, f"{prefix}.{name}" if prefix else name)
    elif isinstance(node, Union):
        for name, spec in node.common.items():
            yield prefix, name
            yield from field_paths(spec.node, f"{prefix}.{name}")
        for variant_name, variant in node.variants.items():
            for name, spec in variant.fields.items():
                yield f"{prefix} (type {variant_name})", name
                yield from field_paths(spec.node, f"{prefix}.{name}")


def read_only_fields(schema: Schema) -> tuple[PathPattern, ...]:
    """Every path the service fills in, over all api versions: the fields marked read-only, and a field
    whose object holds nothing but such fields (the service fills it in whole). The normaliser drops
    these; the validator reports them, so the two agree because both read this schema."""
    found: dict[PathPattern, None] = {}

    def whole(spec: Field) -> bool:
        node = spec.node
        return spec.read_only or (
            isinstance(node, Obj) and bool(node.fields) and all(map(whole, node.fields.values()))
        )

    def fields(items: Mapping[str, Field], path: PathPattern) -> None:
        for name, spec in items.items():
            here = (*path, name)
            if whole(spec):
                found[here] = None
            else:
                walk(spec.node, here)

    def walk(node: Node, path: PathPattern) -> None:
        if isinstance(node, Versioned):
            for _, choice in node.choices:
                walk(choice, path)
        elif isinstance(node, Arr):
            walk(node.items, (*path, "[]"))
        elif isinstance(node, MapOf):
            walk(node.values, (*path, "*"))
        elif isinstance(node, Obj):
            fields(node.fields, path)
        elif isinstance(node, Union):
            fields(node.common, path)
            for variant in node.variants.values():
                fields(variant.fields, path)

    walk(schema.root, ())
    return tuple(found)


def nearest_version(versions: tuple[str, ...], api_version: str) -> str:
    """`api_version` when known, else the newest known version before it (the oldest when none is)."""
    if api_version in versions:
        return api_version
    key = api_version_key(api_version)
    earlier = [v for v in versions if api_version_key(v) <= key]
    return max(earlier, key=api_version_key) if earlier else min(versions, key=api_version_key)
