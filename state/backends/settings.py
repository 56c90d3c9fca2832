"""Which backend holds the state: aibplan.json's `backend` object, overridden by AIBPLAN_BACKEND_* variables.

    "backend": {
      "type": "azureblob",                                   // or "local" (the default)
      "accountUrl": "https://myaccount.blob.core.windows.net",
      "container": "aibplan-state",
      "key": "images/prod.state.json",                       // the state blob's name
      "leaseSeconds": 30,                                    // the lock's lease, 15 to 60 seconds
      "keepSnapshots": 10                                    // earlier states kept as blob snapshots
    }

Variables win over the file, so CI can point a stack elsewhere without editing it:
AIBPLAN_BACKEND_TYPE, AIBPLAN_BACKEND_ACCOUNT_URL, AIBPLAN_BACKEND_CONTAINER, AIBPLAN_BACKEND_KEY,
AIBPLAN_BACKEND_LEASE_SECONDS. Signing in: Entra ID through azure-identity's DefaultAzureCredential,
unless AIBPLAN_BACKEND_CONNECTION_STRING or AIBPLAN_BACKEND_SAS_TOKEN is set (storage emulators, or
accounts without Entra ID). Those two are secrets: they are read from the environment only (aibplan.json
is committed), kept out of the settings' repr, and never shown.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .base import BackendError

ENV_TYPE = "AIBPLAN_BACKEND_TYPE"
ENV_ACCOUNT_URL = "AIBPLAN_BACKEND_ACCOUNT_URL"
ENV_CONTAINER = "AIBPLAN_BACKEND_CONTAINER"
ENV_KEY = "AIBPLAN_BACKEND_KEY"
ENV_LEASE_SECONDS = "AIBPLAN_BACKEND_LEASE_SECONDS"
ENV_CONNECTION_STRING = "AIBPLAN_BACKEND_CONNECTION_STRING"
ENV_SAS_TOKEN = "AIBPLAN_BACKEND_SAS_TOKEN"

TYPES = ("local", "azureblob")
_BLOB_KEYS = ("type", "accountUrl", "container", "key", "leaseSeconds", "keepSnapshots")
_SECRET_KEYS = {
    "connectionstring": ENV_CONNECTION_STRING,
    "sastoken": ENV_SAS_TOKEN,
    "sas": ENV_SAS_TOKEN,
    "accountkey": ENV_CONNECTION_STRING,
}
# Azure's bounds on a finite lease.
MIN_LEASE_SECONDS = 15
MAX_LEASE_SECONDS = 60
_CONTAINER_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")


@dataclass(frozen=True)
class LocalSettings:
    """The state file next to aibplan.json (or aibplan.json's `state`), runtime files in `.aibplan/`."""

    type: str = "local"


@dataclass(frozen=True)
class AzureBlobSettings:
    """A container in an Azure Storage account (or an emulator of one) and the state blob's name in it."""

    container: str
    key: str
    account_url: str | None = None
    lease_seconds: int = 30
    keep_snapshots: int = 10
    # Secrets from the environment: never in repr, messages or the state.
    connection_string: str | None = field(default=None, repr=False)
    sas_token: str | None = field(default=None, repr=False)
    type: str = "azureblob"

    @property
    def sign_in(self) -> str:
        """How the backend signs in, in words (no secret)."""
        if self.connection_string:
            return f"the connection string in {ENV_CONNECTION_STRING}"
        if self.sas_token:
            return f"the SAS token in {ENV_SAS_TOKEN}"
        return "Entra ID (DefaultAzureCredential)"

    def secrets(self) -> tuple[str, ...]:
        """The secret values, so that any text about to be shown can be checked against them."""
        return tuple(s for s in (self.connection_string, self.sas_token) if s)


BackendSettings = LocalSettings | AzureBlobSettings


def backend_settings(config: Any, env: Mapping[str, str], *, source: str = "aibplan.json") -> BackendSettings:
    """Read and check the settings; BackendError names the first wrong one and what is allowed."""
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise BackendError(f'{source}: backend must be an object such as {{"type": "azureblob", ...}}')
    for key in config:
        if str(key).lower() in _SECRET_KEYS:
            raise BackendError(
                f"{source}: backend.{key} is a secret and aibplan.json is committed; set "
                f"{_SECRET_KEYS[str(key).lower()]} in the environment instead"
            )
    kind = env.get(ENV_TYPE) or _text(config, "type", source) or "local"
    if kind not in TYPES:
        raise BackendError(f"{source}: backend.type must be one of {', '.join(TYPES)}, not {kind!r}")
    if kind == "local":
        extra = [k for k in config if k != "type"]
        if extra and not env.get(ENV_TYPE):
            raise BackendError(
                f"{source}: backend.{extra[0]} is not a setting of the local backend (it has none; the "
                "state file's path is aibplan.json's `state`)"
            )
        return LocalSettings()
    for key in config:
        if key not in _BLOB_KEYS:
            raise BackendError(f"{source}: backend.{key} is not a setting; known: {', '.join(_BLOB_KEYS)}")
    connection_string = env.get(ENV_CONNECTION_STRING) or None
    sas_token = env.get(ENV_SAS_TOKEN) or None
    account_url = env.get(ENV_ACCOUNT_URL) or _text(config, "accountUrl", source)
    if account_url is not None:
        account_url = _check_account_url(account_url.rstrip("/"), source)
        if account_url.startswith("http://") and not (connection_string or sas_token):
            raise BackendError(
                f"{source}: backend.accountUrl {account_url} is http://, and Entra ID sign-in needs "
                f"https://; for an emulator set {ENV_CONNECTION_STRING} (or {ENV_SAS_TOKEN})"
            )
    elif connection_string is None:
        raise BackendError(
            f"{source}: backend.accountUrl is required (https://ACCOUNT.blob.core.windows.net), or "
            f"{ENV_ACCOUNT_URL}, or a connection string in {ENV_CONNECTION_STRING}"
        )
    container = env.get(ENV_CONTAINER) or _text(config, "container", source)
    if container is None:
        raise BackendError(f"{source}: backend.container is required (the container that holds the state)")
    if not _CONTAINER_RE.match(container):
        raise BackendError(
            f"{source}: backend.container {container!r} is not a container name: 3 to 63 lowercase letters, "
            "digits and single hyphens, starting and ending with a letter or digit"
        )
    key = env.get(ENV_KEY) or _text(config, "key", source)
    if key is None:
        raise BackendError(f"{source}: backend.key is required (the state blob's name, e.g. prod.state.json)")
    if len(key) > 1000 or key.endswith(("/", ".")) or key.startswith("/") or "\\" in key:
        raise BackendError(
            f"{source}: backend.key {key!r} is not a blob name: up to 1000 characters, not starting with '/' "
            "nor ending with '/' or '.', no backslash"
        )
    lease = _whole(
        env.get(ENV_LEASE_SECONDS) or config.get("leaseSeconds", 30),
        "leaseSeconds",
        MIN_LEASE_SECONDS,
        MAX_LEASE_SECONDS,
        source,
    )
    keep = _whole(config.get("keepSnapshots", 10), "keepSnapshots", 0, 1000, source)
    return AzureBlobSettings(
        container=container,
        key=key,
        account_url=account_url,
        lease_seconds=lease,
        keep_snapshots=keep,
        connection_string=connection_string,
        sas_token=sas_token,
    )


def _check_account_url(url: str, source: str) -> str:
    parts = urlsplit(url)
    if parts.query or "sig=" in url:
        raise BackendError(
            f"{source}: backend.accountUrl must not hold a SAS token (it would be committed); set "
            f"{ENV_SAS_TOKEN} instead"
        )
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise BackendError(f"{source}: backend.accountUrl must be an https:// URL, not {url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise BackendError(
            f"{source}: backend.accountUrl must be https:// (http:// is only for an emulator on this "
            f"machine), not {url!r}"
        )
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _text(config: Mapping[str, Any], key: str, source: str) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BackendError(f"{source}: backend.{key} must be a non-empty string")
    return value.strip()


def _whole(value: Any, key: str, low: int, high: int, source: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BackendError(f"{source}: backend.{key} must be a whole number from {low} to {high}")
    return value
