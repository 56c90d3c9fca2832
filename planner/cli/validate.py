"""`aibplan validate`."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ..diagnostics import has_errors
from ..render.human import render_diagnostics, summary_counts
from ..render.sarif import render_sarif
from ..rules.registry import ALL_RULES
from ..rules.validate import validate_paths
from .common import EXIT_ERROR, EXIT_OK, err, out, parse_stack_options, stack_options, use_color


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[STACK | FILE...]")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="text: diagnostics on stderr, a summary on stdout; json or sarif (2.1.0): one document on stdout.",
)
@click.option("--strict", is_flag=True, help="Count warnings as errors for the exit code.")
@stack_options
def validate(
    paths: Sequence[Path],
    fmt: str,
    strict: bool,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
) -> None:
    """Check a stack, or template files, against the rules of the AIB reference and API, offline.

    With a folder (default: the current one) the stack is checked. With files, each file inside a stack is
    checked with its stack and files outside any stack are checked alone: values a stack would give (the
    subscription, resource group, location, parameters without a value) are reported, not guessed.
    Exit 0 without errors (with --strict: without warnings either), 1 otherwise.
    """
    options = parse_stack_options(".", variables, var_files, provider)
    result = validate_paths(
        list(paths) or [Path(".")],
        variables=options.variables,
        var_files=options.var_files,
        provider=options.provider,
    )
    diagnostics = result.diagnostics
    counts = summary_counts(diagnostics)
    if fmt == "json":
        document = {
            "format_version": "1",
            "diagnostics": [d.to_json() for d in diagnostics],
            "summary": counts,
        }
        out(json.dumps(document, indent=2) + "\n")
    elif fmt == "sarif":
        out(json.dumps(render_sarif(diagnostics, ALL_RULES, base=result.base), indent=2) + "\n")
    else:
        err(render_diagnostics(diagnostics, color=use_color(sys.stderr)))
        verdict = "Failed:" if has_errors(diagnostics) else "Success!"
        out(
            f"{verdict} {result.resources} resource(s) checked: {counts['errors']} error(s), "
            f"{counts['warnings']} warning(s).\n"
        )
    failed = has_errors(diagnostics) or (strict and counts["warnings"] > 0)
    sys.exit(EXIT_ERROR if failed else EXIT_OK)
