"""What ARM answers about the account rather than about resources: subscriptions, tenants, locations,
the cloud's endpoints, and a resource provider's operations. Clients need these before they touch a
resource: `az login` lists the subscriptions, `az cloud register` reads `/metadata/endpoints`,
`az image builder create` checks its regions against `/subscriptions/{id}/locations`.

The emulator has one tenant. Its subscriptions are the ones it was started with and any that holds a
resource group; every one holds the public cloud's regions.
"""

from __future__ import annotations

from typing import Any

from ..simulated.region_names import display_name, public_regions
from ..simulated.service import TENANT_ID

Body = dict[str, Any]

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
CLOUD_NAME = "AibplanEmulator"


def subscription_body(subscription: str) -> Body:
    return {
        "id": f"/subscriptions/{subscription}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": subscription,
        "tenantId": TENANT_ID,
        "displayName": f"aibplan emulator {subscription[:8]}",
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def subscriptions_body(subscriptions: list[str]) -> Body:
    return {
        "value": [subscription_body(s) for s in subscriptions],
        "count": {"type": "Total", "value": len(subscriptions)},
    }


def tenants_body() -> Body:
    return {
        "value": [
            {
                "id": f"/tenants/{TENANT_ID}",
                "tenantId": TENANT_ID,
                "tenantCategory": "Home",
                "displayName": "aibplan emulator",
                "defaultDomain": "emulator.aibplan.invalid",
                "tenantType": "AAD",
            }
        ]
    }


def locations_body(subscription: str) -> Body:
    items = []
    for name in public_regions():
        shown = display_name(name)
        items.append(
            {
                "id": f"/subscriptions/{subscription}/locations/{name}",
                "name": name,
                "type": "Region",
                "displayName": shown,
                "regionalDisplayName": shown,
                "metadata": {"regionType": "Physical", "regionCategory": "Recommended"},
            }
        )
    return {"value": items}


def metadata_endpoints(endpoint: str) -> Body:
    """The cloud's endpoints in the shape `https://management.azure.com/metadata/endpoints?api-version=
    2022-09-01` answers, pointing everything aibplan's clients use at the emulator: ARM, sign-in (its own
    token endpoint) and the token audience."""
    base = endpoint.rstrip("/") + "/"
    return {
        "name": CLOUD_NAME,
        "portal": base,
        "resourceManager": base,
        "authentication": {
            "loginEndpoint": base,
            "audiences": [base],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "suffixes": {
            "storage": "core.windows.net",
            "keyVaultDns": "vault.azure.net",
            "sqlServerHostname": "database.windows.net",
            "acrLoginServer": "azurecr.io",
        },
    }


_TEMPLATE_OPERATIONS = (
    ("register/action", "Register Virtual Machine Image Builder RP", None),
    ("imageTemplates/read", "Get a VM image template", "VM Image template"),
    ("imageTemplates/write", "Create or update a VM image template", "VM Image template"),
    ("imageTemplates/delete", "Delete a VM image template", "VM Image template"),
    ("imageTemplates/run/action", "Start an image build", "VM Image template"),
    ("imageTemplates/cancel/action", "Cancel a running image build", "VM Image template"),
    (
        "imageTemplates/runOutputs/read",
        "Get the run outputs of an image build",
        "VM Image template run output",
    ),
)


def provider_operations(namespace: str) -> Body:
    """GET /providers/{namespace}/operations, the shape recorded for Image Builder (display, isDataAction,
    name); other namespaces answer an empty list."""
    if namespace.lower() != "microsoft.virtualmachineimages":
        return {"value": []}
    items = []
    for action, description, resource in _TEMPLATE_OPERATIONS:
        display: dict[str, str] = {
            "description": description,
            "operation": description,
            "provider": "Virtual Machine Image Builder",
        }
        if resource is not None:
            display["resource"] = resource
        items.append({"display": display, "isDataAction": False, "name": f"{namespace}/{action}"})
    return {"value": items}
