"""The Azure provider's settings and sign-in: wrong values are one clear line, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from providers.azure.settings import CLOUDS, SettingsError, load_settings
from tests.helpers import Emulator, Run, state_entries


def settings(config: dict[str, object], env: dict[str, str] | None = None, base: Path = Path("/")) -> object:
    return load_settings("sub", config, env or {}, base_dir=base)


def test_defaults_are_the_public_cloud_and_default_credential() -> None:
    loaded = load_settings("sub", {}, {}, base_dir=Path("."))
    assert loaded.base_url == "https://management.azure.com"
    assert loaded.credential_scope == "https://management.azure.com/.default"
    assert loaded.credential == "default" and loaded.polling_interval == 5.0


def test_sovereign_clouds_and_own_endpoints(tmp_path: Path) -> None:
    china = load_settings("sub", {"cloud": "AzureChinaCloud"}, {}, base_dir=tmp_path)
    assert (china.base_url, china.credential_scope, china.authority_host) == CLOUDS["azurechinacloud"]
    (tmp_path / "ca.pem").write_text("-")
    own = load_settings(
        "sub", {"baseUrl": "https://arm.example.test/", "caBundle": "ca.pem"}, {}, base_dir=tmp_path
    )
    assert own.base_url == "https://arm.example.test" and own.ca_bundle == tmp_path / "ca.pem"
    assert own.credential_scope == "https://arm.example.test/.default"
    env = load_settings(
        "sub", {"credential": "cli"}, {"AIBPLAN_AZURE_CREDENTIAL": "managedIdentity"}, base_dir=tmp_path
    )
    assert env.credential == "managedIdentity"


@pytest.mark.parametrize(
    ("config", "env", "message"),
    [
        ({"credentials": "cli"}, {}, "azure.credentials is not a setting"),
        ({"credential": "password"}, {}, "azure.credential must be one of default, cli, environment"),
        ({"cloud": "AzureGermanCloud"}, {}, "is not a cloud aibplan knows"),
        ({"baseUrl": "http://localhost:8080"}, {}, "azure.baseUrl must be an https:// URL"),
        ({"caBundle": "missing.pem"}, {}, "azure.caBundle: no such file"),
        ({"credential": "emulator"}, {}, "only signs in to an emulator on this machine"),
        ({}, {"AIBPLAN_AZURE_POLLING_INTERVAL": "soon"}, "pollingIntervalSeconds must be a number"),
        ({"maxRetries": -1}, {}, "azure.maxRetries must be a whole number"),
    ],
)
def test_wrong_settings_are_named(
    config: dict[str, object], env: dict[str, str], message: str, tmp_path: Path
) -> None:
    with pytest.raises(SettingsError, match=message.replace(".", r"\.")):
        load_settings("sub", config, env, base_dir=tmp_path)


def test_a_wrong_setting_stops_the_cli_with_one_line(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = azure_quickstart()
    monkeypatch.setenv("AIBPLAN_AZURE_CREDENTIAL", "password")
    run = cli("plan", str(root))
    assert run.exit_code == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip() == (
        "Error: azure.credential must be one of default, cli, environment, managedIdentity, emulator, "
        "not 'password'"
    )


def test_a_credential_that_cannot_sign_in_is_one_line(
    azure_quickstart: Callable[..., Path],
    cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
    azure_env: Emulator,
) -> None:
    root = azure_quickstart()
    for name in (
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIBPLAN_AZURE_CREDENTIAL", "environment")
    run = cli("apply", "--auto-approve", "--parallelism", "1", str(root))
    assert run.exit_code == 1 and "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
    # The plan reads the cloud before it proposes a create, so the sign-in fails there, once.
    assert lines and all("CredentialUnavailable: could not sign in to Azure with" in x for x in lines)
    assert "AZURE_CLIENT_ID" in lines[0] and "docs/azure.md" in lines[0]


def test_the_state_written_through_azure_names_real_ids(
    azure_quickstart: Callable[..., Path], cli: Callable[..., Run]
) -> None:
    root = azure_quickstart()
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    identity = state_entries(root / "aibplan.state.json")["identity.aibBuilder"]
    assert identity["observed"]["properties"]["principalId"]
    # As the service spells it (`/resourcegroups/`).
    assert identity["id"].startswith("/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg-")
