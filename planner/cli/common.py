"""Helpers shared by the command modules: output streams, stack options, loading, confirmation, progress."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from providers.base import Provider, ProviderError
from state import State
from state.redact import redact_output

from ..diagnostics import Diagnostic, EngineError, Severity
from ..execution.engine import Prepared, open_provider, prepare, read_state
from ..hooks import Hooks
from ..planning.plan import make_plan
from ..plans.plan import Plan
from ..render.human import render_diagnostics, summary_counts
from ..stack.loader import parse_var
from .provider_errors import one_line
from .verbose import verbose_option

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130


def use_color(stream: Any) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def out(text: str) -> None:
    # Every line the command line prints passes here: a secret the loader found is never shown.
    click.echo(redact_output(text), nl=False)


def err(text: str) -> None:
    click.echo(redact_output(text), nl=False, err=True)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    err(f"Error: {message}\n")
    sys.exit(code)


@dataclass(frozen=True)
class StackOptions:
    root: Path
    variables: tuple[tuple[str, str], ...]
    var_files: tuple[Path, ...]
    provider: str | None


def stack_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = verbose_option(f)
    f = click.option(
        "--provider",
        type=click.Choice(["local", "azure"]),
        default=None,
        help="Override the provider set in aibplan.json.",
    )(f)
    f = click.option(
        "--var-file",
        "var_files",
        multiple=True,
        type=click.Path(path_type=Path),
        help="An ARM parameters file; may be repeated (later files win).",
    )(f)
    f = click.option(
        "--var",
        "variables",
        multiple=True,
        metavar="NAME=VALUE",
        help="Set a parameter; may be repeated; wins over files and aibplan.json.",
    )(f)
    return f


def parse_stack_options(
    stack: str, variables: Sequence[str], var_files: Sequence[Path], provider: str | None
) -> StackOptions:
    parsed = []
    for text in variables:
        try:
            parsed.append(parse_var(text))
        except ValueError as exc:
            fail(str(exc))
    return StackOptions(Path(stack), tuple(parsed), tuple(var_files), provider)


def prepare_or_exit(options: StackOptions, *, json_output: bool = False) -> Prepared:
    prepared, diagnostics = prepare(
        options.root, variables=options.variables, var_files=options.var_files, provider=options.provider
    )
    if prepared is None:
        report_stopping(diagnostics, json_output)
        sys.exit(EXIT_ERROR)
    return prepared


def report_stopping(diagnostics: Sequence[Diagnostic], json_output: bool) -> None:
    if json_output:
        out(
            json.dumps(
                {
                    "format_version": "1",
                    "diagnostics": [d.to_json() for d in diagnostics],
                    "summary": summary_counts(diagnostics),
                },
                indent=2,
            )
            + "\n"
        )
    err(render_diagnostics(diagnostics, color=use_color(sys.stderr)))
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    err(f"Error: {errors} error(s) stop aibplan here; fix them and run again.\n")


@contextmanager
def opened_provider(prepared: Prepared, hooks: Hooks | None = None) -> Iterator[Provider]:
    try:
        provider = open_provider(prepared.stack, hooks)
    except EngineError as exc:
        fail(str(exc))
    try:
        yield provider
    finally:
        provider.close()


def read_state_or_exit(prepared: Prepared) -> tuple[State, State | None]:
    try:
        return read_state(prepared.stack)
    except EngineError as exc:
        fail(str(exc))


def plan_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--no-refresh", is_flag=True, help="Compare with the state file only; do not read the cloud."
    )(f)
    return stack_options(f)


def make_plan_with_warnings(
    prepared: Prepared,
    provider: Provider,
    state: State,
    *,
    refresh: bool,
    destroy: bool,
    targets: Sequence[str] = (),
    replace_addresses: Sequence[str] = (),
    refresh_only: bool = False,
    json_output: bool = False,
) -> Plan:
    plan = make_plan(
        prepared.stack,
        prepared.graph,
        state,
        provider,
        refresh=refresh,
        destroy=destroy,
        targets=targets,
        replace_addresses=replace_addresses,
        refresh_only=refresh_only,
    )
    warnings = tuple(d for d in prepared.diagnostics if d.severity is Severity.WARNING)
    if any(d.severity is Severity.ERROR for d in plan.diagnostics):
        # What the cloud said makes the plan impossible (a referenced resource is missing).
        report_stopping([*warnings, *plan.diagnostics], json_output=json_output)
        sys.exit(EXIT_ERROR)
    return Plan(**{**plan.__dict__, "diagnostics": (*warnings, *plan.diagnostics)})


def confirm(question: str) -> bool:
    out(f"\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
    line = sys.stdin.readline()
    out("\n")
    return line.strip() == "yes"


@contextmanager
def interruptible(on_abort: Callable[[], None] | None = None) -> Iterator[threading.Event]:
    """First Ctrl-C: stop starting changes and let those in flight finish. Second: run `on_abort`
    (release the lock; the journal stays for the next command) and leave at once."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            if on_abort is not None:
                with contextlib.suppress(Exception):
                    on_abort()
            err("\nSecond interrupt: leaving now; the next command reconciles what was in flight.\n")
            os._exit(EXIT_INTERRUPTED)
        stop.set()
        err("\nInterrupt received: no new changes will start; waiting for those in flight...\n")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def guard(fn: Callable[[], Plan]) -> Plan:
    try:
        return fn()
    except ProviderError as exc:
        fail(f"reading the cloud failed: {one_line(exc)}")
