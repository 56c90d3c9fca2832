"""Cancel a running image template build and wait for it to end, before the template is deleted.

The service refuses to delete a template while a build runs. Cancel is a POST that does not wait: the
build's `lastRunStatus.runState` goes Running → Canceling → Canceled. Apply polls until the build has
ended; a build still canceling after the timeout fails that resource with a clear error (and nothing
downstream of it runs).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from providers.base import Provider, ProviderError, ResourceRef

from ..planning.consequences import ACTIVE_RUN_STATES, run_state
from .timeouts import DEFAULT_CANCEL_TIMEOUT

__all__ = ["DEFAULT_CANCEL_TIMEOUT", "BuildCancelTimeout", "cancel_running_build"]
CODE_CANCEL_TIMEOUT = "AIB6010"


class BuildCancelTimeout(ProviderError):
    """A build did not reach Canceled in time; the template was left in place."""


def cancel_running_build(
    provider: Provider,
    ref: ResourceRef,
    *,
    timeout: float = DEFAULT_CANCEL_TIMEOUT,
    first_poll: float = 0.05,
    max_poll: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_message: Callable[[str], None] | None = None,
) -> str | None:
    """If a build of the template at `ref` is running, cancel it and wait until it has ended.

    Returns the run state the build ended in (None when no build was running). Raises
    BuildCancelTimeout when the build is still Canceling (or Running) after `timeout` seconds.
    """
    state = run_state(provider.read(ref))
    if state not in ACTIVE_RUN_STATES:
        return None
    name = ref.arm_id.rstrip("/").rsplit("/", 1)[-1]
    if on_message is not None:
        on_message(f"{name}: a build is {state}; cancelling it before the template is deleted...")
    if state == "Running":
        try:
            provider.invoke_action(ref, "cancel")
        except ProviderError:
            # The build may have ended between the read and the cancel ("nothing to cancel").
            if run_state(provider.read(ref)) in ACTIVE_RUN_STATES:
                raise
    deadline = clock() + timeout
    delay = first_poll
    while True:
        body = provider.read(ref)
        state = run_state(body)
        if body is None or state not in ACTIVE_RUN_STATES:
            if on_message is not None:
                on_message(f"{name}: the build ended ({state or 'gone'}); deleting the template.")
            return state
        if clock() >= deadline:
            raise BuildCancelTimeout(
                f"the build of image template '{name}' is still {state} {timeout:g}s after it was "
                "asked to cancel, so the template was not deleted; wait for the build to end (aibplan "
                "drift shows its runState) and run apply again, or raise --cancel-timeout",
                code=CODE_CANCEL_TIMEOUT,
                target=ref.arm_id,
            )
        sleep(min(delay, max(0.0, deadline - clock())))
        delay = min(delay * 2, max_poll)
