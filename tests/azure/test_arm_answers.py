"""What the emulator answers each verb with, as the recorded traffic shows (tests/fixtures/recorded/README.md,
"status codes and headers per verb"), its api-version checks on every verb, and its lists. Driven through
the REST surface with no sockets, on a clock the test moves."""

from __future__ import annotations

from typing import Any

import pytest

from providers.emulator.arm_surface import ArmSurface
from tests.helpers.arm import (
    DEFINITION,
    DEFINITION_BODY,
    GALLERY,
    GROUP,
    IDENTITY,
    SUB,
    SURFACE_OPERATION_SECONDS,
    TEMPLATE,
    Clock,
    call,
    path_of,
    template_body,
)

IB = "2024-02-01"
COMPUTE = "2024-03-03"
MSI = "2023-01-31"


@pytest.fixture
def built(surface: ArmSurface, clock: Clock) -> ArmSurface:
    """An identity, a gallery with an image definition and an image template, all finished."""
    call(surface, "PUT", IDENTITY, MSI, {"location": "westus2"})
    call(surface, "PUT", GALLERY, COMPUTE, {"location": "westus2"})
    call(surface, "PUT", DEFINITION, COMPUTE, DEFINITION_BODY)
    call(surface, "PUT", TEMPLATE, IB, template_body())
    clock.advance(SURFACE_OPERATION_SECONDS)
    return surface


def test_image_builder_answers_each_verb_as_recorded(built: ArmSurface, clock: Clock) -> None:
    other = TEMPLATE.replace("/t1", "/t2")
    created = call(built, "PUT", other, IB, template_body())
    # PUT: 201, Azure-AsyncOperation only, at .../locations/<region>/operations/<id>, named in upper case.
    assert created.status == 201 and set(created.headers) == {"Azure-AsyncOperation"}
    status_path = path_of(created.headers["Azure-AsyncOperation"])
    assert status_path.startswith(
        f"{SUB}/providers/Microsoft.VirtualMachineImages/locations/westus2/operations/"
    )
    status = call(built, "GET", status_path, IB).body
    assert status["status"] == "InProgress" and status["name"] == status_path.rsplit("/", 1)[1].upper()
    assert set(status) == {"name", "status", "startTime"}
    # PATCH of tags alone: 200 with the whole template, no polling headers.
    patched = call(built, "PATCH", TEMPLATE, IB, {"tags": {"team": "images"}})
    assert (patched.status, dict(patched.headers)) == (200, {})
    assert patched.body["tags"] == {"team": "images"} and patched.body["properties"]["source"]
    # Any other PATCH is a long-running operation (the spec: 202 + Azure-AsyncOperation).
    vm = call(built, "PATCH", TEMPLATE, IB, {"properties": {"vmProfile": {"vmSize": "Standard_D4s_v3"}}})
    assert vm.status == 202 and set(vm.headers) == {"Azure-AsyncOperation"} and vm.body is None
    # POST run: 202 with Azure-AsyncOperation and Location, the same URL.
    run = call(built, "POST", f"{TEMPLATE}/run", IB)
    assert run.status == 202 and run.body is None
    assert run.headers["Azure-AsyncOperation"] == run.headers["Location"]
    # POST cancel: 204, no body, no polling headers.
    cancel = call(built, "POST", f"{TEMPLATE}/cancel", IB)
    assert (cancel.status, cancel.body, dict(cancel.headers)) == (204, None, {})
    # DELETE: 202 with both headers, the same URL; gone at once; 204 once there is nothing to delete.
    clock.advance(SURFACE_OPERATION_SECONDS)
    deleted = call(built, "DELETE", other, IB)
    assert deleted.status == 202 and deleted.headers["Azure-AsyncOperation"] == deleted.headers["Location"]
    assert call(built, "GET", other, IB).status == 404
    assert call(built, "DELETE", other, IB).status == 204


def test_compute_answers_patch_with_200_and_an_operation(built: ArmSurface, clock: Clock) -> None:
    created = call(built, "PUT", f"{GALLERY}2", COMPUTE, {"location": "westus2"})
    status_path = path_of(created.headers["Azure-AsyncOperation"])
    assert "/providers/Microsoft.Compute/locations/westus2/capsOperations/" in status_path
    assert call(built, "GET", status_path, COMPUTE).body["name"] == status_path.rsplit("/", 1)[1]
    patched = call(built, "PATCH", DEFINITION, COMPUTE, {"tags": {"a": "b"}})
    assert patched.status == 200 and set(patched.headers) == {"Azure-AsyncOperation"}
    assert patched.body["properties"]["provisioningState"] == "Updating"
    clock.advance(SURFACE_OPERATION_SECONDS)
    assert call(built, "GET", DEFINITION, COMPUTE).body["properties"]["provisioningState"] == "Succeeded"


def test_identities_answer_every_write_at_once(surface: ArmSurface) -> None:
    created = call(surface, "PUT", IDENTITY, MSI, {"location": "westus2"})
    # Recorded: 201 with the whole identity and a Location header naming it (resourcegroups in lower case).
    assert created.status == 201 and created.body["properties"]["principalId"]
    assert dict(created.headers) == {"Location": IDENTITY.replace("/resourceGroups/", "/resourcegroups/")}
    again = call(surface, "PUT", IDENTITY, MSI, {"location": "westus2", "tags": {"a": "b"}})
    assert (again.status, dict(again.headers)) == (200, {})
    patched = call(surface, "PATCH", IDENTITY, MSI, {"tags": {"c": "d"}})
    assert (patched.status, dict(patched.headers)) == (200, {})
    assert patched.body["properties"] == created.body["properties"]
    assert (call(surface, "DELETE", IDENTITY, MSI).status, call(surface, "DELETE", IDENTITY, MSI).status) == (
        200,
        204,
    )


def test_a_run_operation_lasts_as_long_as_the_build(
    built: ArmSurface, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(built.service.builds, "minute", 60.0)  # a build takes tens of minutes on the clock
    run = call(built, "POST", f"{TEMPLATE}/run", IB)
    status_path = path_of(run.headers["Azure-AsyncOperation"])
    clock.advance(SURFACE_OPERATION_SECONDS)
    assert call(built, "GET", status_path, IB).body["status"] == "InProgress"  # still building
    clock.advance(24 * 3600)
    ended = call(built, "GET", status_path, IB).body
    assert ended["status"] == "Succeeded"
    assert call(built, "GET", TEMPLATE, IB).body["properties"]["lastRunStatus"]["runState"] == "Succeeded"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", TEMPLATE, None),
        ("PUT", TEMPLATE.replace("/t1", "/t9"), template_body()),
        ("PATCH", TEMPLATE, {"tags": {}}),
        ("DELETE", TEMPLATE, None),
        ("POST", f"{TEMPLATE}/run", None),
        ("POST", f"{TEMPLATE}/cancel", None),
        ("GET", f"{TEMPLATE}/runOutputs", None),
        ("GET", f"{GROUP}/providers/Microsoft.VirtualMachineImages/imageTemplates", None),
        ("GET", f"{SUB}/providers/Microsoft.VirtualMachineImages/imageTemplates", None),
    ],
)
def test_every_verb_checks_the_api_version(
    built: ArmSurface, method: str, path: str, body: dict[str, Any] | None
) -> None:
    for version in ("not-a-version", "2099-01-01"):
        answer = call(built, method, path, version, body)
        assert answer.status == 400, (method, path, version)
        assert answer.body["error"]["code"] == "InvalidApiVersionParameter"
        assert f"The api-version '{version}' is invalid." in answer.body["error"]["message"]
    # A version the front door knows (a gallery's) but Image Builder does not register.
    answer = call(built, method, path, COMPUTE, body)
    assert answer.status == 400 and answer.body["error"]["code"] == "NoRegisteredProviderFound"
    message = answer.body["error"]["message"]
    assert "for type 'imageTemplates'" in message and "'2025-10-01, 2024-02-01, 2023-07-01" in message
    assert "West US 2" in message
    assert call(built, "GET", TEMPLATE, IB).status == 200  # nothing changed


def test_lists_at_every_scope_in_pages(built: ArmSurface, clock: Clock) -> None:
    for name in ("t2", "t3"):
        call(built, "PUT", TEMPLATE.replace("/t1", f"/{name}"), IB, template_body())
    by_group = f"{GROUP}/providers/Microsoft.VirtualMachineImages/imageTemplates"
    first = call(built, "GET", by_group, IB).body
    # Page size 2 here: a nextLink with $skiptoken, and no nextLink key at all on the last page.
    assert [item["name"] for item in first["value"]] == ["t1", "t2"]
    link = first["nextLink"]
    assert link.startswith(f"https://127.0.0.1:1{by_group}?api-version={IB}&%24skiptoken=")
    second = call(built, "GET", by_group, IB, query={"$skiptoken": link.rsplit("=", 1)[1]}).body
    assert [item["name"] for item in second["value"]] == ["t3"] and "nextLink" not in second
    # Items are what a GET answers, Creating included while the operation runs.
    assert second["value"][0] == call(built, "GET", TEMPLATE.replace("/t1", "/t3"), IB).body
    assert second["value"][0]["properties"]["provisioningState"] == "Creating"
    by_subscription = call(built, "GET", f"{SUB}/providers/Microsoft.VirtualMachineImages/imageTemplates", IB)
    assert len(by_subscription.body["value"]) == 2 and "nextLink" in by_subscription.body
    images = call(built, "GET", f"{GALLERY}/images", COMPUTE).body
    assert [item["id"] for item in images["value"]] == [DEFINITION] and "nextLink" not in images
    identities = call(built, "GET", f"{SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities", MSI)
    assert [item["name"] for item in identities.body["value"]] == ["builder"]
    galleries = call(built, "GET", f"{GROUP}/providers/Microsoft.Compute/galleries", COMPUTE).body
    assert [item["name"] for item in galleries["value"]] == ["gal"]
    versions = call(built, "GET", f"{DEFINITION}/versions", COMPUTE).body
    assert versions == {"value": []}


def test_lists_refuse_what_is_not_there(built: ArmSurface) -> None:
    missing_group = call(
        built, "GET", f"{SUB}/resourceGroups/nowhere/providers/Microsoft.Compute/galleries", COMPUTE
    )
    assert missing_group.status == 404 and missing_group.body["error"]["code"] == "ResourceGroupNotFound"
    missing_parent = call(built, "GET", f"{GALLERY}-gone/images", COMPUTE)
    assert missing_parent.status == 404 and missing_parent.body["error"]["code"] == "ParentResourceNotFound"
    unknown = call(built, "GET", f"{GROUP}/providers/Microsoft.Compute/snapshots", COMPUTE)
    assert unknown.status == 400 and unknown.body["error"]["code"] == "InvalidResourceType"


def test_subscriptions_locations_and_tenants(built: ArmSurface) -> None:
    subscriptions = call(built, "GET", "/subscriptions", "2022-12-01").body
    ids = [s["subscriptionId"] for s in subscriptions["value"]]
    assert ids == ["00000000-0000-0000-0000-000000000000", "s1"]  # the default one, and one holding a group
    assert subscriptions["value"][0]["state"] == "Enabled" and subscriptions["value"][0]["tenantId"]
    one = call(built, "GET", SUB, "2022-12-01")
    assert one.status == 200 and one.body["subscriptionId"] == "s1"
    assert (
        call(built, "GET", "/subscriptions/nope", "2022-12-01").body["error"]["code"]
        == "SubscriptionNotFound"
    )
    locations = call(built, "GET", f"{SUB}/locations", "2022-12-01").body["value"]
    westus2 = next(item for item in locations if item["name"] == "westus2")
    assert westus2["displayName"] == "West US 2" and westus2["id"] == f"{SUB}/locations/westus2"
    assert not any(item["name"].startswith("usgov") for item in locations)
    assert call(built, "GET", "/tenants", "2022-12-01").body["value"][0]["tenantId"]
    assert call(built, "GET", "/subscriptions", "not-a-version").body["error"]["code"] == (
        "InvalidApiVersionParameter"
    )
    groups = call(built, "GET", f"{SUB}/resourcegroups", "2024-11-01").body["value"]
    assert [group["name"] for group in groups] == ["rg"]
    operations = call(built, "GET", "/providers/Microsoft.VirtualMachineImages/operations", IB).body["value"]
    assert {"name": "Microsoft.VirtualMachineImages/imageTemplates/run/action"}.items() <= operations[
        4
    ].items()
