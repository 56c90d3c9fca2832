"""`aibplan sim`: act on the local simulated cloud as a person in the portal (or bad luck) would.

Each subcommand changes the simulated cloud behind aibplan's back, so that plans, drift and builds can be
tried out against situations a real subscription produces. Only the local provider has a simulated cloud.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from providers.build_machine import FAILABLE_STEPS, steps_for
from providers.local import LocalProvider

from ..builds.select import resolve_addresses
from ..engine import EngineError, Prepared
from ..retry import unwrap
from .builds import split_stack
from .common import EXIT_OK, fail, opened_provider, out, parse_stack_options, prepare_or_exit, stack_options


@click.group()
def sim() -> None:
    """Change the local simulated cloud behind aibplan's back (local provider only)."""


def _template(
    args: Sequence[str], variables: Sequence[str], var_files: Sequence[Path], provider: str | None
) -> tuple[Prepared, str]:
    stack, names = split_stack(args)
    if len(names) != 1:
        fail("name one image template, e.g. `aibplan sim build-fail imageTemplate.NAME`")
    prepared = prepare_or_exit(parse_stack_options(stack, variables, var_files, provider))
    try:
        (address,) = resolve_addresses(prepared.stack, names)
    except EngineError as exc:
        fail(str(exc))
    return prepared, address


@sim.command("build-fail")
@click.argument("args", nargs=-1, metavar="[STACK] ADDRESS")
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
    args: Sequence[str],
    step: str,
    message: str | None,
    hang: bool,
    clear: bool,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
) -> None:
    """Make the next build of an image template fail at a step (or hang there until it times out)."""
    prepared, address = _template(args, variables, var_files, provider)
    resource = prepared.stack.by_address[address]
    with opened_provider(prepared) as wrapped:
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
