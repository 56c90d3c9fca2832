"""`aibplan drift`: read-only; the cloud against the state file. Exit 0 no drift, 2 drift, 1 error."""

from __future__ import annotations

import sys

import click

from .. import operations as ops
from ..views import drift_view
from .common import EXIT_CHANGES, EXIT_OK, StackLoading, call, emit, format_option, stack_options, use_color
from .progress import CliHooks


@click.command()
@click.argument("stack", required=False, type=click.Path())
@format_option
@click.option(
    "--include-unmanaged",
    is_flag=True,
    help="Also report resources of the managed kinds in the resource group that no state knows.",
)
@stack_options
def drift(stack: str | None, loading: StackLoading, fmt: str, include_unmanaged: bool) -> None:
    """Compare what the cloud holds with the state file, read-only.

    Reports resources changed outside aibplan (with the attributes that differ), deleted outside
    aibplan, templates the service now reports as Failed and, with --include-unmanaged, resources of
    the managed kinds in the resource group that no state knows. Exit 0: no drift; 2: drift; 1: error.
    """
    view = drift_view(fmt, color=use_color(sys.stdout))
    request = ops.DriftRequest(loading.request(stack), include_unmanaged)
    result = call(lambda: ops.drift(request, CliHooks()), view)
    emit(view.show(result))
    sys.exit(EXIT_CHANGES if result.report.has_drift else EXIT_OK)
