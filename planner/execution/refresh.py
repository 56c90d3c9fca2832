"""`apply --refresh-only`: take the drift into the state file, changing nothing in the cloud.

A resource changed outside aibplan gets the cloud's body as `observed` and its normalised form as
`applied` (so `plan --no-refresh` compares the configuration with what is really there); one deleted
outside aibplan leaves the state; a template the service now reports as Failed gets the Failed body as
`observed` (the next plan still replaces it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from providers.catalog import for_arm_type
from state import State
from state.redact import redact

from ..normalize import normalize_body
from ..plans.drift import DriftKind, ResourceDrift


@dataclass(frozen=True)
class Refreshed:
    """The state with the drift taken in, and the addresses it updated and removed."""

    state: State
    updated: tuple[str, ...]
    removed: tuple[str, ...]


def refreshed_state(state: State, drift: Sequence[ResourceDrift], live: Mapping[str, Any]) -> Refreshed:
    new = state
    updated: list[str] = []
    removed: list[str] = []
    for item in drift:
        entry = state.get(item.address)
        if entry is None:
            continue
        body = live.get(entry.arm_id)
        if item.drift is DriftKind.DELETED or body is None:
            new = new.without(item.address)
            removed.append(item.address)
            continue
        rtype = for_arm_type(entry.arm_type)
        # Where the state held a secret, the cloud's body holds one too (state.redact).
        observed = redact(dict(body), like=(entry.observed,))
        if item.drift is DriftKind.CHANGED and rtype is not None:
            applied = redact(normalize_body(rtype, body), like=(entry.applied,))
            entry = replace(entry, applied=applied, observed=observed)
        else:
            entry = replace(entry, observed=observed)
        new = new.with_resource(entry)
        updated.append(item.address)
    return Refreshed(new, tuple(updated), tuple(removed))
