"""The emulator's requests and answers as plain data, and ARM's error bodies.

ARM wraps errors as `{"error": {"code", "message", "target"?}}`; the Image Builder service answered with a
flat `{"code", "message"}` before api-version 2021-10-01 (the service's release notes).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..catalog.types import api_version_key
from ..simulated.service import ServiceError
from .faults import Fault

Body = dict[str, Any]

# The Image Builder service wraps errors in {"error": ...} from this api version on.
NESTED_ERRORS_SINCE = "2021-10-01"


@dataclass(frozen=True)
class Request:
    """A request as the emulator received it."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""

    @property
    def host(self) -> str:
        return self.headers.get("host", "localhost")

    @property
    def base_url(self) -> str:
        """The emulator's endpoint as the client reached it."""
        return f"https://{self.host}"


@dataclass(frozen=True)
class Response:
    """An answer the emulator sends; with `drop`, it resets the connection instead."""

    status: int
    body: Any = None  # JSON-serialisable, or None for an empty body
    headers: Mapping[str, str] = field(default_factory=dict)
    # Send nothing and reset the connection (an injected lost answer).
    drop: bool = False


def json_body(request: Request) -> Body:
    """The request's JSON object; ARM's InvalidRequestContent when it is not one."""
    if not request.body:
        return {}
    try:
        value = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ServiceError(
            400,
            "InvalidRequestContent",
            f"The request content was invalid and could not be deserialized: {exc}",
        ) from None
    if value is None:  # a JSON null: no content, as for an action that takes none
        return {}
    if not isinstance(value, dict):
        raise ServiceError(400, "InvalidRequestContent", "The request content must be a JSON object.")
    return value


def nested_errors(path: str, api_version: str) -> bool:
    """The Image Builder service answered with flat error bodies before 2021-10-01."""
    if "/microsoft.virtualmachineimages/" not in path.lower() or not api_version:
        return True
    try:
        return api_version_key(api_version) >= api_version_key(NESTED_ERRORS_SINCE)
    except (TypeError, ValueError):
        return True


def error_response(exc: ServiceError, *, nested: bool) -> Response:
    detail: Body = {"code": exc.code, "message": exc.message}
    if exc.target:
        detail["target"] = exc.target
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = f"{exc.retry_after:g}"
    return Response(exc.status, {"error": detail} if nested else detail, headers)


def fault_response(fault: Fault, nested: bool) -> Response:
    return error_response(
        ServiceError(
            fault.status, fault.code, fault.message, target=fault.target, retry_after=fault.retry_after
        ),
        nested=nested,
    )
