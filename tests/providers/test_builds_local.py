"""Builds in the simulated cloud: Run, Cancel, lastRunStatus, run outputs and what a build leaves behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from providers.simulated.service import ServiceError, SimulatedAzure

RG = "/subscriptions/s/resourceGroups/rg/providers"
IDENTITY = f"{RG}/Microsoft.ManagedIdentity/userAssignedIdentities/builder"
GALLERY = f"{RG}/Microsoft.Compute/galleries/gal"
DEFINITION = f"{GALLERY}/images/linux"
APP_DEFINITION = f"{GALLERY}/images/app"
TEMPLATE = f"{RG}/Microsoft.VirtualMachineImages/imageTemplates/base"
APP = f"{RG}/Microsoft.VirtualMachineImages/imageTemplates/app"
API = "2024-02-01"
CONTRIBUTOR = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/" + (
    "b24988ac-6180-42a0-ab88-20f7382dd24c"
)
ROOT = Path(__file__).resolve().parent.parent.parent


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def minutes(self, n: float) -> None:
        self.now += n  # one simulated minute is one second here


def template(distribute: list[dict], **props: object) -> dict:  # type: ignore[type-arg]
    return {
        "location": "westus2",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}},
        "properties": {
            "source": {
                "type": "PlatformImage",
                "publisher": "p",
                "offer": "o",
                "sku": "s",
                "version": "latest",
            },
            "customize": [{"type": "Shell", "name": "x", "inline": ["true"]}],
            "distribute": distribute,
            **props,
        },
    }


SIG = {
    "type": "SharedImage",
    "galleryImageId": DEFINITION,
    "runOutputName": "sig",
    "replicationRegions": ["westus2", "eastus"],
}
VHD = {"type": "VHD", "runOutputName": "vhd"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cloud(tmp_path: Path, clock: Clock) -> SimulatedAzure:
    sim = SimulatedAzure(tmp_path / "cloud.db", clock=clock, build_minute=1.0)
    principal = sim.put(IDENTITY, "2023-01-31", {"location": "westus2"})[1]["properties"]["principalId"]
    # The builds' identity may write into the group's galleries (providers/test_authorization_local.py
    # covers builds whose identity may not).
    sim.put(
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/"
        "5e0d1c3b-0000-4000-8000-000000000001",
        "2022-04-01",
        {"properties": {"roleDefinitionId": CONTRIBUTOR, "principalId": principal}},
    )
    sim.put(GALLERY, "2024-03-03", {"location": "westus2"})
    definition = {
        "location": "westus2",
        "properties": {
            "osType": "Linux",
            "osState": "Generalized",
            "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
        },
    }
    sim.put(DEFINITION, "2024-03-03", definition)
    sim.put(APP_DEFINITION, "2024-03-03", definition)
    yield sim  # type: ignore[misc]
    sim.close()


def status(cloud: SimulatedAzure, arm_id: str = TEMPLATE) -> dict:  # type: ignore[type-arg]
    return cloud.get(arm_id, API)["properties"]["lastRunStatus"]  # type: ignore[no-any-return]


def test_a_build_publishes_a_replicated_version_and_a_vhd(cloud: SimulatedAzure, clock: Clock) -> None:
    cloud.put(TEMPLATE, API, template([SIG, VHD]))
    assert "lastRunStatus" not in cloud.get(TEMPLATE, API)["properties"]
    assert cloud.post_action(TEMPLATE, API, "run") is None
    assert (status(cloud)["runState"], status(cloud)["runSubState"]) == ("Running", "Queued")
    assert cloud.list_run_outputs(TEMPLATE, API) == []
    clock.minutes(6)
    assert status(cloud)["runSubState"] == "Customizing"
    clock.minutes(30)
    final = status(cloud)
    assert (final["runState"], final["message"]) == ("Succeeded", "")
    assert final["endTime"] > final["startTime"]
    outputs = {o["name"]: o for o in cloud.list_run_outputs(TEMPLATE, API)}
    assert outputs["sig"]["type"] == "Microsoft.VirtualMachineImages/imageTemplates/runOutputs"
    assert outputs["sig"]["id"] == f"{TEMPLATE}/runOutputs/sig"
    version_id = outputs["sig"]["properties"]["artifactId"]
    assert version_id.startswith(f"{DEFINITION}/versions/0.")
    assert outputs["vhd"]["properties"]["artifactUri"].endswith(".vhd")
    version = cloud.get(version_id, "2024-03-03")
    assert version["type"] == "Microsoft.Compute/galleries/images/versions"
    regions = [r["name"] for r in version["properties"]["publishingProfile"]["targetRegions"]]
    assert regions == ["westus2", "eastus"]
    assert version["properties"]["replicationStatus"]["aggregatedState"] == "Completed"
    # The source's exact version is recorded on the template, as the service does.
    assert cloud.get(TEMPLATE, API)["properties"]["source"]["exactVersion"]


def test_automatic_versions_increase_and_an_explicit_existing_version_fails(
    cloud: SimulatedAzure, clock: Clock
) -> None:
    cloud.put(TEMPLATE, API, template([SIG]))
    made = []
    for _ in range(3):
        cloud.post_action(TEMPLATE, API, "run")
        clock.minutes(60)
        made.append(cloud.list_run_outputs(TEMPLATE, API)[0]["properties"]["artifactId"].rsplit("/", 1)[1])
    keys = [tuple(int(p) for p in v.split(".")) for v in made]
    assert keys == sorted(keys) and len(set(keys)) == 3
    explicit = {**SIG, "galleryImageId": f"{DEFINITION}/versions/1.0.0", "runOutputName": "pinned"}
    cloud.put(APP, API, template([explicit, VHD]))
    cloud.post_action(APP, API, "run")
    clock.minutes(60)
    assert status(cloud, APP)["runState"] == "Succeeded"
    cloud.post_action(APP, API, "run")
    clock.minutes(60)
    again = status(cloud, APP)
    assert again["runState"] == "PartiallySucceeded"  # the VHD was still made
    assert "'1.0.0' already exists" in again["message"]
    by_name = {o["name"]: o["properties"] for o in cloud.list_run_outputs(APP, API)}
    assert by_name["pinned"] == {"provisioningState": "Failed"}


def test_the_image_definition_cannot_be_deleted_while_it_holds_versions(
    cloud: SimulatedAzure, clock: Clock
) -> None:
    cloud.put(TEMPLATE, API, template([SIG]))
    cloud.post_action(TEMPLATE, API, "run")
    clock.minutes(60)
    version_id = cloud.list_run_outputs(TEMPLATE, API)[0]["properties"]["artifactId"]
    cloud.delete(TEMPLATE, API)
    with pytest.raises(ServiceError, match="nested resources") as caught:
        cloud.delete(DEFINITION, "2024-03-03")
    assert caught.value.status == 409
    cloud.delete(version_id, "2024-03-03")
    assert cloud.delete(DEFINITION, "2024-03-03") == 200
    with pytest.raises(ServiceError, match="only by building"):
        cloud.put(version_id, "2024-03-03", {"location": "westus2"})


def test_a_template_cannot_be_deleted_or_run_again_while_it_builds(
    cloud: SimulatedAzure, clock: Clock
) -> None:
    cloud.put(TEMPLATE, API, template([SIG]))
    cloud.post_action(TEMPLATE, API, "run")
    clock.minutes(3)
    with pytest.raises(ServiceError, match="cannot be deleted while a build is running"):
        cloud.delete(TEMPLATE, API)
    with pytest.raises(ServiceError, match="already has a build running") as caught:
        cloud.post_action(TEMPLATE, API, "run")
    assert caught.value.status == 409
    cloud.post_action(TEMPLATE, API, "cancel")
    assert status(cloud)["runState"] == "Canceling"
    with pytest.raises(ServiceError, match="while a build is canceling"):
        cloud.delete(TEMPLATE, API)
    clock.minutes(3)
    final = status(cloud)
    assert (final["runState"], final["runSubState"]) == ("Canceled", "Building")
    assert cloud.list_run_outputs(TEMPLATE, API) == []
    with pytest.raises(ServiceError, match="nothing to cancel"):
        cloud.post_action(TEMPLATE, API, "cancel")
    assert cloud.delete(TEMPLATE, API) == 200


def test_timeout_and_planted_failures(cloud: SimulatedAzure, clock: Clock) -> None:
    cloud.put(TEMPLATE, API, template([SIG], buildTimeoutInMinutes=30))
    cloud.plant_build_fault(TEMPLATE, "Customizing", hang=True)
    cloud.post_action(TEMPLATE, API, "run")
    clock.minutes(29)
    assert status(cloud)["runState"] == "Running"
    clock.minutes(1)
    final = status(cloud)
    assert (final["runState"], final["runSubState"]) == ("Failed", "Customizing")
    assert "Failed while waiting for packerizer: Timeout waiting for microservice" in final["message"]
    # The planted failure was used up: the next build succeeds.
    cloud.post_action(TEMPLATE, API, "run")
    clock.minutes(60)
    assert status(cloud)["runState"] == "Succeeded"
    cloud.plant_build_fault(TEMPLATE, "Distributing", message="no quota in eastus")
    cloud.post_action(TEMPLATE, API, "run")
    clock.minutes(60)
    assert (status(cloud)["runSubState"], status(cloud)["message"]) == ("Distributing", "no quota in eastus")


def test_an_application_image_builds_from_the_latest_base_version(
    cloud: SimulatedAzure, clock: Clock
) -> None:
    app = template([{**SIG, "galleryImageId": APP_DEFINITION, "runOutputName": "app"}])
    app["properties"]["source"] = {
        "type": "SharedImageVersion",
        "imageVersionId": f"{DEFINITION}/versions/latest",
    }
    cloud.put(APP, API, app)
    cloud.post_action(APP, API, "run")
    clock.minutes(60)
    failed = status(cloud, APP)
    assert (failed["runState"], failed["runSubState"]) == ("Failed", "Building")
    assert "no image version to build from" in failed["message"]
    cloud.put(TEMPLATE, API, template([SIG]))
    cloud.post_action(TEMPLATE, API, "run")
    clock.minutes(60)
    base_version = cloud.list_run_outputs(TEMPLATE, API)[0]["properties"]["artifactId"]
    cloud.post_action(APP, API, "run")
    assert cloud.get(APP, API)["properties"]["source"]["exactVersion"] == base_version
    clock.minutes(60)
    assert status(cloud, APP)["runState"] == "Succeeded"


def test_another_process_sees_the_same_build(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    sim = SimulatedAzure(db, build_minute=0.002)
    sim.put(IDENTITY, "2023-01-31", {"location": "westus2"})
    sim.put(TEMPLATE, API, template([VHD]))
    sim.post_action(TEMPLATE, API, "run")
    reader = (
        "import json, sys, time\n"
        "from providers.simulated.service import SimulatedAzure\n"
        "sim = SimulatedAzure(sys.argv[1], build_minute=60.0)\n"
        "while sim.get(sys.argv[2], '2024-02-01')['properties']['lastRunStatus']['runState'] == 'Running':\n"
        "    time.sleep(0.01)\n"
        "print(json.dumps([sim.get(sys.argv[2], '2024-02-01')['properties']['lastRunStatus'],"
        " sim.list_run_outputs(sys.argv[2], '2024-02-01')]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", reader, str(db), TEMPLATE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    seen_there = json.loads(done.stdout)
    assert seen_there[0]["runState"] == "Succeeded"
    assert seen_there == [status(sim), sim.list_run_outputs(TEMPLATE, API)]
    sim.close()
