"""The error the simulated service answers with: an ARM error response as an exception."""

from __future__ import annotations


class ServiceError(Exception):
    """An ARM error response: HTTP status, ARM error code, message, optional target and Retry-After."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        retry_after: float | None = None,
        accepted: bool = False,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.retry_after = retry_after
        # The request was accepted and failed afterwards (its long-running operation ended Failed): what
        # it made is there, in a failed state.
        self.accepted = accepted
