"""The engine's entry points for the CLI: load and check a stack, open its provider, read its state.

Nothing here prints; every function returns data or raises EngineError with a message for the user.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from providers.azure.settings import SettingsError, load_settings
from providers.base import Provider
from providers.simulated.builds import BUILD_MINUTE_ENV, DEFAULT_BUILD_MINUTE_MS
from providers.simulated.local import LocalProvider
from providers.simulated.local_faults import FaultConfigError, FaultInjector, settings_from
from state import State, StateError, load_state

from ..diagnostics import Diagnostic, has_errors
from ..hooks import Hooks
from ..rules.validate import check_stack
from ..stack.model import Stack
from .retry import Retrier, RetryingProvider, RetryPolicy

LATENCY_ENV = "AIBPLAN_LOCAL_LATENCY_MS"


class EngineError(Exception):
    """A problem the user can fix, said in one line."""


@dataclass(frozen=True)
class Prepared:
    stack: Stack
    graph: nx.DiGraph
    diagnostics: tuple[Diagnostic, ...]


def prepare(
    root: Path,
    *,
    variables: Sequence[tuple[str, str]] = (),
    var_files: Sequence[Path] = (),
    provider: str | None = None,
) -> tuple[Prepared | None, list[Diagnostic]]:
    """Load, validate and graph a stack (the same checks as `aibplan validate`). Returns
    (None, diagnostics) when errors stop the way."""
    checked = check_stack(root, variables=variables, var_files=var_files, provider=provider)
    diagnostics = list(checked.diagnostics)
    if checked.stack is None or checked.graph is None or has_errors(diagnostics):
        return None, diagnostics
    return Prepared(checked.stack, checked.graph, tuple(diagnostics)), diagnostics


def open_provider(stack: Stack, hooks: Hooks | None = None) -> Provider:
    """The provider the stack asks for (aibplan.json `provider`, or --provider), every call retried
    (planner.retry) with retries reported to `hooks`."""
    try:
        policy = RetryPolicy.from_env()
    except ValueError as exc:
        raise EngineError(str(exc)) from None
    return RetryingProvider(_open_base_provider(stack), Retrier(policy), hooks)


def _open_base_provider(stack: Stack) -> Provider:
    if stack.config.provider == "local":
        latency_ms = stack.config.local.get("latencyMs", 0)
        if os.environ.get(LATENCY_ENV):
            try:
                latency_ms = float(os.environ[LATENCY_ENV])
            except ValueError:
                raise EngineError(f"{LATENCY_ENV} must be a number of milliseconds") from None
        if not isinstance(latency_ms, (int, float)) or latency_ms < 0:
            raise EngineError("aibplan.json: local.latencyMs must be a number >= 0")
        try:
            faults = settings_from(stack.config.local.get("faults"), os.environ)
        except FaultConfigError as exc:
            raise EngineError(str(exc)) from None
        injector = FaultInjector(faults) if faults is not None and faults.active else None
        return LocalProvider(
            stack.runtime_dir,
            latency=float(latency_ms) / 1000.0,
            build_minute=build_minute_seconds(stack),
            fault_hook=injector,
        )
    if stack.config.provider == "azure":
        return _open_azure(stack)
    raise EngineError(f"the '{stack.config.provider}' provider is not available in this build")


def _open_azure(stack: Stack) -> Provider:
    """The Azure provider with aibplan.json's `azure` settings and AIBPLAN_AZURE_* overrides."""
    try:
        settings = load_settings(
            stack.config.subscription_id, stack.config.azure, os.environ, base_dir=stack.root
        )
    except SettingsError as exc:
        raise EngineError(str(exc)) from None
    from providers.azure.provider import AzureProvider  # imported here: the SDK takes a moment to load

    return AzureProvider(settings)


def build_minute_seconds(stack: Stack) -> float:
    """Real seconds one simulated build minute takes on the local cloud ($AIBPLAN_LOCAL_BUILD_MINUTE_MS,
    else aibplan.json `local.buildMinuteMs`, else 250 ms)."""
    minute_ms = stack.config.local.get("buildMinuteMs", DEFAULT_BUILD_MINUTE_MS)
    if os.environ.get(BUILD_MINUTE_ENV):
        try:
            minute_ms = float(os.environ[BUILD_MINUTE_ENV])
        except ValueError:
            raise EngineError(f"{BUILD_MINUTE_ENV} must be a number of milliseconds") from None
    if isinstance(minute_ms, bool) or not isinstance(minute_ms, (int, float)) or minute_ms < 0:
        raise EngineError("aibplan.json: local.buildMinuteMs must be a number >= 0")
    return float(minute_ms) / 1000.0


def read_state(stack: Stack) -> tuple[State, State | None]:
    """(the state to plan against, the state as read or None when there is no file yet)."""
    try:
        existing = load_state(stack.state_path)
    except StateError as exc:
        raise EngineError(str(exc)) from None
    return (existing if existing is not None else State.new()), existing
