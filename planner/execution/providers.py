"""The provider a stack asks for, opened with every call retried: the local cloud or Azure.

Kept apart from the engine's loading and validation so that a command which only talks to the cloud (the
plan cache's check, `aibplan sim`) imports neither the loader nor the graph.
"""

from __future__ import annotations

import sqlite3

from providers.azure.settings import SettingsError, load_settings
from providers.base import Provider
from providers.simulated.local import LocalProvider
from providers.simulated.local_faults import FaultConfigError, FaultInjector, settings_from

from ..diagnostics import EngineError
from ..hooks import Hooks
from ..settings import build_minute_seconds, environment, local_latency_seconds, principal_delay_seconds
from ..stack.model import Stack
from .retry import Retrier, RetryingProvider, RetryPolicy


def open_provider(stack: Stack, hooks: Hooks | None = None) -> Provider:
    """The provider the stack asks for (aibplan.json `provider`, or --provider), every call retried
    (planner.execution.retry) with retries reported to `hooks`."""
    try:
        policy = RetryPolicy.from_env(environment())
    except ValueError as exc:
        raise EngineError(str(exc)) from None
    return RetryingProvider(_open_base_provider(stack), Retrier(policy), hooks)


def _open_base_provider(stack: Stack) -> Provider:
    if stack.config.provider == "local":
        latency = local_latency_seconds(stack)
        try:
            faults = settings_from(stack.config.local.get("faults"), environment())
        except FaultConfigError as exc:
            raise EngineError(str(exc)) from None
        injector = FaultInjector(faults) if faults is not None and faults.active else None
        try:
            return LocalProvider(
                stack.runtime_dir,
                latency=latency,
                build_minute=build_minute_seconds(stack),
                fault_hook=injector,
                principal_delay=principal_delay_seconds(stack),
            )
        except (sqlite3.Error, OSError) as exc:
            raise EngineError(
                f"cannot open the local cloud in {stack.runtime_dir}: {exc}; the folder must be one "
                "aibplan can read and write (its local cloud database is local-cloud.db)"
            ) from None
    if stack.config.provider == "azure":
        return _open_azure(stack)
    raise EngineError(f"the '{stack.config.provider}' provider is not available in this build")


def _open_azure(stack: Stack) -> Provider:
    """The Azure provider with aibplan.json's `azure` settings and AIBPLAN_AZURE_* overrides."""
    try:
        settings = load_settings(
            stack.config.subscription_id, stack.config.azure, environment(), base_dir=stack.root
        )
    except SettingsError as exc:
        raise EngineError(str(exc)) from None
    from providers.azure.provider import AzureProvider  # imported here: the SDK takes a moment to load

    return AzureProvider(settings)
