"""`-v/--verbose`: detail on stderr that is noise by default (retries inside a provider, requests).

Providers and the engine log through the standard `logging` module under the `aibplan` logger; this
option decides whether those lines reach the terminal. It changes no command's arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import click

LOGGER = "aibplan"


class _ClickErrHandler(logging.Handler):
    """Writes to whatever stderr click writes to now (so a test runner's captured stream works)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from state.redact import redact_output

            click.echo(redact_output(self.format(record)), err=True)
        except Exception:
            self.handleError(record)


_HANDLER = _ClickErrHandler()
_HANDLER.setFormatter(logging.Formatter("%(message)s"))


def set_verbose(enabled: bool) -> None:
    logger = logging.getLogger(LOGGER)
    if _HANDLER not in logger.handlers:
        logger.addHandler(_HANDLER)
        logger.propagate = False
    logger.setLevel(logging.INFO if enabled else logging.WARNING)


def _callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    set_verbose(bool(value))


def verbose_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        callback=_callback,
        help="Show more on stderr: retries inside the provider (throttling, transient errors) and requests.",
    )(f)
