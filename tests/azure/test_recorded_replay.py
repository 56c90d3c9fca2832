"""Recorded traffic replayed against the emulator over TLS: every recorded request to a kind the emulator
serves (identities, galleries, image definitions, image templates and their run, cancel and run outputs)
is sent again, file by file in the order it happened, with the recorded body at the recorded api version,
and the answer has the recorded shape: the status, the polling headers (Azure-AsyncOperation, Location,
Retry-After) and the operation URL's form, and the provisioningState the body shows.

Each file gets a resource group of its own (the recorded name with a suffix, written into every id of the
bodies too). What a request refers to but the recording did not create (an identity made by another
test, a gallery image definition) is made first, as it existed when the recording was made. Recorded
failures of the service itself (a transient 500) are not replayed.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.helpers import POLLING_INTERVAL, SUBSCRIPTION, Emulator
from tests.helpers.recorded import Recorded, by_file
from tests.helpers.roles import grant_build_roles

SERVED = {"imageTemplate", "gallery", "imageDefinition", "userAssignedIdentity", "runOutput"}
# Operation status polls are replayed as waits: the emulator's own operation is polled until it ends.
POLLING_HEADERS = {"azure-asyncoperation", "location", "retry-after"}
# Actions the emulator does not serve: the identity's associated resources (a preview listing).
NOT_SERVED = re.compile(r"/listAssociatedResources$", re.IGNORECASE)
_OPERATION = re.compile(r"/providers/([^/]+)/locations/([^/]+)/([^/]+)/[^/?]+$", re.IGNORECASE)
_GUID = re.compile(r"^/subscriptions/([^/]+)/", re.IGNORECASE)

_STATUS_PATH = re.compile(r"/locations/[^/]+/(operations|capsoperations)/", re.IGNORECASE)
TERMINAL = ("Succeeded", "Failed", "Canceled")
# Where the emulator is known to answer otherwise, and why (docs/azure.md, "Fidelity").
KNOWN_DIFFERENCES: dict[str, str] = {}
# Recordings whose identity lacked a permission the service checked: its roles are not granted in the replay.
# (image_builder_vm_profile#1: the create failed, Unauthorized on the build's virtual network.)
DENIED = {"azure-cli/image_builder_vm_profile_2023-07-01.json"}

REPLAYED = {
    name: [
        item
        for item in items
        if (item.kind in SERVED or item.kind == "operationStatus")
        and item.status < 500
        and not NOT_SERVED.search(item.request["path"])
    ]
    for name, items in by_file().items()
    if items[0].source_kind == "recording"
}


@pytest.fixture
def session(emulator: Emulator) -> Iterator[requests.Session]:
    with requests.Session() as opened:
        opened.trust_env = False  # the emulator's CA, not a bundle from the environment
        opened.verify = str(emulator.ca_file)
        opened.headers["Authorization"] = "Bearer replay"
        yield opened


class Replay:
    """One recording sent again: its groups renamed, its subscription replaced by the emulator's."""

    def __init__(
        self, emulator: Emulator, session: requests.Session, items: list[Recorded], *, denied: bool = False
    ) -> None:
        self.emulator = emulator
        self.session = session
        # The identities given the build roles; none when the recording shows the service refusing them.
        self.granted: set[str] = set()
        self.denied = denied
        self.renames: dict[str, str] = {}
        for item in items:
            match = re.search(r"/resourceGroups/([^/]+)/", item.request["path"], re.IGNORECASE)
            if match and match.group(1) not in self.renames:
                self.renames[match.group(1)] = f"{match.group(1)}-{uuid.uuid4().hex[:6]}"
        for group in self.renames.values():
            emulator.server.surface.resource_groups.create(
                f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}", "westus2"
            )

    def rewrite(self, value: Any) -> Any:
        """`value` (a path or a body) with the recording's subscription and group names replaced."""
        text = json.dumps(value)
        text = re.sub(r"/subscriptions/[0-9a-fA-F-]{36}/", f"/subscriptions/{SUBSCRIPTION}/", text)
        for old, new in self.renames.items():
            text = re.sub(rf"/resourceGroups/{re.escape(old)}/", f"/resourceGroups/{new}/", text, flags=re.I)
        return json.loads(text)

    def send(self, method: str, path: str, api_version: str, body: Any = None) -> requests.Response:
        return self.session.request(
            method, self.emulator.endpoint + path, params={"api-version": api_version}, json=body
        )

    def ensure_existing(self, items: list[Recorded]) -> None:
        """Templates the recording reads, patches or cancels without having created them, made from the
        body the recording read back (the service drops what it owns); a build running if it was."""
        created = set()
        for item in items:
            path = item.request["path"].lower()
            if item.kind != "imageTemplate" or path.count("/") != 8:
                continue
            if item.method == "PUT":
                created.add(path)
            body = item.response.get("body")
            if path in created or not isinstance(body, dict) or "properties" not in body:
                continue
            created.add(path)
            wanted = self.rewrite({k: v for k, v in body.items() if k not in ("id", "name", "type")})
            self.ensure_references(wanted)
            target = self.rewrite(item.request["path"])
            answer = self.send("PUT", target, item.api_version, wanted)
            assert answer.status_code == 201, answer.text
            self.until_ended(answer.headers["Azure-AsyncOperation"])
            if (body["properties"].get("lastRunStatus") or {}).get("runState") == "Running":
                self.emulator.server.service.plant_build_fault(target, "Customizing", hang=True)
                assert self.send("POST", f"{target}/run", item.api_version).status_code == 202

    def until_ended(self, operation_url: str) -> str:
        """The status an operation ends with, polled as a client polls it."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status = str(self.session.get(operation_url).json()["status"])
            if status != "InProgress":
                return status
            time.sleep(POLLING_INTERVAL)
        raise AssertionError(f"{operation_url} did not end")

    def ensure_references(self, body: dict[str, Any]) -> None:
        """The identities and gallery image definitions a template uses, made if the recording did not."""
        identities = (body.get("identity") or {}).get("userAssignedIdentities") or {}
        for identity in identities:
            if self.send("GET", identity, "2023-01-31").status_code == 404:
                assert self.send("PUT", identity, "2023-01-31", {"location": "westus2"}).status_code == 201
            if identity.lower() not in self.granted and not self.denied:
                # The recorded tests gave the identity its roles (az role assignment create, or beforehand).
                self.granted.add(identity.lower())
                grant_build_roles(self.send, identity, identity.split("/providers/", 1)[0])
        for target in (body.get("properties") or {}).get("distribute") or []:
            image = target.get("galleryImageId") if isinstance(target, dict) else None
            if not image or self.send("GET", image, "2024-03-03").status_code != 404:
                continue
            gallery = image.rsplit("/images/", 1)[0]
            if self.send("GET", gallery, "2024-03-03").status_code == 404:
                assert self.send("PUT", gallery, "2024-03-03", {"location": "westus2"}).status_code == 201
            definition = {
                "location": "westus2",
                "properties": {
                    "osType": "Linux",
                    "osState": "Generalized",
                    "identifier": {"publisher": "p", "offer": "o", "sku": image.rsplit("/", 1)[1]},
                },
            }
            assert self.send("PUT", image, "2024-03-03", definition).status_code == 201


def shape(headers: Any) -> dict[str, Any]:
    """What is compared of an answer's headers: which polling headers, and the operation URL's form."""
    names = {name.lower() for name in headers} & POLLING_HEADERS
    found: dict[str, Any] = {"headers": sorted(names)}
    operation = next((v for k, v in headers.items() if k.lower() == "azure-asyncoperation"), None)
    if operation is not None:
        match = _OPERATION.search(urlsplit(operation).path)
        assert match is not None, operation
        found["operation"] = (match.group(1).lower(), match.group(2).lower(), match.group(3).lower())
    return found


@pytest.mark.parametrize("file", sorted(REPLAYED), ids=str)
def test_a_recording_replayed_answers_as_recorded(
    file: str, emulator: Emulator, session: requests.Session
) -> None:
    items = REPLAYED[file]
    replay = Replay(emulator, session, items, denied=file in DENIED)
    replay.ensure_existing(items)
    mismatches = []
    operation: str | None = None  # the last operation the emulator answered with
    for item in items:
        if _STATUS_PATH.search(item.request["path"]):
            recorded = (item.response.get("body") or {}).get("status")
            if recorded in TERMINAL and operation is not None and item.where not in KNOWN_DIFFERENCES:
                ended = replay.until_ended(operation)
                if ended != recorded:
                    mismatches.append(f"{item.where} operation: recorded {recorded}, got {ended}")
            continue
        path = replay.rewrite(item.request["path"])
        body = replay.rewrite(item.request["body"]) if item.request["body"] is not None else None
        if item.method == "PUT" and item.kind == "imageTemplate":
            replay.ensure_references(body)
        if item.method == "POST" and path.lower().endswith("/run") and _canceled_later(item, items):
            # The recording canceled this build while it ran: keep it running until the cancel arrives.
            emulator.server.service.plant_build_fault(path.rsplit("/", 1)[0], "Customizing", hang=True)
        answer = replay.send(item.method, path, item.api_version, body)
        if "Azure-AsyncOperation" in answer.headers:
            operation = answer.headers["Azure-AsyncOperation"]
        got = {"status": answer.status_code, **shape(answer.headers)}
        want = {"status": item.status, **shape(item.response["headers"])}
        state = (item.response.get("body") or {}).get("properties", {}) if item.method == "PUT" else {}
        if isinstance(state, dict) and "provisioningState" in state and answer.content:
            got["provisioningState"] = answer.json()["properties"].get("provisioningState")
            want["provisioningState"] = state["provisioningState"]
        if got != want:
            mismatches.append(
                f"{item.where} {item.method} {item.request['path']}: recorded {want}, got {got}"
            )
    assert not mismatches, "\n".join(mismatches)


def _canceled_later(run: Recorded, items: list[Recorded]) -> bool:
    template = run.request["path"].rsplit("/", 1)[0].lower()
    return any(
        later.index > run.index and later.request["path"].lower() == f"{template}/cancel" for later in items
    )


def test_every_recorded_create_of_a_served_kind_is_replayed() -> None:
    creates = [item for items in REPLAYED.values() for item in items if item.method == "PUT"]
    kinds = {item.kind for item in creates}
    assert kinds == {"imageTemplate", "gallery", "imageDefinition", "userAssignedIdentity"}
    assert len(creates) >= 20
