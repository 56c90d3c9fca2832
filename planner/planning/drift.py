"""Drift: what the cloud holds against what aibplan last saw there (the state's `observed` bodies).

Drift is read-only: it never looks at the stack's desired bodies, only at the state and the provider. A
resource has drifted when its normalised cloud body differs from its normalised observed body (someone
changed it in the portal), when it is gone (deleted outside aibplan), or, for an image template, when the
service now reports it as Failed. With `include_unmanaged`, resources of the managed kinds that sit in the
stack's resource group and that no state entry knows are reported too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from providers.base import Provider, ResourceRef
from providers.catalog import for_arm_type
from providers.catalog.arm_ids import fold_id, parse_resource_id
from state import ResourceState, State
from state.redact import redact

from ..builds.checks import failed_builds
from ..normalize import applied_body, normalize_body
from ..plans.diff import AttributeDiff
from ..plans.drift import DriftKind, DriftReport, ResourceDrift
from ..stack.model import Stack
from .diff import diff_bodies


def read_live(state: State, provider: Provider) -> Mapping[str, Any]:
    """The cloud's body for every resource in the state, keyed by the state's ARM id (None when gone)."""
    if not state.resources:
        return {}
    return provider.read_many(ResourceRef(e.arm_id, e.arm_type, e.api_version) for e in state.resources)


def detect_drift(state: State, live: Mapping[str, Any]) -> tuple[ResourceDrift, ...]:
    """Each state entry whose cloud body is gone, changed or newly Failed, in address order."""
    found: list[ResourceDrift] = []
    for entry in state.resources:
        drifted = entry_drift(entry, live.get(entry.arm_id))
        if drifted is not None:
            found.append(drifted)
    return tuple(found)


def entry_drift(entry: ResourceState, cloud: Mapping[str, Any] | None) -> ResourceDrift | None:
    if cloud is None:
        return ResourceDrift(
            entry.address,
            entry.arm_type,
            entry.arm_id,
            DriftKind.DELETED,
            "deleted outside aibplan",
            before=_normalised(entry, entry.observed or entry.applied),
            dependencies=entry.dependencies,
        )
    if entry.observed and cloud == entry.observed:
        # Exactly as aibplan last saw it: no attribute can differ and it cannot have newly Failed.
        # (Comparing the raw bodies first spares normalising both, most of a 10,000-resource refresh.)
        return None
    before = _normalised(entry, entry.observed or entry.applied)
    after = _normalised(entry, cloud)
    rtype = for_arm_type(entry.arm_type)
    sent = applied_body(entry) or None
    diffs = diff_bodies(before, after, rtype, entry.api_version, sent=sent) if rtype is not None else ()
    if diffs:
        shown = len(diffs)
        return ResourceDrift(
            entry.address,
            entry.arm_type,
            entry.arm_id,
            DriftKind.CHANGED,
            f"changed outside aibplan ({shown} attribute{'s' if shown != 1 else ''})",
            attribute_diffs=tuple(_without_replacement_flag(d) for d in diffs),
            before=before,
            after=after,
            dependencies=entry.dependencies,
        )
    if provisioning_state(cloud) == "Failed" and provisioning_state(entry.observed) != "Failed":
        error = (cloud.get("properties") or {}).get("provisioningError") or {}
        detail = error.get("message") if isinstance(error, dict) else None
        return ResourceDrift(
            entry.address,
            entry.arm_type,
            entry.arm_id,
            DriftKind.FAILED,
            "the service now reports it as Failed" + (f": {detail}" if detail else ""),
            before=before,
            after=after,
            dependencies=entry.dependencies,
        )
    return None


def unmanaged_resources(
    state: State, listed: Iterable[Mapping[str, Any]], *, declared: Mapping[str, str] | None = None
) -> tuple[ResourceDrift, ...]:
    """Resources of the managed kinds in a resource group listing that no state entry knows.

    `declared` maps folded ARM ids of the stack's resources to their addresses, so that a resource the
    stack declares but the state does not know says so (apply would try to create it over the existing one).
    """
    known = {fold_id(e.arm_id) for e in state.resources}
    declared = {fold_id(k): v for k, v in (declared or {}).items()}
    found: list[ResourceDrift] = []
    for body in listed:
        arm_id = body.get("id")
        if not isinstance(arm_id, str) or fold_id(arm_id) in known:
            continue
        rid = parse_resource_id(arm_id)
        rtype = for_arm_type(rid.arm_type) if rid is not None else None
        if rid is None or rtype is None:
            continue
        address = declared.get(fold_id(arm_id))
        message = (
            f"declared in the stack as {address} but unknown to the state: `aibplan import {address}` "
            "manages it"
            if address
            else "in the resource group but not in the state (not managed by aibplan)"
        )
        found.append(
            ResourceDrift(
                address or f"{rtype.kind}.{rid.name}",
                rtype.arm_type,
                arm_id,
                DriftKind.UNMANAGED,
                message,
                after=redact(normalize_body(rtype, body)),
                declared=address is not None,
            )
        )
    return tuple(sorted(found, key=lambda d: d.address))


def provisioning_state(body: Mapping[str, Any] | None) -> str | None:
    props = body.get("properties") if body else None
    value = props.get("provisioningState") if isinstance(props, dict) else None
    return value if isinstance(value, str) else None


def _normalised(entry: ResourceState, body: Mapping[str, Any]) -> dict[str, Any]:
    """Comparable and fit to show: normalised, secrets as fingerprints (the state holds them so)."""
    rtype = for_arm_type(entry.arm_type)
    normalised = dict(body) if rtype is None else normalize_body(rtype, body)
    return dict(redact(normalised))


def _without_replacement_flag(diff: AttributeDiff) -> AttributeDiff:
    """Drift only says what changed; whether a change forces a replace is the plan's business."""
    return AttributeDiff(diff.path, diff.before, diff.after, False, diff.before_present, diff.after_present)


def make_drift_report(
    state: State,
    provider: Provider,
    *,
    subscription: str,
    resource_group: str,
    include_unmanaged: bool = False,
    declared: Mapping[str, str] | None = None,
) -> DriftReport:
    """Read the cloud for every state entry (and the resource group, with `include_unmanaged`)."""
    live = read_live(state, provider)
    drift = list(detect_drift(state, live))
    if include_unmanaged:
        listed = provider.list_resources(subscription, resource_group)
        drift.extend(unmanaged_resources(state, listed, declared=declared))
    return DriftReport(
        provider=provider.describe(),
        state_lineage=state.lineage if state.serial > 0 else None,
        state_serial=state.serial if state.serial > 0 else None,
        checked=len(state.resources),
        drift=tuple(drift),
        include_unmanaged=include_unmanaged,
        warnings=tuple(failed_builds(state, live)),
    )


def stack_drift(
    stack: Stack, state: State, provider: Provider, *, include_unmanaged: bool = False
) -> DriftReport:
    """`aibplan drift` for a loaded stack: its state against its provider, in its resource group."""
    report = make_drift_report(
        state,
        provider,
        subscription=stack.config.subscription_id,
        resource_group=stack.config.resource_group,
        include_unmanaged=include_unmanaged,
        declared={r.arm_id: r.address for r in stack.resources},
    )
    return replace(report, environment=stack.config.environment)
