"""Azure's error answers turned into the providers' error family, each as one line that says what to do.

ARM error bodies come as `{"error": {"code", "message", "target", "details"}}`, or flat
(`{"code", "message"}`) from the Image Builder service before api-version 2021-10-01; both are read.
The messages keep the service's own text and add the next step where one is known:

- MissingSubscriptionRegistration: how to register the resource provider (aibplan never registers one
  behind the user's back: a plan tool must not change a subscription the plan did not show);
- AuthorizationFailed: which identity lacks which action on which scope, and how it signed in;
- ResourceGroupNotFound: that the group must exist first, and how to make it;
- 400s (InvalidTemplate, BadRequest, InvalidParameter, ...): the message, the target and the details;
- 429: the Retry-After the service asked for; 5xx and dropped connections: transient.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError

from ..base import AuthError, PermanentError, ProviderError, TransientError, error_for_status
from ..catalog.arm_ids import parse_resource_id

_AUTHZ = re.compile(
    r"client '(?P<client>[^']*)'(?: with object id '(?P<oid>[^']*)')? does not have authorization "
    r"to perform action '(?P<action>[^']*)' over scope '(?P<scope>[^']*)'",
    re.IGNORECASE,
)
_NAMESPACE = re.compile(r"namespace '(?P<ns>[^']+)'", re.IGNORECASE)


def from_http_error(exc: AzureError, *, arm_id: str | None, credential: str) -> ProviderError:
    """Any exception the SDK raised for a call about `arm_id`."""
    response = getattr(exc, "response", None)
    if isinstance(exc, HttpResponseError) and response is not None:
        return from_http_response(response, arm_id=arm_id, credential=credential, fallback=str(exc))
    if isinstance(exc, ClientAuthenticationError):
        first = _one_line(str(exc.message or exc).split("\n", 1)[0])
        return AuthError(
            f"could not sign in to Azure with {credential}: {first}. Sign in with `az login`, set "
            "AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or choose a credential with "
            "azure.credential in aibplan.json (see docs/azure.md)",
            code="CredentialUnavailable",
            resource_id=arm_id,
        )
    return TransientError(
        f"could not reach Azure Resource Manager: {_one_line(str(exc))}",
        code="ConnectionFailed",
        resource_id=arm_id,
    )


def from_http_response(
    response: Any, *, arm_id: str | None, credential: str, fallback: str = ""
) -> ProviderError:
    """An SDK HTTP response that carries an error (its body read as JSON when it is JSON)."""
    try:
        body: Any = response.json()
    except Exception:
        body = None
    return from_response(
        response.status_code,
        body,
        response.headers,
        arm_id=arm_id,
        credential=credential,
        fallback=response.reason or fallback,
    )


def from_response(
    status: int,
    body: Any,
    headers: Mapping[str, str],
    *,
    arm_id: str | None,
    credential: str,
    fallback: str = "",
) -> ProviderError:
    """An error answer (status, parsed JSON body, headers) as a ProviderError with a clear message."""
    error = _error_object(body)
    code = str(error.get("code") or _default_code(status))
    message = _one_line(str(error.get("message") or fallback or f"HTTP {status}"))
    target = error.get("target") if isinstance(error.get("target"), str) else None
    retry_after = parse_retry_after(headers)
    kwargs: dict[str, Any] = {
        "code": code,
        "status": status,
        "target": target,
        "retry_after": retry_after,
        "resource_id": arm_id,
    }
    if code == "MissingSubscriptionRegistration":
        match = _NAMESPACE.search(message)
        rid = parse_resource_id(arm_id or "")
        namespace = (
            match.group("ns") if match else (rid.namespace if rid else "Microsoft.VirtualMachineImages")
        )
        return PermanentError(
            f"{message} Register the resource provider once with `az provider register --namespace "
            f"{namespace}` and wait until `az provider show --namespace {namespace} --query "
            "registrationState` says Registered (Image Builder also needs Microsoft.Compute, "
            "Microsoft.Storage, Microsoft.Network and Microsoft.KeyVault registered).",
            **kwargs,
        )
    if code in ("AuthorizationFailed", "LinkedAuthorizationFailed") or (status == 403 and not error):
        return AuthError(_authorization_message(message, credential), **kwargs)
    if code == "ResourceGroupNotFound":
        rid = parse_resource_id(arm_id or "")
        group = rid.resource_group if rid else "the resource group"
        return error_for_status(
            status,
            code,
            f"{message} Create it first (`az group create --name {group} --location <region>`) or set "
            "resourceGroup in aibplan.json to a group that exists.",
            target=target,
            resource_id=arm_id,
        )
    if status == 429:
        wait = f" (the service asked to retry after {retry_after:g}s)" if retry_after is not None else ""
        return error_for_status(
            status, code, f"{message}{wait}", target=target, retry_after=retry_after, resource_id=arm_id
        )
    if 400 <= status < 500 and status not in (401, 403, 404, 409):
        extra = _details(error)
        shown = message
        if target and target not in message:
            shown += f" (target: {target})"
        if extra:
            shown += f" Details: {extra}"
        return error_for_status(
            status, code, shown, target=target, retry_after=retry_after, resource_id=arm_id
        )
    return error_for_status(status, code, message, target=target, retry_after=retry_after, resource_id=arm_id)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Retry-After in seconds (a number or an HTTP date), or the x-ms-retry-after-ms header."""
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - time.time())
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        if lowered.get(name):
            try:
                return max(0.0, float(lowered[name]) / 1000.0)
            except ValueError:
                return None
    return None


def _authorization_message(message: str, credential: str) -> str:
    match = _AUTHZ.search(message)
    if match is None:
        return f"{message} (signed in with {credential})"
    who = match.group("client")
    if match.group("oid") and match.group("oid") != who:
        who += f" (object id {match.group('oid')})"
    return (
        f"the identity {who}, signed in with {credential}, is not allowed to perform "
        f"{match.group('action')} on {match.group('scope')}. Grant it a role with that action on the "
        "resource group (see docs/azure.md for the roles aibplan needs) or sign in as another identity."
    )


def _error_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        return {}
    nested = body.get("error")
    if isinstance(nested, dict):
        return nested
    if "code" in body or "message" in body:
        return body
    return {}


def _details(error: Mapping[str, Any]) -> str:
    parts = []
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("message"):
            text = str(detail["message"])
            if detail.get("target"):
                text += f" (target: {detail['target']})"
            parts.append(_one_line(text))
    return "; ".join(parts)


def _default_code(status: int) -> str:
    return {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        429: "TooManyRequests",
    }.get(status, "ServerError" if status >= 500 else "Error")


def _one_line(text: str) -> str:
    return " ".join(text.split())
