"""`aibplan validate`."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ..diagnostics import has_errors
from ..engine import prepare
from ..render.human import render_diagnostics, summary_counts
from .common import EXIT_ERROR, EXIT_OK, err, out, parse_stack_options, stack_options, use_color


@click.command()
@click.argument("stack", default=".", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Count warnings as errors for the exit code.")
@stack_options
def validate(
    stack: str,
    fmt: str,
    strict: bool,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
) -> None:
    """Check a stack against the rules of the AIB reference and API, offline."""
    options = parse_stack_options(stack, variables, var_files, provider)
    prepared, diagnostics = prepare(
        options.root, variables=options.variables, var_files=options.var_files, provider=options.provider
    )
    counts = summary_counts(diagnostics)
    if fmt == "json":
        out(
            json.dumps(
                {"format_version": "1", "diagnostics": [d.to_json() for d in diagnostics], "summary": counts},
                indent=2,
            )
            + "\n"
        )
    else:
        err(render_diagnostics(diagnostics, color=use_color(sys.stderr)))
        if prepared is not None:
            out(
                f"Success! {len(prepared.stack.resources)} resource(s) checked: {counts['errors']} error(s), "
                f"{counts['warnings']} warning(s).\n"
            )
    failed = has_errors(diagnostics) or (strict and counts["warnings"] > 0)
    sys.exit(EXIT_ERROR if failed else EXIT_OK)
