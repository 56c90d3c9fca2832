"""Values known only after apply, evaluated when the apply gets to them.

A change whose body holds an `Unknown` (a `reference()` of what this apply creates or replaces, or, in a
saved plan's bodies read again from the stack, any reference()) is evaluated just before its call: the
walk runs it after what it refers to, so each reference is answered by the body the service returned for
that resource in this apply, or else read from the cloud. The values must agree with the plan wherever it
showed them (a saved plan applied later, for instance, against a cloud that changed meanwhile): if not,
the change fails with what differs and the advice to plan again, as Terraform's "inconsistent final plan".
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from providers.base import Provider, ResourceRef
from providers.catalog import BY_KIND, EXTERNAL_API_VERSIONS
from providers.catalog.arm_ids import fold_id, parse_resource_id
from state.redact import redact

from ..diagnostics import JsonPath, format_path
from ..normalize import normalize_body
from ..planning.diff import diff_bodies
from ..planning.reference_values import view
from ..plans.plan import Action, Change, Plan
from ..stack.expressions import Evaluator, ExpressionError, ReferenceTarget, Scope
from ..stack.expressions.unknown import replace_unknowns, targets_in
from ..stack.model import with_value_at

_NO_SCOPE = Scope(subscription_id=None, resource_group=None, location=None)


class PlanMismatch(Exception):
    """The values reference() gives now are not the ones the plan showed."""


class ApplyReferences:
    """Answers reference() during an apply: what the service returned for a resource this apply made or
    changed, else the resource as the cloud holds it now (read once).

    `to_evaluate` are the changes whose bodies wait for reference() (needs_evaluation): only the bodies
    they refer to are kept (an apply of 11,202 resources, one of them waiting for its identity, held every
    body the service returned, about 60 MB, until it ended)."""

    def __init__(self, plan: Plan, cloud: Provider, to_evaluate: Iterable[Change]) -> None:
        self._planned = {fold_id(c.arm_id): c for c in plan.changes if c.action is not Action.DELETE}
        self._cloud = cloud
        self._bodies: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._wanted = {fold_id(t.resource) for c in to_evaluate for t in targets_in(c.body)}

    def made(self, change: Change, observed: Any) -> None:
        """`change`'s call returned `observed`: what reference() of it gives from now on."""
        key = fold_id(change.arm_id)
        if key not in self._wanted:
            return
        with self._lock:
            self._bodies[key] = observed

    def value_of(self, target: ReferenceTarget) -> Any:
        key = fold_id(target.resource)
        change = self._planned.get(key)
        with self._lock:
            body = self._bodies.get(key)
        api_version = target.api_version or (change.api_version if change is not None else None)
        if body is None:
            rid = parse_resource_id(target.resource)
            if rid is None:
                raise ExpressionError(f"reference('{target.resource}') does not name a resource id")
            arm_type = change.arm_type if change is not None else rid.arm_type
            api_version = api_version or EXTERNAL_API_VERSIONS.get(arm_type.lower())
            if api_version is None:
                raise ExpressionError(f"reference('{target.resource}') needs an api version")
            body = self._cloud.read(ResourceRef(str(rid), arm_type, api_version))
            if body is None:
                raise ExpressionError(f"reference(): {target.resource} does not exist")
            with self._lock:
                self._bodies[key] = body
        return view(body, target.full, api_version or "")


def needs_evaluation(change: Change) -> bool:
    return change.body_has_unknown


def evaluated(change: Change, references: ApplyReferences) -> Change:
    """`change` with every value of its body known, and its `after` as sent; PlanMismatch when a value the
    plan showed is not what reference() gives now."""
    evaluator = Evaluator(_NO_SCOPE, {}, {}, references=references)
    body = replace_unknowns(dict(change.body or {}), evaluator.resolve)
    rtype = BY_KIND[change.kind]
    after = redact(normalize_body(rtype, body, change.api_version))
    planned = dict(change.after or {})
    if not agrees(planned, after, set(change.after_unknown)):
        shown: Any = after
        for path in change.after_unknown:
            shown = with_value_at(shown, path, None)
        differs = diff_bodies(planned, shown, rtype, change.api_version)
        where = ", ".join(format_path(d.path) for d in differs) or "the body"
        raise PlanMismatch(
            f"reference() gives other values than the plan showed ({where}): the cloud changed since the "
            "plan was made; plan again"
        )
    return replace(change, body=body, after=after, after_unknown=())


_ABSENT = object()


def agrees(planned: Any, actual: Any, unknown: set[JsonPath], path: JsonPath = ()) -> bool:
    """Whether `actual` is what the plan showed: equal wherever the plan knew the value. The items of a
    list the service keeps in no order (sorted by normalisation) may have moved around a value that was
    unknown, so a list agrees when the known items are all in it."""
    if path in unknown:
        return True
    if isinstance(planned, dict) and isinstance(actual, dict):
        return all(
            agrees(planned.get(key, _ABSENT), actual.get(key, _ABSENT), unknown, (*path, key))
            for key in planned.keys() | actual.keys()
        )
    if isinstance(planned, list) and isinstance(actual, list):
        if len(planned) != len(actual):
            return False
        if all(
            agrees(p, a, unknown, (*path, i)) for i, (p, a) in enumerate(zip(planned, actual, strict=True))
        ):
            return True
        under = {p[len(path)] for p in unknown if len(p) > len(path) and p[: len(path)] == path}
        rest = list(actual)
        for index, item in enumerate(planned):
            if index in under:
                continue
            if item not in rest:
                return False
            rest.remove(item)
        return True
    return bool(planned == actual)
