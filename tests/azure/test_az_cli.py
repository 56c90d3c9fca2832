"""The Azure CLI against the emulator, as docs/azure.md sets it up: `az cloud register` reads the emulator's
`/metadata/endpoints`, `az login --service-principal` signs in at its token endpoint, then `az group`,
`az identity`, `az sig` and `az image builder create / show / list / run / show-runs / cancel / delete`
run over TLS. The CLI is azure-cli as pinned in .ci/azure-cli-version, installed by .ci/run into its own
virtual environment under the git-ignored .ci/az (its pins are not the project's); everything it writes
goes to the test's own folder (AZURE_CONFIG_DIR, HOME)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import trustme

from providers.emulator.server import ArmEmulator, EmulatorSettings
from providers.simulated.service import TENANT_ID
from tests.helpers import ROOT

AZ = ROOT / ".ci" / "az" / "venv" / "bin" / "az"
AZ_VERSION = (ROOT / ".ci" / "azure-cli-version").read_text(encoding="utf-8").strip()
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"  # the emulator's default subscription
GROUP = "rg-az"
SOURCE = "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest"


@dataclass
class Az:
    """`az` with a configuration of its own, pointed at one emulator."""

    emulator: ArmEmulator
    env: dict[str, str]

    def __call__(self, *args: str, ok: bool = True) -> Any:
        done = subprocess.run(
            [str(AZ), *args, "--only-show-errors", "--output", "json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if ok:
            assert done.returncode == 0, f"az {' '.join(args)}: {done.stderr}"
        elif done.returncode == 0:
            raise AssertionError(f"az {' '.join(args)} succeeded: {done.stdout}")
        return json.loads(done.stdout) if ok and done.stdout.strip() else done.stderr


@pytest.fixture(scope="module")
def az(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Az]:
    if not AZ.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the az CLI test: .ci/run installs azure-cli {AZ_VERSION} into .ci/az")
        pytest.skip(f"azure-cli {AZ_VERSION} is not installed in .ci/az: run .ci/run (or its azure-cli step)")
    folder = tmp_path_factory.mktemp("az")
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(folder / "server.pem"))
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    # The CLI waits Retry-After between polls (30 s when there is none): one second here. A simulated
    # minute of 50 ms: a build takes a second or two, and a hung one (until its 240-minute timeout) stays
    # running while a few az commands, seconds each, reach it.
    settings = EmulatorSettings(
        state_dir=folder / "state", operation_seconds=0.05, operation_retry_after=1, build_minute=0.05
    )
    emulator = ArmEmulator(settings, server_certificate=folder / "server.pem", ca_file=folder / "ca.pem")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "AZURE_CONFIG_DIR": str(folder / "azure"),
        "REQUESTS_CA_BUNDLE": str(folder / "ca.pem"),  # the emulator's CA, for the CLI and MSAL alike
        "AZURE_CORE_INSTANCE_DISCOVERY": "false",  # `az config set core.instance_discovery=false`
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
        "AZURE_CORE_SURVEY_MESSAGE": "false",
        "AZURE_CORE_NO_COLOR": "true",
    }
    with emulator:
        yield Az(emulator, env)


def test_az_signs_in_to_the_emulator_and_drives_image_builder(az: Az) -> None:
    endpoint = az.emulator.endpoint + "/"
    az("cloud", "register", "--name", "AibplanEmulator", "--endpoint-resource-manager", endpoint)
    az("cloud", "set", "--name", "AibplanEmulator")
    accounts = az(
        "login", "--service-principal", "-u", "44444444-aaaa-bbbb-cccc-000000000004", "-p", "az-test-secret",
        "--tenant", TENANT_ID,
    )  # fmt: skip
    assert [a["id"] for a in accounts] == [SUBSCRIPTION] and accounts[0]["tenantId"] == TENANT_ID
    assert az("account", "show")["environmentName"] == "AibplanEmulator"

    az("group", "create", "--name", GROUP, "--location", "westus2")
    identity = az("identity", "create", "--resource-group", GROUP, "--name", "builder")
    assert identity["principalId"] and identity["clientId"]
    az("sig", "create", "--resource-group", GROUP, "--gallery-name", "gal")
    az(
        "sig", "image-definition", "create", "--resource-group", GROUP, "--gallery-name", "gal",
        "--gallery-image-definition", "ubuntu", "--publisher", "contoso", "--offer", "ubuntu",
        "--sku", "22_04", "--os-type", "Linux", "--hyper-v-generation", "V2",
    )  # fmt: skip

    builder = ["image", "builder"]
    created = az(
        *builder, "create", "--resource-group", GROUP, "--name", "ubuntu", "--image-source", SOURCE,
        "--shared-image-destinations", "gal/ubuntu=westus2", "--identity", "builder",
        "--scripts", "https://example.invalid/setup.sh",
    )  # fmt: skip
    assert created["provisioningState"] == "Succeeded"
    shown = az(*builder, "show", "--resource-group", GROUP, "--name", "ubuntu")
    assert shown["source"]["offer"] == "0001-com-ubuntu-server-jammy"
    assert shown["distribute"][0]["runOutputName"] == "ubuntu"
    assert [t["name"] for t in az(*builder, "list", "--resource-group", GROUP)] == ["ubuntu"]
    assert "ubuntu" in [t["name"] for t in az(*builder, "list")]

    az(*builder, "run", "--resource-group", GROUP, "--name", "ubuntu")  # waits for the build
    assert az(*builder, "show", "--resource-group", GROUP, "--name", "ubuntu")["lastRunStatus"][
        "runState"
    ] == ("Succeeded")
    runs = az(*builder, "show-runs", "--resource-group", GROUP, "--name", "ubuntu")
    assert [r["name"] for r in runs] == ["ubuntu"] and "/images/ubuntu/versions/" in runs[0]["artifactId"]

    template_id = (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/"
        "Microsoft.VirtualMachineImages/imageTemplates/ubuntu"
    )
    az.emulator.service.plant_build_fault(template_id, "Customizing", hang=True)
    az(*builder, "run", "--resource-group", GROUP, "--name", "ubuntu", "--no-wait")
    az(*builder, "cancel", "--resource-group", GROUP, "--name", "ubuntu")
    state = az(*builder, "show", "--resource-group", GROUP, "--name", "ubuntu")["lastRunStatus"]["runState"]
    assert state in ("Canceling", "Canceled")
    az(
        *builder, "wait", "--resource-group", GROUP, "--name", "ubuntu", "--interval", "1",
        "--custom", "lastRunStatus.runState=='Canceled'",
    )  # fmt: skip
    az(*builder, "delete", "--resource-group", GROUP, "--name", "ubuntu")
    assert az(*builder, "list", "--resource-group", GROUP) == []
