"""Edits of the state that do not touch the cloud (`state rm`, `state mv`) and `import`, which reads it.

Each function returns the new State or raises EngineError with a message for the user; the caller holds
the state lock and saves the result.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from providers.base import Body, Provider, ProviderError, ResourceRef
from providers.catalog import BY_KIND, for_arm_type
from providers.catalog.arm_ids import fold_id, parse_resource_id
from state import ResourceState, State
from state.redact import redact

from ..diagnostics import EngineError
from ..normalize import normalize_body
from ..stack.model import Stack
from ..stack.order import dependencies

if TYPE_CHECKING:
    from ..stack.kept_graph import DependencyGraph

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
    stack: Stack,
    graph: DependencyGraph,
    state: State,
    provider: Provider,
    address: str,
    arm_id: str | None = None,
) -> tuple[State, list[str]]:
    """The state with the existing cloud resource tracked as `address`; also notes for the user. Without
    `arm_id`, the resource is the one the stack gives that address (its id from the stack's settings)."""
    kind, _ = check_address(address)
    resource = stack.by_address.get(address)
    if resource is None:
        close = difflib.get_close_matches(address, list(stack.by_address), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise EngineError(
            f"the stack declares no resource '{address}'{hint}; write its JSON first, then import it"
        )
    tracked = state.get(address)
    if tracked is not None:
        raise EngineError(
            f"{address} is already in the state (id {tracked.arm_id}); "
            "remove it with `aibplan state rm` first to import another resource in its place"
        )
    arm_id = arm_id if arm_id is not None else resource.arm_id
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
    entry = _entry(address, resource.api_version, str(live.get("id") or rid), live, graph)
    return state.with_resource(entry), notes


@dataclass(frozen=True)
class Adopted:
    """What `import --all` did: the state with every declared resource that exists, and what it left."""

    state: State
    # (address, ARM id) of each resource now tracked.
    imported: tuple[tuple[str, str], ...]
    # Declared resources the cloud does not hold (apply creates them).
    absent: tuple[str, ...]
    # Declared resources the state tracked already.
    tracked: tuple[str, ...]


def import_all(stack: Stack, graph: DependencyGraph, state: State, provider: Provider) -> Adopted:
    """The state with every resource the stack declares, the state does not track and the cloud holds,
    each read at the id and api version the stack gives it (one read of them all)."""
    known = {fold_id(entry.arm_id): entry.address for entry in state.resources}
    tracked = tuple(r.address for r in stack.resources if state.get(r.address) is not None)
    wanted = [r for r in stack.resources if state.get(r.address) is None]
    for resource in wanted:
        holder = known.get(fold_id(resource.arm_id))
        if holder is not None:
            raise EngineError(
                f"{resource.arm_id} is tracked as {holder}, but the stack declares it as {resource.address}; "
                f"run `aibplan state mv {holder} {resource.address}` to follow the rename"
            )
    try:
        live = provider.read_many(ResourceRef(r.arm_id, r.arm_type, r.api_version) for r in wanted)
    except ProviderError as exc:
        raise EngineError(f"reading the cloud failed: {exc}") from None
    entries = []
    absent = []
    for resource in wanted:
        body = live.get(resource.arm_id)
        if body is None:
            absent.append(resource.address)
            continue
        arm_id = str(body.get("id") or resource.arm_id)
        entries.append(_entry(resource.address, resource.api_version, arm_id, body, graph))
    imported = tuple((e.address, e.arm_id) for e in entries)
    return Adopted(state.with_resources([*state.resources, *entries]), imported, tuple(absent), tracked)


def _entry(address: str, api_version: str, arm_id: str, live: Body, graph: DependencyGraph) -> ResourceState:
    """A state entry for a resource read from the cloud: `applied` is its normalised body (the plan then
    shows where the stack differs), `observed` what the cloud returned (secrets as fingerprints)."""
    rtype = BY_KIND[address.partition(".")[0]]
    return ResourceState(
        address=address,
        arm_type=rtype.arm_type,
        arm_id=arm_id,
        api_version=api_version,
        applied=redact(normalize_body(rtype, live)),
        observed=redact(live),
        dependencies=dependencies(graph, address),
    )
