"""Retries around every provider call: exponential backoff with full jitter, bounded in count and time.

Retried: throttling (429, waiting at least the Retry-After the service asked for), 5xx, dropped
connections, and "another operation is in progress" conflicts (all `TransientError`s, plus the socket
errors a provider may let through). Not retried: anything that cannot succeed by trying again (400s,
404, 409 conflicts about the resource itself, auth errors).

`RetryingProvider` wraps any Provider, so whichever provider is active (local, emulator, azure) gets
the same policy; each retry is reported through `Hooks.retrying` with the resource's address.

A write whose answer was lost (the connection reset after the service committed it) is retried like any
dropped connection. PATCH and DELETE may simply be sent again; a PUT may meet the resource its first
attempt made, and an image template refuses a second PUT (409 "Update/Upgrade ... not supported"). So a
create retried after an answer in doubt and refused as a conflict reads the resource back: one that holds
what was sent is its own committed write, and the create succeeded (`_own_write`).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from providers.base import Body, ConflictError, Provider, ResourceRef, TransientError
from providers.catalog import for_arm_type

from ..hooks import Hooks
from ..normalize import normalize_body
from ..planning.diff import diff_bodies
from ..settings import environment

T = TypeVar("T")

ENV_MAX_ATTEMPTS = "AIBPLAN_RETRY_MAX_ATTEMPTS"
ENV_MAX_SECONDS = "AIBPLAN_RETRY_MAX_SECONDS"
ENV_BASE_DELAY = "AIBPLAN_RETRY_BASE_DELAY"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. The n-th retry waits a random time in [0, min(max_delay, base_delay * 2**n)],
    but never less than the service's Retry-After, and never past `max_seconds` since the first try."""

    max_attempts: int = 8
    max_seconds: float = 300.0
    base_delay: float = 1.0
    max_delay: float = 60.0

    @staticmethod
    def from_env(env: Mapping[str, str]) -> RetryPolicy:
        """The default policy, with AIBPLAN_RETRY_MAX_ATTEMPTS / _MAX_SECONDS / _BASE_DELAY applied."""
        values: dict[str, Any] = {}
        for name, field_name, kind in (
            (ENV_MAX_ATTEMPTS, "max_attempts", int),
            (ENV_MAX_SECONDS, "max_seconds", float),
            (ENV_BASE_DELAY, "base_delay", float),
        ):
            text = env.get(name)
            if not text:
                continue
            try:
                value = kind(text)
            except ValueError:
                raise ValueError(f"{name} must be a number, not {text!r}") from None
            if value < (1 if kind is int else 0):
                raise ValueError(f"{name} must be at least {1 if kind is int else 0}, not {text!r}")
            values[field_name] = value
        return RetryPolicy(**values)


def is_retryable(error: BaseException) -> bool:
    """Errors that may succeed when tried again."""
    if isinstance(error, TransientError):
        return True
    return isinstance(error, (ConnectionError, TimeoutError))


class Retrier:
    """Runs a call under a policy; thread-safe (the jitter source is locked)."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy
        self.sleep = sleep
        self.clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()

    def delay_for(self, retry: int, error: BaseException) -> float:
        """The wait before retry number `retry` (1-based)."""
        ceiling = min(self.policy.max_delay, self.policy.base_delay * (2 ** (retry - 1)))
        with self._lock:
            delay = self._rng.uniform(0, ceiling)
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, (int, float)) and retry_after > 0:
            delay = max(delay, float(retry_after))
        return delay

    def call(
        self,
        fn: Callable[[], T],
        *,
        on_retry: Callable[[int, float, BaseException], None] | None = None,
    ) -> T:
        started = self.clock()
        attempt = 1
        while True:
            try:
                return fn()
            except BaseException as error:
                if not is_retryable(error) or attempt >= self.policy.max_attempts:
                    raise
                delay = self.delay_for(attempt, error)
                if self.clock() - started + delay > self.policy.max_seconds:
                    raise
                attempt += 1
                if on_retry is not None:
                    on_retry(attempt, delay, error)
                self.sleep(delay)


class RetryingProvider:
    """A Provider whose every call goes through a Retrier; retries are reported to `hooks`."""

    def __init__(
        self,
        inner: Provider,
        retrier: Retrier,
        hooks: Hooks | None = None,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.inner = inner
        self.retrier = retrier
        self.hooks = hooks or Hooks()
        self.names = {k.lower(): v for k, v in (names or {}).items()}
        self.name = inner.name
        # A provider that retries its own reads (the Azure SDK pipeline) is not retried twice.
        self._reads_retried = bool(getattr(inner, "retries_reads", False))

    def with_hooks(self, hooks: Hooks, names: Mapping[str, str] | None = None) -> RetryingProvider:
        """The same provider and policy, reporting to other hooks (and naming resources by address)."""
        return RetryingProvider(self.inner, self.retrier, hooks, names)

    def _run(self, fn: Callable[[], T], what: str, action: str) -> T:
        if action in ("read", "list") and self._reads_retried:
            return fn()
        address = self.names.get(what.lower(), what)

        def report(attempt: int, delay: float, error: BaseException) -> None:
            self.hooks.retrying(address, action, attempt, delay, error)

        return self.retrier.call(fn, on_retry=report)

    def describe(self) -> str:
        return self.inner.describe()

    def read(self, ref: ResourceRef) -> Body | None:
        return self._run(lambda: self.inner.read(ref), ref.arm_id, "read")

    def read_many(self, refs: Iterable[ResourceRef]) -> Mapping[str, Body | None]:
        listed = list(refs)
        return self._run(lambda: self.inner.read_many(listed), "refresh", "read")

    def create(self, ref: ResourceRef, body: Body) -> Body:
        """PUT, retried; a retry refused as a conflict after an answer in doubt may be its own write."""
        in_doubt = False

        def attempt() -> Body:
            nonlocal in_doubt
            try:
                return self.inner.create(ref, body)
            except ConflictError:
                own = self._own_write(ref, body) if in_doubt else None
                if own is None:
                    raise
                return own
            except BaseException as error:
                in_doubt = in_doubt or is_retryable(error)
                raise

        return self._run(attempt, ref.arm_id, "create")

    def _own_write(self, ref: ResourceRef, body: Body) -> Body | None:
        """The resource as read back, when it holds what `body` asked for (compared as a plan compares:
        normalised, read-only fields and service defaults aside); None otherwise."""
        rtype = for_arm_type(ref.arm_type)
        live = self.read(ref)
        if rtype is None or live is None:
            return None
        sent = normalize_body(rtype, body)
        if diff_bodies(normalize_body(rtype, live), sent, rtype, ref.api_version):
            return None
        address = self.names.get(ref.arm_id.lower(), ref.arm_id)
        self.hooks.message(
            f"{address}: the create's first answer was lost, and the service already holds what it sent: "
            "the create succeeded"
        )
        return live

    def update(self, ref: ResourceRef, patch: Body) -> Body:
        return self._run(lambda: self.inner.update(ref, patch), ref.arm_id, "update")

    def delete(self, ref: ResourceRef) -> None:
        self._run(lambda: self.inner.delete(ref), ref.arm_id, "delete")

    def invoke_action(self, ref: ResourceRef, action: str, body: Body | None = None) -> Body | None:
        return self._run(lambda: self.inner.invoke_action(ref, action, body), ref.arm_id, action)

    def list_run_outputs(self, ref: ResourceRef) -> list[Body]:
        return self._run(lambda: self.inner.list_run_outputs(ref), ref.arm_id, "read")

    def list_resources(self, subscription: str, resource_group: str) -> list[Body]:
        return self._run(
            lambda: self.inner.list_resources(subscription, resource_group), resource_group, "list"
        )

    def list_role_assignments(self, scope: str, principal_id: str | None = None) -> list[Body]:
        return self._run(lambda: self.inner.list_role_assignments(scope, principal_id), scope, "list")

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # Provider-specific extras (the local provider's `service`, `db_path`) stay reachable; its bulk
        # read with the answer's fingerprint (the plan cache) is a refresh, retried like `read_many`.
        extra = getattr(self.inner, name)
        if name == "read_many_fingerprinted":

            def retried(refs: Iterable[ResourceRef]) -> Any:
                listed = list(refs)
                return self._run(lambda: extra(listed), "refresh", "read")

            return retried
        return extra


def unwrap(provider: Provider) -> Provider:
    """The provider under the retry layer (for provider-specific extras such as the local cloud's)."""
    return provider.inner if isinstance(provider, RetryingProvider) else provider


def retrying(
    provider: Provider, hooks: Hooks | None = None, names: Mapping[str, str] | None = None
) -> Provider:
    """`provider` with retries reported to `hooks`; a provider that already retries is re-pointed, not
    wrapped twice."""
    if isinstance(provider, RetryingProvider):
        return provider.with_hooks(hooks or provider.hooks, names)
    return RetryingProvider(provider, Retrier(RetryPolicy.from_env(environment())), hooks, names)
