"""`aibplan drift`: read-only; the cloud against the state file. Exit 0 no drift, 2 drift, 1 error."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from .. import operations as ops
from ..views import drift_view
from .common import EXIT_CHANGES, EXIT_OK, call, emit, one_stack, stack_options, stack_request, use_color
from .plan_apply import FORMATS
from .progress import CliHooks


@click.command()
@click.argument("stack", required=False, type=click.Path())
@click.option("--json", "json_flag", is_flag=True, help="Print the report as one JSON document.")
@click.option(
    "--format",
    "fmt",
    type=FORMATS,
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
    stack: str | None,
    stack_dir: str | None,
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
    view = drift_view("json" if json_flag else fmt, color=use_color(sys.stdout))
    request = ops.DriftRequest(
        stack_request(one_stack(stack, stack_dir), variables, var_files, provider), include_unmanaged
    )
    result = call(lambda: ops.drift(request, CliHooks()), view)
    emit(view.show(result))
    sys.exit(EXIT_CHANGES if result.report.has_drift else EXIT_OK)
