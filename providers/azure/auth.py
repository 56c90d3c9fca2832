"""Signing in to Azure with azure-identity, as the settings choose.

- `default`: `DefaultAzureCredential`, which tries environment variables (a service principal),
  workload identity, managed identity, then the Azure CLI and other developer tools, in that order.
  Its own variable AZURE_TOKEN_CREDENTIALS narrows it to one (`AzureCliCredential`,
  `EnvironmentCredential`, `ManagedIdentityCredential`, or `dev` / `prod` for the two groups).
- `cli`, `environment`, `managedIdentity`: exactly that credential, nothing else tried.
- `emulator`: a fixed token for aibplan's own ARM emulator on loopback (the settings refuse it for
  any other endpoint); the emulator only checks that a bearer token is sent.
"""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenCredential
from azure.identity import (
    AzureCliCredential,
    DefaultAzureCredential,
    EnvironmentCredential,
    ManagedIdentityCredential,
)

from .settings import AzureSettings

EMULATOR_TOKEN = "aibplan-emulator-token"


class EmulatorCredential:
    """A token for the local ARM emulator; it never leaves this machine."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(EMULATOR_TOKEN, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo(EMULATOR_TOKEN, int(time.time()) + 3600)

    def close(self) -> None:
        """Nothing to release."""


def make_credential(settings: AzureSettings) -> TokenCredential:
    if settings.credential == "emulator":
        return EmulatorCredential()
    if settings.credential == "cli":
        return AzureCliCredential(tenant_id=settings.tenant_id or "")
    if settings.credential == "environment":
        return EnvironmentCredential(authority=settings.authority_host)
    if settings.credential == "managedIdentity":
        if settings.managed_identity_client_id:
            return ManagedIdentityCredential(client_id=settings.managed_identity_client_id)
        return ManagedIdentityCredential()
    options: dict[str, Any] = {"authority": settings.authority_host}
    if settings.managed_identity_client_id:
        options["managed_identity_client_id"] = settings.managed_identity_client_id
    if settings.tenant_id:
        options["additionally_allowed_tenants"] = [settings.tenant_id]
    return DefaultAzureCredential(**options)


def describe_credential(settings: AzureSettings) -> str:
    return {
        "default": "DefaultAzureCredential",
        "cli": "the Azure CLI's signed-in account (AzureCliCredential)",
        "environment": "the service principal in AZURE_CLIENT_ID/AZURE_TENANT_ID (EnvironmentCredential)",
        "managedIdentity": "this machine's managed identity (ManagedIdentityCredential)",
        "emulator": "the emulator's token",
    }[settings.credential]
