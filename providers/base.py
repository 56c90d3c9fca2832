"""The provider protocol and its one family of errors.

ProviderError                 any failure of a provider call; carries the service's code and message
├── NotFoundError             the resource (or its parent) does not exist (404)
├── ConflictError             the service refuses the change in the resource's current state (409)
├── AuthError                 credentials missing or not allowed (401/403)
├── TransientError            worth retrying: 5xx, dropped connections, "another operation in progress"
│   ├── ThrottledError        429, with the Retry-After the service asked for
│   └── NotReplicatedError    the directory does not know a principal made moments ago (PrincipalNotFound)
└── PermanentError            the request can never succeed as sent (400 and friends)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

Body = dict[str, Any]


@dataclass(frozen=True)
class ResourceRef:
    """Which resource a call is about and which api version to speak."""

    arm_id: str
    arm_type: str
    api_version: str


class ProviderError(Exception):
    def __init__(
        self,
        message: str,
        *,
        code: str = "Error",
        status: int | None = None,
        target: str | None = None,
        retry_after: float | None = None,
        resource_id: str | None = None,
        accepted: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.target = target
        self.retry_after = retry_after
        # The ARM id the failed call was about, so the CLI can name the resource's address.
        self.resource_id = resource_id
        # The service accepted the request and its operation failed afterwards: what it made may be there
        # (an image template left Failed), so the call is not known to have changed nothing.
        self.accepted = accepted

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


class NotFoundError(ProviderError):
    pass


class ConflictError(ProviderError):
    pass


class AuthError(ProviderError):
    pass


class TransientError(ProviderError):
    pass


class ThrottledError(TransientError):
    pass


class NotReplicatedError(TransientError):
    """A role assignment names a principal the directory does not know yet: Azure answers 400
    PrincipalNotFound for a few seconds after an identity is made, and the same request succeeds later."""


class PermanentError(ProviderError):
    pass


# ARM error codes that mean "not yet", whatever their status: tried again like transient errors.
NOT_YET = frozenset({"PrincipalNotFound"})


def error_for_status(
    status: int,
    code: str,
    message: str,
    *,
    target: str | None = None,
    retry_after: float | None = None,
    resource_id: str | None = None,
    accepted: bool = False,
) -> ProviderError:
    """Map an HTTP status and ARM error code to the family above."""
    kwargs: dict[str, Any] = {
        "code": code,
        "status": status,
        "target": target,
        "retry_after": retry_after,
        "resource_id": resource_id,
        "accepted": accepted,
    }
    if code in NOT_YET:
        return NotReplicatedError(message, **kwargs)
    if status == 404:
        return NotFoundError(message, **kwargs)
    if status == 429:
        return ThrottledError(message, **kwargs)
    if status in (401, 403):
        return AuthError(message, **kwargs)
    if status == 409:
        if code in ("AnotherOperationInProgress", "OperationNotAllowed") and "in progress" in message.lower():
            return TransientError(message, **kwargs)
        return ConflictError(message, **kwargs)
    if status >= 500:
        return TransientError(message, **kwargs)
    return PermanentError(message, **kwargs)


@runtime_checkable
class Provider(Protocol):
    """Where resources live. Every method blocks until the service's long-running operation is done."""

    name: str

    def describe(self) -> str:
        """One line saying which cloud this is, shown at the top of every plan."""

    def read(self, ref: ResourceRef) -> Body | None:
        """The resource as the service returns it, or None when it does not exist."""

    def read_many(self, refs: Iterable[ResourceRef]) -> Mapping[str, Body | None]:
        """`read` for many resources at once, keyed by the ref's arm_id."""

    def create(self, ref: ResourceRef, body: Body) -> Body:
        """PUT the body; returns what the service holds afterwards."""

    def update(self, ref: ResourceRef, patch: Body) -> Body:
        """PATCH the given fields; returns what the service holds afterwards."""

    def delete(self, ref: ResourceRef) -> None:
        """DELETE; succeeds when the resource is already gone."""

    def invoke_action(self, ref: ResourceRef, action: str, body: Body | None = None) -> Body | None:
        """POST an action such as `run` or `cancel`."""

    def list_run_outputs(self, ref: ResourceRef) -> list[Body]:
        """The run outputs of an image template (GET .../runOutputs)."""

    def list_resources(self, subscription: str, resource_group: str) -> list[Body]:
        """Every resource the service holds in a resource group (id, type and body)."""

    def list_role_assignments(self, scope: str, principal_id: str | None = None) -> list[Body]:
        """The role assignments at, above and below a scope (GET {scope}/providers/Microsoft.Authorization/
        roleAssignments), only the principal's when one is given (`$filter=principalId eq '...'`)."""

    def close(self) -> None:
        """Release connections and files."""
