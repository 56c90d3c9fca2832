"""Where a stack's state lives: the `local` file in git (the default) or an `azureblob` container.

`open_backend(settings, state_path, runtime_dir)` gives a StateBackend (base) for settings read by
`settings.backend_settings`. The Azure SDK is imported only when an azureblob backend is opened.
"""

from __future__ import annotations

from pathlib import Path

from .base import BackendError, HeldLock, HistoryEntry, StateBackend, StateChanged, StoredState
from .local import LocalBackend
from .saving import Loaded, load, save
from .session import Session
from .settings import AzureBlobSettings, BackendSettings, LocalSettings, backend_settings
from .transfer import Pushed, PushRefused, check_push, migrate_state, pull_state, push_state


def open_backend(settings: BackendSettings, *, state_path: Path, runtime_dir: Path) -> StateBackend:
    """The backend the settings name. `state_path` and `runtime_dir` are the local backend's files."""
    if isinstance(settings, AzureBlobSettings):
        from .azureblob import AzureBlobBackend

        return AzureBlobBackend(settings)
    return LocalBackend(state_path, runtime_dir)


__all__ = [
    "AzureBlobSettings",
    "BackendError",
    "BackendSettings",
    "HeldLock",
    "HistoryEntry",
    "Loaded",
    "LocalBackend",
    "LocalSettings",
    "PushRefused",
    "Pushed",
    "Session",
    "StateBackend",
    "StateChanged",
    "StoredState",
    "backend_settings",
    "check_push",
    "load",
    "migrate_state",
    "open_backend",
    "pull_state",
    "push_state",
    "save",
]
