"""The Azure provider: Azure Resource Manager through `azure-mgmt-resource`, signed in with azure-identity.

Resources are handled by id with each type's api version through the SDK's generic-resource
operations (`get_by_id`, `begin_create_or_update_by_id`, `begin_update_by_id` for PATCH,
`begin_delete_by_id`); their long-running operations are polled by the SDK's ARM poller at the
configured interval (a Retry-After from the service wins, as ARM asks). Image Builder's actions (POST
`/run`, `/cancel`) and GET `/runOutputs` go through the client's `send_request`. An action returns once
the service accepted it; a build is followed by reading the template's `lastRunStatus`.

Bodies are sent as JSON exactly as the stack holds them and read back raw (the service's own keys),
never through the SDK's models, so nothing is renamed or dropped on the way.

Errors become the providers' family (`base.py`) with one-line messages (`azure_errors.py`); which layer
retries what is explained in `azure_retry.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.core.pipeline.policies import (
    ContentDecodePolicy,
    CustomHookPolicy,
    DistributedTracingPolicy,
    HeadersPolicy,
    NetworkTraceLoggingPolicy,
    ProxyPolicy,
    RedirectPolicy,
    RequestIdPolicy,
    SensitiveHeaderCleanupPolicy,
    UserAgentPolicy,
)
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy
from azure.mgmt.resource.resources import ResourceManagementClient

from ..base import Body, NotFoundError, ProviderError, ResourceRef
from ..catalog import ROLE_GRANTS, for_arm_type
from .auth import describe_credential, make_credential
from .errors import from_http_error, from_http_response
from .retry import OperationOwners, ReadRetryPolicy, RetryEvent, RetryReport
from .settings import AzureSettings

LOG = logging.getLogger("aibplan.azure")

# The api version of ARM's own resource-group listing.
RESOURCES_API_VERSION = "2021-04-01"
# Types whose writes are answered at once, with the resource: their 201 carries a Location header that
# names the resource itself, relative and without api-version (recorded for identities,
# tests/fixtures/recorded/azure-cli/identity_management_2022-01-31-preview.json#0); an SDK poller that
# followed it would GET it without api-version and fail, so these are not polled.
ANSWERED_AT_ONCE = frozenset({"microsoft.managedidentity/userassignedidentities"})
# The api version role assignments are listed at (the catalog's default for the kind).
ROLE_ASSIGNMENTS_API_VERSION = ROLE_GRANTS.default_api_version
_USER_AGENT = "aibplan"


def log_retry(event: RetryEvent) -> None:
    LOG.info("retry: %s", event.describe())


def _raw(pipeline_response: Any, deserialized: Any, headers: Any) -> Body:
    """The SDK's `cls` hook: the service's JSON as it came, not the SDK's model of it."""
    response = pipeline_response.http_response
    if not response.content:
        return {}
    value = response.json()
    return value if isinstance(value, dict) else {}


class AzureProvider:
    """Speaks to Azure Resource Manager (or anything that answers like it, such as aibplan's emulator)."""

    name = "azure"
    # The SDK pipeline retries GETs itself (azure_retry.py); the engine's retry layer leaves reads alone.
    retries_reads = True

    def __init__(
        self,
        settings: AzureSettings,
        *,
        credential: TokenCredential | None = None,
        on_retry: RetryReport | None = None,
        read_parallelism: int = 8,
    ) -> None:
        self.settings = settings
        self._credential = credential if credential is not None else make_credential(settings)
        self._who = describe_credential(settings)
        self._read_parallelism = max(1, read_parallelism)
        owners = OperationOwners()
        retry = ReadRetryPolicy(on_retry or log_retry, max_retries=settings.max_retries, owners=owners)
        # The SDK's default list minus ARMAutoResourceProviderRegistrationPolicy: aibplan never
        # registers a resource provider in a subscription behind the user's back.
        policies = [
            RequestIdPolicy(),
            HeadersPolicy(),
            UserAgentPolicy(user_agent=_USER_AGENT, sdk_moniker="mgmt-resource"),
            ProxyPolicy(),
            ContentDecodePolicy(),
            RedirectPolicy(),
            retry,
            owners,
            ARMChallengeAuthenticationPolicy(self._credential, settings.credential_scope),
            CustomHookPolicy(),
            NetworkTraceLoggingPolicy(),
            DistributedTracingPolicy(),
            SensitiveHeaderCleanupPolicy(),
            ARMHttpLoggingPolicy(),
        ]
        options: dict[str, Any] = {}
        if settings.ca_bundle is not None:
            options["connection_verify"] = str(settings.ca_bundle)
        self.client = ResourceManagementClient(
            self._credential,
            settings.subscription_id,
            base_url=settings.base_url,
            polling_interval=settings.polling_interval,
            policies=policies,
            credential_scopes=[settings.credential_scope],
            **options,
        )

    def describe(self) -> str:
        return (
            f"azure (subscription {self.settings.subscription_id} at {self.settings.base_url}, "
            f"signed in with {self._who})"
        )

    # -- resources -----------------------------------------------------------------------------------

    def read(self, ref: ResourceRef) -> Body | None:
        try:
            body: Body = self.client.resources.get_by_id(ref.arm_id, api_version=ref.api_version, cls=_raw)  # type: ignore[assignment]  # `cls` makes it the raw JSON
        except ResourceNotFoundError:
            return None
        except AzureError as exc:
            raise self._error(exc, ref.arm_id) from None
        return body

    def read_many(self, refs: Iterable[ResourceRef]) -> Mapping[str, Body | None]:
        refs = list(refs)
        if len(refs) <= 1:
            return {ref.arm_id: self.read(ref) for ref in refs}
        with ThreadPoolExecutor(self._read_parallelism, thread_name_prefix="aibplan-azure-read") as pool:
            bodies = list(pool.map(self.read, refs))
        return {ref.arm_id: body for ref, body in zip(refs, bodies, strict=True)}

    def create(self, ref: ResourceRef, body: Body) -> Body:
        return self._write("PUT", self.client.resources.begin_create_or_update_by_id, ref, body)

    def update(self, ref: ResourceRef, patch: Body) -> Body:
        return self._write("PATCH", self.client.resources.begin_update_by_id, ref, patch)

    def _write(self, verb: str, begin: Any, ref: ResourceRef, body: Body) -> Body:
        """A PUT or PATCH as a long-running operation the SDK polls; what the service holds afterwards."""
        LOG.debug("%s %s (api-version %s)", verb, ref.arm_id, ref.api_version)
        try:
            polling = ref.arm_type.lower() not in ANSWERED_AT_ONCE
            poller = begin(ref.arm_id, dict(body), api_version=ref.api_version, cls=_raw, polling=polling)
        except AzureError as exc:
            raise self._error(exc, ref.arm_id) from None
        try:
            result: Body = poller.result()  # raw JSON through `cls`
        except AzureError as exc:
            # Accepted, then failed: the resource may be there (an image template left Failed).
            error = self._error(exc, ref.arm_id)
            error.accepted = True
            raise error from None
        return result or self._read_back(ref)

    def delete(self, ref: ResourceRef) -> None:
        LOG.debug("DELETE %s (api-version %s)", ref.arm_id, ref.api_version)
        try:
            self.client.resources.begin_delete_by_id(ref.arm_id, api_version=ref.api_version).result()
        except ResourceNotFoundError:
            return
        except AzureError as exc:
            error = self._error(exc, ref.arm_id)
            if isinstance(error, NotFoundError):
                return
            raise error from None

    # -- Image Builder's actions -----------------------------------------------------------------------

    def invoke_action(self, ref: ResourceRef, action: str, body: Body | None = None) -> Body | None:
        LOG.debug("POST %s/%s (api-version %s)", ref.arm_id, action, ref.api_version)
        request = HttpRequest(
            "POST", f"{ref.arm_id}/{action}", params={"api-version": ref.api_version}, json=body
        )
        response = self._send(request, ref.arm_id)
        if not response.content:
            return None
        value = response.json()
        return value if isinstance(value, dict) else None

    def list_run_outputs(self, ref: ResourceRef) -> list[Body]:
        request = HttpRequest("GET", f"{ref.arm_id}/runOutputs", params={"api-version": ref.api_version})
        return self._paged(request, ref.arm_id)

    def list_resources(self, subscription: str, resource_group: str) -> list[Body]:
        """Every resource in the group: ARM lists envelopes; the managed kinds are read in full."""
        group = f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
        request = HttpRequest("GET", f"{group}/resources", params={"api-version": RESOURCES_API_VERSION})
        listed = self._paged(request, group)
        refs = []
        for item in listed:
            rtype = for_arm_type(str(item.get("type", "")))
            if rtype is not None and isinstance(item.get("id"), str):
                refs.append(ResourceRef(item["id"], rtype.arm_type, rtype.default_api_version))
        full = self.read_many(refs)
        out = []
        for item in listed:
            body = full.get(str(item.get("id")))
            out.append(body if body is not None else item)
        return out

    def list_role_assignments(self, scope: str, principal_id: str | None = None) -> list[Body]:
        params = {"api-version": ROLE_ASSIGNMENTS_API_VERSION}
        if principal_id:
            params["$filter"] = f"principalId eq '{principal_id}'"
        request = HttpRequest("GET", f"{scope.rstrip('/')}/providers/{ROLE_GRANTS.arm_type}", params=params)
        return self._paged(request, scope)

    def close(self) -> None:
        self.client.close()
        close = getattr(self._credential, "close", None)
        if callable(close):
            close()

    # -- plumbing --------------------------------------------------------------------------------------

    def _read_back(self, ref: ResourceRef) -> Body:
        body = self.read(ref)
        if body is None:
            raise NotFoundError(
                f"{ref.arm_id} was not found right after the service reported success",
                code="ResourceNotFound",
                status=404,
                resource_id=ref.arm_id,
            )
        return body

    def _send(self, request: HttpRequest, arm_id: str) -> HttpResponse:
        try:
            response = self.client.send_request(request)
            response.read()
        except AzureError as exc:
            raise self._error(exc, arm_id) from None
        if response.status_code >= 400:
            raise from_http_response(response, arm_id=arm_id, credential=self._who)
        return response

    def _paged(self, request: HttpRequest, arm_id: str) -> list[Body]:
        items: list[Body] = []
        next_request: HttpRequest | None = request
        while next_request is not None:
            value = self._send(next_request, arm_id).json()
            if not isinstance(value, dict):
                break
            items.extend(v for v in value.get("value") or [] if isinstance(v, dict))
            link = value.get("nextLink")
            next_request = HttpRequest("GET", link) if isinstance(link, str) and link else None
        return items

    def _error(self, exc: AzureError, arm_id: str) -> ProviderError:
        return from_http_error(exc, arm_id=arm_id, credential=self._who)
