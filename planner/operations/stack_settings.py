"""A stack's settings alone (aibplan.json, the environment acted on), without its resources: where its state
lives and which cloud it talks to. The state commands and the plan cache need no more, and so load neither
the resources nor the rules."""

from __future__ import annotations

from pathlib import Path

from ..stack.loader import load_config
from ..stack.model import Stack
from .control import StackRejected


def settings_only(root: Path, environment: str | None = None) -> Stack:
    """A stack with only its aibplan.json read (for `environment`): where its state lives (the state
    commands need no more)."""
    config, diagnostics = load_config(root, environment)
    if config is None:
        raise StackRejected(diagnostics)
    return Stack(root=root, config=config, resources=())
