"""A role assignment made right after its identity: Azure answers PrincipalNotFound until the directory has
the new principal, and the apply retries it with backoff, saying so through `Hooks.retrying`.

The first test runs in simulated time: the local cloud's clock and the retry layer's sleep are one fake
clock, so the identity's principal "replicates" while the retry layer waits, and nothing waits on the wall.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.execution.apply import apply_plan
from planner.execution.engine import prepare, read_state
from planner.execution.retry import Retrier, RetryingProvider, RetryPolicy
from planner.hooks import Hooks
from planner.planning.plan import make_plan
from providers.base import NotReplicatedError, error_for_status
from providers.simulated.local import LocalProvider
from state import load_state
from tests.helpers import Run


class SimulatedTime:
    """One clock for the cloud and the retry layer: waiting moves it on."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Retries(Hooks):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int, str]] = []

    def retrying(self, address: str, action: str, attempt: int, delay: float, error: BaseException) -> None:
        self.seen.append((address, action, attempt, getattr(error, "code", "")))


def test_the_apply_retries_a_principal_the_directory_does_not_know_yet(
    example: Callable[[str], Path],
) -> None:
    root = example("quickstart")
    prepared, diagnostics = prepare(root)
    assert prepared is not None, diagnostics
    state, existing = read_state(prepared.stack)
    time = SimulatedTime()
    local = LocalProvider(prepared.stack.runtime_dir, principal_delay=5.0, clock=time)
    policy = RetryPolicy(max_attempts=12, max_seconds=600.0, base_delay=1.0, max_delay=8.0)
    hooks = Retries()
    provider = RetryingProvider(
        local, Retrier(policy, sleep=time.sleep, clock=time, rng=random.Random(7)), hooks
    )
    try:
        plan = make_plan(prepared.stack, prepared.graph, state, provider)
        result = apply_plan(
            plan, state, existing, prepared.stack.state_path, provider, hooks=hooks, parallelism=1
        )
    finally:
        provider.close()
    assert result.ok, result.failures
    retried = {address for address, _, _, _ in hooks.seen}
    assert retried and all(a.startswith("roleAssignment.") for a in retried)
    assert {(action, code) for _, action, _, code in hooks.seen} == {("create", "PrincipalNotFound")}
    # The retries waited out the directory's 5 seconds.
    assert sum(time.slept) >= 5.0, time.slept
    saved = load_state(prepared.stack.state_path)
    assert saved is not None and sum(a.startswith("roleAssignment.") for a in saved.by_address) == 2


def test_principal_not_found_is_worth_retrying_whatever_its_status() -> None:
    error = error_for_status(400, "PrincipalNotFound", "Principal abc does not exist in the directory t.")
    assert isinstance(error, NotReplicatedError)
    assert str(error) == "PrincipalNotFound: Principal abc does not exist in the directory t."


def test_the_retries_are_shown_as_the_command_runs(
    example: Callable[[str], Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example("quickstart")
    monkeypatch.setenv("AIBPLAN_LOCAL_PRINCIPAL_DELAY_MS", "100")
    monkeypatch.setenv("AIBPLAN_RETRY_BASE_DELAY", "0.05")
    monkeypatch.setenv("AIBPLAN_RETRY_MAX_ATTEMPTS", "12")
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    shown = [line for line in run.stderr.splitlines() if ": retrying create in " in line]
    assert shown and all(line.startswith("roleAssignment.") for line in shown)
    assert "PrincipalNotFound: Principal " in shown[0] and "does not exist in the directory" in shown[0]
    assert "Apply complete! Resources: 7 added" in run.stdout


def test_a_bad_principal_delay_setting_is_one_clear_error(
    example: Callable[[str], Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIBPLAN_LOCAL_PRINCIPAL_DELAY_MS", "soon")
    run = cli("plan", str(example("quickstart")))
    assert run.exit_code == 1
    assert "AIBPLAN_LOCAL_PRINCIPAL_DELAY_MS must be a number of milliseconds" in run.stderr
    assert "Traceback" not in run.stderr
