"""Shared fixtures: example stacks copied to a temporary folder, and the CLI run in process."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from state.redact import forget_secrets
from tests.helpers import EXAMPLES, Run


@pytest.fixture(autouse=True)
def _fast_local_cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The simulated cloud answers at once in tests, whatever a stack's aibplan.json asks for."""
    monkeypatch.setenv("AIBPLAN_LOCAL_LATENCY_MS", "0")
    # A simulated build minute lasts a millisecond: a quickstart build takes about 30 ms.
    monkeypatch.setenv("AIBPLAN_LOCAL_BUILD_MINUTE_MS", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield
    # Secrets the loader learned in one test are not secrets of the next (state.redact).
    forget_secrets()


@pytest.fixture
def example(tmp_path: Path) -> Callable[[str], Path]:
    """Copy an example stack (without any state or local cloud) into a fresh folder."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(
            EXAMPLES / name,
            target,
            ignore=shutil.ignore_patterns(".aibplan", "aibplan.state.json*"),
        )
        return target

    return copy


@pytest.fixture
def cli() -> Callable[..., Run]:
    """Run `aibplan ARGS...` in process; stdout and stderr apart, stdin from `input`."""

    def run(*args: str, input: str | None = None) -> Run:
        runner = CliRunner()
        result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    return run
