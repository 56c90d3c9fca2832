"""A resource the stack refers to but does not manage is checked through the provider at plan time: a
missing one is a plan error (AIB8001) at the line that names it, on both providers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from providers.base import PermanentError, ResourceRef
from providers.simulated.local import LocalProvider
from providers.simulated.service import SimulatedAzure
from state import State
from state.backends.session import Session
from tests.helpers import Emulator, Run, edit_json

Exist = Callable[[str, dict[str, Any]], None]


@pytest.fixture(params=["local", "azure"])
def stack(request: pytest.FixtureRequest, example: Callable[[str], Path]) -> Iterator[tuple[Path, Exist]]:
    """The quickstart on either provider, and a way to make a resource exist in the cloud behind it."""
    if request.param == "local":
        root = example("quickstart")
        cloud = SimulatedAzure(root / ".aibplan" / "local-cloud.db")
        yield root, cloud.raw_write
        cloud.close()
        return
    root = request.getfixturevalue("azure_quickstart")()
    emulator: Emulator = request.getfixturevalue("azure_env")

    def exist(arm_id: str, body: dict[str, Any]) -> None:
        emulator.server.surface.resource_groups.create(arm_id.split("/providers/")[0], "westus2")
        emulator.server.service.raw_write(arm_id, body)

    yield root, exist


def _config(root: Path) -> dict[str, str]:
    from planner.stack.jsonc import load_jsonc

    data = load_jsonc((root / "aibplan.json").read_text(), "aibplan.json")
    assert isinstance(data, dict)
    return data


def _use_missing_subnet(root: Path) -> str:
    """The quickstart's template built in a subnet the stack does not make; its id."""
    subnet = (
        f"/subscriptions/{_config(root)['subscriptionId']}/resourceGroups/rg-network/providers/"
        "Microsoft.Network/virtualNetworks/vnet-build/subnets/snet-aib"
    )
    edit_json(
        root / "ubuntu2204.json",
        lambda d: d["properties"]["vmProfile"].update(vnetConfig={"subnetId": subnet}),
    )
    return subnet


def test_missing_subnet_is_a_plan_error_until_it_exists(
    stack: tuple[Path, Exist], cli: Callable[..., Run]
) -> None:
    root, exist = stack
    subnet = _use_missing_subnet(root)

    run = cli("plan", str(root))
    assert run.exit_code == 1, run.stdout
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if "AIB8001" in line]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("ubuntu2204.json:")
    assert f"error AIB8001 the subnet {subnet} does not exist" in lines[0]
    assert "(imageTemplate.ubuntu2204, properties.vmProfile.vnetConfig.subnetId)" in lines[0]
    assert not (root / "aibplan.state.json").exists()

    # A CI bot reading `plan --json` gets one document naming the problem, not an empty stdout.
    run = cli("plan", "--json", str(root))
    assert run.exit_code == 1
    document = json.loads(run.stdout)
    assert document["format_version"] == "1"
    assert [d["code"] for d in document["diagnostics"] if d["severity"] == "error"] == ["AIB8001"]

    exist(subnet, {"properties": {"addressPrefix": "10.0.0.0/24", "provisioningState": "Succeeded"}})
    run = cli("plan", str(root))
    assert run.exit_code == 0, run.stderr
    assert "Plan: 7 to add" in run.stdout


def test_missing_source_image_version_is_a_plan_error(
    stack: tuple[Path, Exist], cli: Callable[..., Run]
) -> None:
    root, exist = stack
    config = _config(root)
    version = (
        f"/subscriptions/{config['subscriptionId']}/resourceGroups/rg-base/providers/"
        "Microsoft.Compute/galleries/baseImages/images/ubuntu-base/versions/1.0.0"
    )

    def use_version(d: dict) -> None:  # type: ignore[type-arg]
        d["properties"]["source"] = {"type": "SharedImageVersion", "imageVersionId": version}

    edit_json(root / "ubuntu2204.json", use_version)
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 1
    assert f"error AIB8001 the image version {version} does not exist" in run.stderr
    assert "properties.source.imageVersionId" in run.stderr
    assert "Apply" not in run.stdout

    exist(version, {"location": "westus2", "properties": {"provisioningState": "Succeeded"}})
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr


def test_a_plan_checks_them_before_it_reads_the_state(
    example: Callable[[str], Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The references are checked before the state is read (a plan made in full reads a local state in a
    second process meanwhile: state.backends.read_ahead); what the plan says is the same, also when the
    cloud fails that first read."""
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    subnet = _use_missing_subnet(root)
    said = cli("plan", str(root))
    assert said.exit_code == 1, said.stdout
    assert said.stderr.count("AIB8001") == 1
    assert f"error AIB8001 the subnet {subnet} does not exist" in said.stderr

    # The first read of the subnet fails (the local cloud's bulk read takes no injected fault: a failure
    # made by hand): it is read again alone, and the plan says the same.
    happened: list[str] = []
    read_many = LocalProvider.read_many_fingerprinted
    read = Session.read

    def failing_once(self: LocalProvider, refs: Iterable[ResourceRef]) -> tuple[Mapping[str, Any], str]:
        refs = list(refs)
        if "subnet failed" not in happened and any("subnets/snet-aib" in ref.arm_id for ref in refs):
            happened.append("subnet failed")
            raise PermanentError("the cloud could not be read", code="BadRequest", status=400)
        return read_many(self, refs)

    def state_read(self: Session) -> State | None:
        happened.append("state read")
        return read(self)

    monkeypatch.setattr(LocalProvider, "read_many_fingerprinted", failing_once)
    monkeypatch.setattr(Session, "read", state_read)
    again = cli("plan", str(root))
    # The reference was read before the state (which the other process reads meanwhile, when there is one).
    assert happened == ["subnet failed", "state read"]
    assert (again.exit_code, again.stdout, again.stderr) == (said.exit_code, said.stdout, said.stderr)
