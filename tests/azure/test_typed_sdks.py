"""The typed SDKs users drive Azure with (azure-mgmt-imagebuilder 2.0.0, azure-mgmt-compute 39.0.0,
azure-mgmt-msi 7.1.0) against the emulator over TLS, at their default api versions, signed in with a
service principal through the emulator's token endpoint (azure-identity, MSAL): create, get, every
list (paged: the session emulator answers two items a page), PATCH, run, run outputs, cancel, delete in
order, and the errors they raise. Nothing here is aibplan's code but the emulator."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.imagebuilder import ImageBuilderClient
from azure.mgmt.msi import ManagedServiceIdentityClient

from providers.catalog import BY_ARM_TYPE
from providers.simulated.service import TENANT_ID
from tests.helpers import POLLING_INTERVAL, SUBSCRIPTION, Emulator
from tests.helpers.arm import minimal_template
from tests.helpers.roles import BUILD_ROLES

# What each SDK sends when the caller names no api version (recorded-notes: read from the packages).
DEFAULTS = {
    "Microsoft.VirtualMachineImages/imageTemplates": "2025-10-01",
    "Microsoft.Compute/galleries": "2026-03-03",
    "Microsoft.Compute/galleries/images": "2026-03-03",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "2024-11-30",
}


@dataclass
class Clients:
    images: ImageBuilderClient
    compute: ComputeManagementClient
    identities: ManagedServiceIdentityClient
    roles: AuthorizationManagementClient
    group: str
    credential: ClientSecretCredential
    options: dict[str, Any]

    def id_of(self, provider_path: str) -> str:
        return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{self.group}/providers/{provider_path}"


@pytest.fixture
def clients(emulator: Emulator) -> Iterator[Clients]:
    credential = ClientSecretCredential(
        TENANT_ID,
        "22222222-aaaa-bbbb-cccc-000000000002",
        "contract-test-secret",
        authority=emulator.endpoint,
        disable_instance_discovery=True,
        connection_verify=str(emulator.ca_file),
    )
    options: dict[str, Any] = {
        "base_url": emulator.endpoint,
        "credential_scopes": [f"{emulator.endpoint}/.default"],
        "connection_verify": str(emulator.ca_file),
        "polling_interval": POLLING_INTERVAL,
    }
    made = Clients(
        ImageBuilderClient(credential, SUBSCRIPTION, **options),
        ComputeManagementClient(credential, SUBSCRIPTION, **options),
        ManagedServiceIdentityClient(credential, SUBSCRIPTION, **options),
        AuthorizationManagementClient(credential, SUBSCRIPTION, **options),
        emulator.new_group(),
        credential,
        options,
    )
    yield made
    for client in (made.images, made.compute, made.identities, made.roles):
        client.close()
    credential.close()


def api_versions_sent() -> tuple[list[str], Callable[[Any], None]]:
    """A list, and a `raw_request_hook` for an SDK call that appends the api-version of what it sends."""
    sent: list[str] = []

    def hook(request: Any) -> None:
        sent.append(parse_qs(urlsplit(request.http_request.url).query)["api-version"][0])

    return sent, hook


def gallery_pipeline(clients: Clients) -> tuple[str, str]:
    """A gallery with an image definition; their ids."""
    compute = clients.compute
    compute.galleries.begin_create_or_update(clients.group, "gal", {"location": "westus2"}).result()
    definition = {
        "location": "westus2",
        "properties": {
            "osType": "Linux",
            "osState": "Generalized",
            "hyperVGeneration": "V2",
            "identifier": {"publisher": "contoso", "offer": "ubuntu", "sku": "22_04"},
        },
    }
    compute.gallery_images.begin_create_or_update(clients.group, "gal", "ubuntu", definition).result()
    return (
        clients.id_of("Microsoft.Compute/galleries/gal"),
        clients.id_of("Microsoft.Compute/galleries/gal/images/ubuntu"),
    )


def template_body(identity_id: str, definition_id: str) -> dict[str, Any]:
    return minimal_template(identity_id, definition_id, "ubuntu-sig")


def until(read: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    """What `read` gives once `done` says so, as a client watching a resource reads it."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        value = read()
        if done(value):
            return value
        time.sleep(POLLING_INTERVAL)
    raise AssertionError(f"never done: {value}")


def test_each_sdk_sends_its_default_api_version_and_the_catalog_knows_it(clients: Clients) -> None:
    calls = {
        "Microsoft.VirtualMachineImages/imageTemplates": lambda hook: (
            clients.images.virtual_machine_image_templates.get(clients.group, "t", raw_request_hook=hook)
        ),
        "Microsoft.Compute/galleries": lambda hook: clients.compute.galleries.get(
            clients.group, "g", raw_request_hook=hook
        ),
        "Microsoft.Compute/galleries/images": lambda hook: clients.compute.gallery_images.get(
            clients.group, "g", "d", raw_request_hook=hook
        ),
        "Microsoft.ManagedIdentity/userAssignedIdentities": lambda hook: (
            clients.identities.user_assigned_identities.get(clients.group, "i", raw_request_hook=hook)
        ),
    }
    for arm_type, call in calls.items():
        sent, hook = api_versions_sent()
        with pytest.raises(ResourceNotFoundError):  # answered, at that version: not a version error
            call(hook)
        assert sent == [DEFAULTS[arm_type]], arm_type
        assert DEFAULTS[arm_type] in BY_ARM_TYPE[arm_type.lower()].all_api_versions(), arm_type


def test_identities_through_azure_mgmt_msi(clients: Clients) -> None:
    ops = clients.identities.user_assigned_identities
    created = [
        ops.create_or_update(clients.group, name, {"location": "westus2"}) for name in ("a1", "a2", "a3")
    ]
    assert all(identity.principal_id and identity.client_id for identity in created)
    assert ops.get(clients.group, "a2").client_id == created[1].client_id
    assert [i.name for i in ops.list_by_resource_group(clients.group)] == ["a1", "a2", "a3"]  # two pages
    assert {"a1", "a2", "a3"} <= {i.name for i in ops.list_by_subscription()}
    patched = ops.update(clients.group, "a1", {"tags": {"team": "images"}})
    assert (patched.principal_id, patched.client_id) == (created[0].principal_id, created[0].client_id)
    assert ops.get(clients.group, "a1").tags == {"team": "images"}
    ops.delete(clients.group, "a3")
    with pytest.raises(ResourceNotFoundError) as caught:
        ops.get(clients.group, "a3")
    assert caught.value.error is not None and caught.value.error.code == "ResourceNotFound"


def test_galleries_and_image_definitions_through_azure_mgmt_compute(clients: Clients) -> None:
    gallery_id, _ = gallery_pipeline(clients)
    galleries, images = clients.compute.galleries, clients.compute.gallery_images
    gallery = galleries.get(clients.group, "gal")
    assert gallery.id == gallery_id and gallery.provisioning_state == "Succeeded"
    assert gallery.identifier is not None and gallery.identifier.unique_name
    assert [g.name for g in galleries.list_by_resource_group(clients.group)] == ["gal"]
    assert gallery_id in {g.id for g in galleries.list()}
    galleries.begin_update(clients.group, "gal", {"tags": {"team": "images"}}).result()
    assert galleries.get(clients.group, "gal").tags == {"team": "images"}
    assert [i.name for i in images.list_by_gallery(clients.group, "gal")] == ["ubuntu"]
    images.begin_update(clients.group, "gal", "ubuntu", {"properties": {"description": "22.04"}}).result()
    assert images.get(clients.group, "gal", "ubuntu").description == "22.04"
    with pytest.raises(HttpResponseError) as caught:
        galleries.begin_delete(clients.group, "gal").result()
    assert caught.value.status_code == 409 and caught.value.error.code == "CannotDeleteResource"  # type: ignore[union-attr]
    images.begin_delete(clients.group, "gal", "ubuntu").result()
    galleries.begin_delete(clients.group, "gal").result()
    assert list(galleries.list_by_resource_group(clients.group)) == []


def test_an_image_template_through_azure_mgmt_imagebuilder(clients: Clients) -> None:
    identity = clients.identities.user_assigned_identities.create_or_update(
        clients.group, "builder", {"location": "westus2"}
    )
    # What its build needs (the AIB docs' setup), through azure-mgmt-authorization: without it the build
    # fails "Not authorized", as Azure's does.
    group_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{clients.group}"
    for role in BUILD_ROLES:
        clients.roles.role_assignments.create(
            group_id,
            str(uuid.uuid4()),
            RoleAssignmentCreateParameters(
                role_definition_id=f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{role}",
                principal_id=str(identity.principal_id),
                principal_type="ServicePrincipal",
            ),
        )
    gallery_id, definition_id = gallery_pipeline(clients)
    templates = clients.images.virtual_machine_image_templates
    body = template_body(str(identity.id), definition_id)
    created = templates.begin_create_or_update(clients.group, "ubuntu", body).result()
    assert created.provisioning_state == "Succeeded"
    for name in ("second", "third"):
        templates.begin_create_or_update(clients.group, name, body).result()
    assert [t.name for t in templates.list_by_resource_group(clients.group)] == ["second", "third", "ubuntu"]
    assert {"second", "third", "ubuntu"} <= {t.name for t in templates.list()}
    patched = templates.begin_update(clients.group, "ubuntu", {"tags": {"team": "images"}}).result()
    assert patched.tags == {"team": "images"} and patched.source is not None
    assert [op.name for op in clients.images.operations.list()]

    templates.begin_run(clients.group, "ubuntu").result()  # the operation lasts as long as the build
    status = templates.get(clients.group, "ubuntu").last_run_status
    assert status is not None and status.run_state == "Succeeded"
    outputs = list(templates.list_run_outputs(clients.group, "ubuntu"))
    assert [o.name for o in outputs] == ["ubuntu-sig"]
    output = templates.get_run_output(clients.group, "ubuntu", "ubuntu-sig")
    assert output.artifact_id is not None and "/images/ubuntu/versions/" in output.artifact_id
    versions = list(
        clients.compute.gallery_image_versions.list_by_gallery_image(clients.group, "gal", "ubuntu")
    )
    assert [v.id for v in versions] == [output.artifact_id]
    version = clients.compute.gallery_image_versions.get(clients.group, "gal", "ubuntu", versions[0].name)
    assert version.provisioning_state == "Succeeded"

    # Delete in order: the templates, the image version, the definition, the gallery, the identity.
    for name in ("ubuntu", "second", "third"):
        templates.begin_delete(clients.group, name).result()
    assert list(templates.list_by_resource_group(clients.group)) == []
    clients.compute.gallery_image_versions.begin_delete(
        clients.group, "gal", "ubuntu", versions[0].name
    ).result()
    clients.compute.gallery_images.begin_delete(clients.group, "gal", "ubuntu").result()
    clients.compute.galleries.begin_delete(clients.group, "gal").result()
    clients.identities.user_assigned_identities.delete(clients.group, "builder")
    assert list(clients.identities.user_assigned_identities.list_by_resource_group(clients.group)) == []
    assert gallery_id


def test_cancel_and_no_wait_through_azure_mgmt_imagebuilder(clients: Clients, emulator: Emulator) -> None:
    identity = clients.identities.user_assigned_identities.create_or_update(
        clients.group, "builder", {"location": "westus2"}
    )
    _, definition_id = gallery_pipeline(clients)
    templates = clients.images.virtual_machine_image_templates
    # --no-wait: the create is never polled; a client watching provisioningState sees it finish.
    started = templates.begin_create_or_update(
        clients.group, "ubuntu", template_body(str(identity.id), definition_id), polling=False
    )
    assert started.result().provisioning_state == "Creating"
    until(lambda: templates.get(clients.group, "ubuntu").provisioning_state, lambda s: s == "Succeeded")

    template_id = clients.id_of("Microsoft.VirtualMachineImages/imageTemplates/ubuntu")
    emulator.server.service.plant_build_fault(template_id, "Customizing", hang=True)
    templates.begin_run(clients.group, "ubuntu", polling=False)
    templates.begin_cancel(clients.group, "ubuntu").result()  # 204: done at once
    status = templates.get(clients.group, "ubuntu").last_run_status
    assert status is not None and status.run_state in ("Canceling", "Canceled")
    ended = until(
        lambda: templates.get(clients.group, "ubuntu").last_run_status, lambda s: s.run_state == "Canceled"
    )
    assert ended.run_state == "Canceled"
    with pytest.raises(HttpResponseError) as caught:
        templates.begin_cancel(clients.group, "ubuntu").result()
    assert caught.value.status_code == 409


def test_errors_the_sdks_raise(clients: Clients) -> None:
    templates = clients.images.virtual_machine_image_templates
    with pytest.raises(ResourceNotFoundError) as missing:
        templates.get(clients.group, "nothing-here")
    assert missing.value.error is not None and missing.value.error.code == "ResourceNotFound"
    identity = clients.identities.user_assigned_identities.create_or_update(
        clients.group, "builder", {"location": "westus2"}
    )
    _, definition_id = gallery_pipeline(clients)
    no_source = template_body(str(identity.id), definition_id)
    del no_source["properties"]["source"]
    with pytest.raises(HttpResponseError) as refused:
        templates.begin_create_or_update(clients.group, "bad", no_source).result()
    assert refused.value.status_code == 400 and refused.value.error is not None
    assert refused.value.error.code == "InvalidParameter"
    assert "Missing field 'source'" in str(refused.value.error.message)
    unknown = template_body(str(identity.id), definition_id)
    unknown["properties"]["vmboot"] = {"state": "Enabled"}
    with pytest.raises(HttpResponseError) as refused:
        templates.begin_create_or_update(clients.group, "bad", unknown).result()
    assert 'unknown field "vmboot"' in str(refused.value.error.message)  # type: ignore[union-attr]
    with pytest.raises(ResourceNotFoundError):
        templates.get(clients.group, "bad")
    for version, code in (
        ("not-a-version", "InvalidApiVersionParameter"),
        ("2026-03-03", "NoRegisteredProviderFound"),
    ):
        pinned = ImageBuilderClient(clients.credential, SUBSCRIPTION, api_version=version, **clients.options)
        with pytest.raises(HttpResponseError) as wrong:
            list(pinned.virtual_machine_image_templates.list_by_resource_group(clients.group))
        pinned.close()
        assert wrong.value.error is not None and wrong.value.error.code == code
    templates.begin_create_or_update(
        clients.group, "ok", template_body(str(identity.id), definition_id)
    ).result()
    with pytest.raises(HttpResponseError) as again:
        templates.begin_create_or_update(
            clients.group, "ok", template_body(str(identity.id), definition_id)
        ).result()
    assert again.value.status_code == 409 and "Update/Upgrade of image templates" in str(
        again.value.error.message
    )  # type: ignore[union-attr]
