"""`aibplan validate`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ..diagnostics import has_errors
from ..render.human import summary_counts
from ..rules.validate import validate_paths
from ..views import validation_view
from .common import (
    EXIT_ERROR,
    EXIT_OK,
    StackLoading,
    announce_environment,
    emit,
    fail,
    stack_options,
    use_color,
)


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
def validate(paths: Sequence[Path], loading: StackLoading, fmt: str, strict: bool) -> None:
    """Check a stack, or template files, against the rules of the AIB reference and API, offline.

    With a folder (default: the current one) the stack is checked. With files, each file inside a stack is
    checked with its stack and files outside any stack are checked alone: values a stack would give (the
    subscription, resource group, location, parameters without a value) are reported, not guessed.
    Exit 0 without errors (with --strict: without warnings either), 1 otherwise.
    """
    if loading.stack_dir is not None and paths:
        fail(f"give the stack folder once: -C {loading.stack_dir} or {paths[0]}")
    request = loading.request()
    folder = paths[0] if len(paths) == 1 and paths[0].is_dir() else None if paths else request.root
    if folder is not None:
        announce_environment(folder)
    view = validation_view(fmt, color=use_color(sys.stderr))
    result = validate_paths(
        list(paths) or [request.root],
        variables=request.variables,
        var_files=request.var_files,
        provider=request.provider,
        environment=request.environment,
    )
    emit(view.show(result))
    failed = has_errors(result.diagnostics) or (strict and summary_counts(result.diagnostics)["warnings"] > 0)
    sys.exit(EXIT_ERROR if failed else EXIT_OK)
