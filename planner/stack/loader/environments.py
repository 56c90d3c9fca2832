"""Environments: one stack folder, several deployments of it (dev, prod), each with its own parameters,
state, subscription and resource group, and local cloud.

    "environments": {
      "dev":  {"parameters": {"environment": "dev"}},
      "prod": {"resourceGroup": "rg-images-prod", "subscriptionId": "...", "state": "...", "backend": {...}}
    },
    "defaultEnvironment": "dev"

An environment is a key of `environments`, or any NAME with a `NAME.parameters.json` in the stack folder.
`--env NAME` (or AIBPLAN_ENV) selects one; without it, `defaultEnvironment`, else the stack's top-level
settings as they are (only a stack with no `environments` section has those). The selected
environment's settings lie over the top-level ones (`parameters`, `local` and `azure` merged key by key),
then its `NAME.parameters.json` over the parameters. Its state is its own: `state`, else
`aibplan.NAME.state.json` (beside where the top-level `state` would be), with its runtime files (lock,
journal, local cloud) in `.aibplan/NAME/`; on a shared backend, its `backend`, else the stack's with
the blob key named after it. So an apply of one environment never sees, and never plans to destroy,
another's resources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ...diagnostics import Severity
from .loading import Loading

KEY = "environments"
DEFAULT_KEY = "defaultEnvironment"
PARAMETERS_SUFFIX = ".parameters.json"
ENV_KEYS = (
    "subscriptionId",
    "resourceGroup",
    "location",
    "provider",
    "parameters",
    "state",
    "backend",
    "local",
    "azure",
    "description",
)
_MERGED = ("parameters", "local", "azure")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class Selected:
    """The environment chosen, and aibplan.json's settings as they apply to it."""

    name: str | None
    names: tuple[str, ...]
    data: dict[str, Any] = field(default_factory=dict)
    parameter_file: str | None = None
    own_backend: bool = False


def named_after(path: str, name: str) -> str:
    """A state file or blob key for environment `name`: `NAME` before `.state.json` (or at the end)."""
    pure = PurePosixPath(path)
    if pure.name.endswith(".state.json"):
        return str(pure.with_name(pure.name.removesuffix(".state.json") + f".{name}.state.json"))
    return f"{path}.{name}"


def environment_names(root: Path, data: dict[str, Any]) -> tuple[str, ...]:
    """Every environment of the stack: declared in aibplan.json, or with a NAME.parameters.json."""
    found = data.get(KEY)
    declared: dict[str, Any] = found if isinstance(found, dict) else {}
    files = (p.name.removesuffix(PARAMETERS_SUFFIX) for p in root.glob(f"*{PARAMETERS_SUFFIX}"))
    return tuple(sorted({*declared, *(n for n in files if _NAME.match(n))}))


def select(
    root: Path, data: dict[str, Any], requested: str | None, shown: str, loading: Loading
) -> Selected | None:
    """The environment to act on and the settings for it; None when one cannot be (reported)."""
    declared = data.get(KEY, {})
    if not isinstance(declared, dict) or not all(isinstance(v, dict) for v in declared.values()):
        message = f"'{KEY}' must map environment names to objects"
        loading.add("AIB0003", Severity.ERROR, message, file=shown, path=(KEY,))
        return None
    for name, settings in declared.items():
        if not _NAME.match(name):
            loading.add(
                "AIB0003",
                Severity.ERROR,
                f"environment name {name!r} is not allowed: letters, digits, '-' and '_', up to 63",
                file=shown,
                path=(KEY, name),
            )
            return None
        for key in settings:
            if key not in ENV_KEYS:
                loading.add(
                    "AIB0003",
                    Severity.WARNING,
                    f"unknown setting '{key}' in environment {name}; known: {', '.join(ENV_KEYS)}",
                    file=shown,
                    path=(KEY, name, key),
                )
    names = environment_names(root, data)
    default = data.get(DEFAULT_KEY)
    if default is not None and default not in names:
        loading.add(
            "AIB0003",
            Severity.ERROR,
            f"'{DEFAULT_KEY}' is {default!r}, which is not an environment of this stack "
            f"({', '.join(names) or 'it has none'})",
            file=shown,
            path=(DEFAULT_KEY,),
        )
        return None
    name = requested or default
    if name is None:
        if declared:
            loading.add(
                "AIB0003",
                Severity.ERROR,
                f"this stack has environments ({', '.join(names)}): choose one with --env NAME (or "
                f"AIBPLAN_ENV), or set '{DEFAULT_KEY}' in aibplan.json",
                file=shown,
                path=(KEY,),
            )
            return None
        return Selected(None, names, dict(data))
    if name not in names:
        loading.add(
            "AIB0003",
            Severity.ERROR,
            f"there is no environment {name!r} in this stack; "
            + (f"its environments: {', '.join(names)}" if names else "it has none")
            + f" (an environment is a key of '{KEY}' in aibplan.json, or a NAME{PARAMETERS_SUFFIX} file)",
            file=shown,
        )
        return None
    if not _state_files_apart(root, data, declared, names, shown, loading):
        return None
    own = declared.get(name, {})
    merged = {**data, **{k: v for k, v in own.items() if k not in _MERGED}}
    for key in _MERGED:
        if key in own:
            top, mine = data.get(key) or {}, own[key]
            merged[key] = {**top, **mine} if isinstance(top, dict) and isinstance(mine, dict) else mine
    merged["state"] = _state_file(data, own, name)
    parameter_file = f"{name}{PARAMETERS_SUFFIX}"
    return Selected(
        name,
        names,
        merged,
        parameter_file if (root / parameter_file).is_file() else None,
        own_backend="backend" in own,
    )


def other_parameter_file(file: Path, root: Path, selected: Selected) -> str | None:
    """The environment whose parameters file `file` is, when that is not the selected environment."""
    if not file.name.endswith(PARAMETERS_SUFFIX):
        return None
    name = file.name.removesuffix(PARAMETERS_SUFFIX)
    inside = (root / file.name).resolve() == (file if file.is_absolute() else Path.cwd() / file).resolve()
    if inside and name in selected.names and name != selected.name:
        return name
    return None


def _state_file(data: dict[str, Any], own: dict[str, Any], name: str) -> str:
    given = own.get("state")
    if isinstance(given, str) and given.strip():
        return given
    top = data.get("state")
    return named_after(top if isinstance(top, str) and top.strip() else "aibplan.state.json", name)


def _state_files_apart(
    root: Path,
    data: dict[str, Any],
    declared: dict[str, Any],
    names: tuple[str, ...],
    shown: str,
    loading: Loading,
) -> bool:
    """Two environments writing one state would each plan to destroy the other's resources: refused."""
    seen: dict[Path, str] = {}
    for name in names:
        path = (root / _state_file(data, declared.get(name, {}), name)).resolve()
        if path in seen:
            loading.add(
                "AIB0003",
                Severity.ERROR,
                f"environments {seen[path]} and {name} have the same state file; each needs its own",
                file=shown,
                path=(KEY, name, "state"),
            )
            return False
        seen[path] = name
    return True
