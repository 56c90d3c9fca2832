"""The stack's settings: aibplan.json read and checked (AIB0003)."""

from __future__ import annotations

import difflib
from pathlib import Path

from ...diagnostics import Severity
from ..model import CONFIG_FILE, DEFAULT_STATE_FILE, StackConfig
from . import environments
from .guardrails import config_lifecycles, config_rules
from .loading import Loading, read_json, rel
from .placeholders import check_placeholders

_CONFIG_KEYS = (
    "subscriptionId",
    "resourceGroup",
    "location",
    "provider",
    "parameters",
    "state",
    "local",
    "azure",
    "lifecycle",
    "rules",
    "backend",
    "environments",
    "defaultEnvironment",
    "$schema",
    "description",
)
_PROVIDERS = ("local", "azure")


def read_config(root: Path, loading: Loading, environment: str | None = None) -> StackConfig | None:
    """The settings in `root`'s aibplan.json, for `environment` (None: the default one; loader.environments);
    None when the folder or they cannot be used (reported)."""
    if root.is_file():
        loading.add(
            "AIB0002",
            Severity.ERROR,
            f"{root} is a file; a stack is a folder holding {CONFIG_FILE}",
            file=str(root),
            hint=f"give the folder; `aibplan validate {root}` checks a file alone, "
            f"`aibplan apply {root}` applies a saved plan",
        )
        return None
    if not root.is_dir():
        loading.add("AIB0002", Severity.ERROR, f"stack folder {root} does not exist", file=str(root))
        return None
    file = root / CONFIG_FILE
    shown = rel(root, file) if file.exists() else CONFIG_FILE
    if not file.exists():
        loading.add(
            "AIB0003",
            Severity.ERROR,
            f"{root} is not a stack: it has no {CONFIG_FILE}",
            file=shown,
            hint=f"create {CONFIG_FILE} with subscriptionId, resourceGroup and location",
        )
        return None
    data = read_json(file, shown, loading)
    if data is None:
        return None
    if not isinstance(data, dict):
        loading.add("AIB0003", Severity.ERROR, f"{CONFIG_FILE} must hold a JSON object", file=shown)
        return None
    for key in data:
        if key not in _CONFIG_KEYS:
            close = difflib.get_close_matches(key, _CONFIG_KEYS, n=1)
            loading.add(
                "AIB0003",
                Severity.WARNING,
                f"unknown setting '{key}' in {CONFIG_FILE}",
                file=shown,
                path=(key,),
                hint=f"did you mean '{close[0]}'?" if close else None,
            )
    selected = environments.select(root, data, environment, shown, loading)
    if selected is None:
        return None
    data = selected.data
    ok = True
    for key in ("subscriptionId", "resourceGroup", "location"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            loading.add(
                "AIB0003",
                Severity.ERROR,
                f"{CONFIG_FILE}: '{key}' is required and must be a string",
                file=shown,
                path=(key,) if key in data else (),
            )
            ok = False
    provider = data.get("provider", "local")
    if provider not in _PROVIDERS:
        loading.add(
            "AIB0003",
            Severity.ERROR,
            f"{CONFIG_FILE}: provider must be one of {', '.join(_PROVIDERS)}, not {provider!r}",
            file=shown,
            path=("provider",),
        )
        ok = False
    for key in ("parameters", "local", "azure", "backend"):
        if key in data and not isinstance(data[key], dict):
            loading.add(
                "AIB0003",
                Severity.ERROR,
                f"{CONFIG_FILE}: '{key}' must be an object",
                file=shown,
                path=(key,),
            )
            ok = False
    state_file = data.get("state", DEFAULT_STATE_FILE)
    if not isinstance(state_file, str) or not state_file.strip():
        loading.add(
            "AIB0003",
            Severity.ERROR,
            f"{CONFIG_FILE}: 'state' must be a file path",
            file=shown,
            path=("state",),
        )
        ok = False
    if not ok:
        return None
    for key in ("subscriptionId", "resourceGroup", "location"):
        check_placeholders(data[key], (key,), shown, None, loading)
    return StackConfig(
        subscription_id=data["subscriptionId"].strip(),
        resource_group=data["resourceGroup"].strip(),
        location=data["location"].strip(),
        provider=provider,
        parameters=dict(data.get("parameters") or {}),
        state_file=state_file,
        local=dict(data.get("local") or {}),
        azure=dict(data.get("azure") or {}),
        lifecycle=config_lifecycles(data["lifecycle"], shown, loading) if "lifecycle" in data else {},
        rules=config_rules(data["rules"], shown, loading) if "rules" in data else {},
        backend=dict(data["backend"]) if "backend" in data else None,
        environment=selected.name,
        environments=selected.names,
        parameter_file=selected.parameter_file,
        environment_backend=selected.own_backend,
    )
