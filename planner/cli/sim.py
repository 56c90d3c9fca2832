"""`aibplan sim`: act on the local simulated cloud as a person in the Azure portal (or bad luck) would.

These commands change the cloud behind the state's back, to make drift, failed templates, running builds
and failed builds on purpose: for demos, tests and trying out `aibplan drift`. They never touch the state
file and only work with the local provider. `[STACK]` comes first and must be a folder, as for `run`.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from providers.simulated.build_machine import FAILABLE_STEPS, steps_for
from providers.simulated.local import LocalProvider

from ..builds.select import resolve_addresses
from ..diagnostics import EngineError
from ..execution.engine import open_provider
from ..execution.portal import CloudResource, Portal, PortalError, parse_value
from ..execution.retry import unwrap
from ..execution.state_access import StackState
from ..operations.workspace import open_stack
from ..stack.loader import load_stack
from ..stack.model import Stack
from ..views.base import TextRejection
from .common import (
    EXIT_ERROR,
    EXIT_OK,
    StackLoading,
    announce_environment,
    call,
    chosen_environment,
    emit,
    err,
    fail,
    out,
    stack_dir_option,
    stack_options,
)
from .completion import complete_addresses
from .positional import split_stack


@click.group()
def sim() -> None:
    """Change the local simulated cloud as a person in the portal would (local provider only).

    Every command takes the stack folder last, or as -C DIR (default: the current directory), and acts on
    that stack's resource group in its local cloud (.aibplan/local-cloud.db). TARGET is an address such as
    imageTemplate.ubuntu2204 (from the stack or the state) or a full ARM resource id. The state file is
    never changed: run `aibplan drift` or `aibplan plan` afterwards to see what aibplan makes of it.
    """


def split_args(args: Sequence[str], stack_dir: str | None, names: Sequence[str]) -> tuple[str, list[str]]:
    """`NAME... [STACK]` (docs/cli.md: the one positional rule; `[STACK] NAME...` still works)."""
    return split_stack(args, stack_dir, names=names, usage=" ".join([*names, "[STACK]"]))


@contextmanager
def portal_for(stack: str) -> Iterator[Portal]:
    """The portal of the stack in `stack` (exits with a one-line error when it cannot be opened)."""
    announce_environment(Path(stack))
    loaded, diagnostics = load_stack(Path(stack), environment=chosen_environment())
    if loaded is None:
        emit(TextRejection().rejected(diagnostics))
        sys.exit(EXIT_ERROR)
    try:
        state, _ = StackState(loaded).read()
        wrapped = open_provider(loaded)
    except EngineError as exc:
        fail(str(exc))
    provider = unwrap(wrapped)
    try:
        if not isinstance(provider, LocalProvider):
            fail(
                "`aibplan sim` acts on the local simulated cloud; "
                f"this stack uses the {provider.name} provider"
            )
        yield Portal(provider.service, loaded, state)
    except PortalError as exc:
        fail(str(exc))
    finally:
        provider.close()


def _show(resource: CloudResource) -> None:
    out(json.dumps(dict(resource.body), indent=2, sort_keys=True) + "\n")


@sim.command("list")
@click.argument("args", nargs=-1, metavar="[STACK]")
@stack_dir_option
@click.option("--json", "json_flag", is_flag=True, help="One JSON document.")
def list_(args: Sequence[str], stack_dir: str | None, json_flag: bool) -> None:
    """List what the resource group holds in the local cloud."""
    stack, _ = split_args(args, stack_dir, ())
    with portal_for(stack) as portal:
        items = portal.list()
    if json_flag:
        out(json.dumps({"format_version": "1", "resources": [i.summary() for i in items]}, indent=2) + "\n")
        sys.exit(EXIT_OK)
    if not items:
        out("The resource group is empty.\n")
        sys.exit(EXIT_OK)
    rows = []
    for item in items:
        info = item.summary()
        status = info["provisioningState"] or "-"
        if info["runState"]:
            status += f", build {info['runState']}"
        rows.append((info["address"] or item.arm_id, status, "" if item.in_state else "not in state"))
    width = max(len(r[0]) for r in rows)
    for address, status, note in rows:
        out(f"{address.ljust(width)}  {status}{'  (' + note + ')' if note else ''}\n")
    sys.exit(EXIT_OK)


@sim.command()
@click.argument("args", nargs=-1, metavar="TARGET [STACK]", shell_complete=complete_addresses)
@stack_dir_option
def show(args: Sequence[str], stack_dir: str | None) -> None:
    """Print a resource as the cloud holds it (JSON)."""
    stack, (target,) = split_args(args, stack_dir, ("TARGET",))
    with portal_for(stack) as portal:
        _show(portal.show(target))
    sys.exit(EXIT_OK)


@sim.command("set-tag")
@click.argument("args", nargs=-1, metavar="TARGET KEY=VALUE [STACK]", shell_complete=complete_addresses)
@stack_dir_option
def set_tag(args: Sequence[str], stack_dir: str | None) -> None:
    """Set a tag (added or changed), as in the portal's Tags blade."""
    stack, (target, assignment) = split_args(args, stack_dir, ("TARGET", "KEY=VALUE"))
    key, sep, value = assignment.partition("=")
    if not sep or not key:
        fail(f"{assignment!r}: expected KEY=VALUE")
    with portal_for(stack) as portal:
        portal.set_tags(target, {key: value})
    err(f"{target}: tag {key}={value!r} set in the local cloud (the state does not know).\n")
    sys.exit(EXIT_OK)


@sim.command("remove-tag")
@click.argument("args", nargs=-1, metavar="TARGET KEY [STACK]", shell_complete=complete_addresses)
@stack_dir_option
def remove_tag(args: Sequence[str], stack_dir: str | None) -> None:
    """Remove a tag."""
    stack, (target, key) = split_args(args, stack_dir, ("TARGET", "KEY"))
    with portal_for(stack) as portal:
        portal.set_tags(target, {key: None})
    err(f"{target}: tag {key!r} removed in the local cloud (the state does not know).\n")
    sys.exit(EXIT_OK)


@sim.command()
@click.argument("args", nargs=-1, metavar="TARGET PATH=VALUE [STACK]", shell_complete=complete_addresses)
@stack_dir_option
@click.option("--remove", is_flag=True, help="Remove the value at PATH (give PATH alone).")
def edit(args: Sequence[str], stack_dir: str | None, remove: bool) -> None:
    """Set a property: PATH such as properties.vmProfile.vmSize, VALUE as JSON or a plain string.

    Examples: properties.vmProfile.osDiskSizeGB=64, properties.description="Golden images",
    location=eastus. Edits skip the service's update rules, so anything can be changed.
    """
    stack, (target, assignment) = split_args(args, stack_dir, ("TARGET", "PATH=VALUE"))
    value: Any = None
    if remove:
        path = assignment
    else:
        path, sep, text = assignment.partition("=")
        if not sep or not path:
            fail(f"{assignment!r}: expected PATH=VALUE (or PATH with --remove)")
        value = parse_value(text)
    with portal_for(stack) as portal:
        portal.edit(target, path, value, remove=remove)
    what = "removed" if remove else f"set to {json.dumps(value)}"
    err(f"{target}: {path} {what} in the local cloud (the state does not know).\n")
    sys.exit(EXIT_OK)


@sim.command()
@click.argument("args", nargs=-1, metavar="TARGET [STACK]", shell_complete=complete_addresses)
@stack_dir_option
@click.option(
    "--force",
    is_flag=True,
    help="Delete even what the service would refuse (with the resources nested under it).",
)
def delete(args: Sequence[str], stack_dir: str | None, force: bool) -> None:
    """Delete a resource as the portal would (a gallery with image definitions is refused, ...)."""
    stack, (target,) = split_args(args, stack_dir, ("TARGET",))
    with portal_for(stack) as portal:
        arm_id = portal.delete(target, force=force)
        known = any(e.arm_id.lower() == arm_id.lower() for e in portal.state.resources)
    note = "the state still lists it" if known else "the state never knew it"
    err(f"{target}: deleted from the local cloud ({arm_id}); {note}.\n")
    sys.exit(EXIT_OK)


@sim.command("fail")
@click.argument("args", nargs=-1, metavar="TARGET [STACK]", shell_complete=complete_addresses)
@stack_dir_option
@click.option(
    "--message",
    default="The template deployment failed (made by aibplan sim).",
    show_default=True,
    help="The provisioning error message the service reports.",
)
def fail_template(args: Sequence[str], stack_dir: str | None, message: str) -> None:
    """Make the service report an image template as Failed (as after a failed submission)."""
    stack, (target,) = split_args(args, stack_dir, ("TARGET",))
    with portal_for(stack) as portal:
        portal.mark_failed(target, message)
    err(f"{target}: provisioningState is now Failed in the local cloud.\n")
    sys.exit(EXIT_OK)


@sim.command("start-build")
@click.argument("args", nargs=-1, metavar="TARGET [STACK]", shell_complete=complete_addresses)
@stack_dir_option
def start_build(args: Sequence[str], stack_dir: str | None) -> None:
    """Start a build of an image template that stays running (its customizer hangs) until it is
    canceled, or fails when its buildTimeoutInMinutes runs out."""
    stack, (target,) = split_args(args, stack_dir, ("TARGET",))
    with portal_for(stack) as portal:
        portal.start_build(target)
    err(f"{target}: a build is running in the local cloud and will not finish by itself.\n")
    sys.exit(EXIT_OK)


def _template(args: Sequence[str], loading: StackLoading) -> tuple[Stack, str]:
    stack, names = split_stack(args, loading.stack_dir)
    if len(names) != 1:
        fail("name one image template, e.g. `aibplan sim build-fail imageTemplate.NAME`")
    announce_environment(Path(stack))
    request = loading.request_at(stack)
    loaded = call(lambda: open_stack(request).stack, TextRejection())
    try:
        (address,) = resolve_addresses(loaded, names)
    except EngineError as exc:
        fail(str(exc))
    return loaded, address


@sim.command("build-fail")
@click.argument("args", nargs=-1, metavar="ADDRESS [STACK]", shell_complete=complete_addresses)
@click.option(
    "--step",
    type=click.Choice(FAILABLE_STEPS),
    default="Customizing",
    show_default=True,
    help="The runSubState at whose end the build fails.",
)
@click.option("--message", default=None, help="The service message the failed build reports.")
@click.option(
    "--hang",
    is_flag=True,
    help="The step never ends (a customizer waiting for input): the build fails when "
    "buildTimeoutInMinutes runs out.",
)
@click.option("--clear", is_flag=True, help="Remove a failure planted earlier instead.")
@stack_options
def build_fail(
    args: Sequence[str], loading: StackLoading, step: str, message: str | None, hang: bool, clear: bool
) -> None:
    """Make the next build of an image template fail at a step (or hang there until it times out)."""
    loaded, address = _template(args, loading)
    resource = loaded.by_address[address]
    try:
        wrapped = open_provider(loaded)
    except EngineError as exc:
        fail(str(exc))
    with contextlib.closing(wrapped):
        cloud = unwrap(wrapped)
        if not isinstance(cloud, LocalProvider):
            fail(
                f"`aibplan sim` acts on the local simulated cloud; this stack uses the {cloud.name} provider"
            )
        if clear:
            removed = cloud.service.clear_build_fault(resource.arm_id)
            out(f"{address}: {'planted failure removed' if removed else 'no failure was planted'}.\n")
            sys.exit(EXIT_OK)
        steps = [name for name, _minutes in steps_for(resource.properties)]
        if step not in steps:
            fail(f"a build of {address} has no {step} step (its steps: {', '.join(steps)})")
        cloud.service.plant_build_fault(resource.arm_id, step, message=message, hang=hang)
    how = "hangs at" if hang else "fails at"
    out(f"{address}: its next build {how} {step}.\n")
    sys.exit(EXIT_OK)
