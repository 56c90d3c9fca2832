"""`aibplan drift`: read-only; the cloud against the state file. Exit 0 no drift, 2 drift, 1 error."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from providers.base import ProviderError

from ..diagnostics import EngineError
from ..execution.engine import open_provider
from ..planning.drift import stack_drift
from ..render.drift import drift_report_to_json, render_drift_report
from ..render.markdown import drift_to_markdown
from ..stack.loader import load_stack
from .common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    fail,
    out,
    parse_stack_options,
    report_stopping,
    stack_options,
    use_color,
)
from .writer import read_for_plan_or_exit


@click.command()
@click.argument("stack", default=".", type=click.Path())
@click.option("--json", "json_flag", is_flag=True, help="Print the report as one JSON document.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="markdown: a summary for pull-request comments and $GITHUB_STEP_SUMMARY, with a Mermaid graph.",
)
@click.option(
    "--include-unmanaged",
    is_flag=True,
    help="Also report resources of the managed kinds in the resource group that no state knows.",
)
@stack_options
def drift(
    stack: str,
    json_flag: bool,
    fmt: str,
    include_unmanaged: bool,
    variables: Sequence[str],
    var_files: Sequence[Path],
    provider: str | None,
) -> None:
    """Compare what the cloud holds with the state file, read-only.

    Reports resources changed outside aibplan (with the attributes that differ), deleted outside
    aibplan, templates the service now reports as Failed and, with --include-unmanaged, resources of
    the managed kinds in the resource group that no state knows. Exit 0: no drift; 2: drift; 1: error.
    """
    fmt = "json" if json_flag else fmt
    options = parse_stack_options(stack, variables, var_files, provider)
    loaded, diagnostics = load_stack(
        options.root, variables=options.variables, var_files=options.var_files, provider=options.provider
    )
    if loaded is None:
        report_stopping(diagnostics, fmt == "json")
        sys.exit(EXIT_ERROR)
    try:
        cloud = open_provider(loaded)
    except EngineError as exc:
        fail(str(exc))
    try:
        state = read_for_plan_or_exit(loaded, cloud)
        report = stack_drift(loaded, state, cloud, include_unmanaged=include_unmanaged)
    except ProviderError as exc:
        fail(f"reading the cloud failed: {exc}")
    finally:
        cloud.close()
    if fmt == "json":
        out(json.dumps(drift_report_to_json(report), indent=2, sort_keys=True) + "\n")
    elif fmt == "markdown":
        out(drift_to_markdown(report))
    else:
        out(render_drift_report(report, color=use_color(sys.stdout)))
    sys.exit(EXIT_CHANGES if report.has_drift else EXIT_OK)
