"""Check a body against its compiled schema: unknown and mis-cased fields, fields of another api version,
read-only fields, JSON types, enums, ranges, patterns and required fields, in one walk per resource.

The walk returns findings keyed by rule id; each of those rules reads its share from the context's memo
(`schema_findings`), so the body is walked once however many rules report from it. Paths are built as
linked pairs and turned into tuples only for a finding, which keeps the walk cheap.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import Any

from providers.catalog import schema_for
from providers.catalog.compiled import (
    CAny,
    CArr,
    CBool,
    CInt,
    CMap,
    CNode,
    CObj,
    CompiledSchema,
    CStr,
    CUnion,
)

from ..diagnostics import JsonPath, Severity, format_path
from ..stack.model import Resource
from . import Finding, RuleContext

_Link = tuple[Any, str | int] | None
Found = dict[str, list[Finding]]


def schema_findings(resource: Resource, context: RuleContext) -> Found:
    """Findings of the schema walk over `resource`, by rule id; computed once per resource and run."""
    return context.remember(("schema", resource.address), lambda: check_body(resource))


def check_body(resource: Resource) -> Found:
    schema = schema_for(resource.kind, resource.api_version)
    found: Found = {}
    if schema is not None:
        _Walk(schema, found).obj(schema.root, resource.body, None)
    return found


# Rule ids some rule reports from the schema walk (a test checks that every id a schema can produce is one).
SERVED: set[str] = set()


def findings_for(code: str) -> Any:
    """A rule check that reports the schema walk's findings under `code`."""
    SERVED.add(code)

    def check(resource: Resource, context: RuleContext) -> Sequence[Finding]:
        return schema_findings(resource, context).get(code, ())

    check.__name__ = f"schema_{code}"
    return check


def _path(link: _Link) -> JsonPath:
    parts: list[str | int] = []
    while link is not None:
        link, key = link
        parts.append(key)
    return tuple(reversed(parts))


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list"}.get(
        type(value), "an object"
    )


class _Walk:
    def __init__(self, schema: CompiledSchema, found: Found) -> None:
        self.schema = schema
        self.codes = schema.codes
        self.found = found
        self.loose = Severity.ERROR if schema.strict else Severity.WARNING

    def add(
        self, code: str, link: _Link, message: str, hint: str | None = None, severity: Severity | None = None
    ) -> None:
        self.found.setdefault(code, []).append(Finding(message, _path(link), hint, severity))

    def node(self, node: CNode, value: Any, link: _Link) -> None:
        if value is None:
            return  # null means "not set" to ARM
        kind = type(node)
        if kind is CStr:
            self.string(node, value, link)  # type: ignore[arg-type]
        elif kind is CObj:
            self.obj(node, value, link)  # type: ignore[arg-type]
        elif kind is CUnion:
            self.union(node, value, link)  # type: ignore[arg-type]
        elif kind is CArr:
            if type(value) is not list:
                self.wrong_type(link, value, "a list", node)
                return
            items = node.items  # type: ignore[union-attr]
            for index, item in enumerate(value):
                self.node(items, item, (link, index))
        elif kind is CInt:
            self.integer(node, value, link)  # type: ignore[arg-type]
        elif kind is CBool:
            if type(value) is not bool:
                self.wrong_type(link, value, "true or false", node)
        elif kind is CMap:
            if type(value) is not dict:
                self.wrong_type(link, value, "an object", node)
                return
            values = node.values  # type: ignore[union-attr]
            for key, item in value.items():
                self.node(values, item, (link, key))
        else:
            assert kind is CAny

    def wrong_type(self, link: _Link, value: Any, expected: str, node: CNode) -> None:
        hint = None
        if isinstance(value, str) and isinstance(node, CInt) and value.strip().lstrip("-").isdigit():
            hint = f"write {value.strip()} without quotes"
        elif (
            isinstance(value, str) and isinstance(node, CBool) and value.strip().lower() in ("true", "false")
        ):
            hint = f"write {value.strip().lower()} without quotes"
        elif isinstance(value, str) and isinstance(node, CArr):
            hint = f"wrap it in a list: [{_shown(value)}]"
        self.add(self.codes["type"], link, f"expected {expected}, got {_type_name(value)}", hint)

    def string(self, node: CStr, value: Any, link: _Link) -> None:
        if type(value) is not str:
            self.wrong_type(link, value, "a string", node)
            return
        if node.enum and value not in node.enum:
            self.enum(node, value, link)
        if node.pattern is not None and not node.pattern.match(value):
            self.add(
                node.code or self.codes["range"],
                link,
                f"{_shown(value)} is not allowed here: {node.pattern_text}",
            )
        if node.max_length is not None and len(value) > node.max_length:
            self.add(node.code or self.codes["range"], link, f"at most {node.max_length} characters")

    def enum(self, node: CStr, value: str, link: _Link) -> None:
        code = node.code or self.codes["enum"]
        known = ", ".join(sorted(node.enum))
        canonical = node.enum_lower.get(value.lower())
        if canonical is not None:
            self.add(
                code,
                link,
                f"{_shown(value)} is written '{canonical}'",
                f"did you mean '{canonical}'?",
                self.loose,
            )
        elif value in node.enum_later:
            self.add(
                code,
                link,
                f"{_shown(value)} needs api version {node.enum_later[value]} or later "
                f"(this resource uses {self.schema.api_version})",
                f"allowed here: {known}",
                Severity.ERROR,
            )
        else:
            close = difflib.get_close_matches(value, sorted(node.enum), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed: {known}"
            if node.extensible:
                self.add(
                    code, link, f"{_shown(value)} is not a documented value ({known})", hint, Severity.WARNING
                )
            else:
                self.add(
                    code, link, f"{_shown(value)} is not allowed; allowed: {known}", hint, Severity.ERROR
                )

    def integer(self, node: CInt, value: Any, link: _Link) -> None:
        if type(value) is not int:
            self.wrong_type(link, value, "an integer", node)
            return
        code = node.code or self.codes["range"]
        if node.minimum is not None and value < node.minimum:
            self.add(code, link, f"{value} is below the minimum {node.minimum}")
        elif node.maximum is not None and value > node.maximum:
            self.add(code, link, f"{value} is above the maximum {node.maximum}")

    def obj(self, node: CObj, value: Any, link: _Link) -> None:
        if type(value) is not dict:
            self.wrong_type(link, value, "an object", node)
            return
        fields = node.fields
        for key, item in value.items():
            spec = fields.get(key)
            if spec is None:
                spec = self.stray(node, key, link)
                if spec is None:
                    continue
            if spec.read_only:
                self.add(
                    self.codes["read_only"],
                    (link, key),
                    f"'{key}' is read-only: the service sets it and ignores what is sent",
                    "remove it from the template",
                )
                continue
            leaf = spec.leaf
            if leaf:
                kind = type(item)
                if (
                    leaf == 1
                    or (leaf == 2 and kind is str)
                    or (leaf == 4 and kind is bool)
                    or (leaf == 3 and kind is list and all(type(x) is str for x in item))
                ):
                    continue
            self.node(spec.node, item, (link, key))
        for name, code in node.required:
            if value.get(name) is None and not any(
                key.lower() == name.lower() and key != name for key in value
            ):  # a mis-cased spelling was reported above
                self.missing(name, code, link)

    def missing(self, name: str, code: str | None, link: _Link) -> None:
        shown = format_path((*_path(link), name))
        self.add(code or self.codes["required"], link, f"'{shown}' is required", f"add '{name}'")

    def stray(self, node: CObj, key: str, link: _Link) -> Any:
        """A key the object does not take: mis-cased (then checked as the real field), of another api
        version, or unknown. Returns the field to check the value against, if any."""
        here = (link, key)
        canonical = node.lower.get(key.lower())
        if canonical is not None:
            self.add(
                self.codes["case"],
                here,
                f"'{key}' is written '{canonical}'{self.strictness()}",
                f"did you mean '{canonical}'?",
                self.loose,
            )
            return node.fields[canonical]
        why = node.absent.get(key)
        if why is not None:
            self.add(
                self.codes["version"],
                here,
                f"'{key}' is not in api version {self.schema.api_version}: {why}",
                "change apiVersion or remove the field",
                Severity.ERROR,
            )
            return None
        hint = node.hints.get(key)
        if hint is None:
            close = difflib.get_close_matches(key, [*node.fields, *node.absent], n=1, cutoff=0.7)
            close = (
                close
                or [
                    name
                    for name in node.fields
                    if len(key) >= 4 and key.lower() in name.lower() and name != key
                ][:1]
            )
            if close:
                hint = f"did you mean '{close[0]}'?"
            elif key in node.where:
                hint = f"'{key}' belongs in {node.where[key]}"
            else:
                hint = "known fields here: " + ", ".join(sorted(node.fields))
        else:
            hint = f"'{key}' is {hint}"
        self.add(self.codes["unknown"], here, f"unknown field '{key}'{self.strictness()}", hint, self.loose)
        return None

    def strictness(self) -> str:
        if self.schema.strict:
            return f" (api version {self.schema.api_version} rejects it)"
        return ""

    def union(self, node: CUnion, value: Any, link: _Link) -> None:
        if type(value) is not dict:
            self.wrong_type(link, value, "an object", node)
            return
        tag = value.get(node.key)
        code = node.code or self.codes["enum"]
        known = ", ".join(node.variants)
        if tag is None:
            self.add(code, link, f"'{node.key}' is required: one of {known}", f'add "{node.key}"')
            return
        if type(tag) is not str:
            self.add(code, (link, node.key), f"'{node.key}' must be a string: one of {known}")
            return
        variant = node.variants.get(tag)
        if variant is None:
            canonical = node.variants_lower.get(tag.lower())
            if canonical is not None:
                self.add(
                    code,
                    (link, node.key),
                    f"{_shown(tag)} is written '{canonical}'{self.strictness()}",
                    f"did you mean '{canonical}'?",
                    self.loose,
                )
                variant = node.variants[canonical]
            elif tag in node.absent:
                self.add(
                    code,
                    (link, node.key),
                    f"{_shown(tag)} is not in api version {self.schema.api_version}: {node.absent[tag]}",
                    f"allowed here: {known}",
                    Severity.ERROR,
                )
                return
            else:
                close = difflib.get_close_matches(tag, list(node.variants), n=1, cutoff=0.6)
                self.add(
                    code,
                    (link, node.key),
                    f"{_shown(tag)} is not a known {node.key}; allowed: {known}",
                    f"did you mean '{close[0]}'?" if close else None,
                    Severity.ERROR,
                )
                return
        self.obj(variant, value, link)
