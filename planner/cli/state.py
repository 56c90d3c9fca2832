"""`aibplan state list|show|rm|mv|pull|push|migrate`, `aibplan import` and `aibplan force-unlock`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from .. import operations as ops
from ..operations import state_transfer
from ..views import (
    GeneratedText,
    Imported,
    ImportedAllText,
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
from .positional import looks_like_address
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
@click.argument("args", nargs=-1, metavar="[ADDRESS [ARM_ID]] [STACK]", shell_complete=complete_addresses)
@click.option(
    "--all",
    "import_every",
    is_flag=True,
    help="Import every resource the stack declares that exists and the state does not track yet.",
)
@lock_timeout_option
@stack_options
def import_(args: Sequence[str], import_every: bool, loading: StackLoading, lock_timeout: float) -> None:
    """Track an existing cloud resource as ADDRESS, which the stack must declare.

    The resource is the one at the id the stack gives ADDRESS (its subscription, resource group and
    name), or ARM_ID when given. With --all, every declared resource that exists and is not in the state
    yet is imported (those that do not exist are left for apply to create).
    """
    if import_every:
        if len(args) > 1 or (args and looks_like_address(args[0])):
            raise click.UsageError("--all takes no ADDRESS: aibplan import --all [STACK]")
        request = ops.ImportAllRequest(loading.request(args[0] if args else None), lock_timeout=lock_timeout)
        announce_environment(request.stack.root)
        view = ImportedAllText()
        emit(view.show(call(lambda: ops.import_all(request, CliHooks()), view)))
        sys.exit(EXIT_OK)
    if not args:
        raise click.UsageError("Missing argument 'ADDRESS' (or --all to import every declared resource)")
    address, rest = args[0], list(args[1:])
    if len(rest) > 2:
        raise click.UsageError(f"expected ADDRESS [ARM_ID] [STACK], got {len(args)} arguments")
    arm_id = rest.pop(0) if len(rest) == 2 or (rest and _is_arm_id(rest[0])) else None
    single = ops.ImportRequest(
        loading.request(rest[0] if rest else None), address, arm_id, lock_timeout=lock_timeout
    )
    announce_environment(single.stack.root)
    shown = Imported(address)
    emit(shown.show(call(lambda: ops.import_resource(single, CliHooks()), shown)))
    sys.exit(EXIT_OK)


def _is_arm_id(text: str) -> bool:
    """An operand after ADDRESS is the ARM id unless it names a stack folder (ids are never folders)."""
    return text.lower().startswith("/subscriptions/") or not Path(text).is_dir()


@click.command("generate")
@click.argument("scopes", nargs=-1, required=True, metavar="RESOURCE_GROUP_OR_ID...")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The stack folder to write into (created if needed; nothing in it is overwritten).",
)
@click.option(
    "--provider",
    type=click.Choice(["local", "azure"]),
    default=None,
    help="Where to read from when --out has no aibplan.json yet (default: azure).",
)
@click.option(
    "--subscription",
    default=None,
    metavar="ID",
    help="The subscription of a resource group given by name (a group or resource id carries its own).",
)
@no_color_option
def generate(scopes: Sequence[str], out: Path, provider: str | None, subscription: str | None) -> None:
    """Write resource files from what the cloud holds: every identity, gallery, image definition and image
    template in a resource group, or the resources given by id (with their children).

    One file per resource, normalised (what the service fills in and its defaults left out, references to
    other generated resources written as resourceId(...)), and aibplan.json when --out has none. Then
    `aibplan import --all DIR` adopts them and `aibplan plan DIR` says No changes.
    """
    request = ops.GenerateRequest(tuple(scopes), out, provider=provider, subscription=subscription)
    view = GeneratedText()
    emit(view.show(call(lambda: ops.generate(request, CliHooks()), view)))
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


__all__ = ["force_unlock_", "generate", "import_", "state"]
