"""Acceptance: with 30% of all requests answered 429 + Retry-After, apply and destroy still complete, and
every retry is visible: writes are retried by the engine's retry layer (a line per retry, always), reads
and operation polls inside the SDK (a line per retry with --verbose)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from providers.emulator.faults import Fault, throttling
from tests.helpers import Emulator, Run

WRITES = ("PUT", "PATCH", "DELETE", "POST")


def retries_shown(emulator: Emulator, since: int, run: Run) -> tuple[int, int, int, int]:
    """(writes throttled, engine retry lines, reads throttled, provider retry lines)."""
    fired = emulator.server.faults.fired[since:]
    writes = sum(1 for method, _path, status in fired if status == 429 and method in WRITES)
    reads = sum(1 for method, _path, status in fired if status == 429 and method == "GET")
    lines = run.stderr.splitlines()
    engine = sum(1 for line in lines if ": retrying " in line and "TooManyRequests" in line)
    provider = sum(1 for line in lines if line.startswith("retry: GET ") and "429 TooManyRequests" in line)
    return writes, engine, reads, provider


def test_apply_and_destroy_complete_under_30_percent_throttling(
    azure_quickstart: Callable[..., Path],
    cli: Callable[..., Run],
    faults: Callable[[Fault], Fault],
    emulator: Emulator,
) -> None:
    root = azure_quickstart()
    faults(throttling(0.3, retry_after=0.01))
    throttled = 0
    for command in (
        ("apply", "--auto-approve"),
        ("plan", "--detailed-exitcode"),
        ("destroy", "--auto-approve"),
    ):
        since = len(emulator.server.faults.fired)
        run = cli(*command, "--verbose", str(root))
        assert run.exit_code == 0, run.stdout + run.stderr
        writes, engine, reads, provider = retries_shown(emulator, since, run)
        assert engine == writes, run.stderr
        assert provider == reads, run.stderr
        throttled += writes + reads
    assert throttled > 0  # something was throttled, and every retry was shown
    assert "Destroy complete! Resources: 7 destroyed." in run.stdout


def test_retries_inside_the_provider_are_quiet_without_verbose(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run], faults: Callable[[Fault], Fault]
) -> None:
    root = azure_quickstart()
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    faults(throttling(1.0, retry_after=0.01, times=2, methods=frozenset({"GET"})))
    run = cli("plan", "--detailed-exitcode", str(root))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "retry" not in run.stderr
    faults(throttling(1.0, retry_after=0.01, times=2, methods=frozenset({"GET"})))
    run = cli("plan", "--detailed-exitcode", "--verbose", str(root))
    assert run.exit_code == 0
    shown = [line for line in run.stderr.splitlines() if line.startswith("retry: GET")]
    assert len(shown) == 2, run.stderr
    assert "429 TooManyRequests; retrying in 0.01s (attempt 2)" in shown[0]


def test_a_throttled_write_is_retried_by_the_engine_once_per_429(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run], faults: Callable[[Fault], Fault]
) -> None:
    root = azure_quickstart()
    faults(
        throttling(1.0, retry_after=0.01, times=2, methods=frozenset({"PUT"}), path_contains="/galleries/")
    )
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    shown = [line for line in run.stderr.splitlines() if ": retrying " in line]
    assert len(shown) == 2, run.stderr
    assert all(line.startswith(("gallery.corpImages: retrying create", "imageDefinition.")) for line in shown)
    assert "TooManyRequests" in shown[0]
