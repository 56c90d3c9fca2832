"""The environment variables aibplan honours, read in one place.

`environment()` is the only read of the process environment in the engine and the providers (the CLI
reads its terminal's NO_COLOR and TERM itself); everything else takes the values as arguments. A value is
checked when a command first needs it, so a bad build poll interval only stops a build command.

    AIBPLAN_LOCAL_LATENCY_MS        simulated latency of the local cloud (here; aibplan.json local.latencyMs)
    AIBPLAN_LOCAL_BUILD_MINUTE_MS   real ms per simulated build minute (here; local.buildMinuteMs)
    AIBPLAN_LOCAL_PRINCIPAL_DELAY_MS  how long a new identity stays unknown to role assignments on the
                                    local cloud, as in Azure's directory (here; local.principalDelayMs)
    AIBPLAN_BUILD_POLL_SECONDS      how often build commands read a build's status (here)
    AIBPLAN_LOCAL_FAULTS            faults injected into the local cloud (providers.simulated.local_faults)
    AIBPLAN_RETRY_*                 the engine's retry policy (planner.execution.retry)
    AIBPLAN_AZURE_*                 the Azure provider's settings (providers.azure.settings)
    AIBPLAN_BACKEND_*               where the state lives (state.backends.settings; here)
    AIBPLAN_READ_AHEAD              0: plan and drift read the local state in their own process (here)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from providers.simulated.builds import DEFAULT_BUILD_MINUTE_MS
from state.backends import AzureBlobSettings, BackendError, BackendSettings, backend_settings
from state.backends.settings import ENV_CONNECTION_STRING, ENV_SAS_TOKEN

from .diagnostics import EngineError
from .stack.loader.environments import named_after
from .stack.model import CONFIG_FILE, Stack

LATENCY_ENV = "AIBPLAN_LOCAL_LATENCY_MS"
BUILD_MINUTE_ENV = "AIBPLAN_LOCAL_BUILD_MINUTE_MS"
POLL_ENV = "AIBPLAN_BUILD_POLL_SECONDS"
PRINCIPAL_DELAY_ENV = "AIBPLAN_LOCAL_PRINCIPAL_DELAY_MS"
READ_AHEAD_ENV = "AIBPLAN_READ_AHEAD"
# How often the status of a build in real Azure is read: builds take tens of minutes.
AZURE_POLL_SECONDS = 15.0


def environment() -> Mapping[str, str]:
    """The process environment (the one place that reads it)."""
    return os.environ


def local_latency_seconds(stack: Stack, env: Mapping[str, str] | None = None) -> float:
    """Simulated latency of each local cloud call ($AIBPLAN_LOCAL_LATENCY_MS, else aibplan.json
    `local.latencyMs`, else none)."""
    env = environment() if env is None else env
    latency_ms = stack.config.local.get("latencyMs", 0)
    if env.get(LATENCY_ENV):
        try:
            latency_ms = float(env[LATENCY_ENV])
        except ValueError:
            raise EngineError(f"{LATENCY_ENV} must be a number of milliseconds") from None
    if not isinstance(latency_ms, (int, float)) or latency_ms < 0:
        raise EngineError("aibplan.json: local.latencyMs must be a number >= 0")
    return float(latency_ms) / 1000.0


def build_minute_seconds(stack: Stack | None, env: Mapping[str, str] | None = None) -> float:
    """Real seconds one simulated build minute takes on the local cloud ($AIBPLAN_LOCAL_BUILD_MINUTE_MS,
    else aibplan.json `local.buildMinuteMs` when there is a stack, else 250 ms)."""
    env = environment() if env is None else env
    minute_ms = (
        stack.config.local.get("buildMinuteMs", DEFAULT_BUILD_MINUTE_MS) if stack else DEFAULT_BUILD_MINUTE_MS
    )
    if env.get(BUILD_MINUTE_ENV):
        try:
            minute_ms = float(env[BUILD_MINUTE_ENV])
        except ValueError:
            raise EngineError(f"{BUILD_MINUTE_ENV} must be a number of milliseconds") from None
    if isinstance(minute_ms, bool) or not isinstance(minute_ms, (int, float)) or minute_ms < 0:
        raise EngineError("aibplan.json: local.buildMinuteMs must be a number >= 0")
    return float(minute_ms) / 1000.0


def principal_delay_seconds(stack: Stack, env: Mapping[str, str] | None = None) -> float:
    """How long the local cloud answers PrincipalNotFound for a role assignment to an identity made
    moments before ($AIBPLAN_LOCAL_PRINCIPAL_DELAY_MS, else aibplan.json `local.principalDelayMs`, else
    none: Azure takes a few seconds, which a rehearsal can ask for to see the apply retry)."""
    env = environment() if env is None else env
    delay_ms = stack.config.local.get("principalDelayMs", 0)
    if env.get(PRINCIPAL_DELAY_ENV):
        try:
            delay_ms = float(env[PRINCIPAL_DELAY_ENV])
        except ValueError:
            raise EngineError(f"{PRINCIPAL_DELAY_ENV} must be a number of milliseconds") from None
    if isinstance(delay_ms, bool) or not isinstance(delay_ms, (int, float)) or delay_ms < 0:
        raise EngineError("aibplan.json: local.principalDelayMs must be a number >= 0")
    return float(delay_ms) / 1000.0


def read_ahead_allowed(env: Mapping[str, str] | None = None) -> bool:
    """Whether plan and drift may read a local state file in a second process (state.backends.read_ahead);
    $AIBPLAN_READ_AHEAD=0 says no (a debugging aid: what they say is the same)."""
    env = environment() if env is None else env
    return env.get(READ_AHEAD_ENV, "").strip() != "0"


def poll_interval(stack: Stack, env: Mapping[str, str] | None = None) -> float:
    """Seconds between two reads of a build's status ($AIBPLAN_BUILD_POLL_SECONDS overrides)."""
    env = environment() if env is None else env
    text = env.get(POLL_ENV)
    if text:
        try:
            return max(0.001, float(text))
        except ValueError:
            raise EngineError(f"{POLL_ENV} must be a number of seconds") from None
    if stack.config.provider == "local":
        return min(2.0, max(0.005, build_minute_seconds(stack, env) * 2))
    return AZURE_POLL_SECONDS


def state_backend(stack: Stack, env: Mapping[str, str] | None = None) -> BackendSettings:
    """Where the stack's state lives: aibplan.json's `backend`, AIBPLAN_BACKEND_* winning over it. An
    environment without a backend of its own shares the stack's, under a blob key named after it."""
    env = environment() if env is None else env
    try:
        settings = backend_settings(stack.config.backend, env, source=CONFIG_FILE)
    except BackendError as exc:
        raise EngineError(str(exc)) from None
    name = stack.config.environment
    if name and isinstance(settings, AzureBlobSettings) and not stack.config.environment_backend:
        settings = replace(settings, key=named_after(settings.key, name))
    return settings


def other_backend(config: Any, *, source: str, env: Mapping[str, str] | None = None) -> BackendSettings:
    """Settings for a backend other than the stack's (`state migrate --from/--to`): only the sign-in
    secrets come from the environment (AIBPLAN_BACKEND_CONNECTION_STRING, _SAS_TOKEN); the variables that
    point the stack's own backend elsewhere do not apply to it."""
    env = environment() if env is None else env
    secrets = {name: env[name] for name in (ENV_CONNECTION_STRING, ENV_SAS_TOKEN) if env.get(name)}
    try:
        return backend_settings(config, secrets, source=source)
    except BackendError as exc:
        raise EngineError(str(exc)) from None
