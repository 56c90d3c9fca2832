"""`aibplan state list|show|rm|mv|pull|push|migrate`, `aibplan import` and `aibplan force-unlock`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import operations as ops
from ..operations import state_transfer
from ..views import (
    Imported,
    Moved,
    MovedStateText,
    PulledText,
    Removed,
    StateEntryJson,
    UnlockedText,
    state_list_view,
)
from .common import (
    EXIT_OK,
    StackLoading,
    announce_environment,
    call,
    chosen_environment,
    emit,
    fail,
    lock_timeout_option,
    no_color_option,
    one_stack,
    stack_dir_option,
    stack_options,
)
from .completion import complete_addresses
from .progress import CliHooks

_STACK = click.argument("stack", required=False, type=click.Path())


@click.group()
def state() -> None:
    """Read and edit the state: list, show, rm, mv; pull, push and migrate it (the stack folder last, or
    as -C DIR)."""


@state.command("pull")
@_STACK
@stack_dir_option
@no_color_option
def state_pull(stack: str | None, stack_dir: str | None) -> None:
    """Print the stack's state as its backend holds it (redirect it to a file to keep a copy)."""
    root = Path(one_stack(stack, stack_dir))
    announce_environment(root)
    view = PulledText()
    emit(view.show(call(lambda: state_transfer.pull(root, chosen_environment()), view)))
    sys.exit(EXIT_OK)


@state.command("push")
@click.argument("file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@_STACK
@click.option(
    "--force",
    is_flag=True,
    help="Replace the state even when it is newer or went its own way (never another stack's).",
)
@stack_dir_option
@lock_timeout_option
@no_color_option
def state_push(
    file: Path, stack: str | None, stack_dir: str | None, force: bool, lock_timeout: float
) -> None:
    """Replace the stack's state by the state in FILE, under the lock. Refused when the state there is
    another stack's (lineage), newer (serial), or changed apart at the same serial."""
    root = Path(one_stack(stack, stack_dir))
    announce_environment(root)
    request = state_transfer.PushRequest(root, file, force, lock_timeout, chosen_environment())
    view = MovedStateText()
    emit(view.show(call(lambda: state_transfer.push(request), view)))
    sys.exit(EXIT_OK)


@state.command("migrate")
@_STACK
@click.option(
    "--from",
    "source",
    metavar="BACKEND",
    help="Copy the state from BACKEND into the stack's backend.",
)
@click.option("--to", "target", metavar="BACKEND", help="Copy the stack's state to BACKEND.")
@stack_dir_option
@lock_timeout_option
@no_color_option
def state_migrate(
    stack: str | None, source: str | None, target: str | None, stack_dir: str | None, lock_timeout: float
) -> None:
    """Copy the state between the stack's backend (aibplan.json's `backend`) and another one. BACKEND is
    `local` (the state file next to aibplan.json) or a backend's settings as JSON, inline or in a file.
    Refused when the target holds another stack's state or a newer one, or the source has a journal left
    by a run that stopped."""
    if (source is None) == (target is None):
        fail("give one of --from BACKEND or --to BACKEND (the other side is the stack's own backend)")
    other = source if source is not None else target
    assert other is not None
    root = Path(one_stack(stack, stack_dir))
    announce_environment(root)
    request = state_transfer.MigrateRequest(
        root, other, to_other=target is not None, lock_timeout=lock_timeout, environment=chosen_environment()
    )
    view = MovedStateText()
    emit(view.show(call(lambda: state_transfer.migrate(request), view)))
    sys.exit(EXIT_OK)


@state.command("list")
@_STACK
@click.option("--json", "json_flag", is_flag=True, help="Print one JSON document.")
@stack_dir_option
@no_color_option
def state_list(stack: str | None, stack_dir: str | None, json_flag: bool) -> None:
    """List the addresses the state tracks (tainted ones are marked)."""
    view = state_list_view("json" if json_flag else "text")
    root = Path(one_stack(stack, stack_dir))
    announce_environment(root)
    emit(view.show(call(lambda: ops.list_state(root, chosen_environment()), view)))
    sys.exit(EXIT_OK)


@state.command("show")
@click.argument("address", shell_complete=complete_addresses)
@_STACK
@stack_dir_option
@no_color_option
def state_show(address: str, stack: str | None, stack_dir: str | None) -> None:
    """Print one resource's state entry as JSON (secrets appear as fingerprints)."""
    view = StateEntryJson()
    root = Path(one_stack(stack, stack_dir))
    announce_environment(root)
    emit(view.show(call(lambda: ops.show_entry(root, address, chosen_environment()), view)))
    sys.exit(EXIT_OK)


@state.command("rm")
@click.argument("address", shell_complete=complete_addresses)
@_STACK
@stack_dir_option
@lock_timeout_option
@no_color_option
def state_rm(address: str, stack: str | None, stack_dir: str | None, lock_timeout: float) -> None:
    """Stop tracking ADDRESS; the resource stays in the cloud, unmanaged."""
    root = Path(one_stack(stack, stack_dir))
    announce_environment(root)
    request = ops.StateEditRequest(root, address, lock_timeout=lock_timeout, environment=chosen_environment())
    view = Removed(address)
    emit(view.show(call(lambda: ops.edit_state(request, CliHooks()), view)))
    sys.exit(EXIT_OK)


@state.command("mv")
@click.argument("source", metavar="FROM", shell_complete=complete_addresses)
@click.argument("target", metavar="TO", shell_complete=complete_addresses)
@_STACK
@stack_dir_option
@lock_timeout_option
@no_color_option
def state_mv(source: str, target: str, stack: str | None, stack_dir: str | None, lock_timeout: float) -> None:
    """Track the resource known as FROM under the address TO (after a rename in the stack)."""
    root = Path(one_stack(stack, stack_dir))
    announce_environment(root)
    request = ops.StateEditRequest(
        root, source, target=target, lock_timeout=lock_timeout, environment=chosen_environment()
    )
    view = Moved(source, target)
    emit(view.show(call(lambda: ops.edit_state(request, CliHooks()), view)))
    sys.exit(EXIT_OK)


@click.command("import")
@click.argument("address", shell_complete=complete_addresses)
@click.argument("arm_id", metavar="ARM_ID")
@_STACK
@lock_timeout_option
@stack_options
def import_(address: str, arm_id: str, stack: str | None, loading: StackLoading, lock_timeout: float) -> None:
    """Track an existing cloud resource ARM_ID as ADDRESS, which the stack must declare."""
    announce_environment(loading.request(stack).root)
    request = ops.ImportRequest(
        loading.request(stack),
        address,
        arm_id,
        lock_timeout=lock_timeout,
    )
    view = Imported(address, arm_id)
    emit(view.show(call(lambda: ops.import_resource(request, CliHooks()), view)))
    sys.exit(EXIT_OK)


@click.command("force-unlock")
@click.argument("lock_id", metavar="LOCK_ID")
@_STACK
@stack_dir_option
@no_color_option
def force_unlock_(lock_id: str, stack: str | None, stack_dir: str | None) -> None:
    """Clear a lock left by a run that is gone (the error that reported it gives LOCK_ID)."""
    root = Path(one_stack(stack, stack_dir))
    announce_environment(root)
    view = UnlockedText(lock_id)
    emit(view.show(call(lambda: ops.force_unlock(root, lock_id, chosen_environment()), view)))
    sys.exit(EXIT_OK)


__all__ = ["force_unlock_", "import_", "state"]
