"""Edits of the state that do not touch the cloud (`state rm`, `state mv`) and `import`, which reads it.

Each function returns the new State or raises EngineError with a message for the user; the caller holds
the state lock and saves the result.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace

import networkx as nx

from providers.base import Provider, ProviderError, ResourceRef
from providers.catalog import BY_KIND, for_arm_type
from providers.catalog.arm_ids import fold_id, parse_resource_id
from state import ResourceState, State
from state.redact import redact

from ..diagnostics import EngineError
from ..normalize import normalize_body
from ..stack.graph import dependencies
from ..stack.model import Stack

_ADDRESS_RE = re.compile(r"^(?P<kind>[A-Za-z]+)\.(?P<name>[^\s.][^\s]*)$")


def check_address(address: str) -> tuple[str, str]:
    """(kind, name) of a well-formed managed address; EngineError otherwise."""
    match = _ADDRESS_RE.match(address)
    if match is None or match["kind"] not in BY_KIND:
        kinds = ", ".join(sorted(BY_KIND))
        raise EngineError(
            f"'{address}' is not a resource address; write KIND.NAME with KIND one of {kinds} "
            "(for example imageTemplate.ubuntu2204)"
        )
    return match["kind"], match["name"]


def entry_or_error(state: State, address: str) -> ResourceState:
    entry = state.get(address)
    if entry is not None:
        return entry
    known = [r.address for r in state.resources]
    close = difflib.get_close_matches(address, known, n=1)
    hint = (
        f"; did you mean '{close[0]}'?"
        if close
        else ("; the state is empty" if not known else "; `aibplan state list` shows what it holds")
    )
    raise EngineError(f"no resource '{address}' in the state{hint}")


def remove(state: State, address: str) -> State:
    """The state without `address` (the resource stays in the cloud, unmanaged)."""
    check_address(address)
    entry_or_error(state, address)
    return state.without(address)


def move(state: State, source: str, target: str) -> State:
    """The state with `source` renamed to `target` (same kind; `target` must be free)."""
    source_kind, _ = check_address(source)
    target_kind, _ = check_address(target)
    entry = entry_or_error(state, source)
    if source_kind != target_kind:
        raise EngineError(
            f"cannot move {source} to {target}: a {source_kind} can only move to another "
            f"{source_kind} address"
        )
    if state.get(target) is not None:
        raise EngineError(f"cannot move {source} to {target}: {target} is already in the state")
    if source == target:
        raise EngineError(f"{source} and {target} are the same address")
    renamed = [
        replace(r, dependencies=tuple(sorted(target if d == source else d for d in r.dependencies)))
        for r in state.resources
        if r.address != source
    ]
    return state.with_resources([*renamed, replace(entry, address=target)])


def import_resource(
    stack: Stack, graph: nx.DiGraph, state: State, provider: Provider, address: str, arm_id: str
) -> tuple[State, list[str]]:
    """The state with the existing cloud resource `arm_id` tracked as `address`; also notes for the user."""
    kind, _ = check_address(address)
    resource = stack.by_address.get(address)
    if resource is None:
        close = difflib.get_close_matches(address, list(stack.by_address), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise EngineError(
            f"the stack declares no resource '{address}'{hint}; write its JSON first, then import it"
        )
    if state.get(address) is not None:
        raise EngineError(
            f"{address} is already in the state (id {state.get(address).arm_id}); "  # type: ignore[union-attr]
            "remove it with `aibplan state rm` first to import another resource in its place"
        )
    rid = parse_resource_id(arm_id)
    if rid is None:
        raise EngineError(
            f"'{arm_id}' is not an ARM resource id (/subscriptions/SUB/resourceGroups/RG/providers/...)"
        )
    rtype = for_arm_type(rid.arm_type)
    if rtype is None or rtype.kind != kind:
        raise EngineError(f"'{arm_id}' is a {rid.arm_type}, but {address} is a {BY_KIND[kind].arm_type}")
    for other in state.resources:
        if fold_id(other.arm_id) == fold_id(arm_id):
            raise EngineError(f"{arm_id} is already tracked as {other.address}")
    try:
        live = provider.read(ResourceRef(str(rid), rtype.arm_type, resource.api_version))
    except ProviderError as exc:
        raise EngineError(f"reading {arm_id} failed: {exc}") from None
    if live is None:
        raise EngineError(f"{arm_id} does not exist in {provider.describe()}")
    notes = []
    if fold_id(arm_id) != fold_id(resource.arm_id):
        notes.append(
            f"note: the stack gives {address} the id {resource.arm_id}; the next plan replaces the imported "
            "resource unless the stack is changed to match"
        )
    entry = ResourceState(
        address=address,
        arm_type=rtype.arm_type,
        arm_id=str(live.get("id") or rid),
        api_version=resource.api_version,
        applied=redact(normalize_body(rtype, live)),
        observed=redact(live),
        dependencies=dependencies(graph, address),
    )
    return state.with_resource(entry), notes
