"""Each service error the Azure provider maps reaches the CLI as one clear line naming the resource.

The errors come over TLS from the ARM emulator: some because the service refuses (a missing resource
group), the others injected as Azure sends them. A second PUT of an image template is never sent: the plan
and the apply read before they create (planning.identities)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from providers.emulator.faults import Fault, server_error, throttling
from tests.helpers import SUBSCRIPTION, Emulator, Run

PUT = frozenset({"PUT"})


def error_line(run: Run) -> str:
    """The one `Error:` line the command printed (and no traceback)."""
    assert run.exit_code == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, run.stderr
    return lines[0]


def group_of(root: Path) -> str:
    return str(json.loads((root / "aibplan.json").read_text())["resourceGroup"])


def on(root: Path, kind_path: str) -> str:
    """A piece of path that matches one resource of the stack's group."""
    return f"/resourcegroups/{group_of(root)}/providers/{kind_path}"


def test_a_template_the_state_forgot_is_not_put_again(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run]
) -> None:
    root = azure_quickstart()
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    state_path = root / "aibplan.state.json"
    state = json.loads(state_path.read_text())
    state["resources"] = [r for r in state["resources"] if r["address"] != "imageTemplate.ubuntu2204"]
    state_path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")

    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 1 and "AIB8003 imageTemplate.ubuntu2204 already exists in Azure" in run.stderr
    assert "run `aibplan import imageTemplate.ubuntu2204` (or `aibplan import --all`" in run.stderr
    # Without a refresh the plan does not read the cloud; the apply reads before the PUT and refuses.
    line = error_line(cli("apply", "--auto-approve", "--no-refresh", str(root)))
    assert line.startswith("Error: imageTemplate.ubuntu2204: create failed: AlreadyExists: /subscriptions/")
    assert "nothing was changed. To manage it, run `aibplan import imageTemplate.ubuntu2204` (or" in line


def test_missing_subscription_registration_says_how_to_register(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run], faults: Callable[[Fault], Fault]
) -> None:
    root = azure_quickstart()
    faults(
        Fault(
            409,
            "MissingSubscriptionRegistration",
            "The subscription is not registered to use namespace 'Microsoft.VirtualMachineImages'. "
            "See https://aka.ms/rps-not-found for how to register subscriptions.",
            methods=PUT,
            path_contains=on(root, "Microsoft.VirtualMachineImages"),
        )
    )
    line = error_line(cli("apply", "--auto-approve", str(root)))
    assert line.startswith(
        "Error: imageTemplate.ubuntu2204: create failed: MissingSubscriptionRegistration: "
    )
    assert "az provider register --namespace Microsoft.VirtualMachineImages" in line


def test_authorization_failed_names_the_identity_and_the_action(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run], faults: Callable[[Fault], Fault]
) -> None:
    root = azure_quickstart()
    scope = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group_of(root)}"
    faults(
        Fault(
            403,
            "AuthorizationFailed",
            "The client 'ci@contoso.com' with object id '0c1e2f3a-0000-4000-8000-00000000abcd' does not "
            "have authorization to perform action 'Microsoft.Compute/galleries/write' over scope "
            f"'{scope}/providers/Microsoft.Compute/galleries/corpImages' or the scope is invalid. If access "
            "was recently granted, please refresh your credentials.",
            methods=PUT,
            path_contains=on(root, "Microsoft.Compute/galleries/corpImages"),
        )
    )
    line = error_line(cli("apply", "--auto-approve", str(root)))
    assert line.startswith("Error: gallery.corpImages: create failed: AuthorizationFailed: ")
    assert "ci@contoso.com (object id 0c1e2f3a-0000-4000-8000-00000000abcd)" in line
    assert "signed in with the emulator's token" in line
    assert "Microsoft.Compute/galleries/write" in line


def test_authorization_failed_while_reading_names_the_resource(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run], faults: Callable[[Fault], Fault]
) -> None:
    root = azure_quickstart()
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    faults(
        Fault(
            403,
            "AuthorizationFailed",
            "The client 'reader@contoso.com' with object id 'reader@contoso.com' does not have authorization "
            "to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/read' over scope "
            "'/subscriptions/x' or the scope is invalid.",
            methods=frozenset({"GET"}),
            path_contains=on(root, "Microsoft.ManagedIdentity"),
        )
    )
    line = error_line(cli("plan", str(root)))
    assert line.startswith("Error: reading the cloud failed: identity.aibBuilder: AuthorizationFailed: ")
    assert "Microsoft.ManagedIdentity/userAssignedIdentities/read" in line


def test_resource_group_not_found_says_to_create_it(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run]
) -> None:
    root = azure_quickstart(create_group=False)
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 1 and "Traceback" not in run.stderr
    group = group_of(root)
    lines = sorted(line for line in run.stderr.splitlines() if line.startswith("Error:"))
    # The three resources that need nothing else are tried, and each fails on its own line.
    assert [line.split(": create failed: ")[0].split(".")[0] for line in lines] == [
        "Error: gallery",
        "Error: identity",
        "Error: roleDefinition",
    ]
    for line in lines:
        assert ": create failed: ResourceGroupNotFound: " in line
        assert f"Resource group '{group}' could not be found." in line
        assert f"az group create --name {group}" in line


@pytest.mark.parametrize("code", ["InvalidTemplate", "BadRequest"])
def test_bad_request_shows_message_target_and_details(
    code: str,
    azure_quickstart: Callable[..., Path],
    cli: Callable[..., Run],
    faults: Callable[[Fault], Fault],
    emulator: Emulator,
) -> None:
    root = azure_quickstart()
    faults(
        Fault(
            400,
            code,
            "The template is not valid: customizer 'installTools' has no script.",
            methods=PUT,
            path_contains=on(root, "Microsoft.VirtualMachineImages"),
            target="properties.customize[1]",
        )
    )
    line = error_line(cli("apply", "--auto-approve", str(root)))
    assert line.startswith(f"Error: imageTemplate.ubuntu2204: create failed: {code}: ")
    assert "customizer 'installTools' has no script. (target: properties.customize[1])" in line


def test_throttling_that_does_not_end_is_reported_with_retry_after(
    azure_quickstart: Callable[..., Path],
    cli: Callable[..., Run],
    faults: Callable[[Fault], Fault],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIBPLAN_RETRY_MAX_ATTEMPTS", "2")
    root = azure_quickstart()
    faults(
        throttling(1.0, retry_after=0.05, methods=PUT, path_contains=on(root, "Microsoft.Compute/galleries/"))
    )
    line = error_line(cli("apply", "--auto-approve", str(root)))
    assert line.startswith("Error: gallery.corpImages: create failed: TooManyRequests: ")
    assert "(the service asked to retry after 0.05s)" in line


def test_server_errors_that_do_not_end_are_reported(
    azure_quickstart: Callable[..., Path],
    cli: Callable[..., Run],
    faults: Callable[[Fault], Fault],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIBPLAN_RETRY_MAX_ATTEMPTS", "2")
    root = azure_quickstart()
    faults(server_error(1.0, 503, methods=PUT, path_contains=on(root, "Microsoft.ManagedIdentity")))
    line = error_line(cli("apply", "--auto-approve", str(root)))
    assert line.startswith("Error: identity.aibBuilder: create failed: ServiceUnavailable: ")
    assert "internal error; please retry" in line
