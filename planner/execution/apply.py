"""Apply a plan: turn its changes into provider calls, walk them in graph order, record each in the state.

Each change becomes one or two operations (a replace is a delete, then a create). Creates and updates
follow the desired graph forwards; deletes follow the dependencies recorded in the state backwards, so a
template goes before the identity and image definition it used, and an image definition before its
gallery.

Every provider call is journaled before and after it (state.journal), and the state file is compacted
from the journal as the apply goes and at its end; every call goes through the retry layer
(planner.execution.retry) with retries reported to the hooks.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from providers.base import ConflictError, Provider, ProviderError, TransientError
from providers.catalog import BY_KIND, is_buildable
from providers.catalog.arm_ids import fold_id
from providers.catalog.behaviour import PUT
from state import ResourceState, State
from state.journaled import JournaledState, file_journal
from state.redact import redact_answer

from ..builds.record import extra_after_replace
from ..diagnostics import EngineError
from ..hooks import Hooks
from ..planning.identities import conflicting_ids, import_hint, with_moves
from ..plans.plan import Action, Change, Plan
from ..stack.model import RUNTIME_DIR
from ..walk import walk
from .cancel import DEFAULT_CANCEL_TIMEOUT, cancel_running_build
from .known_after_apply import ApplyReferences, evaluated, needs_evaluation
from .retry import retrying

Operation = tuple[str, str]  # (create | update | delete, address)


@dataclass(frozen=True)
class Failure:
    """What went wrong in an apply: at which address, doing what, and the error's code and message."""

    address: str
    action: str
    code: str
    message: str


@dataclass(frozen=True)
class ApplyResult:
    """What an apply did: the state it left, counts per kind of change, failures, what it did not start."""

    state: State
    added: int = 0
    changed: int = 0
    replaced: int = 0
    destroyed: int = 0
    failures: tuple[Failure, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    interrupted: bool = False
    # How many times the state file was written (compactions), for the benchmarks.
    state_writes: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures and not self.skipped and not self.interrupted


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

    forwards = {a: op for a, listed in ops.items() for op in listed if op[0] != "delete"}
    removals = {a: op for a, listed in ops.items() for op in listed if op[0] == "delete"}
    forward = forwards.get
    removal = removals.get

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
    runtime_dir: Path | None = None,
    cancel_timeout: float = DEFAULT_CANCEL_TIMEOUT,
) -> ApplyResult:
    """Run the plan's changes against the provider; the journal and the state file at `state_path` know
    every call. `runtime_dir` holds the journal (default: `.aibplan/` next to the state file); see
    `apply_journaled` for the rest."""
    journal = file_journal(state_path, runtime_dir or state_path.parent / RUNTIME_DIR, state, previous)
    return apply_journaled(
        plan,
        state,
        journal,
        provider,
        parallelism=parallelism,
        hooks=hooks,
        stop=stop,
        call=call,
        cancel_timeout=cancel_timeout,
    )


def apply_journaled(
    plan: Plan,
    state: State,
    journal: JournaledState,
    provider: Provider,
    *,
    parallelism: int = 10,
    hooks: Hooks | None = None,
    stop: threading.Event | None = None,
    call: Callable[[Callable[[], Any], str, str], Any] | None = None,
    cancel_timeout: float = DEFAULT_CANCEL_TIMEOUT,
    saved_plan: str | None = None,
) -> ApplyResult:
    """Run the plan's changes against the provider, each call written into `journal` (which the state's
    owner opened: execution.state_access.StackState.journal) before and after it is made.

    `call(fn, address, action)` may wrap each provider call (after the retry layer); by default it calls
    `fn()`. The caller holds the state lock (StackState.lock). Before an image template is deleted, a
    build still running is cancelled and waited for (`cancel_timeout` seconds at most; execution.cancel).
    `saved_plan`, the id of the saved plan being applied, is recorded in each entry the apply writes (a
    saved plan applies once).
    """
    hooks = hooks or Hooks()
    refused = conflicting_ids(plan.changes)
    if refused:
        # One Azure resource under two addresses (a saved plan made before the check, or edited): nothing
        # is called, nothing is written.
        refusals = tuple(Failure(d.address or "", "apply", d.code, d.message) for d in refused)
        return ApplyResult(state=state, failures=refusals)
    changes = {c.address: c for c in plan.changes}
    names = {c.arm_id: c.address for c in plan.changes}
    names.update({c.old_arm_id: c.address for c in plan.changes if c.old_arm_id})
    graph = operation_graph(plan)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = " → ".join(f"{address} ({action})" for (action, address), _ in nx.find_cycle(graph))
        raise EngineError(
            f"the operations of this plan wait for each other in a cycle ({cycle}); nothing was changed. "
            "Were the state's `dependencies` edited by hand? Restore the state from git"
        )
    cloud = retrying(provider, hooks, names)
    try:
        taken = _already_there(plan, state, cloud)
    except ProviderError as exc:
        said = f"{exc.message}; nothing was changed"
        failure = Failure("(before the first change)", "read", exc.code, said)
        return ApplyResult(state=state, failures=(failure,))
    moves = {c.previous_address: c.address for c in plan.changes if c.previous_address}
    if moves:
        # Entries that move to a new address (only the case of the name changed) move first, in the state
        # file itself, so every journal line below names the address the state holds.
        state = with_moves(state, moves)
        journal.rebase(state)
        journal.compact(wait=True)
    # What exists now (the plan, the state, the stack) lives until the apply ends: freeze it, so the
    # cyclic garbage collector looks only at what the apply makes (it rescanned a big plan's objects
    # over and over, holding up every worker). Unfrozen when the walk ends, below.
    gc.freeze()
    invoke = call or (lambda fn, _address, _action: fn())
    waiting = [c for c in plan.changes if needs_evaluation(c)]
    to_evaluate = frozenset(c.address for c in waiting)
    references = ApplyReferences(plan, cloud, waiting)

    def visit(node: Operation) -> None:
        action, address = node
        change = changes[address]
        shown = _shown_action(change, action)
        hooks.pre_apply(address, shown)
        started = time.monotonic()
        try:
            _run(change, action)
        except BaseException as exc:
            hooks.post_apply(address, shown, time.monotonic() - started, exc)
            raise
        hooks.post_apply(address, shown, time.monotonic() - started, None)

    announced: dict[Operation, int] = {}
    announced_lock = threading.Lock()

    def announce(node: Operation) -> None:
        """Journal a call as soon as it is ready to run (synced in the background), so that a worker
        taking it seldom waits for the disk: the journal may name calls that never start, which the
        reconciliation reads back and finds unchanged."""
        action, address = node
        change = changes[address]
        if action == "delete":
            old = state.get(address)
            ref = change.old_ref()
            seq = journal.begin(
                "delete",
                address,
                ref.arm_id,
                ref.arm_type,
                ref.api_version,
                dict(old.applied) if old else {},
                change.old_depends_on,
                wait=False,
            )
        elif change.after_unknown:
            return  # journaled when its values are known, just before its call (see _run)
        else:
            seq = journal.begin(
                action,
                address,
                change.arm_id,
                change.arm_type,
                change.api_version,
                dict(change.after or {}),
                change.depends_on,
                wait=False,
            )
        with announced_lock:
            announced[node] = seq

    def journal_ahead(node: Operation) -> int:
        """The journal number of `node`'s call, once its begin line is on disk."""
        with announced_lock:
            seq = announced.pop(node)
        journal.durable(seq)
        return seq

    def journal_now(node: Operation, change: Change) -> int:
        """`journal_ahead`, or, for a call not announced (its values were not known yet), its begin line."""
        with announced_lock:
            ahead = node in announced
        if ahead:
            return journal_ahead(node)
        return journal.begin(
            node[0],
            change.address,
            change.arm_id,
            change.arm_type,
            change.api_version,
            dict(change.after or {}),
            change.depends_on,
        )

    def _run(change: Change, action: str) -> None:
        address = change.address
        if action == "delete":
            ref = change.old_ref()
            if is_buildable(change.kind):
                invoke(
                    lambda: cancel_running_build(
                        cloud, ref, timeout=cancel_timeout, on_message=hooks.message
                    ),
                    address,
                    "cancel",
                )
            seq = journal_ahead(("delete", address))
            try:
                invoke(lambda: cloud.delete(ref), address, action)
            except BaseException as exc:
                journal.failed(seq, certain=_certain(exc))
                raise
            journal.removed(seq, address)
            return
        if address in to_evaluate:
            try:
                change = evaluated(change, references)
            except BaseException:
                with announced_lock:
                    ahead = announced.pop((action, address), None)
                if ahead is not None:
                    journal.failed(ahead, certain=True)
                raise
        seq = journal_now((action, address), change)
        try:
            if action == "create" and fold_id(change.arm_id) in taken:
                raise ConflictError(import_hint(change.address, change.arm_id), code="AlreadyExists")
            rtype = BY_KIND.get(change.kind)
            if action == "create" or (rtype is not None and rtype.service.update_verb == PUT):
                # A kind updated by PUT (role assignments, role definitions) is sent whole either way.
                body = dict(change.body or {})
                observed = invoke(lambda: cloud.create(change.ref(), body), address, action)
            else:
                patch = _patch_body(change)
                observed = invoke(lambda: cloud.update(change.ref(), patch), address, action)
        except BaseException as exc:
            journal.failed(seq, certain=_certain(exc))
            raise
        references.made(change, observed)
        journal.done(seq, _entry(change, observed, _kept_extra(state, change), saved_plan))

    def on_skip(node: Operation, reason: str) -> None:
        action, address = node
        hooks.skipped(address, action, reason)

    try:
        walked = walk(
            graph,
            visit,
            parallelism=parallelism,
            stop=stop,
            on_skip=on_skip,
            describe=lambda n: f"{n[1]} ({n[0]})",
            on_ready=announce,
        )
    finally:
        # Calls announced but never started (an interrupt) changed nothing: say so, so the journal
        # does not send the next command to read them back.
        with announced_lock:
            never_started = list(announced.values())
            announced.clear()
        for seq in never_started:
            journal.failed(seq, certain=True)
        try:
            final = journal.close()
        finally:
            gc.unfreeze()
    succeeded = set(walked.succeeded)
    ops_of: dict[str, list[Operation]] = {}
    for node in graph.nodes:
        ops_of.setdefault(node[1], []).append(node)
    counts = {action: 0 for action in Action}
    for change in plan.changes:
        ops = ops_of.get(change.address, [])
        if ops and all(op in succeeded for op in ops):
            counts[change.action] += 1
    failures = []
    for node, error in sorted(walked.failed.items(), key=lambda item: item[0][1]):
        action, address = node
        code = error.code if isinstance(error, ProviderError) else type(error).__name__
        message = error.message if isinstance(error, ProviderError) else str(error)
        failures.append(Failure(address, action, code, message))
    skipped = [(node[1], reason) for node, reason in walked.skipped.items()]
    interrupted = bool(walked.not_started) and stop is not None and stop.is_set()
    if interrupted:
        skipped.extend(
            (node[1], "not started: interrupted") for node in walked.not_started if node not in walked.skipped
        )
    return ApplyResult(
        state=final,
        added=counts[Action.CREATE],
        changed=counts[Action.UPDATE],
        replaced=counts[Action.REPLACE],
        destroyed=counts[Action.DELETE],
        failures=tuple(failures),
        skipped=tuple(skipped),
        interrupted=interrupted,
        state_writes=journal.writes,
    )


def _already_there(plan: Plan, state: State, cloud: Provider) -> set[str]:
    """The folded ids this apply would create that the state does not track and the cloud already holds,
    read in one call before the first change: a PUT would silently take them over (a --no-refresh plan
    does not read, a saved plan may be applied long after it read). Their creates are refused."""
    tracked = {fold_id(entry.arm_id) for entry in state.resources}
    wanted = [
        c
        for c in plan.changes
        if c.action in (Action.CREATE, Action.REPLACE) and fold_id(c.arm_id) not in tracked
    ]
    if not wanted:
        return set()
    found = cloud.read_many(c.ref() for c in wanted)
    return {fold_id(c.arm_id) for c in wanted if found.get(c.arm_id) is not None}


def _certain(error: BaseException) -> bool:
    """The service answered with a refusal, so the call changed nothing (a transient error, a dropped
    connection, or an operation that failed after it was accepted leaves it in doubt)."""
    return isinstance(error, ProviderError) and not isinstance(error, TransientError) and not error.accepted


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


def _entry(change: Change, observed: Any, extra: dict[str, Any], saved_plan: str | None) -> ResourceState:
    sent = change.body or {}
    # The body as sent, ids as the stack spells them (the service echoes them so): plans normalise it.
    applied = dict(change.body_redacted or {})
    return ResourceState(
        address=change.address,
        arm_type=change.arm_type,
        arm_id=change.arm_id,
        api_version=change.api_version,
        applied=applied,
        observed=redact_answer(dict(observed or {}), sent, applied),
        dependencies=change.depends_on,
        extra=extra,
        saved_plan=saved_plan,
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
