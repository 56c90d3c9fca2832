"""Fixtures for the Azure provider's tests: one ARM emulator per test session (per xdist worker), over
TLS with a certificate from trustme, and a fresh resource group for every test."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from providers.azure.provider import AzureProvider
from providers.emulator.arm_surface import ArmSurface
from providers.emulator.faults import Fault, FaultPlan
from providers.emulator.resource_groups import ResourceGroups
from providers.emulator.server import ArmEmulator, EmulatorSettings
from providers.simulated.service import SimulatedAzure
from tests.helpers import (
    BUILD_MINUTE,
    EXAMPLES,
    OPERATION_SECONDS,
    PAGE_SIZE,
    POLLING_INTERVAL,
    SUBSCRIPTION,
    Emulator,
    builder_principal,
)
from tests.helpers.arm import GROUP, SURFACE_OPERATION_SECONDS, Clock


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    folder = tmp_path_factory.mktemp("arm-emulator")
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(folder / "server.pem")
    )
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    settings = EmulatorSettings(
        state_dir=folder / "state",
        auto_resource_groups=False,
        operation_seconds=OPERATION_SECONDS,
        build_minute=BUILD_MINUTE,
        page_size=PAGE_SIZE,
    )
    server = ArmEmulator(settings, server_certificate=folder / "server.pem", ca_file=folder / "ca.pem")
    with server:
        yield Emulator(server, folder / "ca.pem")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def surface(tmp_path: Path, clock: Clock) -> Iterator[ArmSurface]:
    """The emulator's REST surface over a fresh service, with no sockets, on a clock the test moves; one
    resource group (tests.helpers.arm.GROUP) exists."""
    service = SimulatedAzure(tmp_path / "cloud.db", clock=clock)
    groups = ResourceGroups(tmp_path / "groups.json", auto_create=False)
    groups.create(GROUP, "westus2")
    yield ArmSurface(
        service, groups, faults=FaultPlan(seed=1), operation_seconds=SURFACE_OPERATION_SECONDS, page_size=2
    )
    service.close()


@pytest.fixture
def faults(emulator: Emulator) -> Iterator[Callable[[Fault], Fault]]:
    """Add faults to the session's emulator for this test only."""
    added: list[Fault] = []

    def add(fault: Fault) -> Fault:
        added.append(emulator.server.faults.add(fault))
        return fault

    yield add
    for fault in added:
        emulator.server.faults.remove(fault)


@pytest.fixture
def azure_provider(emulator: Emulator) -> Iterator[AzureProvider]:
    provider = AzureProvider(emulator.settings())
    yield provider
    provider.close()


@pytest.fixture
def azure_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """Point every stack with provider "azure" at the emulator, with fast polls and retries."""
    monkeypatch.setenv("AIBPLAN_AZURE_BASE_URL", emulator.endpoint)
    monkeypatch.setenv("AIBPLAN_AZURE_CA_BUNDLE", str(emulator.ca_file))
    monkeypatch.setenv("AIBPLAN_AZURE_CREDENTIAL", "emulator")
    monkeypatch.setenv("AIBPLAN_AZURE_POLLING_INTERVAL", str(POLLING_INTERVAL))
    monkeypatch.setenv("AIBPLAN_RETRY_BASE_DELAY", "0.01")
    return emulator


@pytest.fixture
def azure_quickstart(tmp_path: Path, azure_env: Emulator) -> Callable[..., Path]:
    """The quickstart example as a stack on the Azure provider, in a fresh resource group."""

    def make(*, create_group: bool = True) -> Path:
        root = tmp_path / "quickstart"
        shutil.copytree(
            EXAMPLES / "quickstart", root, ignore=shutil.ignore_patterns(".aibplan", "aibplan.state.json*")
        )
        group = azure_env.new_group(create=create_group)
        config = {
            "subscriptionId": SUBSCRIPTION,
            "resourceGroup": group,
            "location": "westus2",
            "provider": "azure",
            "parameters": {"builderPrincipalId": builder_principal(SUBSCRIPTION, group, "aibBuilder")},
        }
        (root / "aibplan.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        return root

    return make
