"""The writes of a big apply on the local cloud, served by a process of their own, answer as the service in
process does; the process never outlives the apply, and its death costs no write that was answered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from providers.base import ResourceRef
from providers.simulated.local import LocalProvider
from providers.simulated.service import ServiceError, SimulatedAzure
from providers.simulated.service_process import ServiceProcess
from tests.helpers.arm import minimal_template

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")

RG = "/subscriptions/s/resourceGroups/rg/providers"
IDENTITY = ResourceRef(
    f"{RG}/Microsoft.ManagedIdentity/userAssignedIdentities/builder",
    "Microsoft.ManagedIdentity/userAssignedIdentities",
    "2023-01-31",
)
GALLERY = ResourceRef(f"{RG}/Microsoft.Compute/galleries/gal", "Microsoft.Compute/galleries", "2024-03-03")


def definition(name: str) -> ResourceRef:
    return ResourceRef(f"{GALLERY.arm_id}/images/{name}", "Microsoft.Compute/galleries/images", "2024-03-03")


def template(name: str) -> ResourceRef:
    return ResourceRef(
        f"{RG}/Microsoft.VirtualMachineImages/imageTemplates/{name}",
        "Microsoft.VirtualMachineImages/imageTemplates",
        "2022-07-01",
    )


def definition_body(location: str = "West US 2") -> dict[str, Any]:
    return {
        "location": location,
        "tags": {"team": "images", "note": 'ünïcödé ✓ 😀 \\ "quoted"'},
        "properties": {
            "osType": "Linux",
            "osState": "Generalized",
            "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
        },
    }


def template_body(image: str) -> dict[str, Any]:
    """The contract tests' smallest template, with text JSON must escape and two regions."""
    body = minimal_template(IDENTITY.arm_id, definition(image).arm_id)
    body["properties"]["customize"][0]["inline"] = ["echo 'quoted \"twice\"' \\\\ done"]
    body["properties"]["distribute"][0]["replicationRegions"] = ["westus2", "eastus"]
    return body


# Writes in the order an apply and a destroy would make them, with the refusals the service answers on the
# way: each is (operation, resource, body).
SCRIPT: list[tuple[str, ResourceRef, Any]] = [
    ("put", definition("linux"), definition_body()),  # 404: no gallery yet
    ("put", IDENTITY, {"location": "westus2"}),
    ("put", GALLERY, {"location": "westus2", "properties": {"description": "golden"}}),
    ("put", definition("linux"), definition_body()),
    ("put", definition("bad"), definition_body(location="")),  # 400: a location is required
    ("put", template("t1"), template_body("missing")),  # 400: the image definition does not exist
    ("put", template("t1"), template_body("linux")),
    ("put", template("t1"), template_body("linux")),  # 409: an image template is never PUT again
    ("patch", template("t1"), {"tags": {"owner": "platform"}}),
    ("patch", GALLERY, {"tags": {"cost": "shared"}}),
    ("delete", GALLERY, None),  # 409: it still holds an image definition
    ("delete", template("t1"), None),
    ("delete", template("t1"), None),  # 204: nothing left to delete
    ("delete", definition("linux"), None),
    ("delete", GALLERY, None),
]


def served_in_process(service: SimulatedAzure, operation: str, ref: ResourceRef, body: Any) -> Any:
    if operation == "put":
        return service.put(ref.arm_id, ref.api_version, body)[1]
    if operation == "patch":
        return service.patch(ref.arm_id, ref.api_version, body)
    return service.delete(ref.arm_id, ref.api_version)


def outcome(call: Callable[[], Any]) -> Any:
    try:
        return ("answer", call())
    except ServiceError as exc:
        return ("refused", exc.status, exc.code, exc.message, exc.target, exc.retry_after, exc.accepted)


def wait_until(test: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.01)


def children(pid: int | None = None) -> list[int]:
    """The processes whose parent is `pid` (this one by default) and that serve a local cloud."""
    pid = os.getpid() if pid is None else pid
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"service_process" in command:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def process(tmp_path: Path) -> Iterator[ServiceProcess]:
    served = ServiceProcess(tmp_path / "apart.db", build_minute=None, principal_delay=0.0)
    wait_until(lambda: served.serving, "the service process")
    yield served
    served.close()


def test_every_write_and_refusal_is_answered_as_the_service_in_process_answers_it(
    tmp_path: Path, process: ServiceProcess
) -> None:
    service = SimulatedAzure(tmp_path / "in-process.db")
    try:
        for operation, ref, body in SCRIPT:
            apart = outcome(lambda o=operation, r=ref, b=body: process.call(o, r.arm_id, r.api_version, b))
            here = outcome(lambda o=operation, r=ref, b=body: served_in_process(service, o, r, b))
            assert apart == here, (operation, ref.arm_id)
        # What the process stored is what the service in process stored: the next command reads it there.
        stored = SimulatedAzure(tmp_path / "apart.db")
        try:
            assert stored.list_resource_group("s", "rg") == service.list_resource_group("s", "rg")
            assert [r["name"] for r in stored.list_resource_group("s", "rg")] == ["builder"]
        finally:
            stored.close()
    finally:
        service.close()


def test_the_script_meets_every_kind_of_refusal(tmp_path: Path) -> None:
    service = SimulatedAzure(tmp_path / "c.db")
    try:
        codes = [outcome(lambda o=o, r=r, b=b: served_in_process(service, o, r, b)) for o, r, b in SCRIPT]
    finally:
        service.close()
    refused = [(c[1], c[2]) for c in codes if c[0] == "refused"]
    assert refused == [
        (404, "ParentResourceNotFound"),
        (400, "LocationRequired"),
        (400, "InvalidParameter"),
        (409, "Conflict"),
        (409, "CannotDeleteResource"),
    ], refused
    assert ("answer", 204) in codes


def test_calls_from_many_threads_each_get_their_own_answer(process: ServiceProcess) -> None:
    import threading

    process.call("put", IDENTITY.arm_id, IDENTITY.api_version, {"location": "westus2"})
    process.call("put", GALLERY.arm_id, GALLERY.api_version, {"location": "westus2"})
    answers: dict[str, Any] = {}

    def make(names: list[str]) -> None:
        for name in names:
            ref = definition(name)
            answers[name] = process.call("put", ref.arm_id, ref.api_version, definition_body())

    names = [f"d{i:03d}" for i in range(120)]
    threads = [threading.Thread(target=make, args=(names[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == names
    assert all(answer["name"] == name for name, answer in answers.items())


def test_a_big_apply_moves_its_writes_to_the_process_and_closing_leaves_no_process(tmp_path: Path) -> None:
    provider = LocalProvider(tmp_path / ".aibplan", writes_in_process=3)
    try:
        provider.create(IDENTITY, {"location": "westus2"})
        provider.create(GALLERY, {"location": "westus2"})
        assert children() == []  # a small apply never starts it
        for name in ("a", "b", "c"):
            provider.create(definition(name), definition_body())
        (child,) = children()
        wait_until(lambda: provider._writer() is not None, "the service process")
        for index in range(30):
            provider.create(template(f"t{index:02d}"), template_body("abc"[index % 3]))
        provider.update(template("t00"), {"tags": {"owner": "platform"}})
        provider.delete(template("t01"))
        # Read in process, from the database the process wrote.
        assert provider.read(template("t00"))["tags"] == {"owner": "platform"}  # type: ignore[index]
        assert provider.read(template("t01")) is None
        found = provider.read_many([template(f"t{i:02d}") for i in range(30)])
        assert sum(body is not None for body in found.values()) == 29
    finally:
        provider.close()
    assert children() == [] and not alive(child)


@pytest.mark.parametrize(
    "settings",
    [{"latency": 0.01}, {"fault_hook": lambda operation, arm_id: None}, {"clock": lambda: 1.0e9}],
    ids=["latency", "faults", "clock"],
)
def test_simulated_latency_faults_or_a_clock_of_its_own_keep_every_write_in_process(
    tmp_path: Path, settings: dict[str, Any]
) -> None:
    provider = LocalProvider(tmp_path / ".aibplan", writes_in_process=0, **settings)
    try:
        provider.create(IDENTITY, {"location": "westus2"})
        provider.create(GALLERY, {"location": "westus2"})
        assert children() == []
    finally:
        provider.close()


def test_a_dead_process_fails_the_calls_it_owed_as_a_reset_connection_and_writes_go_on_in_process(
    tmp_path: Path,
) -> None:
    provider = LocalProvider(tmp_path / ".aibplan", writes_in_process=0)
    try:
        provider.create(IDENTITY, {"location": "westus2"})
        (child,) = children()
        wait_until(lambda: provider._writer() is not None, "the service process")
        process = provider._writer()
        assert process is not None
        os.kill(child, signal.SIGKILL)
        wait_until(lambda: not process.serving, "the service process to be seen gone")
        with pytest.raises(ConnectionResetError, match="process is gone"):
            process.call("put", GALLERY.arm_id, GALLERY.api_version, {"location": "westus2"})
        provider.create(GALLERY, {"location": "westus2"})  # in process now
        assert provider.read(GALLERY) is not None
    finally:
        provider.close()
    assert children() == []


_PARENT = """
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from providers.simulated.service_process import ServiceProcess
from tests.helpers.arm import minimal_template
served = ServiceProcess(Path(sys.argv[2]), build_minute=None, principal_delay=0.0)
while not served.serving:
    time.sleep(0.01)
print("serving", flush=True)
time.sleep(600)
"""


def test_the_process_ignores_group_signals_and_leaves_when_the_apply_is_killed(tmp_path: Path) -> None:
    root = str(Path(__file__).resolve().parents[2])
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, root, str(tmp_path / "c.db")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "serving"
        (child,) = children(parent.pid)
        # Ctrl-C, a closed terminal, a cancelled job: signalled to the whole group, the apply decides.
        for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
            os.kill(child, signum)
        time.sleep(0.2)
        assert alive(child)
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()  # type: ignore[union-attr]
    wait_until(lambda: not alive(child), "the service process to leave after its parent", timeout=15)


def test_a_call_in_flight_when_the_process_dies_is_in_doubt(process: ServiceProcess) -> None:
    import threading

    (child,) = children()
    os.kill(child, signal.SIGSTOP)  # the request reaches the pipe; nobody serves it yet
    raised: list[BaseException] = []

    def put() -> None:
        try:
            process.call("put", GALLERY.arm_id, GALLERY.api_version, {"location": "westus2"})
        except BaseException as exc:
            raised.append(exc)

    caller = threading.Thread(target=put)
    caller.start()
    time.sleep(0.2)
    assert caller.is_alive()  # waiting for its answer
    os.kill(child, signal.SIGKILL)
    caller.join(timeout=30)
    assert not caller.is_alive()
    (error,) = raised
    assert isinstance(error, ConnectionResetError)
    assert "ended before answering the put of 'gal'" in str(error) and "may have been carried out" in str(
        error
    )
