"""What `reference()` gives at plan time, and a resource's body with its values known after apply evaluated.

Each resource a stack's values refer to answers with what the cloud holds now, except where the plan will
change it:

- a resource of the stack that the plan creates or replaces: nothing is known of it yet (NOT_YET); but
  one the state does not hold that the cloud has already (made outside aibplan) answers with its body
  there, each value the stack sets NOT_YET (the create may change it: what the service computes, such as
  an identity's principal id, stays);
- one the plan updates: its body now, with each path the update changes NOT_YET;
- one left as it is: its body now (the cloud's, or the state's observed body with `--no-refresh`);
- a resource outside the stack: read from the cloud with the api version the expression gives (read even
  with `--no-refresh`, as Terraform reads its data sources); one that does not exist is AIB8001.

`reference(id)` is the resource's `properties`; `reference(id, version, 'Full')` the whole resource object
with its `apiVersion`. The plan is made in dependency order, so what a resource refers to has its change
decided before the resource is planned (`decided`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.base import Provider, ResourceRef
from providers.catalog import EXTERNAL_API_VERSIONS, title_of
from providers.catalog.arm_ids import fold_id, parse_resource_id
from state import State

from ..diagnostics import Diagnostic, JsonPath, Severity
from ..plans.plan import Action, Change
from ..stack.expressions import NOT_YET, Evaluator, ExpressionError, ReferenceTarget, Scope
from ..stack.model import Resource, Stack, with_value_at
from .external_refs import MISSING

_NO_SCOPE = Scope(subscription_id=None, resource_group=None, location=None)


class ReferenceNotFound(ExpressionError):
    """reference() names a resource that is neither in the stack nor in the cloud."""


class PlanReferences:
    """Answers reference() while a plan is made (see the module's docstring)."""

    def __init__(
        self, stack: Stack, state: State, live: Mapping[str, Any], provider: Provider, *, refresh: bool
    ) -> None:
        self._by_id = {fold_id(r.arm_id): r for r in stack.resources}
        self._state = state
        self._live = live
        self._provider = provider
        self._refresh = refresh
        self._outside: dict[str, Any] = {}
        # The change decided for each resource so far (make_plan fills it in dependency order).
        self.decided: dict[str, Change] = {}

    def value_of(self, target: ReferenceTarget) -> Any:
        resource = self._by_id.get(fold_id(target.resource))
        if resource is None:
            return view(self._read_outside(target), target.full, target.api_version or "")
        change = self.decided.get(resource.address)
        entry = self._state.get(resource.address)
        if change is not None and entry is None and change.action is Action.CREATE:
            return self._made_outside(resource, change, target)
        if change is None or entry is None or change.action in (Action.CREATE, Action.REPLACE):
            return NOT_YET
        body = self._live.get(entry.arm_id) if self._refresh else dict(entry.observed)
        if body is None:
            return NOT_YET
        if change.action is Action.UPDATE:
            for diff in change.attribute_diffs:
                body = with_value_at(body, diff.path, NOT_YET)
        return view(body, target.full, target.api_version or entry.api_version)

    def _made_outside(self, resource: Resource, change: Change, target: ReferenceTarget) -> Any:
        """A resource the plan creates although the cloud may hold it already (see the module docstring)."""
        key = fold_id(resource.arm_id)
        if not self._refresh:
            return NOT_YET
        if key not in self._outside:
            self._outside[key] = self._provider.read(
                ResourceRef(resource.arm_id, resource.arm_type, resource.api_version)
            )
        body = self._outside[key]
        if body is None:
            return NOT_YET
        for path in leaf_paths(change.after):
            body = with_value_at(body, path, NOT_YET)
        return view(body, target.full, target.api_version or resource.api_version)

    def _read_outside(self, target: ReferenceTarget) -> Any:
        key = fold_id(target.resource)
        if key not in self._outside:
            rid = parse_resource_id(target.resource)
            api_version = target.api_version or (
                EXTERNAL_API_VERSIONS.get(rid.arm_type.lower()) if rid is not None else None
            )
            if rid is None or api_version is None:
                raise ExpressionError(
                    f"reference('{target.resource}') needs a resource id and an api version"
                )
            self._outside[key] = self._provider.read(ResourceRef(str(rid), rid.arm_type, api_version))
        found = self._outside[key]
        if found is None:
            rid = parse_resource_id(target.resource)
            what = title_of(rid.arm_type) if rid is not None else "resource"
            raise ReferenceNotFound(f"reference(): the {what} {target.resource} does not exist")
        return found


def leaf_paths(value: Any, path: JsonPath = ()) -> list[JsonPath]:
    """The path of every value inside `value` that is not an object (a list counts as one value)."""
    if isinstance(value, Mapping) and value:
        return [leaf for key, item in value.items() for leaf in leaf_paths(item, (*path, key))]
    return [path] if path else []


def view(body: Any, full: bool, api_version: str) -> Any:
    """What reference() gives of a resource body: its properties, or (`full`) all of it."""
    if body is NOT_YET:
        return NOT_YET
    if full:
        return {**body, "apiVersion": api_version}
    properties = body.get("properties")
    return properties if properties is not None else {}


def evaluated_body(resource: Resource, references: PlanReferences) -> tuple[dict[str, Any], list[Diagnostic]]:
    """The resource's body with each value known after apply evaluated where the cloud can answer (an
    `Unknown` still where it cannot), and what went wrong (AIB8001: a resource that does not exist;
    AIB0004: an expression that fails with the real values)."""
    body = dict(resource.body)
    if not resource.known_after_apply:
        return body, []
    evaluator = Evaluator(_NO_SCOPE, {}, {}, references=references)
    problems: list[Diagnostic] = []
    for path, unknown in resource.known_after_apply:
        value: Any = unknown
        try:
            value = evaluator.resolve(unknown)
        except ReferenceNotFound as exc:
            problems.append(_problem(MISSING, exc, resource, path, "create it first, or correct the id"))
        except ExpressionError as exc:
            problems.append(_problem("AIB0004", exc, resource, path, None))
        body = with_value_at(body, path, value)
    return body, problems


def _problem(
    code: str, exc: ExpressionError, resource: Resource, path: JsonPath, hint: str | None
) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, exc.message, address=resource.address, path=path, hint=hint)
