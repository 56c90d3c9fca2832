"""Fixtures for the state backends: one Azurite per test session (per xdist worker), a fresh container
for every test, and the same scenarios run on the `local` backend and on `azureblob`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Emulator
from tests.helpers.azurite import Azurite, command, running
from tests.helpers.backends import Place, blob_place
from tests.helpers.machines import arm_emulator


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    if command() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the azureblob tests: .ci/run installs Azurite into .ci/node")
        pytest.skip(
            "the azureblob backend's tests need Azurite: neither an `azurite` executable nor `npx` is on "
            "PATH (install Node.js, or run .ci/run, which installs Azurite into .ci/node)"
        )
    with running(tmp_path_factory.mktemp("azurite")) as server:
        yield server


@pytest.fixture(params=["local", pytest.param("azureblob", marks=pytest.mark.azurite)])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    """The same shared state on each backend: a stack folder for `local`, a container for `azureblob`."""
    stack = tmp_path / "stack"
    stack.mkdir()
    if request.param == "local":
        where = Place("local", {"type": "local"}, {}, stack)
    else:
        where = blob_place(request.getfixturevalue("azurite"), stack)
    yield where
    for agent in where.agents:
        if agent.process.poll() is None:
            agent.process.kill()
        agent.stop()


@pytest.fixture(scope="session")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The cloud the machines share: an ARM emulator over TLS."""
    with arm_emulator(tmp_path_factory.mktemp("arm")) as server:
        yield server
