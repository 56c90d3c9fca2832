"""Settings of the Azure provider: aibplan.json's `azure` object, overridden by AIBPLAN_AZURE_* variables.

    "azure": {
      "cloud": "AzureCloud",              // or AzureChinaCloud, AzureUSGovernment
      "baseUrl": "https://...",           // another ARM endpoint (a sovereign cloud's, or the emulator's)
      "caBundle": "certs/ca.pem",         // a CA file to trust for it, relative to the stack folder
      "credential": "default",            // default | cli | environment | managedIdentity | emulator
      "managedIdentityClientId": "...",   // a user-assigned managed identity to sign in as
      "tenantId": "...",
      "pollingIntervalSeconds": 5,        // between polls of a long-running operation
      "maxRetries": 8                     // of a read or poll that was throttled or failed transiently
    }

Environment variables win over the file so one stack can be pointed elsewhere without editing it:
AIBPLAN_AZURE_BASE_URL, AIBPLAN_AZURE_CA_BUNDLE, AIBPLAN_AZURE_CREDENTIAL,
AIBPLAN_AZURE_POLLING_INTERVAL, AIBPLAN_AZURE_CLOUD.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from state.backends.settings import is_loopback_host

CREDENTIALS = ("default", "cli", "environment", "managedIdentity", "emulator")

# name → (ARM endpoint, token scope, Entra ID authority host)
CLOUDS: dict[str, tuple[str, str, str]] = {
    "azurecloud": (
        "https://management.azure.com",
        "https://management.azure.com/.default",
        "login.microsoftonline.com",
    ),
    "azurechinacloud": (
        "https://management.chinacloudapi.cn",
        "https://management.chinacloudapi.cn/.default",
        "login.chinacloudapi.cn",
    ),
    "azureusgovernment": (
        "https://management.usgovcloudapi.net",
        "https://management.core.usgovcloudapi.net/.default",
        "login.microsoftonline.us",
    ),
}

ENV_BASE_URL = "AIBPLAN_AZURE_BASE_URL"
ENV_CA_BUNDLE = "AIBPLAN_AZURE_CA_BUNDLE"
ENV_CREDENTIAL = "AIBPLAN_AZURE_CREDENTIAL"
ENV_POLLING = "AIBPLAN_AZURE_POLLING_INTERVAL"
ENV_CLOUD = "AIBPLAN_AZURE_CLOUD"

_KEYS = (
    "cloud",
    "baseUrl",
    "caBundle",
    "credential",
    "managedIdentityClientId",
    "tenantId",
    "pollingIntervalSeconds",
    "maxRetries",
)


class SettingsError(ValueError):
    """A setting that cannot be used, said in one line naming it."""


@dataclass(frozen=True)
class AzureSettings:
    """The Azure provider's settings, checked: where ARM is, how to sign in to it, how to poll and retry."""

    subscription_id: str
    base_url: str = CLOUDS["azurecloud"][0]
    credential_scope: str = CLOUDS["azurecloud"][1]
    authority_host: str = CLOUDS["azurecloud"][2]
    cloud: str = "AzureCloud"
    ca_bundle: Path | None = None
    credential: str = "default"
    managed_identity_client_id: str | None = None
    tenant_id: str | None = None
    polling_interval: float = 5.0
    max_retries: int = 8

    @property
    def is_loopback(self) -> bool:
        return is_loopback(self.base_url)


def is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname)


def load_settings(
    subscription_id: str, config: Mapping[str, Any], env: Mapping[str, str], *, base_dir: Path
) -> AzureSettings:
    """Read and check the settings; SettingsError names the first wrong one."""
    for key in config:
        if key not in _KEYS:
            raise SettingsError(f"aibplan.json: azure.{key} is not a setting; known: {', '.join(_KEYS)}")
    cloud_name = env.get(ENV_CLOUD) or _text(config, "cloud") or "AzureCloud"
    cloud = CLOUDS.get(cloud_name.lower())
    if cloud is None:
        raise SettingsError(
            f"azure.cloud {cloud_name!r} is not a cloud aibplan knows; use AzureCloud, AzureChinaCloud "
            "or AzureUSGovernment, or set azure.baseUrl"
        )
    base_url = (env.get(ENV_BASE_URL) or _text(config, "baseUrl") or cloud[0]).rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.hostname:
        raise SettingsError(f"azure.baseUrl must be an https:// URL, not {base_url!r}")
    scope = cloud[1] if base_url == cloud[0] else f"{base_url}/.default"
    ca_text = env.get(ENV_CA_BUNDLE) or _text(config, "caBundle")
    ca_bundle = None
    if ca_text:
        ca_bundle = Path(ca_text).expanduser()
        if not ca_bundle.is_absolute():
            ca_bundle = base_dir / ca_bundle
        if not ca_bundle.is_file():
            raise SettingsError(f"azure.caBundle: no such file: {ca_bundle}")
    credential = env.get(ENV_CREDENTIAL) or _text(config, "credential") or "default"
    if credential not in CREDENTIALS:
        raise SettingsError(f"azure.credential must be one of {', '.join(CREDENTIALS)}, not {credential!r}")
    if credential == "emulator" and not is_loopback(base_url):
        raise SettingsError(
            f"azure.credential 'emulator' only signs in to an emulator on this machine, not {base_url}"
        )
    polling: Any = env.get(ENV_POLLING) or config.get("pollingIntervalSeconds", 5)
    try:
        polling = float(polling)
    except (TypeError, ValueError):
        raise SettingsError("azure.pollingIntervalSeconds must be a number of seconds") from None
    if not 0 <= polling <= 600:
        raise SettingsError("azure.pollingIntervalSeconds must be between 0 and 600")
    retries = config.get("maxRetries", 8)
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 50:
        raise SettingsError("azure.maxRetries must be a whole number between 0 and 50")
    return AzureSettings(
        subscription_id=subscription_id,
        base_url=base_url,
        credential_scope=scope,
        authority_host=cloud[2],
        cloud=cloud_name,
        ca_bundle=ca_bundle,
        credential=credential,
        managed_identity_client_id=_text(config, "managedIdentityClientId"),
        tenant_id=_text(config, "tenantId"),
        polling_interval=polling,
        max_retries=retries,
    )


def _text(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"aibplan.json: azure.{key} must be a non-empty string")
    return value.strip()
