"""Shell completion (click's: `eval "$(_AIBPLAN_COMPLETE=bash_source aibplan)"`, docs/cli.md): addresses
from the stack and the state, and stack folders."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click
from click.shell_completion import CompletionItem

# The stack, the state and the catalog are imported when a completion asks for them, not when a command
# that offers completion is loaded.


def _stack_root(ctx: click.Context) -> Path:
    given = ctx.params.get("stack_dir")
    if isinstance(given, str):
        return Path(given)
    for value in ctx.params.get("args") or ():
        if Path(value).is_dir():
            return Path(value)
    return Path(".")


def addresses(root: Path, *, kind: str | None = None) -> list[str]:
    """Addresses the stack declares and the state holds (of one kind, when given)."""
    from ..execution.state_access import StackState
    from ..stack.loader import load_stack

    found: set[str] = set()
    with contextlib.suppress(Exception):
        stack, _ = load_stack(root)
        if stack is not None:
            found.update(r.address for r in stack.resources)
            state = StackState(stack).load()
            if state is not None:
                found.update(r.address for r in state.resources)
    if kind is not None:
        found = {a for a in found if a.startswith(kind + ".")}
    return sorted(found)


def complete_addresses(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(a) for a in addresses(_stack_root(ctx)) if a.startswith(incomplete)]


def complete_templates(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from providers.catalog import BUILDABLE

    return [
        CompletionItem(a)
        for a in addresses(_stack_root(ctx), kind=BUILDABLE.kind)
        if a.startswith(incomplete)
    ]


def complete_stack_dir(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(incomplete, type="dir")]
