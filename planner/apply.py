"""Apply a plan: turn its changes into provider calls, walk them in graph order, record each in the state.

Each change becomes one or two operations (a replace is a delete, then a create). Creates and updates
follow the desired graph forwards; deletes follow the dependencies recorded in the state backwards, so a
template goes before the identity and image definition it used, and an image definition before its
gallery.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from providers.base import Provider, ProviderError
from state import ResourceState, State, save_state

from .builds.record import extra_after_replace
from .hooks import Hooks
from .plan import Action, Change, Plan
from .walk import walk

Operation = tuple[str, str]  # (create | update | delete, address)


@dataclass(frozen=True)
class Failure:
    address: str
    action: str
    code: str
    message: str


@dataclass
class ApplyResult:
    state: State
    added: int = 0
    changed: int = 0
    replaced: int = 0
    destroyed: int = 0
    failures: list[Failure] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures and not self.skipped and not self.interrupted


class StateRecorder:
    """Keeps the state in step with the cloud: every finished call is saved before the next is counted."""

    def __init__(self, path: Path, state: State, previous: State | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.state = state
        self._previous = previous

    def record(self, entry: ResourceState) -> None:
        with self._lock:
            self.state = self.state.with_resource(entry)
            self._save()

    def forget(self, address: str) -> None:
        with self._lock:
            if self.state.get(address) is not None:
                self.state = self.state.without(address)
                self._save()

    def _save(self) -> None:
        written = save_state(self.path, self.state, self._previous)
        self.state = written
        self._previous = written


def operation_graph(plan: Plan) -> nx.DiGraph:
    """The operations to run and the order between them."""
    graph = nx.DiGraph()
    changes = {c.address: c for c in plan.changes}
    ops: dict[str, list[Operation]] = {}
    for change in plan.changes:
        if change.action in (Action.CREATE, Action.UPDATE):
            ops[change.address] = [(change.action.value, change.address)]
        elif change.action is Action.REPLACE:
            ops[change.address] = [("delete", change.address), ("create", change.address)]
            graph.add_edge(("delete", change.address), ("create", change.address))
        elif change.action is Action.DELETE:
            ops[change.address] = [("delete", change.address)]
        for op in ops.get(change.address, []):
            graph.add_node(op)

    def forward(address: str) -> Operation | None:
        return next((op for op in ops.get(address, []) if op[0] != "delete"), None)

    def removal(address: str) -> Operation | None:
        return next((op for op in ops.get(address, []) if op[0] == "delete"), None)

    for change in plan.changes:
        mine = forward(change.address)
        if mine is not None:
            for dep in change.depends_on:
                theirs = forward(dep)
                if theirs is not None:
                    graph.add_edge(theirs, mine)
        my_delete = removal(change.address)
        if my_delete is None:
            continue
        for dep in change.old_depends_on:
            their_delete = removal(dep)
            if their_delete is not None:
                graph.add_edge(my_delete, their_delete)
    # A resource that used something being deleted must have let go of it first.
    for change in plan.changes:
        for dep in change.old_depends_on:
            their_delete = removal(dep)
            mine = forward(change.address)
            if their_delete is None or mine is None or removal(change.address) is not None:
                continue
            if dep not in change.depends_on and changes.get(dep) is not None:
                graph.add_edge(mine, their_delete)
    return graph


def apply_plan(
    plan: Plan,
    state: State,
    previous: State | None,
    state_path: Path,
    provider: Provider,
    *,
    parallelism: int = 10,
    hooks: Hooks | None = None,
    stop: threading.Event | None = None,
    call: Callable[[Callable[[], Any], str, str], Any] | None = None,
) -> ApplyResult:
    """Run the plan's changes against the provider and keep the state file current after each one.

    `call(fn, address, action)` wraps each provider call (retries live there); by default it calls `fn()`.
    """
    hooks = hooks or Hooks()
    changes = {c.address: c for c in plan.changes}
    recorder = StateRecorder(state_path, state, previous)
    graph = operation_graph(plan)
    invoke = call or (lambda fn, _address, _action: fn())
    replaced_deleted: set[str] = set()
    lock = threading.Lock()

    def visit(node: Operation) -> None:
        action, address = node
        change = changes[address]
        hooks.pre_apply(address, _shown_action(change, action))
        started = time.monotonic()
        try:
            if action == "delete":
                invoke(lambda: provider.delete(change.old_ref()), address, action)
                recorder.forget(address)
                if change.action is Action.REPLACE:
                    with lock:
                        replaced_deleted.add(address)
            elif action == "create":
                observed = invoke(
                    lambda: provider.create(change.ref(), dict(change.body or {})), address, action
                )
                recorder.record(_entry(change, observed, _kept_extra(state, change)))
            else:
                patch = _patch_body(change)
                observed = invoke(lambda: provider.update(change.ref(), patch), address, action)
                recorder.record(_entry(change, observed, _kept_extra(state, change)))
        except BaseException as exc:
            hooks.post_apply(address, _shown_action(change, action), time.monotonic() - started, exc)
            raise
        hooks.post_apply(address, _shown_action(change, action), time.monotonic() - started, None)

    def on_skip(node: Operation, reason: str) -> None:
        action, address = node
        hooks.skipped(address, action, reason)

    walked = walk(
        graph,
        visit,
        parallelism=parallelism,
        stop=stop,
        on_skip=on_skip,
        describe=lambda n: f"{n[1]} ({n[0]})",
    )
    result = ApplyResult(state=recorder.state)
    succeeded = set(walked.succeeded)
    for change in plan.changes:
        ops = [n for n in graph.nodes if n[1] == change.address]
        if not ops or not all(op in succeeded for op in ops):
            continue
        if change.action is Action.CREATE:
            result.added += 1
        elif change.action is Action.UPDATE:
            result.changed += 1
        elif change.action is Action.REPLACE:
            result.replaced += 1
        elif change.action is Action.DELETE:
            result.destroyed += 1
    for node, error in walked.failed.items():
        action, address = node
        code = error.code if isinstance(error, ProviderError) else type(error).__name__
        message = error.message if isinstance(error, ProviderError) else str(error)
        result.failures.append(Failure(address, action, code, message))
    for node, reason in walked.skipped.items():
        result.skipped.append((node[1], reason))
    if walked.not_started and stop is not None and stop.is_set():
        result.interrupted = True
        for node in walked.not_started:
            if node not in walked.skipped:
                result.skipped.append((node[1], "not started: interrupted"))
    return result


def _shown_action(change: Change, op: str) -> str:
    if change.action is Action.REPLACE:
        return "replace (delete)" if op == "delete" else "replace (create)"
    return op


def _kept_extra(state: State, change: Change) -> dict[str, Any]:
    """Facts that outlive the call (the last successful build survives a replace; see builds.record)."""
    entry = state.get(change.address)
    if entry is None or change.action is Action.CREATE:
        return {}
    return extra_after_replace(entry.extra) if change.action is Action.REPLACE else dict(entry.extra)


def _entry(change: Change, observed: Any, extra: dict[str, Any]) -> ResourceState:
    return ResourceState(
        address=change.address,
        arm_type=change.arm_type,
        arm_id=change.arm_id,
        api_version=change.api_version,
        applied=dict(change.after or {}),
        observed=dict(observed or {}),
        dependencies=change.depends_on,
        extra=extra,
    )


def _patch_body(change: Change) -> dict[str, Any]:
    """The PATCH for an in-place update: every top-level field (or properties sub-field) that changed."""
    body = dict(change.body or {})
    patch: dict[str, Any] = {}
    for diff in change.attribute_diffs:
        top = diff.path[0] if diff.path else None
        if top == "properties" and len(diff.path) > 1 and isinstance(body.get("properties"), dict):
            field_name = diff.path[1]
            props = patch.setdefault("properties", {})
            props[field_name] = body["properties"].get(field_name)
        elif isinstance(top, str):
            patch[top] = body.get(top, {} if top == "tags" else None)
    return patch
