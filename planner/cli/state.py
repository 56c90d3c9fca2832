"""`aibplan state list|show|rm|mv`, `aibplan import` and `aibplan force-unlock`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import click
import networkx as nx

from state import State, save_state
from state.journal import journal_path
from state.lock import LockError, force_unlock

from ..diagnostics import EngineError
from ..execution import state_edit
from ..execution.engine import Prepared, read_state
from ..hooks import Hooks
from ..stack.loader import load_config
from ..stack.model import Stack
from .common import (
    EXIT_ERROR,
    EXIT_OK,
    err,
    fail,
    opened_provider,
    out,
    parse_stack_options,
    prepare_or_exit,
    report_stopping,
    stack_options,
)
from .writer import lock_or_exit, lock_timeout_option, recover_or_exit


def _config_stack(stack: str) -> Stack:
    """A stack with only its aibplan.json read: where the state and the runtime folder are."""
    root = Path(stack)
    config, diagnostics = load_config(root)
    if config is None:
        report_stopping(diagnostics, False)
        sys.exit(EXIT_ERROR)
    return Stack(root=root, config=config, resources=())


def _read(stack: Stack) -> State:
    try:
        return read_state(stack)[0]
    except EngineError as exc:
        fail(str(exc))


def _edit(stack_dir: str, operation: str, lock_timeout: float, edit: Callable[[State], State]) -> State:
    """Lock, reconcile a leftover journal, apply `edit`, save; the saved state."""
    stack = _config_stack(stack_dir)
    lock = lock_or_exit(stack, operation, lock_timeout)
    try:
        with opened_provider(Prepared(stack, nx.DiGraph(), ())) as cloud:
            state, existing = recover_or_exit(stack, cloud, Hooks())
        try:
            changed = edit(state)
        except EngineError as exc:
            fail(str(exc))
        return save_state(stack.state_path, changed, existing)
    finally:
        lock.release()


@click.group()
def state() -> None:
    """Read and edit the state file: list, show, rm, mv."""


@state.command("list")
@click.argument("stack", default=".", type=click.Path())
@click.option("--json", "json_flag", is_flag=True, help="Print one JSON document.")
def state_list(stack: str, json_flag: bool) -> None:
    """List the addresses the state tracks (tainted ones are marked)."""
    current = _read(_config_stack(stack))
    if json_flag:
        document = {
            "format_version": "1",
            "serial": current.serial,
            "lineage": current.lineage,
            "resources": [
                {"address": r.address, "id": r.arm_id, "type": r.arm_type, "tainted": r.tainted}
                for r in current.resources
            ],
        }
        out(json.dumps(document, indent=2, sort_keys=True) + "\n")
        sys.exit(EXIT_OK)
    for entry in current.resources:
        out(entry.address + (" (tainted)" if entry.tainted else "") + "\n")
    sys.exit(EXIT_OK)


@state.command("show")
@click.argument("address")
@click.argument("stack", default=".", type=click.Path())
def state_show(address: str, stack: str) -> None:
    """Print one resource's state entry as JSON (secrets appear as fingerprints)."""
    current = _read(_config_stack(stack))
    try:
        state_edit.check_address(address)
        entry = state_edit.entry_or_error(current, address)
    except EngineError as exc:
        fail(str(exc))
    out(json.dumps(entry.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    sys.exit(EXIT_OK)


@state.command("rm")
@click.argument("address")
@click.argument("stack", default=".", type=click.Path())
@lock_timeout_option
def state_rm(address: str, stack: str, lock_timeout: float) -> None:
    """Stop tracking ADDRESS; the resource stays in the cloud, unmanaged."""
    saved = _edit(stack, "state rm", lock_timeout, lambda s: state_edit.remove(s, address))
    out(f"Removed {address} from the state (serial {saved.serial}). The resource itself was not touched.\n")
    sys.exit(EXIT_OK)


@state.command("mv")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@click.argument("stack", default=".", type=click.Path())
@lock_timeout_option
def state_mv(source: str, target: str, stack: str, lock_timeout: float) -> None:
    """Track the resource known as FROM under the address TO (after a rename in the stack)."""
    saved = _edit(stack, "state mv", lock_timeout, lambda s: state_edit.move(s, source, target))
    out(f"Moved {source} to {target} (serial {saved.serial}).\n")
    sys.exit(EXIT_OK)


@click.command("import")
@click.argument("address")
@click.argument("arm_id", metavar="ARM_ID")
@click.argument("stack", default=".", type=click.Path())
@lock_timeout_option
@stack_options
def import_(
    address: str,
    arm_id: str,
    stack: str,
    lock_timeout: float,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
) -> None:
    """Track an existing cloud resource ARM_ID as ADDRESS, which the stack must declare."""
    try:
        state_edit.check_address(address)
    except EngineError as exc:
        fail(str(exc))
    options = parse_stack_options(stack, variables, var_files, provider)
    prepared = prepare_or_exit(options)
    lock = lock_or_exit(prepared.stack, "import", lock_timeout)
    try:
        with opened_provider(prepared) as cloud:
            current, existing = recover_or_exit(prepared.stack, cloud, Hooks())
            try:
                changed, notes = state_edit.import_resource(
                    prepared.stack, prepared.graph, current, cloud, address, arm_id
                )
            except EngineError as exc:
                fail(str(exc))
        saved = save_state(prepared.stack.state_path, changed, existing)
    finally:
        lock.release()
    for note in notes:
        err(note + "\n")
    out(
        f"Import successful: {address} now tracks {arm_id} (serial {saved.serial}).\n"
        "Run `aibplan plan` to see how it differs from the stack.\n"
    )
    sys.exit(EXIT_OK)


@click.command("force-unlock")
@click.argument("lock_id", metavar="LOCK_ID")
@click.argument("stack", default=".", type=click.Path())
def force_unlock_(lock_id: str, stack: str) -> None:
    """Clear a lock left by a run that is gone (the error that reported it gives LOCK_ID)."""
    target = _config_stack(stack)
    try:
        holder = force_unlock(target.runtime_dir, lock_id)
    except LockError as exc:
        fail(str(exc))
    out(
        f"The state lock {lock_id} ({holder.operation} by {holder.user}@{holder.host}, pid {holder.pid}) "
        "was cleared.\n"
    )
    if journal_path(target.runtime_dir).exists():
        out("The run it belonged to left a journal; the next apply reconciles it with the cloud.\n")
    sys.exit(EXIT_OK)
