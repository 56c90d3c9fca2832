"""What the command modules share: output streams and colour, stack options, exit codes, and the one way
from an operation to a view and an exit code (`call`)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from .completion import complete_stack_dir
from .verbose import verbose_option

if TYPE_CHECKING:
    from ..operations import StackRequest
    from ..views import Shown
    from ..views.base import Rejecting

# What the engine, the operations and the views need is imported where it is used: `aibplan --version`
# and `--help` load this module and should cost little more than click (docs/performance.md, "Start-up").

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130

R = TypeVar("R")

_NO_COLOR = "aibplan.no_color"
_ENVIRONMENT = "aibplan.environment"
ENV_VAR = "AIBPLAN_ENV"


def use_color(stream: Any) -> bool:
    """Colour only on a terminal, never with --no-color or a non-empty NO_COLOR (no-color.org)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(_NO_COLOR):
        return False
    if os.environ.get("NO_COLOR", ""):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def color_disabled() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(_NO_COLOR)) or bool(os.environ.get("NO_COLOR", ""))


def _no_color_callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[_NO_COLOR] = True


def no_color_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--no-color",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_no_color_callback,
        help="No colour in the output (also: NO_COLOR set to a non-empty value).",
    )(f)


def out(text: str) -> None:
    # Every line the command line prints passes here: a secret the loader found is never shown.
    from state.redact import redact_output

    click.echo(redact_output(text), nl=False)


def err(text: str) -> None:
    from state.redact import redact_output

    click.echo(redact_output(text), nl=False, err=True)


def emit(shown: Shown) -> None:
    if shown.err and shown.err_first:
        err(shown.err)
    if shown.out:
        out(shown.out)
    if shown.err and not shown.err_first:
        err(shown.err)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    err(f"Error: {message}\n")
    sys.exit(code)


def call(operation: Callable[[], R], view: Rejecting) -> R:
    """Run an operation; what stops it is shown (the stack's diagnostics through the view) and exits 1."""
    from ..diagnostics import EngineError
    from ..operations import OperationError, StackRejected

    try:
        return operation()
    except StackRejected as exc:
        emit(view.rejected(exc.diagnostics))
        sys.exit(EXIT_ERROR)
    except OperationError as exc:
        for line in exc.details:
            err(f"Error: {line}\n")
        fail(str(exc))
    except EngineError as exc:
        fail(str(exc))


def _environment_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.meta[_ENVIRONMENT] = value


def env_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--env NAME` (or AIBPLAN_ENV): the stack's environment to act on (read with `chosen_environment`)."""
    return click.option(
        "--env",
        envvar=ENV_VAR,
        default=None,
        metavar="NAME",
        expose_value=False,
        callback=_environment_callback,
        help=f"The environment to act on (also {ENV_VAR}): its parameters, state and local cloud.",
    )(f)


def chosen_environment() -> str | None:
    """The environment asked for with --env or AIBPLAN_ENV (None: the stack's default)."""
    ctx = click.get_current_context(silent=True)
    value = ctx.meta.get(_ENVIRONMENT) if ctx is not None else None
    return str(value) if value else None


def announce_environment(root: Path) -> None:
    """Say on stderr which environment a command acts on, for a stack that has environments (plan, apply
    and drift say it in their own output)."""
    from ..stack.loader import load_config

    config, _ = load_config(root, chosen_environment())
    if config is not None and config.environment is not None:
        err(f"Environment: {config.environment}\n")


def stack_dir_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`-C DIR` / `--stack DIR`: the stack folder, as an option (the positional STACK still works); with
    it, `--env NAME`."""
    f = env_option(f)
    return click.option(
        "-C",
        "--stack",
        "stack_dir",
        default=None,
        metavar="DIR",
        type=click.Path(file_okay=False),
        shell_complete=complete_stack_dir,
        help="The stack folder (default: the current one); the same as giving STACK.",
    )(f)


@dataclass(frozen=True)
class StackLoading:
    """How the command was asked to load the stack: `-C`, `--var`, `--var-file`, `--provider`."""

    stack_dir: str | None
    variables: tuple[str, ...]
    var_files: tuple[Path, ...]
    provider: str | None

    def request(self, positional: str | None = None) -> StackRequest:
        """The stack request, the folder from a positional STACK or -C (given once), else the current one."""
        return self.request_at(one_stack(positional, self.stack_dir))

    def request_at(self, stack: str) -> StackRequest:
        from ..operations import StackRequest
        from ..stack.loader import parse_var

        parsed = []
        for text in self.variables:
            try:
                parsed.append(parse_var(text))
            except ValueError as exc:
                fail(str(exc))
        return StackRequest(Path(stack), tuple(parsed), self.var_files, self.provider, chosen_environment())


def stack_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options of every command that loads a stack; the command receives them as `loading`."""

    @functools.wraps(f)
    def command(
        *args: Any,
        stack_dir: str | None,
        variables: Sequence[str],
        var_files: Sequence[Path],
        provider: str | None,
        **kwargs: Any,
    ) -> Any:
        loading = StackLoading(stack_dir, tuple(variables), tuple(var_files), provider)
        return f(*args, loading=loading, **kwargs)

    wrapped: Callable[..., Any] = verbose_option(command)
    wrapped = no_color_option(wrapped)
    wrapped = stack_dir_option(wrapped)
    wrapped = click.option(
        "--provider",
        type=click.Choice(["local", "azure"]),
        default=None,
        help="Override the provider set in aibplan.json.",
    )(wrapped)
    wrapped = click.option(
        "--var-file",
        "var_files",
        multiple=True,
        type=click.Path(path_type=Path),
        help="An ARM parameters file; may be repeated (later files win).",
    )(wrapped)
    return click.option(
        "--var",
        "variables",
        multiple=True,
        metavar="NAME=VALUE",
        help="Set a parameter; may be repeated; wins over files and aibplan.json.",
    )(wrapped)


def one_stack(positional: str | None, stack_dir: str | None) -> str:
    """The stack folder from a positional STACK or -C/--stack (given once), else the current folder."""
    if positional is not None and stack_dir is not None:
        fail(f"the stack folder was given twice ({positional} and -C {stack_dir}); give it once")
    return stack_dir or positional or "."


def format_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--json` or `--format text|json|markdown`; the command receives the one chosen as `fmt`."""

    @functools.wraps(f)
    def command(*args: Any, json_flag: bool, fmt: str, **kwargs: Any) -> Any:
        return f(*args, fmt="json" if json_flag else fmt, **kwargs)

    wrapped = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json", "markdown"]),
        default="text",
        show_default=True,
        help="markdown: a summary for pull-request comments and $GITHUB_STEP_SUMMARY, with a Mermaid graph.",
    )(command)
    return click.option("--json", "json_flag", is_flag=True, help="Print one JSON document (--format json).")(
        wrapped
    )


def lock_timeout_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--lock-timeout",
        type=click.FloatRange(min=0),
        default=0.0,
        show_default=True,
        metavar="SECONDS",
        help="Wait this long for another aibplan holding the state lock; 0 fails at once.",
    )(f)


def confirm(question: str) -> bool:
    """Ask on stdout, read one line from stdin: only `yes` approves."""
    out(f"\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
    line = sys.stdin.readline()
    out("\n")
    return line.strip() == "yes"
