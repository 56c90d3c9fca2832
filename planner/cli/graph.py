"""`aibplan graph`."""

from __future__ import annotations

import sys

import click

from .. import operations as ops
from ..render.graph import to_dot, to_mermaid
from ..views.base import TextRejection
from .common import EXIT_OK, StackLoading, announce_environment, call, out, stack_options


@click.command()
@click.argument("stack", required=False, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot", show_default=True)
@stack_options
def graph(stack: str | None, loading: StackLoading, fmt: str) -> None:
    """Print the dependency graph with the reason on each edge."""
    request = loading.request(stack)
    announce_environment(request.root)
    found = call(lambda: ops.graph(request), TextRejection())
    out(to_dot(found) if fmt == "dot" else to_mermaid(found))
    sys.exit(EXIT_OK)
