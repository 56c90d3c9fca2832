"""`aibplan graph`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ..render.graph import to_dot, to_mermaid
from .common import EXIT_OK, out, parse_stack_options, prepare_or_exit, stack_options


@click.command()
@click.argument("stack", default=".", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot", show_default=True)
@stack_options
def graph(
    stack: str, fmt: str, variables: Sequence[str], var_files: Sequence[Path], provider: str | None
) -> None:
    """Print the dependency graph with the reason on each edge."""
    options = parse_stack_options(stack, variables, var_files, provider)
    prepared = prepare_or_exit(options)
    out(to_dot(prepared.graph) if fmt == "dot" else to_mermaid(prepared.graph))
    sys.exit(EXIT_OK)
