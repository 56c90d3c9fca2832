"""Make a plan: the desired stack against the state and (unless told not to) what the provider holds.

The plan it returns is frozen data (planner.plans.plan): one Change per managed resource, in the order
apply walks them; consequences and the user's --replace and --target requests are applied last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from providers.base import Provider
from providers.catalog import BY_KIND, for_arm_type, is_buildable
from providers.catalog.arm_ids import parse_resource_id
from state import ResourceState, State
from state.redact import redact, redact_beside

from ..builds.checks import build_warnings
from ..diagnostics import Diagnostic, format_path
from ..normalize import applied_body, normalize_body
from ..plans.plan import (
    REASON_CANNOT_UPDATE,
    REASON_DESTROY,
    REASON_FAILED,
    REASON_GONE,
    REASON_MOVED,
    REASON_NEW,
    REASON_REMOVED,
    REASON_TAINTED,
    REASON_UPDATE,
    Action,
    Change,
    Plan,
)
from ..stack.loader import locator_for, resource_sources
from ..stack.locate import place_all
from ..stack.model import BODY_KEYS, Resource, Stack
from ..stack.order import dependencies, topological_addresses
from .consequences import add_consequences, cascade, cascade_into
from .diff import diff_bodies, planned_after
from .drift import detect_drift, read_live
from .external_refs import check_external_references
from .guardrails import prevent_destroy_errors, with_ignored_changes
from .identities import (
    already_existing,
    conflicting_ids,
    duplicate_entries,
    entries_of_another_kind,
    moved_addresses,
    with_moves,
)
from .permissions import permission_diagnostics
from .reference_values import PlanReferences, evaluated_body
from .screened import Screened
from .targeting import request_replacements, select_targets

if TYPE_CHECKING:
    from ..stack.kept_graph import DependencyGraph


def request_body(resource: Resource, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a PUT sends: the REST envelope keys only (no type, name, apiVersion or dependsOn). `body` is
    the resource's body with its values known after apply evaluated as far as they can be (by default
    none is: each is an `Unknown`, which apply evaluates before it sends the body)."""
    if body is None:
        body = resource.body_with_unknowns() if resource.known_after_apply else resource.body
    return {key: body[key] for key in BODY_KEYS if key in body}


def make_plan(
    stack: Stack,
    graph: DependencyGraph,
    state: State,
    provider: Provider,
    *,
    refresh: bool = True,
    destroy: bool = False,
    provider_description: str | None = None,
    targets: Sequence[str] = (),
    replace_addresses: Sequence[str] = (),
    refresh_only: bool = False,
    screened: Screened | None = None,
    external: Sequence[Diagnostic] | None = None,
) -> Plan:
    """Compare the stack with the state (and the provider, when refreshing); decide each resource's action.

    Then the AIB consequences (planning.consequences) and the user's --replace and --target requests
    (planning.targeting) are applied. A refresh-only plan reports the drift and proposes no change.
    `screened`: the resources whose bodies are known to hold nothing to fingerprint (planning.screened),
    and where those this plan finds are noted. `external`: what `check_external_references` found for the
    stack with this provider, when it was asked already (it needs no state: operations.planning asks it
    while the state is read); else it is asked here.
    """
    # Identity is the ARM id without case (planning.identities): one resource tracked twice stops the plan;
    # a name whose case alone changed keeps its entry, moved to the new address.
    refused = [*entries_of_another_kind(state), *duplicate_entries(state)]
    if refused:
        # Nothing is planned against such a state: no change could be aimed at those ids by mistake.
        return Plan(
            changes=(),
            provider=provider_description or provider.describe(),
            state_lineage=state.lineage,
            state_serial=state.serial,
            inputs_hash=stack.inputs_hash,
            destroy=destroy,
            refreshed=refresh,
            diagnostics=tuple(refused),
            stack_root=str(stack.root),
        )
    diagnostics: list[Diagnostic] = []
    moves = {} if destroy or refresh_only else moved_addresses(stack, state)
    # A saved plan is checked against the state as stored, not as this plan moves it in memory.
    stored_digest = state.digest if state.serial > 0 else None
    state = with_moves(state, moves)
    moved_from = {new: old for old, new in moves.items()}
    live: Mapping[str, Any] = read_live(state, provider) if refresh or refresh_only else {}
    drift = detect_drift(state, live) if refresh or refresh_only else ()

    changes: list[Change] = []
    desired_addresses = set() if destroy else set(stack.by_address)
    if not destroy:
        # In dependency order, so that what a resource's reference() values name is decided before it.
        references = PlanReferences(stack, state, live, provider, refresh=refresh)
        found: list[Diagnostic] = []
        for address in topological_addresses(graph):
            entry = state.get(address)
            declared = resource = stack.by_address[address]
            if entry is not None:
                cloud = live.get(entry.arm_id) if refresh else entry.observed
                resource = with_ignored_changes(resource, cloud, stack.lifecycle(address))
            body, problems = evaluated_body(resource, references)
            found.extend(problems)
            # A body that is the stack's own, as written: what planning.screened keeps is about it.
            own = screened if resource is declared and not resource.known_after_apply else None
            change = _change_for(resource, body, entry, live, refresh, dependencies(graph, address), own)
            change = cascade_into(
                request_replacements([change], replace_addresses)[0], references.decided, graph
            )
            if address in moved_from:
                change = _moved(change, moved_from[address])
            references.decided[address] = change
            changes.append(change)
        diagnostics.extend(place_all(found, locator_for(stack), resource_sources(stack)))
    if refresh and not destroy:
        diagnostics.extend(check_external_references(stack, provider) if external is None else external)
        diagnostics.extend(permission_diagnostics(stack, graph, state, provider))
    if not destroy:
        changes = _with_build_warnings(changes, state, provider if refresh else None)
    deletes = [e for e in state.resources if e.address not in desired_addresses]
    for entry in _reverse_dependency_order(deletes):
        changes.append(_delete_change(entry, live, refresh, destroy))
    if refresh_only:
        changes = []
    changes = request_replacements(changes, replace_addresses)
    changes = cascade(changes, graph)
    moved_changes = [c for c in changes if c.previous_address is not None]
    changes = select_targets(changes, targets, graph, destroy=destroy)
    changes = _keep_moves(changes, moved_changes)
    changes = add_consequences(changes, live=live, refresh=refresh, state=state, provider=provider)
    diagnostics.extend(
        place_all(prevent_destroy_errors(changes, stack), locator_for(stack), resource_sources(stack))
    )
    diagnostics.extend(conflicting_ids(changes))
    if refresh and not destroy and not refresh_only:
        diagnostics.extend(
            place_all(already_existing(changes, state, provider), locator_for(stack), resource_sources(stack))
        )
    return Plan(
        changes=tuple(changes),
        provider=provider_description or provider.describe(),
        state_lineage=state.lineage if state.serial > 0 else None,
        state_serial=state.serial if state.serial > 0 else None,
        inputs_hash=stack.inputs_hash,
        destroy=destroy,
        refreshed=refresh,
        diagnostics=tuple(diagnostics),
        unmanaged=tuple(u.address for u in stack.unmanaged),
        stack_root=str(stack.root),
        drift=drift,
        targets=tuple(targets),
        replace_requested=tuple(replace_addresses),
        refresh_only=refresh_only,
        state_digest=stored_digest,
        environment=stack.config.environment,
    )


def _moved(change: Change, old_address: str) -> Change:
    """A change whose state entry moves from `old_address` (only the case of the name changed)."""
    said = f"moved from {old_address}: the same Azure resource, as Azure compares names without case"
    return replace(change, previous_address=old_address, reasons=(*change.reasons, said))


def _keep_moves(changes: list[Change], moved: list[Change]) -> list[Change]:
    """A move is always applied, even when --target leaves the resource's other changes out: the
    narrowed plan's changes already name the entry by its new address."""
    kept = {c.address for c in changes}
    left_out = [
        replace(c, action=Action.NOOP, action_reason=None, attribute_diffs=(), running_build=None)
        for c in moved
        if c.address not in kept
    ]
    return [*changes, *left_out]


def _with_build_warnings(changes: list[Change], state: State, provider: Provider | None) -> list[Change]:
    """Out-of-date images and explicit image versions that a build could not publish (AIB7xxx)."""
    templates = {c.address: c.after for c in changes if is_buildable(c.kind) and c.after is not None}
    written = {c.address: c.body for c in changes if is_buildable(c.kind) and c.body is not None}
    found = build_warnings(templates, written, state, provider)
    return [
        replace(c, warnings=(*c.warnings, *found[c.address])) if c.address in found else c for c in changes
    ]


def _change_for(
    resource: Resource,
    body: Mapping[str, Any],
    entry: ResourceState | None,
    live: Mapping[str, Any],
    refresh: bool,
    depends_on: tuple[str, ...],
    screened: Screened | None = None,
) -> Change:
    rtype = BY_KIND[resource.kind]
    # Secrets become fingerprints in everything a plan shows or saves (state.redact); `body` keeps them.
    # A value known only after apply is an Unknown in `desired`, null in `after` (its path in after_unknown).
    normalized = normalize_body(rtype, body, resource.api_version)
    if screened is not None and screened.holds_nothing_secret(resource.address):
        desired = normalized
    else:
        desired = redact(normalized)
    if screened is not None and desired is normalized:
        screened.note_clean(resource.address)
    after, after_unknown = planned_after(desired) if resource.known_after_apply else (desired, ())
    common: dict[str, Any] = {
        "address": resource.address,
        "kind": resource.kind,
        "name": resource.name,
        "arm_type": resource.arm_type,
        "arm_id": resource.arm_id,
        "api_version": resource.api_version,
        "after": after,
        "after_unknown": after_unknown,
        "body": request_body(resource, body),
        "depends_on": depends_on,
    }
    if entry is None:
        return Change(action=Action.CREATE, before=None, action_reason=REASON_NEW, **common)
    if refresh:
        observed = live.get(entry.arm_id)
        if observed is None:
            return Change(
                action=Action.CREATE,
                before=None,
                action_reason=REASON_GONE,
                reasons=("the resource was deleted outside aibplan; it will be created again",),
                **common,
            )
        seen = normalize_body(rtype, observed, entry.api_version)
        # Redaction is a function of the value: what the cloud's body shares with the stack's (all of it but
        # the fields the service fills in, in a no-op plan) takes the stack's redaction.
        before = redact_beside(seen, normalized, desired)
    else:
        observed = entry.observed
        # The body sent last time, to be sent again as it is: its normalised form is `desired` (spares
        # normalising every entry of a no-op `plan --no-refresh`).
        resent = entry.api_version == resource.api_version and entry.applied == common["body"]
        before = desired if resent else applied_body(entry)
    diffs = diff_bodies(before, desired, rtype, resource.api_version)
    existing: dict[str, Any] = {
        **common,
        "before": before,
        "attribute_diffs": diffs,
        "old_depends_on": entry.dependencies,
        "old_api_version": entry.api_version,
        "old_arm_id": entry.arm_id,
    }

    def replacement(reason_code: str, reason: str) -> Change:
        return Change(action=Action.REPLACE, action_reason=reason_code, reasons=(reason,), **existing)

    if entry.arm_id.lower() != resource.arm_id.lower():
        return replacement(REASON_MOVED, f"its id changed from {entry.arm_id}")
    if entry.tainted:
        return replacement(REASON_TAINTED, "it is tainted: a previous apply left it half made")
    if rtype.service.failed_is_replaced and _provisioning_state(observed) == "Failed":
        return replacement(
            REASON_FAILED,
            "the service reports it as Failed; a failed template must be deleted and submitted again",
        )
    if not diffs:
        return Change(action=Action.NOOP, action_reason=None, **existing)
    forcing = [d for d in diffs if d.forces_replacement]
    if forcing:
        shown = ", ".join(format_path(d.path) for d in forcing)
        return replacement(
            REASON_CANNOT_UPDATE, f"{shown} cannot be updated in place (api-version {resource.api_version})"
        )
    return Change(action=Action.UPDATE, action_reason=REASON_UPDATE, **existing)


def _delete_change(entry: ResourceState, live: Mapping[str, Any], refresh: bool, destroy: bool) -> Change:
    kind, _, name = entry.address.partition(".")
    if name.endswith("]"):  # a copy loop's instance (`web[2]`): its name in Azure
        rid = parse_resource_id(entry.arm_id)
        name = rid.name if rid is not None else name
    reasons: tuple[str, ...] = ()
    if refresh and live.get(entry.arm_id) is None:
        reasons = ("already deleted outside aibplan; it will be dropped from the state",)
    rtype = for_arm_type(entry.arm_type)
    before = (
        dict(entry.applied)
        if rtype is None
        else redact(normalize_body(rtype, live.get(entry.arm_id) or entry.applied))
    )
    return Change(
        address=entry.address,
        kind=kind,
        name=name,
        arm_type=entry.arm_type,
        arm_id=entry.arm_id,
        api_version=entry.api_version,
        action=Action.DELETE,
        before=before,
        after=None,
        action_reason=REASON_DESTROY if destroy else REASON_REMOVED,
        reasons=reasons,
        old_depends_on=entry.dependencies,
        old_api_version=entry.api_version,
        old_arm_id=entry.arm_id,
    )


def _reverse_dependency_order(entries: list[ResourceState]) -> list[ResourceState]:
    """Dependents first: a template before the identity and image definition it used."""
    if len(entries) < 2:
        return list(entries)
    import networkx as nx

    graph = nx.DiGraph()
    by_address = {e.address: e for e in entries}
    graph.add_nodes_from(by_address)
    for entry in entries:
        for dep in entry.dependencies:
            if dep in by_address:
                graph.add_edge(entry.address, dep)
    try:
        order = list(nx.lexicographical_topological_sort(graph))
    except nx.NetworkXUnfeasible:
        order = sorted(by_address)
    return [by_address[a] for a in order]


def _provisioning_state(observed: Mapping[str, Any] | None) -> str | None:
    if not observed:
        return None
    props = observed.get("properties")
    value = props.get("provisioningState") if isinstance(props, dict) else None
    return value if isinstance(value, str) else None
