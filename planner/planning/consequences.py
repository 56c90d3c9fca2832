"""What a plan's deletes and replaces bring with them in Azure VM Image Builder.

- Replacing a resource replaces what depends on it where the dependent's kind says so in the catalog
  (`cascade`, from `ResourceType.cascades` by the reason of the graph edge): an image definition goes
  with its gallery, a template with the image definition it distributes to or builds from, and with
  the identity it builds as.
- Deleting a template while a build runs is refused by the service: apply cancels the build and waits
  for Canceled first, and the plan says so.
- A VHD that a template's last build wrote into the staging resource group is lost with the template;
  the plan names the VHD and apply refuses without `--allow-vhd-loss`.
- An image definition that still holds image versions (or a gallery that still holds image definitions
  aibplan does not manage) cannot be deleted; the plan names them and says what to do, apply refuses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from providers.base import Provider
from providers.catalog import BY_KIND, ResourceType, artifact_type, for_arm_type, title_of
from providers.catalog.arm_ids import fold_id, parse_resource_id
from state import State

from ..diagnostics import Diagnostic, Severity
from ..plans.plan import Action, Change, Plan
from ..stack.order import RESOURCE

if TYPE_CHECKING:
    from ..stack.kept_graph import DependencyGraph

REASON_CASCADE = "cascade"

CODE_RUNNING_BUILD = "AIB6002"
CODE_VHD_LOSS = "AIB6003"
CODE_IMAGE_VERSIONS = "AIB6004"
CODE_NESTED_DEFINITIONS = "AIB6005"

ACTIVE_RUN_STATES = ("Running", "Canceling")


def cascade_texts(graph: DependencyGraph, origin: str, dependent: str, kind: str) -> list[str]:
    """Why replacing `origin` replaces `dependent` (of `kind`), one text per edge reason its kind
    cascades on; empty when it does not."""
    rtype = BY_KIND.get(kind)
    if rtype is None or graph.nodes[dependent].get("role") != RESOURCE:
        return []
    reasons = graph.edges[origin, dependent].get("reasons", ())
    return [text.format(origin=origin) for r in reasons if (text := rtype.cascade(r)) is not None]


def cascade(changes: Sequence[Change], graph: DependencyGraph) -> list[Change]:
    """Replace every existing dependent of a replaced resource where its kind says it goes along,
    transitively."""
    by_address = {c.address: c for c in changes}
    order = [c.address for c in changes]
    for address in order:
        origin = by_address[address]
        if origin.action is not Action.REPLACE or address not in graph:
            continue
        for dependent in sorted(graph.successors(address)):
            if dependent not in by_address:
                continue
            texts = cascade_texts(graph, address, dependent, by_address[dependent].kind)
            if not texts:
                continue
            change = by_address[dependent]
            if change.action in (Action.NOOP, Action.UPDATE):
                by_address[dependent] = replace(
                    change,
                    action=Action.REPLACE,
                    action_reason=REASON_CASCADE,
                    reasons=(*texts, *change.reasons),
                )
            elif change.action is Action.REPLACE:
                extra = tuple(t for t in texts if t not in change.reasons)
                by_address[dependent] = replace(change, reasons=(*change.reasons, *extra))
    return [by_address[a] for a in order]


def cascade_into(change: Change, decided: Mapping[str, Change], graph: DependencyGraph) -> Change:
    """`change` replaced where its kind goes along with a replaced resource it depends on (among those
    `decided` already): `cascade` for one change at a time, in dependency order, so that a resource whose
    reference() values name this one sees its final action."""
    if change.action not in (Action.NOOP, Action.UPDATE) or change.address not in graph:
        return change
    texts: list[str] = []
    for origin in sorted(graph.predecessors(change.address)):
        cause = decided.get(origin)
        if cause is not None and cause.action is Action.REPLACE:
            texts += cascade_texts(graph, origin, change.address, change.kind)
    if not texts:
        return change
    return replace(
        change, action=Action.REPLACE, action_reason=REASON_CASCADE, reasons=(*texts, *change.reasons)
    )


def add_consequences(
    changes: Sequence[Change],
    *,
    live: Mapping[str, Any],
    refresh: bool,
    state: State,
    provider: Provider,
) -> list[Change]:
    """Annotate deletes and replaces with what they do beyond the resource itself (see the module doc)."""
    listing = _GroupListing(provider) if refresh else None
    deleting = {c.address for c in changes if c.action in (Action.DELETE, Action.REPLACE)}
    out: list[Change] = []
    for change in changes:
        if change.action not in (Action.DELETE, Action.REPLACE):
            out.append(change)
            continue
        entry = state.get(change.address)
        if refresh:
            body = live.get(change.old_arm_id or change.arm_id)
        else:
            body = dict(entry.observed) if entry is not None else None
        if body is None:
            out.append(change)
            continue
        rtype = BY_KIND.get(change.kind) or for_arm_type(change.arm_type)
        if rtype is not None and rtype.builds:
            change = _running_build(change, body)
            outputs = (
                _run_outputs(provider, change)
                if refresh
                else _outputs_from_extra(entry.extra if entry else {})
            )
            change = _vhd_loss(change, body, outputs)
        for child_type in rtype.service.delete_blocked_by if rtype is not None and listing else ():
            assert listing is not None and rtype is not None
            if artifact_type(child_type) is not None:
                change = _held_artifacts(change, rtype, child_type, listing)
            else:
                change = _held_unmanaged(change, rtype, child_type, listing, deleting, state)
        out.append(change)
    return out


def blockers(plan: Plan, *, allow_vhd_loss: bool) -> list[str]:
    """Why apply must not start this plan, one sentence each (empty when it may)."""
    found: list[str] = []
    cycle = delete_cycle(plan.changes)
    if cycle:
        shown = " → ".join([*cycle, cycle[0]])
        found.append(
            f"the state's dependencies form a cycle ({shown}), so no order to delete these resources in "
            "is right; was the state file edited by hand? Each entry's `dependencies` lists what it was "
            "created after: remove the dependency that closes the cycle, or restore the state from git"
        )
    for change in plan.changes:
        if change.vhd_uris and not allow_vhd_loss:
            found.append(
                f"{change.address}: {'deleting' if change.action is Action.DELETE else 'replacing'} the "
                f"template loses the VHD its last build wrote ({', '.join(change.vhd_uris)}); copy it "
                "somewhere safe, then run again with --allow-vhd-loss"
            )
        what = _title(change)
        if change.image_versions:
            held = _title_of_ids(change.image_versions)
            found.append(
                f"{change.address}: the {what} still holds {held}(s) "
                f"{', '.join(_last(v) for v in change.image_versions)}; Azure refuses to delete it. Delete "
                "the versions first (az sig image-version delete; on the local simulated cloud, "
                "aibplan sim delete STACK VERSION_ID), or keep the definition as it is"
            )
        if change.nested_definitions:
            held = _title_of_ids(change.nested_definitions)
            found.append(
                f"{change.address}: the {what} still holds {held}(s) that aibplan does not "
                f"manage ({', '.join(_last(v) for v in change.nested_definitions)}); Azure refuses to "
                f"delete it. Delete them first, or keep the {what} as it is"
            )
    return found


def delete_cycle(changes: Sequence[Change]) -> list[str]:
    """Addresses on a cycle of the dependencies the state recorded between resources being deleted (a
    delete waits for its dependents' deletes), or [] when there is none."""
    import networkx as nx

    graph = nx.DiGraph()
    deleting = {c.address for c in changes if c.action in (Action.DELETE, Action.REPLACE)}
    for change in changes:
        if change.address in deleting:
            graph.add_node(change.address)
            graph.add_edges_from((change.address, dep) for dep in change.old_depends_on if dep in deleting)
    try:
        return [edge[0] for edge in nx.find_cycle(graph)]
    except nx.NetworkXNoCycle:
        return []


# -- image templates --------------------------------------------------------------------------------


def run_state(body: Mapping[str, Any] | None) -> str | None:
    props = body.get("properties") if body else None
    status = props.get("lastRunStatus") if isinstance(props, dict) else None
    value = status.get("runState") if isinstance(status, dict) else None
    return value if isinstance(value, str) else None


def _running_build(change: Change, body: Mapping[str, Any]) -> Change:
    state = run_state(body)
    if state not in ACTIVE_RUN_STATES:
        return change
    doing = "running" if state == "Running" else "being canceled"
    reason = (
        f"a build is {doing} (runState {state}): apply cancels it and waits until it is Canceled "
        "before deleting the template"
    )
    warning = Diagnostic(
        CODE_RUNNING_BUILD,
        Severity.WARNING,
        f"a build of this template is {doing}; apply cancels it before deleting the template, and the "
        "image it was making is not produced",
        address=change.address,
        hint="let the build finish first (aibplan plan again afterwards) if you need its image",
    )
    return replace(
        change,
        running_build=state,
        reasons=(*change.reasons, reason),
        warnings=(*change.warnings, warning),
    )


def _run_outputs(provider: Provider, change: Change) -> list[Mapping[str, Any]]:
    return list(provider.list_run_outputs(change.old_ref()))


def _outputs_from_extra(extra: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Run outputs the state recorded for a template (used when the plan does not read the cloud)."""
    for key in ("run_outputs", "runOutputs"):
        value = extra.get(key)
        if isinstance(value, list):
            return [v for v in value if isinstance(v, dict)]
        if isinstance(value, dict):
            return [
                {"name": name, "properties": v.get("properties", v)}
                for name, v in value.items()
                if isinstance(v, dict)
            ]
    return []


def vhd_uris(body: Mapping[str, Any], outputs: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """URIs of VHDs the template's builds wrote into its staging resource group (lost with the template).

    A VHD distributor with its own `uri` writes to the user's storage account, which outlives the
    template, so only distributors without one count.
    """
    props = body.get("properties") or {}
    staged = {
        d.get("runOutputName")
        for d in props.get("distribute") or []
        if isinstance(d, dict) and str(d.get("type", "")).lower() == "vhd" and not d.get("uri")
    }
    uris: list[str] = []
    for output in outputs:
        name = output.get("name")
        out_props = output.get("properties") or {}
        uri = out_props.get("artifactUri") if isinstance(out_props, dict) else None
        if isinstance(name, str) and name in staged and isinstance(uri, str) and uri:
            uris.append(uri)
    return tuple(sorted(uris))


def _vhd_loss(change: Change, body: Mapping[str, Any], outputs: Sequence[Mapping[str, Any]]) -> Change:
    uris = vhd_uris(body, outputs)
    if not uris:
        return change
    verb = "Deleting" if change.action is Action.DELETE else "Replacing"
    warnings = tuple(
        Diagnostic(
            CODE_VHD_LOSS,
            Severity.WARNING,
            f"{verb} this template loses the VHD its last build wrote: {uri}",
            address=change.address,
            hint="copy the VHD somewhere safe (azcopy copy), then apply with --allow-vhd-loss",
        )
        for uri in uris
    )
    return replace(change, vhd_uris=uris, warnings=(*change.warnings, *warnings))


# -- resources that hold others --------------------------------------------------------------------


class _GroupListing:
    """Lists a resource group once, on first use, for the checks that need nested resources."""

    def __init__(self, provider: Provider) -> None:
        self._provider = provider
        self._cache: dict[tuple[str, str], list[Mapping[str, Any]]] = {}

    def children(self, parent_id: str, child_type: str) -> list[str]:
        rid = parse_resource_id(parent_id)
        if rid is None:
            return []
        key = (rid.subscription.lower(), rid.resource_group.lower())
        if key not in self._cache:
            self._cache[key] = list(self._provider.list_resources(rid.subscription, rid.resource_group))
        parent = fold_id(parent_id)
        found = []
        for body in self._cache[key]:
            arm_id = body.get("id")
            child = parse_resource_id(arm_id) if isinstance(arm_id, str) else None
            if child is None or child.arm_type.lower() != child_type.lower():
                continue
            up = child.parent()
            if up is not None and fold_id(str(up)) == parent:
                found.append(str(arm_id))
        return sorted(found)


def _held_artifacts(change: Change, rtype: ResourceType, child_type: str, listing: _GroupListing) -> Change:
    """What builds made inside it (image versions): the service refuses the delete while they exist."""
    versions = tuple(listing.children(change.old_arm_id or change.arm_id, child_type))
    if not versions:
        return change
    names = ", ".join(_last(v) for v in versions)
    held = title_of(child_type)
    warning = Diagnostic(
        CODE_IMAGE_VERSIONS,
        Severity.WARNING,
        f"this {rtype.title} still holds {held}(s) {names}; Azure refuses to delete {rtype.a_title} "
        f"that has {held}s, so apply stops before starting",
        address=change.address,
        hint="delete the versions first (az sig image-version delete ... --gallery-image-version "
        f"{_last(versions[0])}; on the local simulated cloud: aibplan sim delete STACK {versions[0]}), "
        "or change the configuration so the definition is kept",
    )
    return replace(change, image_versions=versions, warnings=(*change.warnings, warning))


def _held_unmanaged(
    change: Change,
    rtype: ResourceType,
    child_type: str,
    listing: _GroupListing,
    deleting: set[str],
    state: State,
) -> Change:
    """Children of a kind aibplan manages that this plan does not delete (made elsewhere)."""
    managed = {fold_id(e.arm_id) for e in state.resources if e.address in deleting}
    held = tuple(
        d
        for d in listing.children(change.old_arm_id or change.arm_id, child_type)
        if fold_id(d) not in managed
    )
    if not held:
        return change
    what = title_of(child_type)
    warning = Diagnostic(
        CODE_NESTED_DEFINITIONS,
        Severity.WARNING,
        f"this {rtype.title} still holds {what}(s) aibplan does not manage "
        f"({', '.join(_last(d) for d in held)}); Azure refuses to delete {rtype.a_title} that has "
        f"{what}s, so apply stops before starting",
        address=change.address,
        hint=f"delete those {what}s (and what they hold) first, or keep the {rtype.title}",
    )
    return replace(change, nested_definitions=held, warnings=(*change.warnings, warning))


def _title(change: Change) -> str:
    rtype = BY_KIND.get(change.kind) or for_arm_type(change.arm_type)
    return rtype.title if rtype is not None else change.kind


def _title_of_ids(arm_ids: Sequence[str]) -> str:
    rid = parse_resource_id(arm_ids[0])
    return title_of(rid.arm_type) if rid is not None else "resource"


def _last(arm_id: str) -> str:
    return arm_id.rstrip("/").rsplit("/", 1)[-1]
