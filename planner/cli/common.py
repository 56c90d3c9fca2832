"""Helpers shared by the command modules: output streams, stack options, loading, confirmation, progress."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import click

from providers.base import Provider, ProviderError
from state import State

from ..diagnostics import Diagnostic, Severity
from ..engine import EngineError, Prepared, open_provider, prepare, read_state
from ..hooks import Hooks
from ..loader import parse_var
from ..plan import Plan, make_plan
from ..render.human import render_diagnostics, summary_counts
from .provider_errors import one_line
from .verbose import verbose_option

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130


def use_color(stream: Any) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def out(text: str) -> None:
    click.echo(text, nl=False)


def err(text: str) -> None:
    click.echo(text, nl=False, err=True)


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
        report_stopping([*warnings, *plan.diagnostics], json_output=False)
        sys.exit(EXIT_ERROR)
    return Plan(**{**plan.__dict__, "diagnostics": (*warnings, *plan.diagnostics)})


class ConsoleHooks(Hooks):
    """Plain progress lines on stderr, Terraform's words; a ticker says what is still running."""

    _VERBS: ClassVar[dict[str, tuple[str, str]]] = {
        "create": ("Creating...", "Creation complete"),
        "update": ("Modifying...", "Modifications complete"),
        "delete": ("Destroying...", "Destruction complete"),
        "replace (delete)": ("Destroying... (replace)", "Destruction complete"),
        "replace (create)": ("Creating... (replace)", "Creation complete"),
    }

    def __init__(self, tick: float = 10.0) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._tick = tick
        self._thread = threading.Thread(target=self._ticker, daemon=True, name="aibplan-progress")
        self._thread.start()

    def close(self) -> None:
        self._stop.set()

    def _ticker(self) -> None:
        while not self._stop.wait(self._tick):
            with self._lock:
                now = time.monotonic()
                for address, (action, started) in sorted(self._running.items()):
                    word = {"create": "creating", "update": "modifying"}.get(action, "destroying")
                    err(f"{address}: Still {word}... [{int(now - started)}s elapsed]\n")

    def pre_apply(self, address: str, action: str) -> None:
        with self._lock:
            self._running[address] = (action, time.monotonic())
            err(f"{address}: {self._VERBS.get(action, (action, ''))[0]}\n")

    def post_apply(self, address: str, action: str, elapsed: float, error: BaseException | None) -> None:
        with self._lock:
            self._running.pop(address, None)
            if error is None:
                err(f"{address}: {self._VERBS.get(action, ('', 'Done'))[1]} after {int(elapsed)}s\n")
            else:
                err(f"{address}: {action} failed after {int(elapsed)}s\n")

    def skipped(self, address: str, action: str, reason: str) -> None:
        with self._lock:
            err(f"{address}: skipped ({reason})\n")

    def retrying(self, address: str, action: str, attempt: int, delay: float, error: BaseException) -> None:
        with self._lock:
            err(f"{address}: retrying {action} in {delay:.1f}s (attempt {attempt}): {error}\n")

    def message(self, text: str) -> None:
        with self._lock:
            err(text + "\n")


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
