"""The emulator's REST surface driven without sockets (tests/azure): a clock the test moves, requests as
data, and the ids the surface tests use."""

from __future__ import annotations

import json
from typing import Any

from providers.emulator.arm_surface import ArmSurface, Request, Response

SUB = "/subscriptions/s1"
GROUP = f"{SUB}/resourceGroups/rg"
TEMPLATE = f"{GROUP}/providers/Microsoft.VirtualMachineImages/imageTemplates/t1"
IDENTITY = f"{GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/builder"
GALLERY = f"{GROUP}/providers/Microsoft.Compute/galleries/gal"
DEFINITION = f"{GALLERY}/images/def"
AUTH = {"authorization": "Bearer x", "host": "127.0.0.1:1"}
SURFACE_OPERATION_SECONDS = 10.0  # how long an operation takes on the surface tests' clock


class Clock:
    """The service's clock, moved by the test: operations end when their time is up, not by polling."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SteppingClock(Clock):
    """A clock that moves `step` seconds each time it is read: time a test controls that still passes
    while a command waits on it (a CLI polling a build), however busy the machine."""

    def __init__(self, step: float) -> None:
        super().__init__()
        self.step = step

    def __call__(self) -> float:
        now = self.now
        self.now += self.step
        return now


def call(
    surface: ArmSurface,
    method: str,
    path: str,
    api: str | None,
    body: Any = None,
    query: dict[str, str] | None = None,
    **headers: str,
) -> Response:
    """One request to the surface, as a client with a token sends it (headers override AUTH)."""
    params = {"api-version": api} if api else {}
    raw = json.dumps(body).encode() if body is not None else b""
    return surface.handle(Request(method, path, {**params, **(query or {})}, {**AUTH, **headers}, raw))


def path_of(url: str) -> str:
    """The path of a URL the surface answered with (its host is AUTH's)."""
    return url.split("127.0.0.1:1", 1)[1].split("?", 1)[0]


def template_body(source: bool = True) -> dict[str, Any]:
    properties: dict[str, Any] = {"distribute": []}
    if source:
        properties["source"] = {"type": "PlatformImage"}
    return {
        "location": "westus2",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}},
        "properties": properties,
    }


DEFINITION_BODY = {
    "location": "westus2",
    "properties": {
        "osType": "Linux",
        "osState": "Generalized",
        "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
    },
}


def minimal_template(identity_id: str, definition_id: str, run_output: str = "sig") -> dict[str, Any]:
    """The smallest image template body the service takes: a platform source, one Shell step, one
    gallery target (what the contract tests send through SDKs, the swagger and the service itself)."""
    return {
        "location": "westus2",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}},
        "properties": {
            "source": {
                "type": "PlatformImage",
                "publisher": "Canonical",
                "offer": "0001-com-ubuntu-server-jammy",
                "sku": "22_04-lts-gen2",
                "version": "latest",
            },
            "customize": [{"type": "Shell", "name": "tools", "inline": ["echo hi"]}],
            "distribute": [
                {
                    "type": "SharedImage",
                    "galleryImageId": definition_id,
                    "runOutputName": run_output,
                    "replicationRegions": ["westus2"],
                }
            ],
        },
    }
