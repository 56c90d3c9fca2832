"""One suite of provider behaviours, run against the local provider (the simulated service in process; and
with its writes served by the service's own process, as a big apply's are) and against the Azure provider
(the real SDK over TLS to the ARM emulator), with the same assertions. Nothing here mocks the SDK or its
HTTP layer."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from providers.azure.provider import AzureProvider
from providers.base import (
    ConflictError,
    NotFoundError,
    PermanentError,
    Provider,
    ResourceRef,
    ThrottledError,
)
from providers.catalog.arm_ids import build_resource_id
from providers.emulator.faults import Fault, throttling
from providers.simulated.local import LocalProvider
from providers.simulated.service import ServiceError, SimulatedAzure
from tests.helpers import BUILD_MINUTE, SUBSCRIPTION, Emulator
from tests.helpers.arm import Clock

GALLERY_TYPE = "Microsoft.Compute/galleries"
DEFINITION_TYPE = "Microsoft.Compute/galleries/images"
IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
TEMPLATE_TYPE = "Microsoft.VirtualMachineImages/imageTemplates"
API = {GALLERY_TYPE: "2024-03-03", DEFINITION_TYPE: "2024-03-03", IDENTITY_TYPE: "2023-01-31"}
WRITES = frozenset({"PUT", "PATCH", "DELETE", "POST"})


@dataclass
class Cloud:
    """A provider under test, the resource group its resources go in, and a way to throttle it."""

    name: str
    provider: Provider
    group: str
    throttle_writes: Callable[[Fault], None]
    service: SimulatedAzure  # the service core behind the provider, to plant a build fault

    def ref(self, arm_type: str, name: str, api_version: str | None = None) -> ResourceRef:
        arm_id = build_resource_id(SUBSCRIPTION, self.group, arm_type, name)
        return ResourceRef(arm_id, arm_type, api_version or API[arm_type])


@pytest.fixture(params=["local", "local-process", "azure"])
def cloud(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cloud]:
    if request.param == "local-process":
        apart = LocalProvider(tmp_path / ".aibplan", build_minute=BUILD_MINUTE, writes_in_process=0)
        deadline = time.monotonic() + 30
        while apart._writer() is None:  # every write of the test goes to the service's process
            assert time.monotonic() < deadline, "the local cloud's process did not start"
            time.sleep(0.01)

        def no_faults(fault: Fault) -> None:
            pytest.skip("faults are injected into the service in process only")

        yield Cloud("local-process", apart, "rg-contract", no_faults, apart.service)
        apart.close()
        return
    if request.param == "local":
        pending: list[Fault] = []

        def hook(operation: str, arm_id: str) -> None:
            if operation != "read" and pending:
                fault = pending.pop(0)
                raise ServiceError(fault.status, fault.code, fault.message, retry_after=fault.retry_after)

        local = LocalProvider(tmp_path / ".aibplan", fault_hook=hook, build_minute=BUILD_MINUTE)
        yield Cloud("local", local, "rg-contract", pending.append, local.service)
        local.close()
        return
    emulator: Emulator = request.getfixturevalue("emulator")
    group = emulator.new_group()
    added: list[Fault] = []

    def throttle(fault: Fault) -> None:
        scoped = Fault(
            fault.status,
            fault.code,
            fault.message,
            times=1,
            methods=WRITES,
            path_contains=f"/resourcegroups/{group}/",
            retry_after=fault.retry_after,
        )
        added.append(emulator.server.faults.add(scoped))

    azure = AzureProvider(emulator.settings())
    yield Cloud("azure", azure, group, throttle, emulator.server.service)
    azure.close()
    for fault in added:
        emulator.server.faults.remove(fault)


def gallery_body(**extra: Any) -> dict[str, Any]:
    return {"location": "West US 2", "properties": {"description": "golden images"}, **extra}


def definition_body(os_type: str = "Linux") -> dict[str, Any]:
    return {
        "location": "westus2",
        "properties": {
            "osType": os_type,
            "osState": "Generalized",
            "hyperVGeneration": "V2",
            "identifier": {"publisher": "corp", "offer": "ubuntu", "sku": "22_04"},
        },
    }


def template_body(cloud: Cloud, identity: ResourceRef, definition: ResourceRef) -> dict[str, Any]:
    return {
        "location": "westus2",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity.arm_id: {}}},
        "properties": {
            "buildTimeoutInMinutes": 60,
            "source": {
                "type": "PlatformImage",
                "publisher": "Canonical",
                "offer": "0001-com-ubuntu-server-jammy",
                "sku": "22_04-lts-gen2",
                "version": "latest",
            },
            "customize": [{"type": "Shell", "name": "update", "inline": ["sudo apt-get update"]}],
            "distribute": [
                {
                    "type": "SharedImage",
                    "galleryImageId": definition.arm_id,
                    "runOutputName": "ubuntu-sig",
                    "replicationRegions": ["westus2"],
                }
            ],
        },
    }


def pipeline(cloud: Cloud, template_api: str = "2024-02-01") -> tuple[ResourceRef, ResourceRef]:
    """Create an identity, a gallery and an image definition; return (template ref, its body's refs)."""
    identity = cloud.ref(IDENTITY_TYPE, "builder")
    gallery = cloud.ref(GALLERY_TYPE, "corpImages")
    definition = cloud.ref(DEFINITION_TYPE, "corpImages/ubuntu")
    cloud.provider.create(identity, {"location": "westus2"})
    cloud.provider.create(gallery, gallery_body())
    cloud.provider.create(definition, definition_body())
    return cloud.ref(TEMPLATE_TYPE, "ubuntu", template_api), identity


def test_create_then_read_returns_what_the_service_holds(cloud: Cloud) -> None:
    gallery = cloud.ref(GALLERY_TYPE, "corpImages")
    created = cloud.provider.create(gallery, gallery_body(tags={"team": "images"}))
    assert created["id"].lower() == gallery.arm_id.lower()
    assert created["name"] == "corpImages" and created["type"] == GALLERY_TYPE
    assert created["location"] == "westus2"  # the service's canonical region name
    assert created["properties"]["provisioningState"] == "Succeeded"
    assert created["properties"]["identifier"]["uniqueName"]  # read-only, added by the service
    assert created["tags"] == {"team": "images"}
    assert cloud.provider.read(gallery) == created


def test_identity_gets_its_principal_from_the_service(cloud: Cloud) -> None:
    identity = cloud.ref(IDENTITY_TYPE, "builder")
    created = cloud.provider.create(identity, {"location": "westus2"})
    props = created["properties"]
    assert props["principalId"] and props["clientId"] and props["tenantId"]
    assert cloud.provider.read(identity) == created


def test_patch_changes_only_the_given_fields(cloud: Cloud) -> None:
    gallery = cloud.ref(GALLERY_TYPE, "corpImages")
    cloud.provider.create(gallery, gallery_body())
    updated = cloud.provider.update(gallery, {"tags": {"env": "prod"}})
    assert updated["tags"] == {"env": "prod"}
    assert updated["properties"]["description"] == "golden images"
    assert cloud.provider.read(gallery) == updated


def test_template_patch_within_the_api_version(cloud: Cloud) -> None:
    template, identity = pipeline(cloud)
    definition = cloud.ref(DEFINITION_TYPE, "corpImages/ubuntu")
    cloud.provider.create(template, template_body(cloud, identity, definition))
    updated = cloud.provider.update(template, {"properties": {"vmProfile": {"vmSize": "Standard_D4s_v3"}}})
    assert updated["properties"]["vmProfile"]["vmSize"] == "Standard_D4s_v3"
    assert cloud.provider.read(template) == updated


def test_delete_then_read_finds_nothing_and_delete_again_is_fine(cloud: Cloud) -> None:
    gallery = cloud.ref(GALLERY_TYPE, "corpImages")
    cloud.provider.create(gallery, gallery_body())
    cloud.provider.delete(gallery)
    assert cloud.provider.read(gallery) is None
    cloud.provider.delete(gallery)


def test_read_many_answers_for_each_id(cloud: Cloud) -> None:
    gallery = cloud.ref(GALLERY_TYPE, "corpImages")
    missing = cloud.ref(GALLERY_TYPE, "nothingHere")
    cloud.provider.create(gallery, gallery_body())
    found = cloud.provider.read_many([gallery, missing])
    assert found[missing.arm_id] is None
    body = found[gallery.arm_id]
    assert body is not None and body["name"] == "corpImages"


def test_list_resources_in_the_group(cloud: Cloud) -> None:
    pipeline(cloud)
    listed = cloud.provider.list_resources(SUBSCRIPTION, cloud.group)
    names = sorted((item["type"], item["id"].split("/providers/")[1]) for item in listed)
    assert names == [
        (GALLERY_TYPE, "Microsoft.Compute/galleries/corpImages"),
        (DEFINITION_TYPE, "Microsoft.Compute/galleries/corpImages/images/ubuntu"),
        (IDENTITY_TYPE, "Microsoft.ManagedIdentity/userAssignedIdentities/builder"),
    ]
    definition = next(item for item in listed if item["type"] == DEFINITION_TYPE)
    assert definition["properties"]["osType"] == "Linux"


def test_parent_must_exist_before_its_child(cloud: Cloud) -> None:
    definition = cloud.ref(DEFINITION_TYPE, "noGallery/ubuntu")
    with pytest.raises(NotFoundError) as caught:
        cloud.provider.create(definition, definition_body())
    assert caught.value.code == "ParentResourceNotFound" and caught.value.status == 404
    assert cloud.provider.read(definition) is None


def test_a_parent_with_children_cannot_be_deleted(cloud: Cloud) -> None:
    pipeline(cloud)
    gallery = cloud.ref(GALLERY_TYPE, "corpImages")
    with pytest.raises(ConflictError) as caught:
        cloud.provider.delete(gallery)
    assert caught.value.status == 409 and "ubuntu" in caught.value.message
    assert cloud.provider.read(gallery) is not None


# Image Builder answers with a flat error body before 2021-10-01 and a nested one after.
@pytest.mark.parametrize("api_version", ["2020-02-14", "2024-02-01"])
def test_an_image_template_cannot_be_put_twice(cloud: Cloud, api_version: str) -> None:
    template, identity = pipeline(cloud, template_api=api_version)
    body = template_body(cloud, identity, cloud.ref(DEFINITION_TYPE, "corpImages/ubuntu"))
    cloud.provider.create(template, body)
    with pytest.raises(ConflictError) as caught:
        cloud.provider.create(template, body)
    assert caught.value.status == 409 and caught.value.code == "Conflict"
    assert "Update/Upgrade of image templates is currently not supported" in caught.value.message


def test_a_field_the_api_version_cannot_patch_is_refused_with_its_target(cloud: Cloud) -> None:
    template, identity = pipeline(cloud, template_api="2022-07-01")
    cloud.provider.create(
        template, template_body(cloud, identity, cloud.ref(DEFINITION_TYPE, "corpImages/ubuntu"))
    )
    with pytest.raises(PermanentError) as caught:
        cloud.provider.update(template, {"properties": {"vmProfile": {"vmSize": "Standard_D4s_v3"}}})
    assert caught.value.status == 400 and caught.value.target == "properties.vmProfile.vmSize"
    assert "2022-07-01" in caught.value.message


def test_image_definition_identity_fields_are_immutable(cloud: Cloud) -> None:
    pipeline(cloud)
    definition = cloud.ref(DEFINITION_TYPE, "corpImages/ubuntu")
    with pytest.raises(ConflictError) as caught:
        cloud.provider.create(definition, definition_body(os_type="Windows"))
    assert caught.value.code == "PropertyChangeNotAllowed" and caught.value.target == "osType"


def test_a_template_needs_its_identity_and_image_definition(cloud: Cloud) -> None:
    template = cloud.ref(TEMPLATE_TYPE, "orphan", "2024-02-01")
    identity = cloud.ref(IDENTITY_TYPE, "nobody")
    with pytest.raises(PermanentError) as caught:
        cloud.provider.create(template, template_body(cloud, identity, cloud.ref(DEFINITION_TYPE, "x/y")))
    assert caught.value.status == 400 and caught.value.target == "identity"
    assert cloud.provider.read(template) is None


def test_an_unknown_api_version_is_refused_on_every_verb(cloud: Cloud) -> None:
    # ARM's two answers: a version nobody registers is invalid; one another type registers (Image
    # Builder's 2025-10-01 for a gallery) has no provider for this type, and the message lists the
    # type's versions.
    cloud.provider.create(cloud.ref(GALLERY_TYPE, "corpImages"), gallery_body())
    for version, code in (
        ("1999-01-01", "InvalidApiVersionParameter"),
        ("2025-10-01", "NoRegisteredProviderFound"),
    ):
        gallery = cloud.ref(GALLERY_TYPE, "corpImages", version)
        calls = {
            "create": lambda ref=gallery: cloud.provider.create(ref, gallery_body()),
            "read": lambda ref=gallery: cloud.provider.read(ref),
            "update": lambda ref=gallery: cloud.provider.update(ref, {"tags": {"a": "b"}}),
            "delete": lambda ref=gallery: cloud.provider.delete(ref),
        }
        for verb, call in calls.items():
            with pytest.raises(PermanentError) as caught:
                call()
            assert caught.value.code == code, (version, verb)
        assert "2024-03-03" in caught.value.message
    assert cloud.provider.read(cloud.ref(GALLERY_TYPE, "corpImages")) is not None


def test_not_found(cloud: Cloud) -> None:
    gallery = cloud.ref(GALLERY_TYPE, "nothingHere")
    template = cloud.ref(TEMPLATE_TYPE, "nothingHere", "2024-02-01")
    assert cloud.provider.read(gallery) is None
    with pytest.raises(NotFoundError):
        cloud.provider.update(gallery, {"tags": {}})
    with pytest.raises(NotFoundError):
        cloud.provider.list_run_outputs(template)


def test_run_outputs_of_a_template_never_built_are_empty(cloud: Cloud) -> None:
    template, identity = pipeline(cloud)
    cloud.provider.create(
        template, template_body(cloud, identity, cloud.ref(DEFINITION_TYPE, "corpImages/ubuntu"))
    )
    assert cloud.provider.list_run_outputs(template) == []


def test_a_throttled_write_changes_nothing_and_says_when_to_retry(cloud: Cloud) -> None:
    gallery = cloud.ref(GALLERY_TYPE, "corpImages")
    cloud.throttle_writes(throttling(1.0, retry_after=0.05))
    with pytest.raises(ThrottledError) as caught:
        cloud.provider.create(gallery, gallery_body())
    assert caught.value.status == 429 and caught.value.code == "TooManyRequests"
    assert caught.value.retry_after == pytest.approx(0.05)
    assert cloud.provider.read(gallery) is None
    assert cloud.provider.create(gallery, gallery_body())["name"] == "corpImages"


def built_template(cloud: Cloud) -> ResourceRef:
    """A template whose identity is Contributor on the gallery (as a build needs), not built yet."""
    template, identity = pipeline(cloud)
    held = cloud.provider.read(identity)
    assert held is not None
    gallery = cloud.ref(GALLERY_TYPE, "corpImages")
    contributor = "b24988ac-6180-42a0-ab88-20f7382dd24c"
    grant = ResourceRef(
        f"{gallery.arm_id}/providers/Microsoft.Authorization/roleAssignments/5e0d1c3b-0000-4000-8000-000000000001",
        "Microsoft.Authorization/roleAssignments",
        "2022-04-01",
    )
    role = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{contributor}"
    principal = held["properties"]["principalId"]
    cloud.provider.create(grant, {"properties": {"roleDefinitionId": role, "principalId": principal}})
    cloud.provider.create(
        template, template_body(cloud, identity, cloud.ref(DEFINITION_TYPE, "corpImages/ubuntu"))
    )
    return template


def run_state(cloud: Cloud, template: ResourceRef) -> dict[str, Any]:
    body = cloud.provider.read(template)
    assert body is not None
    status = body["properties"].get("lastRunStatus") or {}
    assert isinstance(status, dict)
    return status


def builds_on_a_test_clock(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Builds started from here on run on a clock the test moves: a state read right after a run finds
    it running, and a hang is still hanging when the cancel arrives, however busy the machine."""
    if cloud.name == "local-process":
        pytest.skip("a test clock moves this process's builds; the service's process keeps the real one")
    clock = Clock()
    clock.now = time.time()
    monkeypatch.setattr(cloud.service.builds, "clock", clock)
    return clock


def minutes(cloud: Cloud, count: float) -> float:
    """The seconds `count` simulated build minutes take on the builds' clock."""
    return count * cloud.service.builds.minute


# More simulated minutes than any build here takes (its timeout included) and than a cancel's clean-up.
A_DAY = 24 * 60


def test_run_builds_and_run_outputs_name_each_target(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    template = built_template(cloud)
    clock = builds_on_a_test_clock(cloud, monkeypatch)
    assert cloud.provider.invoke_action(template, "run") is None
    assert run_state(cloud, template)["runState"] == "Running"
    clock.advance(minutes(cloud, A_DAY))
    status = run_state(cloud, template)
    assert status["runState"] == "Succeeded", status
    outputs = cloud.provider.list_run_outputs(template)
    assert [output["name"] for output in outputs] == ["ubuntu-sig"]
    artifact = outputs[0]["properties"]["artifactId"]
    assert "/galleries/corpImages/images/ubuntu/versions/" in artifact
    assert outputs[0]["properties"]["provisioningState"] == "Succeeded"


def test_a_second_run_and_a_delete_are_refused_while_a_build_runs(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = built_template(cloud)
    clock = builds_on_a_test_clock(cloud, monkeypatch)
    cloud.service.plant_build_fault(template.arm_id, "Customizing", hang=True)
    cloud.provider.invoke_action(template, "run")
    with pytest.raises(ConflictError) as caught:
        cloud.provider.invoke_action(template, "run")
    assert "already has a build running" in caught.value.message
    with pytest.raises(ConflictError) as caught:
        cloud.provider.delete(template)
    assert "cannot be deleted while a build is running" in caught.value.message
    cloud.provider.invoke_action(template, "cancel")
    with pytest.raises(ConflictError) as caught:
        cloud.provider.delete(template)
    assert "cannot be deleted while a build is canceling" in caught.value.message
    clock.advance(minutes(cloud, A_DAY))
    assert run_state(cloud, template)["runState"] == "Canceled"
    cloud.provider.delete(template)
    assert cloud.provider.read(template) is None


def test_cancel_ends_in_canceled_and_needs_a_build(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    template = built_template(cloud)
    clock = builds_on_a_test_clock(cloud, monkeypatch)
    with pytest.raises(ConflictError) as caught:
        cloud.provider.invoke_action(template, "cancel")
    assert "no build in progress" in caught.value.message
    cloud.service.plant_build_fault(template.arm_id, "Customizing", hang=True)
    cloud.provider.invoke_action(template, "run")
    clock.advance(minutes(cloud, 5))
    running = run_state(cloud, template)
    assert running["runState"] == "Running"
    cloud.provider.invoke_action(template, "cancel")
    assert run_state(cloud, template)["runState"] == "Canceling"
    clock.advance(minutes(cloud, A_DAY))
    status = run_state(cloud, template)
    assert status["runState"] == "Canceled" and status["runSubState"] == running["runSubState"]
    assert cloud.provider.list_run_outputs(template) == []


def test_a_build_that_fails_reports_the_step_and_message(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = built_template(cloud)
    clock = builds_on_a_test_clock(cloud, monkeypatch)
    cloud.service.plant_build_fault(template.arm_id, "Customizing", message="customizer 'update' exited 1")
    cloud.provider.invoke_action(template, "run")
    clock.advance(minutes(cloud, A_DAY))
    status = run_state(cloud, template)
    assert status["runState"] == "Failed" and status["runSubState"] == "Customizing"
    assert "customizer 'update' exited 1" in status["message"]


def test_an_unknown_action_is_refused(cloud: Cloud) -> None:
    template = built_template(cloud)
    with pytest.raises(PermanentError) as caught:
        cloud.provider.invoke_action(template, "restart")
    assert caught.value.code == "InvalidAction"
