"""A resource's identity is its ARM id, compared as Azure compares it: without case.

Azure resource names and ids are case-insensitive, so `identity.aibBuilder` and `identity.AibBuilder` are
one identity. What follows from that for a plan:

- a resource whose name changed only in case keeps its state entry: the entry *moves* to the new address
  (a no-op in the cloud, shown as a move), instead of "create AibBuilder, destroy aibBuilder", whose
  delete would remove the resource the state goes on listing;
- two state entries for one id are an error naming both (AIB8004), never a delete of the one the stack
  no longer names;
- a state entry whose address kind is not its type's (a "gallery" entry holding an identity's type and
  id, which the state's own check cannot see: it does not know the kinds) is an error (AIB8006), never a
  replace or a delete aimed at that id;
- a resource the plan would create that already exists in the cloud, unknown to the state, is an error
  with the command that imports it (AIB8003): a PUT would overwrite it silently;
- whatever the reason, a plan in which one address deletes an id that another creates or keeps is
  refused (AIB8005, `conflicting_ids`), by make_plan and again by apply for a saved plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from providers.base import Provider, ResourceRef
from providers.catalog import BY_KIND
from providers.catalog.arm_ids import fold_id
from state import State

from ..diagnostics import Diagnostic, Severity
from ..plans.plan import Action, Change
from ..stack.model import Stack

ALREADY_EXISTS = "AIB8003"
SAME_RESOURCE_IN_STATE = "AIB8004"
SAME_RESOURCE_TWICE = "AIB8005"
KIND_AND_TYPE_DISAGREE = "AIB8006"


def moved_addresses(stack: Stack, state: State) -> dict[str, str]:
    """{old address: new address} for each state entry the stack now names under another address of the
    same resource (its id equal without case): a rename of the name's case only. Entries whose id another
    entry shares are left alone (AIB8004 reports them)."""
    entries_by_id: dict[str, list[str]] = {}
    for entry in state.resources:
        entries_by_id.setdefault(fold_id(entry.arm_id), []).append(entry.address)
    moves: dict[str, str] = {}
    for resource in stack.resources:
        if state.get(resource.address) is not None:
            continue
        holders = entries_by_id.get(fold_id(resource.arm_id), [])
        if len(holders) != 1:
            continue
        old = holders[0]
        if old not in stack.by_address and old.partition(".")[0] == resource.kind:
            moves[old] = resource.address
    return moves


def with_moves(state: State, moves: Mapping[str, str]) -> State:
    """The state with each moved entry under its new address, and dependencies on it renamed."""
    if not moves:
        return state
    return state.with_resources(
        replace(
            entry,
            address=moves.get(entry.address, entry.address),
            dependencies=tuple(sorted(moves.get(d, d) for d in entry.dependencies)),
        )
        for entry in state.resources
    )


def duplicate_entries(state: State) -> list[Diagnostic]:
    """AIB8004 for each id that two or more state entries hold."""
    by_id: dict[str, list[str]] = {}
    for entry in state.resources:
        by_id.setdefault(fold_id(entry.arm_id), []).append(entry.address)
    found = []
    for addresses in by_id.values():
        if len(addresses) < 2:
            continue
        arm_id = state.by_address[addresses[0]].arm_id
        named = " and ".join(addresses)
        found.append(
            Diagnostic(
                SAME_RESOURCE_IN_STATE,
                Severity.ERROR,
                f"the state tracks one Azure resource twice, as {named} (Azure compares ids without "
                f"case): {arm_id}; planning either one's delete would delete the other",
                address=addresses[0],
                hint="keep the entry under the address the stack declares and drop the other with "
                "`aibplan state rm ADDRESS` (the resource stays in Azure)",
            )
        )
    return found


def entries_of_another_kind(state: State) -> list[Diagnostic]:
    """AIB8006 for each state entry whose address kind the catalog does not give its type."""
    found = []
    for entry in state.resources:
        kind = entry.address.partition(".")[0]
        rtype = BY_KIND.get(kind)
        if rtype is not None and rtype.arm_type.lower() == entry.arm_type.lower():
            continue
        what = f"a {kind} is a {rtype.arm_type}" if rtype is not None else f"aibplan manages no kind {kind!r}"
        found.append(
            Diagnostic(
                KIND_AND_TYPE_DISAGREE,
                Severity.ERROR,
                f"the state entry {entry.address} has the type {entry.arm_type} and the id "
                f"{entry.arm_id}, but {what}; aibplan plans nothing against such a state (a change would be "
                "aimed at that id)",
                address=entry.address,
                hint="restore the state file from git or from its .backup, or drop the entry with "
                "`aibplan state rm ADDRESS` (the resource stays in Azure)",
            )
        )
    return found


def already_existing(changes: Sequence[Change], state: State, provider: Provider) -> list[Diagnostic]:
    """AIB8003 for each resource the plan would create under an id the state does not know and that the
    cloud already holds: read before proposing a create, as a PUT would overwrite it silently."""
    known = {fold_id(entry.arm_id) for entry in state.resources}
    wanted = [change for change in changes if _creates_new_id(change) and fold_id(change.arm_id) not in known]
    if not wanted:
        return []
    found = provider.read_many(ResourceRef(c.arm_id, c.arm_type, c.api_version) for c in wanted)
    return [exists_error(c.address, c.arm_id) for c in wanted if found.get(c.arm_id) is not None]


def exists_error(address: str, arm_id: str) -> Diagnostic:
    return Diagnostic(
        ALREADY_EXISTS,
        Severity.ERROR,
        f"{address} already exists in Azure and the state does not track it: {arm_id}; aibplan will not "
        "overwrite it",
        address=address,
        hint=f"to manage it, run `aibplan import {address}` (or `aibplan import --all` for every declared "
        "resource that exists); or give the resource another name",
    )


def import_hint(address: str, arm_id: str) -> str:
    """The one-line refusal apply gives when a create finds the resource already there."""
    return (
        f"{arm_id} already exists in Azure and the state does not track it; nothing was changed. To manage "
        f"it, run `aibplan import {address}` (or `aibplan import --all`)"
    )


def _creates_new_id(change: Change) -> bool:
    if change.action is Action.CREATE:
        return True
    return change.action is Action.REPLACE and fold_id(change.old_arm_id or "") != fold_id(change.arm_id)


def conflicting_ids(changes: Iterable[Change]) -> list[Diagnostic]:
    """AIB8005 for each id that one address would delete while another creates or keeps it, or that two
    addresses would create or keep: the same resource must never be created and deleted in one plan (a
    replace, one address's delete then create, is the one exception)."""
    kept: dict[str, list[str]] = {}
    deleted: dict[str, list[str]] = {}
    shown: dict[str, str] = {}
    for change in changes:
        if change.action in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.NOOP):
            key = fold_id(change.arm_id)
            kept.setdefault(key, []).append(change.address)
            shown.setdefault(key, change.arm_id)
        if change.action in (Action.DELETE, Action.REPLACE):
            old = change.old_arm_id or change.arm_id
            key = fold_id(old)
            deleted.setdefault(key, []).append(change.address)
            shown.setdefault(key, old)
    found = []
    for key in sorted(set(kept) | set(deleted)):
        keepers = kept.get(key, [])
        deleters = [a for a in deleted.get(key, []) if a not in keepers]
        if len(keepers) < 2 and not (keepers and deleters):
            continue
        addresses = sorted({*keepers, *deleters})
        found.append(
            Diagnostic(
                SAME_RESOURCE_TWICE,
                Severity.ERROR,
                f"{' and '.join(addresses)} are one Azure resource ({shown[key]}; Azure compares ids "
                "without case): the plan would "
                + ("delete it as one and keep it as the other" if deleters else "write it twice")
                + "; the plan is refused and nothing is changed",
                address=addresses[0],
            )
        )
    return found
