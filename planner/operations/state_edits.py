"""`import`, `state rm`, `state mv`, `state list|show` and `force-unlock`: the state, without plans.

The edits take the state lock, reconcile a leftover journal, change the state and save it; `import` reads
the resource from the cloud first. Reading (`list`, `show`) takes no lock.
"""

from __future__ import annotations

from pathlib import Path

from ..execution import state_edit
from ..execution.state_access import StackState
from ..hooks import Hooks
from .control import Stop
from .requests import ImportAllRequest, ImportRequest, StateEditRequest
from .results import ImportedAll, StateEdited, StateEntry, StateListing, Unlocked
from .workspace import locked, open_stack, provider_for, recovered, settings_only


def import_resource(
    request: ImportRequest, hooks: Hooks | None = None, stop: Stop | None = None
) -> StateEdited:
    """Track an existing resource as `address` (declared in the stack): the one with `request.arm_id`, or
    the one at the id the stack gives the address; the state as saved."""
    hooks = hooks or Hooks()
    state_edit.check_address(request.address)
    prepared = open_stack(request.stack)
    with (
        StackState(prepared.stack) as store,
        locked(store, "import", request.lock_timeout, hooks, stop),
        provider_for(prepared.stack, hooks) as provider,
    ):
        current, existing = recovered(store, provider, hooks)
        changed, notes = state_edit.import_resource(
            prepared.stack, prepared.graph, current, provider, request.address, request.arm_id
        )
        saved = store.save(changed, existing)
    return StateEdited(saved, tuple(notes))


def import_all(
    request: ImportAllRequest, hooks: Hooks | None = None, stop: Stop | None = None
) -> ImportedAll:
    """Track every resource the stack declares that exists in the cloud and the state does not know yet
    (each at the id the stack gives it); the state is saved only when something was imported."""
    hooks = hooks or Hooks()
    prepared = open_stack(request.stack)
    store = StackState(prepared.stack)
    with (
        locked(store, "import", request.lock_timeout, hooks, stop),
        provider_for(prepared.stack, hooks) as provider,
    ):
        current, existing = recovered(store, provider, hooks)
        adopted = state_edit.import_all(prepared.stack, prepared.graph, current, provider)
        saved = store.save(adopted.state, existing) if adopted.imported else current
    return ImportedAll(saved, adopted.imported, adopted.absent, adopted.tracked)


def edit_state(
    request: StateEditRequest, hooks: Hooks | None = None, stop: Stop | None = None
) -> StateEdited:
    """`state rm` (no target) or `state mv`: the state saved with the change; the cloud is not touched."""
    hooks = hooks or Hooks()
    stack = settings_only(request.root, request.environment)
    operation = "state rm" if request.target is None else "state mv"
    with StackState(stack) as store, locked(store, operation, request.lock_timeout, hooks, stop):
        with provider_for(stack, hooks) as provider:  # to settle a leftover journal
            state, existing = recovered(store, provider, hooks)
        target = request.target
        if target is None:
            changed = state_edit.remove(state, request.address)
        else:
            changed = state_edit.move(state, request.address, target)
        return StateEdited(store.save(changed, existing))


def list_state(root: Path, environment: str | None = None) -> StateListing:
    """The state as stored (no lock; a leftover journal is not reconciled: this shows the file)."""
    stack = settings_only(root, environment)
    with StackState(stack) as store:
        state, existing = store.read()
    return StateListing(state, existing is not None, stack.config.environment)


def show_entry(root: Path, address: str, environment: str | None = None) -> StateEntry:
    """One state entry (secrets appear as fingerprints, as the state holds them)."""
    state_edit.check_address(address)
    with StackState(settings_only(root, environment)) as store:
        state, _ = store.read()
    return StateEntry(state_edit.entry_or_error(state, address))


def force_unlock(root: Path, lock_id: str, environment: str | None = None) -> Unlocked:
    """Clear a lock left by a run that is gone; whether it left a journal for the next writer."""
    with StackState(settings_only(root, environment)) as store:
        holder = store.force_unlock(lock_id)
        return Unlocked(holder, store.has_journal())
