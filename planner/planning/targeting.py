"""`--target ADDRESS` and `--replace ADDRESS`: narrowing a plan, and asking for a replace.

A target brings what it depends on (so it can be created or updated), and, for a destroy, what depends
on it (which must go first). A replace that cascades stays whole: a gallery cannot be replaced without
the image definitions it holds, so they come along even when not targeted.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from state import State

from ..plans.plan import Action, Change
from ..stack.kept_graph import as_networkx
from ..stack.model import Stack, loop_instances
from ..stack.order import RESOURCE
from .consequences import cascade_texts

if TYPE_CHECKING:
    from ..stack.kept_graph import DependencyGraph

REASON_BY_REQUEST = "replace_by_request"


def address_errors(
    addresses: Iterable[str], stack: Stack, state: State, *, flag: str, in_state_only: bool = False
) -> list[str]:
    """One message per address that names nothing the plan could act on, with a did-you-mean."""
    known = set(state.by_address)
    if not in_state_only:
        known |= set(stack.by_address)
    errors = []
    for address in addresses:
        if address in known or loop_instances(address, known):
            continue
        loops = {a.rsplit("[", 1)[0] for a in known if a.endswith("]")}  # a loop's name names all of it
        close = difflib.get_close_matches(address, sorted(known | loops), n=1)
        where = "the state" if in_state_only else "the stack or the state"
        hint = f"; did you mean {close[0]}?" if close else ""
        errors.append(f"{flag} {address}: no resource with that address in {where}{hint}")
    return errors


def request_replacements(changes: Sequence[Change], addresses: Iterable[str]) -> list[Change]:
    """Turn the named no-ops and updates into replaces (`replace_by_request`)."""
    known = [c.address for c in changes]
    wanted = {each for address in addresses for each in loop_instances(address, known) or [address]}
    out = []
    for change in changes:
        if change.address in wanted:
            reason = "replacement requested with --replace"
            if change.action in (Action.NOOP, Action.UPDATE):
                change = replace(
                    change,
                    action=Action.REPLACE,
                    action_reason=REASON_BY_REQUEST,
                    reasons=(reason, *change.reasons),
                )
            elif change.action is Action.REPLACE and reason not in change.reasons:
                change = replace(change, reasons=(*change.reasons, reason))
        out.append(change)
    return out


def select_targets(
    changes: Sequence[Change], targets: Sequence[str], graph: DependencyGraph, *, destroy: bool
) -> list[Change]:
    """Only the targets, what they need, and the replaces their own replaces cascade to."""
    if not targets:
        return list(changes)
    by_address = {c.address: c for c in changes}
    selected: set[str] = set()
    dependents_in_state = _state_dependents(changes)
    targets = [each for target in targets for each in loop_instances(target, by_address) or [target]]
    for target in targets:
        selected.add(target)
        change = by_address.get(target)
        if destroy or (change is not None and change.action is Action.DELETE):
            selected |= _closure(target, dependents_in_state)
        elif target in graph:
            import networkx as nx

            before = nx.ancestors(as_networkx(graph), target)
            selected |= {a for a in before if graph.nodes[a].get("role") == RESOURCE}
    grew = True
    while grew:
        grew = False
        for address in sorted(selected):
            change = by_address.get(address)
            if change is None or change.action is not Action.REPLACE or address not in graph:
                continue
            for dependent in graph.successors(address):
                other = by_address.get(dependent)
                if (
                    other is not None
                    and other.action is Action.REPLACE
                    and dependent not in selected
                    and cascade_texts(graph, address, dependent, other.kind)
                ):
                    selected.add(dependent)
                    grew = True
    return [c for c in changes if c.address in selected]


def _state_dependents(changes: Sequence[Change]) -> dict[str, set[str]]:
    """address → the addresses that were applied after it (from the state's recorded dependencies)."""
    out: dict[str, set[str]] = {}
    for change in changes:
        for dep in change.old_depends_on:
            out.setdefault(dep, set()).add(change.address)
    return out


def _closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
