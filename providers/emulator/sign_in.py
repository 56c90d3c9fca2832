"""A local sign-in endpoint in the shape of Microsoft Entra ID's, so clients that sign in before they call
ARM (the Azure CLI's `az login --service-principal`, MSAL) can be pointed at the emulator.

It serves the OpenID configuration (`/{tenant}/v2.0/.well-known/openid-configuration`) and the token
endpoint (`/{tenant}/oauth2/v2.0/token`, and the v1 `/{tenant}/oauth2/token`) for the OAuth2 client
credentials grant: a client id with a secret (or a client assertion) gets an access token for the scope
it asks, a JWT with the claims Entra ID puts in an app token (aud, iss, tid, appid, oid, exp, ...),
signed with a key the emulator makes at start. Errors are Entra ID's: `{error, error_description
("AADSTS<n>: ..."), error_codes, timestamp, trace_id, correlation_id}` with 400 or 401.

Nothing is checked against a directory: any client id and any non-empty secret sign in. The emulator
serves loopback only and its ARM side accepts any bearer token; this endpoint exists so that real
clients run their real sign-in code, not to keep anyone out.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from ..simulated.service import TENANT_ID

Body = dict[str, Any]
Answer = tuple[int, Body]

TOKEN_SECONDS = 3599
_NS = uuid.UUID("2f1d7a52-8c3e-4d7b-9a61-0c5e8b3f4a27")


def is_sign_in_path(lowered: list[str]) -> bool:
    """`{tenant}/v2.0/.well-known/openid-configuration`, `{tenant}/oauth2[/v2.0]/token` and the like."""
    if len(lowered) < 2 or lowered[0] in ("subscriptions", "providers", "metadata", "tenants"):
        return False
    return lowered[1] == "oauth2" or ".well-known" in lowered


class SignIn:
    """The token endpoint of one emulator (one signing key)."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def openid_configuration(self, base: str, tenant: str) -> Body:
        root = f"{base}/{tenant}"
        return {
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "issuer": f"{root}/v2.0",
            "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "NA",
        }

    def token(self, base: str, tenant: str, form_body: bytes, *, version: str) -> Answer:
        """POST .../oauth2[/v2.0]/token with a form body; (status, JSON answer)."""
        form = dict(parse_qsl(form_body.decode("utf-8", "replace")))
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            return _error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'; this endpoint serves "
                "client_credentials only.",
            )
        client_id = form.get("client_id", "")
        if not client_id:
            return _error(400, "invalid_request", 900144, "The request body must contain 'client_id'.")
        if not (form.get("client_secret") or form.get("client_assertion")):
            return _error(
                401,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the "
                "'client_credentials' grant type.",
            )
        if version == "v2.0":
            scope = form.get("scope", "")
            if not scope.endswith("/.default"):
                return _error(
                    400,
                    "invalid_scope",
                    1002012,
                    f"The provided value for scope {scope or '(none)'} is not valid. Client credential "
                    "flows must have a scope value with /.default suffixed to the resource identifier "
                    "(application ID URI).",
                )
            audience = scope[: -len("/.default")]
        else:
            audience = form.get("resource", "")
            if not audience:
                return _error(400, "invalid_request", 900144, "The request body must contain 'resource'.")
        now = int(time.time())
        object_id = str(uuid.uuid5(_NS, client_id))
        claims = {
            "aud": audience,
            "iss": f"{base}/{tenant}/v2.0" if version == "v2.0" else f"{base}/{tenant}/",
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_SECONDS,
            "appid": client_id,
            "azp": client_id,
            "idtyp": "app",
            "oid": object_id,
            "sub": object_id,
            "tid": tenant if _is_guid(tenant) else TENANT_ID,
            "ver": "2.0" if version == "v2.0" else "1.0",
        }
        answer: Body = {
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "ext_expires_in": TOKEN_SECONDS,
            "access_token": self._sign(claims),
        }
        if version != "v2.0":
            answer.update(expires_on=str(now + TOKEN_SECONDS), not_before=str(now), resource=audience)
        return 200, answer

    def _sign(self, claims: Body) -> str:
        header = {"typ": "JWT", "alg": "HS256", "kid": "aibplan-emulator"}
        signed = f"{_b64(json.dumps(header))}.{_b64(json.dumps(claims))}"
        signature = hmac.new(self._key, signed.encode(), hashlib.sha256).digest()
        return f"{signed}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _error(status: int, error: str, code: int, description: str) -> Answer:
    moment = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    trace = str(uuid.uuid4())
    return status, {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Timestamp: {moment}",
        "error_codes": [code],
        "timestamp": moment,
        "trace_id": trace,
        "correlation_id": str(uuid.uuid4()),
    }
