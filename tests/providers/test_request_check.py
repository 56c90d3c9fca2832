"""The simulated service refuses the request bodies Azure refuses, from the same schemas the validator
reads: required fields, unknown and mis-cased fields once a version is strict, unions without a type,
tags ARM refuses; and a PATCH cannot touch what the service owns (an identity's principal and client ids)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from providers.simulated.service import ServiceError, SimulatedAzure
from tests.helpers.arm import DEFINITION, GALLERY, GROUP, IDENTITY, TEMPLATE, minimal_template

REVIEW = "Please review http://aka.ms/azvmimagebuildertmplref for details on fields required"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[SimulatedAzure]:
    cloud = SimulatedAzure(tmp_path / "cloud.db")
    cloud.put(IDENTITY, "2023-01-31", {"location": "westus2"})
    cloud.put(GALLERY, "2024-03-03", {"location": "westus2"})
    cloud.put(
        DEFINITION,
        "2024-03-03",
        {
            "location": "westus2",
            "properties": {
                "osType": "Linux",
                "osState": "Generalized",
                "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
            },
        },
    )
    yield cloud
    cloud.close()


def template() -> dict[str, Any]:
    return minimal_template(IDENTITY, DEFINITION)


def refused(service: SimulatedAzure, arm_id: str, api_version: str, body: dict[str, Any]) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        service.put(arm_id, api_version, body)
    assert caught.value.status == 400
    return caught.value


@pytest.mark.parametrize("api_version", ["2020-02-14", "2022-07-01", "2024-02-01", "2025-10-01"])
def test_an_image_template_without_source_or_distribute_is_refused_at_every_version(
    service: SimulatedAzure, api_version: str
) -> None:
    for missing in ("source", "distribute"):
        body = template()
        del body["properties"][missing]
        error = refused(service, TEMPLATE, api_version, body)
        assert error.code == "InvalidParameter" and error.target == f"properties.{missing}"
        assert error.message.startswith(
            f"Validation failed: 'ImageTemplate.properties': Missing field '{missing}'. {REVIEW}"
        )
    body = template()
    del body["properties"]["distribute"][0]["runOutputName"]
    error = refused(service, TEMPLATE, api_version, body)
    assert "'ImageTemplate.properties.distribute[0]': Missing field 'runOutputName'" in error.message
    assert service.get_many([TEMPLATE]) == {TEMPLATE: None}


def test_unknown_and_mis_cased_fields_are_refused_from_2024_02_01_only(service: SimulatedAzure) -> None:
    unknown = template()
    unknown["properties"]["vmboot"] = {"state": "Enabled"}
    error = refused(service, TEMPLATE, "2024-02-01", unknown)
    assert error.message.startswith(
        "Validation failed: 'ImageTemplate.properties': unknown field \"vmboot\"."
    )
    mis_cased = template()
    mis_cased["properties"]["source"] = {"type": "SharedImageVersion", "imageVersionID": "/subscriptions/x"}
    error = refused(service, TEMPLATE, "2025-10-01", mis_cased)
    assert error.target == "properties.source.imageVersionID"
    # Before 2024-02-01 the service ignored fields it did not know.
    status, _ = service.put(TEMPLATE, "2023-07-01", unknown)
    assert status == 201


def test_a_customizer_needs_a_type_the_version_knows(service: SimulatedAzure) -> None:
    body = template()
    del body["properties"]["customize"][0]["type"]
    assert refused(service, TEMPLATE, "2024-02-01", body).target == "properties.customize[0].type"
    body["properties"]["customize"][0]["type"] = "Ansible"
    error = refused(service, TEMPLATE, "2024-02-01", body)
    assert "Field 'type' has a bad value: 'Ansible'" in error.message


def test_compute_refuses_in_its_own_words(service: SimulatedAzure) -> None:
    error = refused(
        service, GALLERY + "2", "2024-03-03", {"location": "westus2", "properties": {"colour": "x"}}
    )
    assert error.code == "InvalidRequestFormat" and "Could not find member 'colour'" in error.message
    definition: dict[str, Any] = {"location": "westus2", "properties": {"osState": "Generalized"}}
    error = refused(service, DEFINITION + "2", "2024-03-03", definition)
    assert error.code == "InvalidParameter" and error.target == "properties.osType"
    assert error.message == "Required parameter 'osType' is missing (null)."


def test_tags_arm_refuses(service: SimulatedAzure) -> None:
    for tags, code in (
        ({"team": 7}, "InvalidRequestContent"),
        ({"team": "x" * 257}, "InvalidTagValueLength"),
        ({"t" * 513: "x"}, "InvalidTagNameLength"),
        (["team"], "InvalidRequestContent"),
    ):
        assert (
            refused(service, GALLERY + "3", "2024-03-03", {"location": "westus2", "tags": tags}).code == code
        )
        with pytest.raises(ServiceError) as caught:
            service.patch(IDENTITY, "2023-01-31", {"tags": tags})
        assert caught.value.code == code


def test_an_identity_patch_keeps_what_the_service_owns(service: SimulatedAzure) -> None:
    owned = copy.deepcopy(service.get(IDENTITY, "2023-01-31")["properties"])
    assert set(owned) == {"tenantId", "principalId", "clientId"}
    for patch in (
        {"tags": {"team": "images"}, "properties": {"principalId": "0000", "clientId": None}},
        {"properties": None},
        {"tags": {"team": "images"}},
    ):
        patched = service.patch(IDENTITY, "2023-01-31", patch)
        assert patched["properties"] == owned and patched["tags"] == {"team": "images"}
        assert service.get(IDENTITY, "2023-01-31")["properties"] == owned
    with pytest.raises(ServiceError) as caught:
        service.patch(IDENTITY, "2023-01-31", {"location": "eastus"})
    assert caught.value.code == "InvalidResourceLocation"


def test_a_template_patch_checks_each_distribution_target_whole(service: SimulatedAzure) -> None:
    service.put(TEMPLATE, "2024-02-01", template())
    target = {"type": "SharedImage", "galleryImageId": DEFINITION, "replicationRegions": ["westus2"]}
    with pytest.raises(ServiceError) as caught:
        service.patch(TEMPLATE, "2024-02-01", {"properties": {"distribute": [target]}})
    assert "'ImageTemplate.properties.distribute[0]': Missing field 'runOutputName'" in caught.value.message
    patched = service.patch(
        TEMPLATE, "2024-02-01", {"properties": {"vmProfile": {"vmSize": "Standard_D4s_v5"}}}
    )
    assert patched["properties"]["vmProfile"]["vmSize"] == "Standard_D4s_v5"
    assert patched["properties"]["provisioningState"] == "Succeeded"


def test_a_template_patch_refuses_an_identity_that_does_not_exist(service: SimulatedAzure) -> None:
    service.put(TEMPLATE, "2024-02-01", template())
    missing = f"{GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nobody"
    with pytest.raises(ServiceError) as caught:
        service.patch(
            TEMPLATE,
            "2024-02-01",
            {"identity": {"type": "UserAssigned", "userAssignedIdentities": {missing: {}}}},
        )
    assert caught.value.code == "InvalidParameter" and "nobody" in caught.value.message
    answer = service.get(TEMPLATE, "2024-02-01")["identity"]["userAssignedIdentities"]
    assert list(answer) == [IDENTITY] and isinstance(answer[IDENTITY]["principalId"], str)
    for odd in ("", "not-an-id"):
        with pytest.raises(ServiceError) as caught:
            service.patch(
                TEMPLATE,
                "2022-07-01",
                {"identity": {"type": "UserAssigned", "userAssignedIdentities": {odd: {}}}},
            )
        assert caught.value.code == "InvalidParameter"
