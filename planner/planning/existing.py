"""Declared resources that already exist in the cloud but not in the state: read before a create.

A PUT of a resource that exists replaces what it holds (or, for an image template, fails with Conflict),
so a plan never proposes to create an id the cloud already holds and the state does not know: it stops
with AIB8003, which names the resource and the command that adopts it (`aibplan import ADDRESS`, the
id taken from the stack, or `aibplan import --all`). The same finding appears in issue 10's identity
work (planner.planning.identities there); it is kept in this one function so the two merge into one.
"""

from __future__ import annotations

from collections.abc import Sequence

from providers.base import Provider, ResourceRef
from providers.catalog.arm_ids import fold_id
from state import State

from ..diagnostics import Diagnostic, Severity
from ..plans.plan import Action, Change

ALREADY_EXISTS = "AIB8003"


def already_existing(changes: Sequence[Change], state: State, provider: Provider) -> list[Diagnostic]:
    """AIB8003 for each resource the plan would create under an id the state does not track and that the
    cloud already holds (one read of them all)."""
    known = {fold_id(entry.arm_id) for entry in state.resources}
    wanted = [c for c in changes if _creates_new_id(c) and fold_id(c.arm_id) not in known]
    if not wanted:
        return []
    found = provider.read_many(ResourceRef(c.arm_id, c.arm_type, c.api_version) for c in wanted)
    return [
        Diagnostic(
            ALREADY_EXISTS,
            Severity.ERROR,
            f"{c.address} already exists in Azure and the state does not track it: {c.arm_id}; aibplan "
            "will not overwrite it",
            address=c.address,
            hint=f"to manage it, run `aibplan import {c.address}` (or `aibplan import --all` for every "
            "declared resource that exists); or give the resource another name",
        )
        for c in wanted
        if found.get(c.arm_id) is not None
    ]


def _creates_new_id(change: Change) -> bool:
    if change.action is Action.CREATE:
        return True
    return change.action is Action.REPLACE and fold_id(change.old_arm_id or "") != fold_id(change.arm_id)
