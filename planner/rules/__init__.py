"""Validation rules: each has an id, a severity, a one-line summary, the reference section it enforces,
the api versions it concerns, a failing example, and a check. The registry (`registry.py`) lists every
rule explicitly (no discovery by import side effects); `docs/rules.md` is generated from it.

Id ranges: AIB0xxx loading, AIB1xxx graph, AIB2xxx resource envelope, AIB3xxx image template properties,
AIB4xxx galleries, image definitions, identities and names, AIB5xxx across resources, AIB9xxx role
assignments and role definitions (90xx their fields, 91xx what an image template's identity is allowed to
do).

A few rules are enforced while loading (JSON syntax, expressions) or while building the graph (cycles,
dangling dependsOn); they are registered with `stage` "load" or "graph" and no check, so they are
documented, have fixtures and appear in SARIF like every other rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..diagnostics import Diagnostic, JsonPath, Severity
from ..stack.model import Resource, Stack

if TYPE_CHECKING:
    from ..stack.kept_graph import DependencyGraph

T = TypeVar("T")


@dataclass(frozen=True)
class Finding:
    """What a check reports; the runner turns it into a Diagnostic with the rule's id and severity."""

    message: str
    path: JsonPath = ()
    hint: str | None = None
    severity: Severity | None = None  # overrides the rule's severity (e.g. error from 2024-02-01 on)


@dataclass(frozen=True)
class RuleContext:
    """What a check may look at besides the resource: the whole stack, its graph, and a memo shared by
    the checks of one run (so a walk several rules read is made once per resource)."""

    stack: Stack
    graph: DependencyGraph | None = None
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, hash=False)

    def remember(self, key: Any, compute: Callable[[], T]) -> T:
        try:
            return self.memo[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self.memo[key] = compute()
            return value


ResourceCheck = Callable[[Resource, RuleContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A validation rule: its id, severity and summary, the reference section it enforces, the kinds it
    checks, and its check (None for a rule of `stage` "load" or "graph")."""

    id: str
    severity: Severity
    summary: str
    section: str  # the anchor of the AIB reference section it enforces, e.g. "properties-source"
    kinds: tuple[str, ...]
    check: ResourceCheck | None
    versions: str = "all"
    example: str = field(default="", compare=False)  # a failing snippet, for docs/rules.md
    stage: str = "rule"  # "rule" (a check over resources), "load" or "graph" (reported by those steps)
    also: tuple[str, ...] = ()  # other reference sections the rule serves


def run_rules(
    rules: Sequence[Rule],
    stack: Stack,
    graph: DependencyGraph | None = None,
    known: Mapping[Any, Any] | None = None,
) -> list[Diagnostic]:
    """Every rule over every resource of its kinds. A rule that crashes becomes a diagnostic of its own.

    Findings at a path whose value could not be resolved (a parameter or scope value missing when a file
    is validated alone, a leftover placeholder) are dropped: the loader reported the cause already.
    `known` starts the checks' memo with what the caller knows beyond the stack (a plan: the cloud's role
    assignments).
    """
    context = RuleContext(stack, graph, dict(known or {}))
    by_kind: dict[str, list[Rule]] = {}
    for resource in stack.resources:
        if resource.kind not in by_kind:
            by_kind[resource.kind] = [
                r for r in rules if r.check is not None and (resource.kind in r.kinds or "*" in r.kinds)
            ]
    out: list[Diagnostic] = []
    for resource in stack.resources:
        unresolved = resource.unresolved
        for rule in by_kind[resource.kind]:
            check = rule.check
            assert check is not None
            try:
                findings = list(check(resource, context))
            except Exception as exc:  # a bug in a rule must not stop validation
                out.append(
                    Diagnostic(
                        "AIB0000",
                        Severity.ERROR,
                        f"rule {rule.id} failed on this resource: {type(exc).__name__}: {exc}",
                        address=resource.address,
                        hint="this is a bug in aibplan; please report it",
                    )
                )
                continue
            for finding in findings:
                if unresolved and _under_any(finding.path, unresolved):
                    continue
                out.append(
                    Diagnostic(
                        rule.id,
                        finding.severity or rule.severity,
                        finding.message,
                        address=resource.address,
                        path=finding.path,
                        hint=finding.hint,
                    )
                )
    return out


def _under_any(path: JsonPath, prefixes: Iterable[JsonPath]) -> bool:
    return any(path[: len(prefix)] == prefix for prefix in prefixes)


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


def combined(*checks: ResourceCheck) -> ResourceCheck:
    """One check made of several (a schema's findings for a rule id plus the rule's own logic)."""

    def check(resource: Resource, context: RuleContext) -> Iterator[Finding]:
        for one in checks:
            yield from one(resource, context)

    return check
