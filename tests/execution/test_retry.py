"""Retries: what is retried, how long it waits, where it stops; visible through the hooks."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planner.execution.retry import Retrier, RetryingProvider, RetryPolicy
from planner.hooks import RecordingHooks
from providers.base import (
    ConflictError,
    PermanentError,
    ResourceRef,
    ThrottledError,
    TransientError,
    error_for_status,
)
from providers.simulated.local import LocalProvider


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def failing(errors: list[BaseException], result: str = "ok") -> Callable[[], str]:
    def call() -> str:
        if errors:
            raise errors.pop(0)
        return result

    return call


def retrier(clock: Clock, **policy: float) -> Retrier:
    return Retrier(
        RetryPolicy(**policy),  # type: ignore[arg-type]
        sleep=clock.sleep,
        clock=lambda: clock.now,
        rng=random.Random(1),
    )


@pytest.mark.parametrize(
    "error",
    [
        error_for_status(503, "ServiceUnavailable", "busy"),
        error_for_status(500, "InternalServerError", "oops"),
        error_for_status(429, "TooManyRequests", "slow down", retry_after=3),
        error_for_status(409, "AnotherOperationInProgress", "Another operation is in progress"),
        ConnectionResetError("connection reset by peer"),
        TimeoutError("read timed out"),
    ],
    ids=["503", "500", "429", "409-in-progress", "dropped", "timeout"],
)
def test_transient_errors_are_retried(error: BaseException) -> None:
    clock = Clock()
    assert retrier(clock).call(failing([error, error])) == "ok"
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize(
    "error",
    [
        error_for_status(400, "InvalidParameter", "bad"),
        error_for_status(404, "ResourceNotFound", "gone"),
        error_for_status(409, "Conflict", "Update/Upgrade of image templates is currently not supported"),
        error_for_status(403, "AuthorizationFailed", "no"),
    ],
    ids=["400", "404", "409-conflict", "403"],
)
def test_errors_that_cannot_succeed_are_not_retried(error: BaseException) -> None:
    clock = Clock()
    with pytest.raises(type(error)):
        retrier(clock).call(failing([error]))
    assert clock.sleeps == []
    assert isinstance(error, (PermanentError, ConflictError)) or not isinstance(error, TransientError)


def test_retry_after_is_a_floor_and_backoff_grows_with_jitter() -> None:
    clock = Clock()
    throttled = ThrottledError("slow", code="TooManyRequests", status=429, retry_after=7)
    retrier(clock, base_delay=0.5).call(failing([throttled]))
    assert clock.sleeps[0] >= 7
    clock = Clock()
    errors: list[BaseException] = [TransientError("x", code="ServiceUnavailable") for _ in range(6)]
    retrier(clock, base_delay=1, max_attempts=10).call(failing(errors))
    ceilings = [min(60, 2**n) for n in range(6)]
    assert all(0 <= s <= c for s, c in zip(clock.sleeps, ceilings, strict=True))
    assert len(set(clock.sleeps)) == 6  # jitter: no two waits alike


def test_retries_are_bounded_in_count_and_in_time() -> None:
    clock = Clock()
    errors: list[BaseException] = [TransientError("x", code="ServiceUnavailable") for _ in range(20)]
    with pytest.raises(TransientError):
        retrier(clock, max_attempts=4).call(failing(errors))
    assert len(clock.sleeps) == 3
    clock = Clock()
    throttled = [ThrottledError("slow", code="TooManyRequests", retry_after=40) for _ in range(20)]
    with pytest.raises(ThrottledError):
        retrier(clock, max_attempts=100, max_seconds=100).call(failing(list(throttled)))
    assert clock.now <= 100 and len(clock.sleeps) == 2


def test_policy_from_the_environment_and_bad_values() -> None:
    policy = RetryPolicy.from_env({"AIBPLAN_RETRY_MAX_ATTEMPTS": "3", "AIBPLAN_RETRY_BASE_DELAY": "0.01"})
    assert (policy.max_attempts, policy.base_delay, policy.max_seconds) == (3, 0.01, 300.0)
    with pytest.raises(ValueError, match="AIBPLAN_RETRY_MAX_ATTEMPTS must be a number"):
        RetryPolicy.from_env({"AIBPLAN_RETRY_MAX_ATTEMPTS": "many"})
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy.from_env({"AIBPLAN_RETRY_MAX_ATTEMPTS": "0"})


def test_retrying_provider_reports_each_retry_by_address(tmp_path: Path) -> None:
    calls = {"n": 0}

    def flaky(operation: str, arm_id: str) -> None:
        if operation == "create" and calls["n"] < 2:
            calls["n"] += 1
            from providers.simulated.service import ServiceError

            raise ServiceError(429, "TooManyRequests", "slow down", retry_after=0.001)

    inner = LocalProvider(tmp_path, fault_hook=flaky)
    hooks = RecordingHooks()
    arm_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x"
    provider = RetryingProvider(
        inner, Retrier(RetryPolicy(base_delay=0.001)), hooks, names={arm_id: "identity.x"}
    )
    try:
        ref = ResourceRef(arm_id, "Microsoft.ManagedIdentity/userAssignedIdentities", "2023-01-31")
        assert provider.create(ref, {"location": "westus2"})["name"] == "x"
    finally:
        provider.close()
    assert hooks.events == [("retry", "identity.x", "create", "2"), ("retry", "identity.x", "create", "3")]


def test_the_local_clouds_read_with_its_fingerprint_is_retried_like_a_refresh(tmp_path: Path) -> None:
    inner = LocalProvider(tmp_path)
    answered = inner.read_many_fingerprinted
    failures = {"left": 2}

    def flaky(refs: list[ResourceRef]) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionResetError("reset by peer")
        return answered(refs)

    inner.read_many_fingerprinted = flaky  # type: ignore[method-assign]
    hooks = RecordingHooks()
    provider = RetryingProvider(inner, Retrier(RetryPolicy(base_delay=0.001)), hooks)
    ref = ResourceRef(
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g",
        "Microsoft.Compute/galleries",
        "2024-03-03",
    )
    try:
        answer, fingerprint = provider.read_many_fingerprinted(iter([ref]))
    finally:
        provider.close()
    assert answer == {ref.arm_id: None} and fingerprint
    assert [event[:3] for event in hooks.events] == [
        ("retry", "refresh", "read"),
        ("retry", "refresh", "read"),
    ]
