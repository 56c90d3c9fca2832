"""`aibplan env list`: the stack's environments (`--env NAME` or AIBPLAN_ENV selects one elsewhere)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..operations.environments import list_environments
from ..views.environments import environments_view
from .common import EXIT_OK, call, chosen_environment, emit, no_color_option, one_stack, stack_dir_option


@click.group("env")
def env() -> None:
    """A stack's environments: one folder, several deployments (docs/state.md, "Environments")."""


@env.command("list")
@click.argument("stack", required=False, type=click.Path())
@click.option("--json", "json_flag", is_flag=True, help="Print one JSON document.")
@stack_dir_option
@no_color_option
def env_list(stack: str | None, stack_dir: str | None, json_flag: bool) -> None:
    """List the stack's environments: resource group, subscription, where the state lives, the parameters
    file; `*` marks the one a command acts on without --env."""
    view = environments_view("json" if json_flag else "text")
    root = Path(one_stack(stack, stack_dir))
    emit(view.show(call(lambda: list_environments(root, chosen_environment()), view)))
    sys.exit(EXIT_OK)
