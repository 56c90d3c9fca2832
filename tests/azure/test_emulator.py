"""The ARM emulator's REST surface as a client other than the SDK sees it, and `aibplan emulator`."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from providers.emulator.arm_surface import ArmSurface, Request
from providers.emulator.faults import server_error, throttling
from providers.simulated.service import TENANT_ID
from tests.helpers import EXAMPLES, Run
from tests.helpers.arm import (
    GALLERY,
    IDENTITY,
    SURFACE_OPERATION_SECONDS,
    TEMPLATE,
    Clock,
    call,
    path_of,
    template_body,
)


def test_a_put_is_a_long_running_operation_that_ends_with_time_not_with_polls(
    surface: ArmSurface, clock: Clock
) -> None:
    answer = call(surface, "PUT", GALLERY, "2024-03-03", {"location": "westus2"})
    assert answer.status == 201
    assert answer.body["properties"]["provisioningState"] == "Creating"
    # Recorded: a PUT answers Azure-AsyncOperation only, at Compute's capsOperations URL.
    assert set(answer.headers) == {"Azure-AsyncOperation"}
    status_url = answer.headers["Azure-AsyncOperation"]
    assert status_url.startswith(
        "https://127.0.0.1:1/subscriptions/s1/providers/Microsoft.Compute/locations/westus2/capsOperations/"
    )
    path = path_of(status_url)
    states = [call(surface, "GET", path, "2024-03-03").body["status"] for _ in range(5)]
    assert states == ["InProgress"] * 5
    assert call(surface, "GET", GALLERY, "2024-03-03").body["properties"]["provisioningState"] == "Creating"
    clock.advance(SURFACE_OPERATION_SECONDS)
    # Nobody polled the operation: a client watching provisioningState sees it finish all the same.
    assert call(surface, "GET", GALLERY, "2024-03-03").body["properties"]["provisioningState"] == "Succeeded"
    ended = call(surface, "GET", path, "2024-03-03").body
    assert ended["status"] == "Succeeded" and ended["endTime"] >= ended["startTime"]


def test_identities_are_created_synchronously(surface: ArmSurface) -> None:
    answer = call(surface, "PUT", IDENTITY, "2023-01-31", {"location": "westus2"})
    assert answer.status == 201 and "Azure-AsyncOperation" not in answer.headers
    assert answer.body["properties"]["principalId"]


def test_errors_are_nested_from_2021_10_01_and_flat_before(surface: ArmSurface) -> None:
    call(surface, "PUT", IDENTITY, "2023-01-31", {"location": "westus2"})
    for api, nested in (("2020-02-14", False), ("2021-10-01", True), ("2024-02-01", True)):
        name = TEMPLATE + api.replace("-", "")
        assert call(surface, "PUT", name, api, template_body()).status == 201
        again = call(surface, "PUT", name, api, template_body())
        assert again.status == 409
        error = again.body["error"] if nested else again.body
        assert set(again.body) == ({"error"} if nested else {"code", "message"})
        assert error["code"] == "Conflict"
        assert "Update/Upgrade of image templates is currently not supported" in error["message"]


def test_unknown_ids_missing_api_version_and_missing_token(surface: ArmSurface) -> None:
    missing = call(surface, "GET", GALLERY, "2024-03-03")
    assert missing.status == 404 and missing.body["error"]["code"] == "ResourceNotFound"
    no_version = call(surface, "GET", GALLERY, None)
    assert no_version.status == 400 and no_version.body["error"]["code"] == "MissingApiVersionParameter"
    no_token = surface.handle(Request("GET", GALLERY, {"api-version": "2024-03-03"}, {}, b""))
    assert no_token.status == 401 and no_token.body["error"]["code"] == "AuthenticationFailed"
    other_group = call(surface, "PUT", GALLERY.replace("/rg/", "/nowhere/"), "2024-03-03", {"location": "x"})
    assert other_group.status == 404 and other_group.body["error"]["code"] == "ResourceGroupNotFound"


def test_injected_throttling_and_server_errors(surface: ArmSurface) -> None:
    surface.faults.add(throttling(1.0, retry_after=2, times=1))
    surface.faults.add(server_error(1.0, 503, times=1))
    throttled = call(surface, "GET", GALLERY, "2024-03-03")
    assert throttled.status == 429 and throttled.headers["Retry-After"] == "2"
    assert throttled.body["error"]["code"] == "TooManyRequests"
    failed = call(surface, "GET", GALLERY, "2024-03-03")
    assert failed.status == 503 and failed.body["error"]["code"] == "ServiceUnavailable"
    assert call(surface, "GET", GALLERY, "2024-03-03").status == 404
    assert surface.faults.injected == {429: 1, 503: 1}


def test_run_outputs_and_actions_are_routed_to_the_service(surface: ArmSurface) -> None:
    call(surface, "PUT", IDENTITY, "2023-01-31", {"location": "westus2"})
    call(surface, "PUT", TEMPLATE, "2024-02-01", template_body())
    outputs = call(surface, "GET", f"{TEMPLATE}/runOutputs", "2024-02-01")
    assert outputs.status == 200 and outputs.body == {"value": []}
    missing = call(surface, "GET", f"{TEMPLATE}/runOutputs/sig", "2024-02-01")
    assert missing.status == 404
    not_there = call(surface, "POST", f"{TEMPLATE}x/run", "2024-02-01")
    assert not_there.status in (400, 404)


def test_delete_is_202_then_204_when_gone(surface: ArmSurface) -> None:
    call(surface, "PUT", GALLERY, "2024-03-03", {"location": "westus2"})
    assert call(surface, "DELETE", GALLERY, "2024-03-03").status == 202
    assert call(surface, "DELETE", GALLERY, "2024-03-03").status == 204


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`aibplan emulator --port 0 --json` as its own process, with its own certificates."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from planner.cli import run; run()",
            "emulator",
            "--port",
            "0",
            "--operation-retry-after",
            "0",
            "--operation-seconds",
            "0.05",
            "--json",
            "--state-dir",
            str(tmp_path / "emulator"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    try:
        assert line, process.stderr.read() if process.stderr else ""
        yield json.loads(line)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def test_emulator_command_serves_https_with_its_own_ca(emulator_process: dict[str, str]) -> None:
    assert emulator_process["format_version"] == "1"
    assert emulator_process["tenant_id"] == TENANT_ID  # the tenant `az login --service-principal` names
    assert emulator_process["endpoint"].startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=emulator_process["ca_file"])
    request = urllib.request.Request(
        emulator_process["endpoint"] + f"{GALLERY}?api-version=2024-03-03",
        headers={"Authorization": "Bearer t"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, context=context, timeout=10)
    assert caught.value.code == 404
    assert json.loads(caught.value.read())["error"]["code"] == "ResourceGroupNotFound"
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(request, context=ssl.create_default_context(), timeout=10)


def test_quickstart_by_hand_against_the_emulator_command(
    emulator_process: dict[str, str], tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/azure.md's steps: the emulator in one process, aibplan with three variables in another."""
    import shutil

    root = tmp_path / "quickstart"
    shutil.copytree(
        EXAMPLES / "quickstart", root, ignore=shutil.ignore_patterns(".aibplan", "aibplan.state.json*")
    )
    monkeypatch.setenv("AIBPLAN_AZURE_BASE_URL", emulator_process["endpoint"])
    monkeypatch.setenv("AIBPLAN_AZURE_CA_BUNDLE", emulator_process["ca_file"])
    monkeypatch.setenv("AIBPLAN_AZURE_CREDENTIAL", "emulator")
    monkeypatch.setenv("AIBPLAN_AZURE_POLLING_INTERVAL", "0.01")
    run = cli("apply", "--provider", "azure", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    endpoint = emulator_process["endpoint"]
    assert f"Provider: azure (subscription 00000000-0000-0000-0000-000000000000 at {endpoint}" in run.stdout
    run = cli("plan", "--provider", "azure", "--detailed-exitcode", str(root))
    assert run.exit_code == 0, run.stdout
    run = cli("destroy", "--provider", "azure", "--auto-approve", str(root))
    assert run.exit_code == 0 and "7 destroyed" in run.stdout
    assert os.path.exists(emulator_process["state_dir"])


def test_certificates_are_made_once_and_reused(tmp_path: Path) -> None:
    from providers.emulator.tls import ensure_certificates

    first = ensure_certificates(tmp_path / "tls")
    made = (first.ca_file.read_bytes(), first.server_file.read_bytes())
    again = ensure_certificates(tmp_path / "tls")
    assert (again.ca_file.read_bytes(), again.server_file.read_bytes()) == made
    assert oct(first.server_file.stat().st_mode & 0o777) == "0o600"  # it holds the private key
    first.ca_file.write_text("not a certificate")
    renewed = ensure_certificates(tmp_path / "tls")
    assert renewed.ca_file.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert renewed.server_file.read_bytes() != made[1]


def test_emulator_command_refuses_a_build_minute_that_is_not_a_number(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same setting, read the same way, as the local provider's: one clear line, nothing served.
    monkeypatch.setenv("AIBPLAN_LOCAL_BUILD_MINUTE_MS", "fast")
    run = cli("emulator", "--port", "0", "--state-dir", str(tmp_path / "emu"))
    assert run.exit_code == 1
    assert run.stderr.strip() == "Error: AIBPLAN_LOCAL_BUILD_MINUTE_MS must be a number of milliseconds"
    assert not (tmp_path / "emu").exists()
