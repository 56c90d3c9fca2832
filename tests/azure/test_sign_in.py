"""The emulator's sign-in endpoint and cloud metadata, driven by clients we did not write: azure-identity's
ClientSecretCredential (MSAL underneath) signs in with a service principal over TLS and the token it
gets works on the emulator's ARM side; `/metadata/endpoints` is what `az cloud register` reads."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient

from providers.simulated.service import TENANT_ID
from tests.helpers import SUBSCRIPTION, Emulator


def fetch(emulator: Emulator, path: str, form: dict[str, str] | None = None) -> tuple[int, Any]:
    """GET (or POST a form to) the emulator over TLS, without a token; (status, JSON)."""
    data = urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(emulator.endpoint + path, data=data)
    context = ssl.create_default_context(cafile=str(emulator.ca_file))
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def test_a_service_principal_signs_in_with_msal_and_its_token_works_on_arm(emulator: Emulator) -> None:
    credential = ClientSecretCredential(
        TENANT_ID,
        "11111111-aaaa-bbbb-cccc-000000000001",
        "a-secret-the-emulator-does-not-check",
        authority=emulator.endpoint,
        disable_instance_discovery=True,
        connection_verify=str(emulator.ca_file),
    )
    token = credential.get_token(f"{emulator.endpoint}/.default")
    issued = claims(token.token)
    assert issued["aud"] == emulator.endpoint and issued["tid"] == TENANT_ID
    assert issued["appid"] == "11111111-aaaa-bbbb-cccc-000000000001"
    assert issued["exp"] - issued["iat"] == 3599 and token.token.count(".") == 2
    client = ResourceManagementClient(
        credential,
        SUBSCRIPTION,
        base_url=emulator.endpoint,
        credential_scopes=[f"{emulator.endpoint}/.default"],
        connection_verify=str(emulator.ca_file),
    )
    group = emulator.new_group()
    assert client.resource_groups.get(group).name == group
    client.close()
    credential.close()


def test_token_errors_are_entra_ids(emulator: Emulator) -> None:
    token_path = f"/{TENANT_ID}/oauth2/v2.0/token"
    status, body = fetch(
        emulator, token_path, {"grant_type": "client_credentials", "client_id": "x", "scope": "y/.default"}
    )
    assert status == 401 and body["error"] == "invalid_client" and body["error_codes"] == [7000216]
    assert body["error_description"].startswith("AADSTS7000216: ")
    status, body = fetch(emulator, token_path, {"grant_type": "password", "client_id": "x"})
    assert status == 400 and body["error"] == "unsupported_grant_type"
    form = {"grant_type": "client_credentials", "client_id": "x", "client_secret": "s", "scope": "y"}
    status, body = fetch(emulator, token_path, form)
    assert status == 400 and body["error"] == "invalid_scope"
    with pytest.raises(ClientAuthenticationError):
        ClientSecretCredential(
            TENANT_ID,
            "x",
            "s",
            authority=emulator.endpoint,
            disable_instance_discovery=True,
            connection_verify=str(emulator.ca_file),
        ).get_token("not-a-scope")


def test_metadata_endpoints_point_every_client_at_the_emulator(emulator: Emulator) -> None:
    status, metadata = fetch(emulator, "/metadata/endpoints?api-version=2022-09-01")
    assert status == 200
    base = emulator.endpoint + "/"
    assert metadata["resourceManager"] == base
    assert metadata["authentication"]["loginEndpoint"] == base
    assert metadata["authentication"]["audiences"] == [base]
    status, configuration = fetch(emulator, f"/{TENANT_ID}/v2.0/.well-known/openid-configuration")
    assert status == 200
    assert configuration["token_endpoint"] == f"{emulator.endpoint}/{TENANT_ID}/oauth2/v2.0/token"
