"""The imagebuilder REST spec (tests/fixtures/recorded/swagger, 2022-07-01, 2024-02-01, 2025-10-01) run
against the emulator over TLS by schemathesis: every response conforms to the spec (schema, status code,
documented headers, content type; never a 5xx).

Two passes per swagger:
- a scenario with bodies the service accepts (create, get, list, patch, run, run outputs, cancel,
  delete), so the spec checks the 2xx answers in full;
- every operation fuzzed with ten generated requests (deterministic, `derandomize`), the subscription and
  resource group pinned to the emulator's and, where an existing template gives a richer answer, its
  name pinned too, so most requests reach the service rather than stopping at a missing group.

The spec's slips in the 2024-02-01 file are tolerated in tests/helpers/swagger.py, which says why.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import SUBSCRIPTION, Emulator
from tests.helpers.arm import Clock, minimal_template
from tests.helpers.roles import grant_build_roles
from tests.helpers.swagger import api_version_of, load_swagger, swagger_files

EXAMPLES_PER_OPERATION = 10
TEMPLATE = "tpl"
RUN_OUTPUT = "sig"
_PINNED_TEMPLATE = ("GET", "PATCH", "POST")


@dataclass
class World:
    """What the emulator holds for the spec's requests: a group with an identity, a gallery with an image
    definition, and a template that has been built once."""

    emulator: Emulator
    group: str
    session: requests.Session
    identity: str = ""
    definition: str = ""
    seen: dict[str, int] = field(default_factory=dict)  # "<status>" -> responses

    def url(self, path: str) -> str:
        return self.emulator.endpoint + path

    def send(self, method: str, path: str, api_version: str, body: Any = None) -> requests.Response:
        return self.session.request(
            method, self.url(path), params={"api-version": api_version}, json=body, verify=self.verify
        )

    @property
    def verify(self) -> str:
        return str(self.emulator.ca_file)

    def template_body(self) -> dict[str, Any]:
        body = minimal_template(self.identity, self.definition, RUN_OUTPUT)
        # A map, as the service answers; the 2024-02-01 file says string (tolerated).
        body["properties"]["distribute"][0]["artifactTags"] = {"source": "aibplan"}
        return body


@pytest.fixture(scope="module")
def world(emulator: Emulator) -> Iterator[World]:
    session = requests.Session()
    session.trust_env = False  # the emulator's CA, not a bundle from the environment
    session.headers["Authorization"] = "Bearer conformance"
    group = emulator.new_group()
    prefix = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers"
    here = World(emulator, group, session)
    here.identity = f"{prefix}/Microsoft.ManagedIdentity/userAssignedIdentities/builder"
    gallery = f"{prefix}/Microsoft.Compute/galleries/gal"
    here.definition = f"{gallery}/images/ubuntu"
    assert here.send("PUT", here.identity, "2023-01-31", {"location": "westus2"}).status_code == 201
    grant_build_roles(here.send, here.identity, f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}")
    assert here.send("PUT", gallery, "2024-03-03", {"location": "westus2"}).status_code == 201
    definition = {
        "location": "westus2",
        "properties": {
            "osType": "Linux",
            "osState": "Generalized",
            "hyperVGeneration": "V2",
            "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
        },
    }
    assert here.send("PUT", here.definition, "2024-03-03", definition).status_code == 201
    yield here
    session.close()


def checks_for(response: requests.Response) -> list[Any]:
    """The conformance checks; a body-less answer (204, 202) carries no Content-Type, as HTTP allows."""
    found = [
        not_a_server_error,
        status_code_conformance,
        response_schema_conformance,
        response_headers_conformance,
    ]
    if response.content:
        found.append(content_type_conformance)
    return found


OPERATIONS = [
    (path, result.ok().label)
    for path in swagger_files()
    for result in schemathesis.openapi.from_dict(load_swagger(path)).get_all_operations()
]


def _operation(path: Path, label: str) -> Any:
    schema = schemathesis.openapi.from_dict(load_swagger(path))
    return next(r.ok() for r in schema.get_all_operations() if r.ok().label == label)


@pytest.mark.parametrize("swagger", swagger_files(), ids=api_version_of)
def test_the_answers_to_accepted_requests_conform(
    world: World, swagger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = api_version_of(swagger)
    schema = schemathesis.openapi.from_dict(load_swagger(swagger))
    operations = {r.ok().label: r.ok() for r in schema.get_all_operations()}
    base = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
    item = base + "Microsoft.VirtualMachineImages/imageTemplates/{imageTemplateName}"
    name = f"{TEMPLATE}-{version}"
    params = {"subscriptionId": SUBSCRIPTION, "resourceGroupName": world.group, "imageTemplateName": name}
    failures: list[str] = []

    def send(method: str, path: str, body: Any = None, **extra: str) -> requests.Response:
        operation = operations[f"{method} {path}"]
        given_body = {} if body is None else {"body": body}
        case = operation.Case(
            path_parameters={**params, **extra}, query={"api-version": version}, **given_body
        )
        response = case.call(base_url=world.emulator.endpoint, session=world.session, verify=world.verify)
        try:
            case.validate_response(response, checks=checks_for(response))
        except BaseException as exc:  # schemathesis raises a group of failures
            failures.append(f"{method} {path} -> {response.status_code}: {exc}")
        return response

    assert send("PUT", item, world.template_body()).status_code == 201
    assert send("GET", item).json()["properties"]["provisioningState"] in ("Creating", "Succeeded")
    assert send("PATCH", item, {"tags": {"team": "images"}}).status_code == 200
    assert send("GET", base + "Microsoft.VirtualMachineImages/imageTemplates").status_code == 200
    assert send(
        "GET", "/subscriptions/{subscriptionId}/providers/Microsoft.VirtualMachineImages/imageTemplates"
    )
    # Builds run on a clock this test moves: a day of simulated minutes ends any build here, and a hang is
    # still running when the cancel arrives, however busy the machine.
    builds = world.emulator.server.service.builds
    clock = Clock()
    clock.now = time.time()
    monkeypatch.setattr(builds, "clock", clock)
    a_day = 24 * 60 * builds.minute
    started = send("POST", item + "/run")
    assert started.status_code == 202, started.content
    template_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{world.group}/providers/"
    template_id += f"Microsoft.VirtualMachineImages/imageTemplates/{name}"
    assert send("GET", item).json()["properties"]["lastRunStatus"]["runState"] == "Running"
    clock.advance(a_day)
    assert send("GET", item).json()["properties"]["lastRunStatus"]["runState"] == "Succeeded"
    assert send("GET", item + "/runOutputs").json()["value"]
    assert send("GET", item + "/runOutputs/{runOutputName}", runOutputName=RUN_OUTPUT).status_code == 200
    world.emulator.server.service.plant_build_fault(template_id, "Customizing", hang=True)
    assert send("POST", item + "/run").status_code == 202
    assert send("POST", item + "/cancel").status_code == 204
    assert send("GET", item).json()["properties"]["lastRunStatus"]["runState"] == "Canceling"
    clock.advance(a_day)
    assert send("GET", item).json()["properties"]["lastRunStatus"]["runState"] == "Canceled"
    assert send("GET", "/providers/Microsoft.VirtualMachineImages/operations").status_code == 200
    assert send("DELETE", item).status_code == 202
    assert send("DELETE", item).status_code == 204
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("swagger", "label"), OPERATIONS, ids=lambda v: api_version_of(v) if isinstance(v, Path) else v
)
def test_every_operation_answers_generated_requests_as_the_spec_says(
    world: World, swagger: Path, label: str
) -> None:
    version = api_version_of(swagger)
    operation = _operation(swagger, label)
    built = f"{TEMPLATE}-fuzzed-{version}"
    template_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{world.group}/providers/"
    template_id += f"Microsoft.VirtualMachineImages/imageTemplates/{built}"
    if world.send("GET", template_id, version).status_code == 404:
        assert world.send("PUT", template_id, version, world.template_body()).status_code == 201
    failures: list[str] = []
    statuses: dict[int, int] = {}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        path = case.path_parameters or {}
        if "subscriptionId" in path:
            path["subscriptionId"] = SUBSCRIPTION
        if "resourceGroupName" in path:
            path["resourceGroupName"] = world.group
        if "imageTemplateName" in path and case.method.upper() in _PINNED_TEMPLATE:
            path["imageTemplateName"] = built
        if "runOutputName" in path:
            path["runOutputName"] = RUN_OUTPUT
        case.query = {**(case.query or {}), "api-version": version}
        response = case.call(base_url=world.emulator.endpoint, session=world.session, verify=world.verify)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=checks_for(response))
        except BaseException as exc:  # schemathesis raises a group of failures
            failures.append(f"{response.status_code} for {case.method} {case.formatted_path}: {exc}")

    run()
    assert sum(statuses.values()) >= 1
    assert not failures, f"{len(failures)} non-conforming answers of {sum(statuses.values())}:\n" + "\n".join(
        failures[:5]
    )
