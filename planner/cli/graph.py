"""`aibplan graph`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from .. import operations as ops
from ..render.graph import to_dot, to_mermaid
from ..views.base import TextRejection
from .common import EXIT_OK, call, one_stack, out, stack_options, stack_request


@click.command()
@click.argument("stack", required=False, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot", show_default=True)
@stack_options
def graph(
    stack: str | None,
    stack_dir: str | None,
    fmt: str,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
) -> None:
    """Print the dependency graph with the reason on each edge."""
    request = stack_request(one_stack(stack, stack_dir), variables, var_files, provider)
    found = call(lambda: ops.graph(request), TextRejection())
    out(to_dot(found) if fmt == "dot" else to_mermaid(found))
    sys.exit(EXIT_OK)
