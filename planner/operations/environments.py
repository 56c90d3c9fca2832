"""`aibplan env list`: a stack's environments (planner.stack.loader.environments), each with where it
deploys and where its state lives, read from aibplan.json alone (nothing is opened or signed in to)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from state.backends import AzureBlobSettings

from ..diagnostics import has_errors
from ..settings import state_backend
from ..stack.loader import environments_of
from .control import StackRejected
from .workspace import settings_only


@dataclass(frozen=True)
class Environment:
    """One environment of a stack: where it deploys, with which provider, and where its state lives."""

    name: str
    subscription_id: str
    resource_group: str
    location: str
    provider: str
    # Where its state lives: the file, or `azureblob CONTAINER/KEY`.
    state: str
    parameter_file: str | None
    # The one a command acts on without --env (aibplan.json's defaultEnvironment, or --env/AIBPLAN_ENV).
    selected: bool


@dataclass(frozen=True)
class Environments:
    """`aibplan env list`: each environment of the stack."""

    environments: tuple[Environment, ...]


def list_environments(root: Path, chosen: str | None = None) -> Environments:
    """Each environment of the stack in `root`; `chosen` is marked selected (else the default one)."""
    names, default, diagnostics = environments_of(root)
    if has_errors(diagnostics):
        raise StackRejected(diagnostics)
    selected = chosen or default
    found = []
    for name in names:
        stack = settings_only(root, name)
        config = stack.config
        backend = state_backend(stack)
        where = (
            f"azureblob {backend.container}/{backend.key}"
            if isinstance(backend, AzureBlobSettings)
            else str(stack.state_path.relative_to(root))
            if stack.state_path.is_relative_to(root)
            else str(stack.state_path)
        )
        found.append(
            Environment(
                name,
                config.subscription_id,
                config.resource_group,
                config.location,
                config.provider,
                where,
                config.parameter_file,
                name == selected,
            )
        )
    return Environments(tuple(found))
