"""The engine's entry points for the CLI: load and check a stack, open its provider, read its state.

Nothing here prints; every function returns data or raises EngineError with a message for the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from state import State

from ..diagnostics import Diagnostic, has_errors
from ..rules.validate import check_stack
from ..stack.model import Stack
from .providers import open_provider
from .state_access import StackState

if TYPE_CHECKING:
    from ..stack.kept_graph import DependencyGraph

__all__ = ["Prepared", "open_provider", "prepare", "read_state"]


@dataclass(frozen=True)
class Prepared:
    """A stack loaded, validated and graphed (`prepare`), and the diagnostics found on the way."""

    stack: Stack
    # The graph just drawn, or read back from the rules' cache (stack.kept_graph: `as_networkx` for
    # networkx's algorithms).
    graph: DependencyGraph
    diagnostics: tuple[Diagnostic, ...]
    cache_key: str | None = None  # the rules' cache key (rules.validate.Checked)


def prepare(
    root: Path,
    *,
    variables: Sequence[tuple[str, str]] = (),
    var_files: Sequence[Path] = (),
    provider: str | None = None,
    environment: str | None = None,
) -> tuple[Prepared | None, list[Diagnostic]]:
    """Load, validate and graph a stack (the same checks as `aibplan validate`), for `environment` (None:
    the stack's default). Returns (None, diagnostics) when errors stop the way. The rules' findings are
    kept in the runtime folder for the next command while the stack does not change (rules.cache)."""
    checked = check_stack(
        root,
        variables=variables,
        var_files=var_files,
        provider=provider,
        environment=environment,
        cache="create",
    )
    diagnostics = list(checked.diagnostics)
    if checked.stack is None or checked.graph is None or has_errors(diagnostics):
        return None, diagnostics
    return Prepared(checked.stack, checked.graph, tuple(diagnostics), checked.cache_key), diagnostics


def read_state(stack: Stack) -> tuple[State, State | None]:
    """(the state to plan against, the state as read or None when there is none yet), from wherever the
    stack keeps it (execution.state_access.StackState)."""
    with StackState(stack) as store:
        return store.read()
