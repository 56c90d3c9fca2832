"""Validation rules: each has an id, a severity, a one-line summary, the reference section it enforces,
and a check. The registry below lists every rule explicitly (no discovery by import side effects).

Id ranges: AIB0xxx loading, AIB1xxx graph, AIB2xxx resource envelope, AIB3xxx image template properties,
AIB4xxx galleries, image definitions and identities, AIB5xxx across resources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ..diagnostics import Diagnostic, JsonPath, Severity
from ..model import Resource, Stack


@dataclass(frozen=True)
class Finding:
    """What a check reports; the registry turns it into a Diagnostic with the rule's id and severity."""

    message: str
    path: JsonPath = ()
    hint: str | None = None
    severity: Severity | None = None  # overrides the rule's severity (e.g. error from 2024-02-01 on)


@dataclass(frozen=True)
class RuleContext:
    """What a check may look at besides the resource: the whole stack and its graph."""

    stack: Stack
    graph: nx.DiGraph | None = None


ResourceCheck = Callable[[Resource, RuleContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    section: str  # the anchor of the AIB reference section it enforces, e.g. "properties-source"
    kinds: tuple[str, ...]
    check: ResourceCheck
    versions: str = "all"
    example: str = field(default="", compare=False)


def run_rules(rules: Sequence[Rule], stack: Stack, graph: nx.DiGraph | None = None) -> list[Diagnostic]:
    """Every rule over every resource of its kinds. A rule that crashes becomes a diagnostic of its own."""
    context = RuleContext(stack, graph)
    out: list[Diagnostic] = []
    for resource in stack.resources:
        for rule in rules:
            if resource.kind not in rule.kinds and "*" not in rule.kinds:
                continue
            out.extend(_run_one(rule, resource, context))
    return out


def _run_one(rule: Rule, resource: Resource, context: RuleContext) -> Iterator[Diagnostic]:
    try:
        findings = list(rule.check(resource, context))
    except Exception as exc:  # a bug in a rule must not stop validation
        yield Diagnostic(
            "AIB0000",
            Severity.ERROR,
            f"rule {rule.id} failed on this resource: {type(exc).__name__}: {exc}",
            address=resource.address,
            hint="this is a bug in aibplan; please report it",
        )
        return
    for finding in findings:
        yield Diagnostic(
            rule.id,
            finding.severity or rule.severity,
            finding.message,
            address=resource.address,
            path=finding.path,
            hint=finding.hint,
        )


def get(obj: Any, *path: str | int) -> Any:
    """Walk dicts and lists; None when any step is missing or of the wrong shape."""
    for key in path:
        if isinstance(key, int):
            if not isinstance(obj, list) or key >= len(obj):
                return None
        elif not isinstance(obj, dict):
            return None
        obj = obj[key] if isinstance(key, int) else obj.get(key)
    return obj
