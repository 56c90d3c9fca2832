"""`aibplan state list|show|rm|mv`, `aibplan import` and `aibplan force-unlock`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import operations as ops
from ..views import Imported, Moved, Removed, StateEntryJson, UnlockedText, state_list_view
from .common import (
    EXIT_OK,
    StackLoading,
    call,
    emit,
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
    """Read and edit the state file: list, show, rm, mv (the stack folder last, or as -C DIR)."""


@state.command("list")
@_STACK
@click.option("--json", "json_flag", is_flag=True, help="Print one JSON document.")
@stack_dir_option
@no_color_option
def state_list(stack: str | None, stack_dir: str | None, json_flag: bool) -> None:
    """List the addresses the state tracks (tainted ones are marked)."""
    view = state_list_view("json" if json_flag else "text")
    root = Path(one_stack(stack, stack_dir))
    emit(view.show(call(lambda: ops.list_state(root), view)))
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
    emit(view.show(call(lambda: ops.show_entry(root, address), view)))
    sys.exit(EXIT_OK)


@state.command("rm")
@click.argument("address", shell_complete=complete_addresses)
@_STACK
@stack_dir_option
@lock_timeout_option
@no_color_option
def state_rm(address: str, stack: str | None, stack_dir: str | None, lock_timeout: float) -> None:
    """Stop tracking ADDRESS; the resource stays in the cloud, unmanaged."""
    request = ops.StateEditRequest(Path(one_stack(stack, stack_dir)), address, lock_timeout=lock_timeout)
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
    request = ops.StateEditRequest(
        Path(one_stack(stack, stack_dir)), source, target=target, lock_timeout=lock_timeout
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
    view = UnlockedText(lock_id)
    emit(view.show(call(lambda: ops.force_unlock(root, lock_id), view)))
    sys.exit(EXIT_OK)


__all__ = ["force_unlock_", "import_", "state"]
