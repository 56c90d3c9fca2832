"""How the Azure provider and aibplan's own retry layer share the work of retrying.

The SDK's pipeline retries only requests that cannot change anything: GET and HEAD, which are the
reads of a refresh, the status polls of a long-running operation and its final GET. A throttled poll
must be retried where it happens: giving up on it would abandon an operation the service is still
running. Each of these retries honours Retry-After and is reported (the provider logs it; the CLI shows
it with --verbose).

Writes (PUT, PATCH, DELETE, POST) are never retried by the SDK: a 429 or 5xx on them reaches the
engine as ThrottledError / TransientError with the service's Retry-After, and the engine's retry layer,
which knows the resource's address and reports through its hooks, decides whether to try again. So a
write is retried by exactly one layer, and every retry is visible.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import RetryPolicy, SansIOHTTPPolicy

SAFE_METHODS = frozenset({"GET", "HEAD"})
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryEvent:
    """One retry about to happen."""

    method: str
    path: str
    resource: str  # the resource the request is about (a poll's operation is traced back to it)
    status: int | None  # None when the connection failed
    attempt: int  # the attempt about to be made (2 for the first retry)
    delay: float
    reason: str

    def describe(self) -> str:
        what = f"{self.method} {self.path}"
        if self.resource != self.path:
            what = f"{self.method} operation status of {self.resource}"
        return f"{what}: {self.reason}; retrying in {self.delay:.2f}s (attempt {self.attempt})"


RetryReport = Callable[[RetryEvent], None]


class OperationOwners(SansIOHTTPPolicy[Any, Any]):
    """Remembers which resource each long-running operation's status URLs belong to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[str, str] = {}

    def on_response(self, request: PipelineRequest[Any], response: PipelineResponse[Any, Any]) -> None:
        headers = response.http_response.headers
        owner = urlsplit(str(request.http_request.url)).path
        for name in ("Azure-AsyncOperation", "Location"):
            value = headers.get(name)
            if value:
                with self._lock:
                    self._owners[urlsplit(value).path] = self._owners.get(owner, owner)

    def owner(self, path: str) -> str:
        with self._lock:
            return self._owners.get(path, path)


class ReadRetryPolicy(RetryPolicy):  # type: ignore[type-arg]
    """azure-core's RetryPolicy narrowed to safe methods, reporting every retry."""

    def __init__(
        self,
        report: RetryReport,
        *,
        max_retries: int,
        backoff_factor: float = 0.5,
        owners: OperationOwners | None = None,
    ) -> None:
        super().__init__(
            retry_total=max_retries,
            retry_connect=max_retries,
            retry_read=max_retries,
            retry_status=max_retries,
            retry_backoff_factor=backoff_factor,
            retry_backoff_max=60,
        )
        self._report = report
        self._owners = owners or OperationOwners()

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        if response.http_request.method.upper() not in SAFE_METHODS:
            return False
        return bool(settings["total"]) and response.http_response.status_code in RETRIED_STATUSES

    def _is_method_retryable(self, settings: dict[str, Any], request: Any, response: Any = None) -> bool:
        return str(request.method).upper() in SAFE_METHODS

    def sleep(
        self, settings: dict[str, Any], transport: Any, response: PipelineResponse[Any, Any] | None = None
    ) -> None:
        delay = self.get_retry_after(response) if response is not None else None
        if not delay:
            delay = self.get_backoff_time(settings)
        history = settings.get("history") or []
        last = history[-1] if history else None
        request = response.http_request if response is not None else getattr(last, "http_request", None)
        status = response.http_response.status_code if response is not None else None
        if response is not None:
            reason = f"{status} {_error_code(response) or response.http_response.reason or ''}".strip()
        else:
            error = getattr(last, "error", None)
            reason = (
                f"connection failed: {type(error).__name__}" if error is not None else "connection failed"
            )
        path = urlsplit(str(getattr(request, "url", ""))).path
        self._report(
            RetryEvent(
                method=str(getattr(request, "method", "?")).upper(),
                path=path,
                resource=self._owners.owner(path),
                status=status,
                attempt=len(history) + 1,
                delay=float(delay),
                reason=reason,
            )
        )
        super().sleep(settings, transport, response)


def _error_code(response: PipelineResponse[Any, Any]) -> str | None:
    try:
        body = response.http_response.json()
    except Exception:
        return None
    if isinstance(body, dict):
        nested = body.get("error")
        error: dict[str, Any] = nested if isinstance(nested, dict) else body
        code = error.get("code")
        return code if isinstance(code, str) else None
    return None
