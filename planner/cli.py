"""The `aibplan` command line. The only module that imports click: it parses arguments, calls the engine,
hands results to a renderer and chooses the exit code (see docs/cli.md)."""

from __future__ import annotations

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
from typing import Any, NoReturn

import click

from providers.base import Provider
from state import State

from .apply import ApplyResult, apply_plan
from .diagnostics import Diagnostic, Severity, has_errors
from .engine import EngineError, Prepared, open_provider, prepare, read_state
from .hooks import Hooks
from .loader import parse_var
from .plan import Plan, make_plan
from .render.graph import to_dot, to_mermaid
from .render.human import render_diagnostics, render_plan, summary_counts
from .render.json_plan import plan_to_json

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130


def _color(stream: Any) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def _out(text: str) -> None:
    click.echo(text, nl=False)


def _err(text: str) -> None:
    click.echo(text, nl=False, err=True)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    _err(f"Error: {message}\n")
    sys.exit(code)


@dataclass(frozen=True)
class StackOptions:
    root: Path
    variables: tuple[tuple[str, str], ...]
    var_files: tuple[Path, ...]
    provider: str | None


def _stack_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--provider", type=click.Choice(["local", "azure"]), default=None,
                     help="Override the provider set in aibplan.json.")(f)
    f = click.option("--var-file", "var_files", multiple=True, type=click.Path(path_type=Path),
                     help="An ARM parameters file; may be repeated (later files win).")(f)
    f = click.option("--var", "variables", multiple=True, metavar="NAME=VALUE",
                     help="Set a parameter; may be repeated; wins over files and aibplan.json.")(f)
    return f


def _parse_stack_options(stack: str, variables: Sequence[str], var_files: Sequence[Path],
                         provider: str | None) -> StackOptions:
    parsed = []
    for text in variables:
        try:
            parsed.append(parse_var(text))
        except ValueError as exc:
            fail(str(exc))
    return StackOptions(Path(stack), tuple(parsed), tuple(var_files), provider)


def _prepare(options: StackOptions, *, json_output: bool = False) -> Prepared:
    prepared, diagnostics = prepare(options.root, variables=options.variables, var_files=options.var_files,
                                    provider=options.provider)
    if prepared is None:
        _report_stopping(diagnostics, json_output)
        sys.exit(EXIT_ERROR)
    return prepared


def _report_stopping(diagnostics: Sequence[Diagnostic], json_output: bool) -> None:
    if json_output:
        _out(json.dumps({"format_version": "1", "diagnostics": [d.to_json() for d in diagnostics],
                         "summary": summary_counts(diagnostics)}, indent=2) + "\n")
    _err(render_diagnostics(diagnostics, color=_color(sys.stderr)))
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    _err(f"Error: {errors} error(s) stop aibplan here; fix them and run again.\n")


@contextmanager
def _opened(prepared: Prepared) -> Iterator[Provider]:
    try:
        provider = open_provider(prepared.stack)
    except EngineError as exc:
        fail(str(exc))
    try:
        yield provider
    finally:
        provider.close()


def _read_state(prepared: Prepared) -> tuple[State, State | None]:
    try:
        return read_state(prepared.stack)
    except EngineError as exc:
        fail(str(exc))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aibplan", prog_name="aibplan")
def main() -> None:
    """Plan and apply Azure VM Image Builder pipelines (identities, galleries, image definitions, image
    templates) from JSON kept in git, Terraform-style."""


@main.command()
@click.argument("stack", default=".", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Count warnings as errors for the exit code.")
@_stack_options
def validate(stack: str, fmt: str, strict: bool, variables: Sequence[str], var_files: Sequence[Path],
             provider: str | None) -> None:
    """Check a stack against the rules of the AIB reference and API, offline."""
    options = _parse_stack_options(stack, variables, var_files, provider)
    prepared, diagnostics = prepare(options.root, variables=options.variables, var_files=options.var_files,
                                    provider=options.provider)
    counts = summary_counts(diagnostics)
    if fmt == "json":
        _out(json.dumps({"format_version": "1", "diagnostics": [d.to_json() for d in diagnostics],
                         "summary": counts}, indent=2) + "\n")
    else:
        _err(render_diagnostics(diagnostics, color=_color(sys.stderr)))
        if prepared is not None:
            _out(f"Success! {len(prepared.stack.resources)} resource(s) checked: {counts['errors']} error(s), "
                 f"{counts['warnings']} warning(s).\n")
    failed = has_errors(diagnostics) or (strict and counts["warnings"] > 0)
    sys.exit(EXIT_ERROR if failed else EXIT_OK)


def _plan_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--no-refresh", is_flag=True, help="Compare with the state file only; do not read the cloud.")(f)
    return _stack_options(f)


def _make_plan(prepared: Prepared, provider: Provider, state: State, *, refresh: bool, destroy: bool) -> Plan:
    plan = make_plan(prepared.stack, prepared.graph, state, provider, refresh=refresh, destroy=destroy)
    warnings = tuple(d for d in prepared.diagnostics if d.severity is not Severity.ERROR)
    return Plan(**{**plan.__dict__, "diagnostics": (*warnings, *plan.diagnostics)})


@main.command()
@click.argument("stack", default=".", type=click.Path())
@click.option("--json", "json_flag", is_flag=True, help="Print the plan as one JSON document.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes, 1 on error.")
@click.option("--destroy", is_flag=True, help="Plan to destroy every resource in the state.")
@_plan_options
def plan(stack: str, json_flag: bool, fmt: str, detailed_exitcode: bool, destroy: bool, no_refresh: bool,
         variables: Sequence[str], var_files: Sequence[Path], provider: str | None) -> None:
    """Show what apply would change."""
    json_output = json_flag or fmt == "json"
    options = _parse_stack_options(stack, variables, var_files, provider)
    prepared = _prepare(options, json_output=json_output)
    state, _ = _read_state(prepared)
    with _opened(prepared) as cloud:
        the_plan = _guard(lambda: _make_plan(prepared, cloud, state, refresh=not no_refresh, destroy=destroy))
    if json_output:
        _out(json.dumps(plan_to_json(the_plan), indent=2, sort_keys=True) + "\n")
    else:
        _out(render_plan(the_plan, color=_color(sys.stdout)))
    if detailed_exitcode and the_plan.has_changes:
        sys.exit(EXIT_CHANGES)
    sys.exit(EXIT_OK)


def _guard(fn: Callable[[], Plan]) -> Plan:
    from providers.base import ProviderError

    try:
        return fn()
    except ProviderError as exc:
        fail(f"reading the cloud failed: {exc}")


class ConsoleHooks(Hooks):
    """Plain progress lines on stderr, Terraform's words; a ticker says what is still running."""

    _VERBS = {"create": ("Creating...", "Creation complete"), "update": ("Modifying...", "Modifications complete"),
              "delete": ("Destroying...", "Destruction complete"),
              "replace (delete)": ("Destroying... (replace)", "Destruction complete"),
              "replace (create)": ("Creating... (replace)", "Creation complete")}

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
                    _err(f"{address}: Still {word}... [{int(now - started)}s elapsed]\n")

    def pre_apply(self, address: str, action: str) -> None:
        with self._lock:
            self._running[address] = (action, time.monotonic())
            _err(f"{address}: {self._VERBS.get(action, (action, ''))[0]}\n")

    def post_apply(self, address: str, action: str, elapsed: float, error: BaseException | None) -> None:
        with self._lock:
            self._running.pop(address, None)
            if error is None:
                _err(f"{address}: {self._VERBS.get(action, ('', 'Done'))[1]} after {int(elapsed)}s\n")
            else:
                _err(f"{address}: {action} failed after {int(elapsed)}s\n")

    def skipped(self, address: str, action: str, reason: str) -> None:
        with self._lock:
            _err(f"{address}: skipped ({reason})\n")

    def retrying(self, address: str, action: str, attempt: int, delay: float, error: BaseException) -> None:
        with self._lock:
            _err(f"{address}: retrying in {delay:.1f}s (attempt {attempt}): {error}\n")

    def message(self, text: str) -> None:
        with self._lock:
            _err(text + "\n")


def _confirm(question: str) -> bool:
    _out(f"\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
    line = sys.stdin.readline()
    _out("\n")
    return line.strip() == "yes"


@contextmanager
def _interruptible() -> Iterator[threading.Event]:
    """First Ctrl-C: stop starting changes and let those in flight finish. Second: leave at once."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            _err("\nSecond interrupt: leaving now; the next command reconciles what was in flight.\n")
            os._exit(EXIT_INTERRUPTED)
        stop.set()
        _err("\nInterrupt received: no new changes will start; waiting for those in flight...\n")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_apply(prepared: Prepared, *, destroy: bool, auto_approve: bool, parallelism: int,
               refresh: bool) -> NoReturn:
    state, existing = _read_state(prepared)
    with _opened(prepared) as cloud:
        the_plan = _guard(lambda: _make_plan(prepared, cloud, state, refresh=refresh, destroy=destroy))
        _out(render_plan(the_plan, color=_color(sys.stdout)))
        if not the_plan.has_changes:
            sys.exit(EXIT_OK)
        if not auto_approve:
            question = ("Do you really want to destroy all resources?" if destroy
                        else "Do you want to perform these actions?")
            if not _confirm(question):
                _err("Apply cancelled.\n")
                sys.exit(EXIT_ERROR)
        hooks = ConsoleHooks()
        try:
            with _interruptible() as stop:
                result = apply_plan(the_plan, state, existing, prepared.stack.state_path, cloud,
                                    parallelism=parallelism, hooks=hooks, stop=stop)
        finally:
            hooks.close()
    _finish(result, destroy)


def _finish(result: ApplyResult, destroy: bool) -> NoReturn:
    counts = (f"Resources: {result.added} added, {result.changed} changed, {result.replaced} replaced, "
              f"{result.destroyed} destroyed.")
    if destroy and result.ok:
        _out(f"\nDestroy complete! Resources: {result.destroyed} destroyed.\n")
        sys.exit(EXIT_OK)
    if result.ok:
        _out(f"\nApply complete! {counts}\n")
        sys.exit(EXIT_OK)
    for failure in result.failures:
        _err(f"Error: {failure.address}: {failure.action} failed: {failure.code}: {failure.message}\n")
    for address, reason in result.skipped:
        _err(f"  {address}: {reason}\n")
    if result.interrupted:
        _err(f"\nInterrupted. {counts} The state file holds what was done.\n")
        sys.exit(EXIT_INTERRUPTED)
    _err(f"\nApply failed. {counts} The state file holds what was done.\n")
    sys.exit(EXIT_ERROR)


@main.command()
@click.argument("stack", default=".", type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--parallelism", default=10, show_default=True, type=click.IntRange(1, 256),
              help="How many changes run at once.")
@_plan_options
def apply(stack: str, auto_approve: bool, parallelism: int, no_refresh: bool, variables: Sequence[str],
          var_files: Sequence[Path], provider: str | None) -> None:
    """Make the cloud match the stack: show the plan, ask, then apply it in graph order."""
    options = _parse_stack_options(stack, variables, var_files, provider)
    prepared = _prepare(options)
    _run_apply(prepared, destroy=False, auto_approve=auto_approve, parallelism=parallelism, refresh=not no_refresh)


@main.command()
@click.argument("stack", default=".", type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--parallelism", default=10, show_default=True, type=click.IntRange(1, 256))
@_plan_options
def destroy(stack: str, auto_approve: bool, parallelism: int, no_refresh: bool, variables: Sequence[str],
            var_files: Sequence[Path], provider: str | None) -> None:
    """Delete every resource in the state, dependents first."""
    options = _parse_stack_options(stack, variables, var_files, provider)
    prepared = _prepare(options)
    _run_apply(prepared, destroy=True, auto_approve=auto_approve, parallelism=parallelism, refresh=not no_refresh)


@main.command()
@click.argument("stack", default=".", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot", show_default=True)
@_stack_options
def graph(stack: str, fmt: str, variables: Sequence[str], var_files: Sequence[Path], provider: str | None) -> None:
    """Print the dependency graph with the reason on each edge."""
    options = _parse_stack_options(stack, variables, var_files, provider)
    prepared = _prepare(options)
    _out(to_dot(prepared.graph) if fmt == "dot" else to_mermaid(prepared.graph))
    sys.exit(EXIT_OK)


if __name__ == "__main__":  # pragma: no cover
    main()
