"""aibplan.json's `backend` object and the AIBPLAN_BACKEND_* variables: what is read, what is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from state.backends import AzureBlobSettings, BackendError, LocalSettings, backend_settings, open_backend

BLOB = {
    "type": "azureblob",
    "accountUrl": "https://corpstate.blob.core.windows.net",
    "container": "aibplan-state",
    "key": "images/prod.state.json",
}
SAS = "sv=2024-08-04&ss=b&srt=co&sp=rwdlac&se=2030-01-01T00:00:00Z&sig=c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ%3D%3D"


def test_no_backend_object_is_the_local_backend() -> None:
    assert backend_settings(None, {}) == LocalSettings()
    assert backend_settings({"type": "local"}, {}) == LocalSettings()


def test_the_azureblob_object_with_defaults() -> None:
    settings = backend_settings(BLOB, {})
    assert settings == AzureBlobSettings(
        container="aibplan-state",
        key="images/prod.state.json",
        account_url="https://corpstate.blob.core.windows.net",
        lease_seconds=30,
        keep_snapshots=10,
    )
    assert isinstance(settings, AzureBlobSettings)
    assert settings.sign_in == "Entra ID (DefaultAzureCredential)"


def test_environment_variables_win_over_the_file() -> None:
    env = {
        "AIBPLAN_BACKEND_CONTAINER": "ci-state",
        "AIBPLAN_BACKEND_KEY": "dev.state.json",
        "AIBPLAN_BACKEND_ACCOUNT_URL": "https://other.blob.core.windows.net/",
        "AIBPLAN_BACKEND_LEASE_SECONDS": "60",
    }
    settings = backend_settings(BLOB, env)
    assert isinstance(settings, AzureBlobSettings)
    assert (settings.container, settings.key, settings.account_url, settings.lease_seconds) == (
        "ci-state",
        "dev.state.json",
        "https://other.blob.core.windows.net",
        60,
    )
    blob_by_env = backend_settings(None, {**env, "AIBPLAN_BACKEND_TYPE": "azureblob"})
    assert isinstance(blob_by_env, AzureBlobSettings) and blob_by_env.key == "dev.state.json"
    assert backend_settings(BLOB, {"AIBPLAN_BACKEND_TYPE": "local"}) == LocalSettings()


def test_secrets_come_from_the_environment_and_never_show() -> None:
    settings = backend_settings(BLOB, {"AIBPLAN_BACKEND_SAS_TOKEN": SAS})
    assert isinstance(settings, AzureBlobSettings)
    assert settings.sas_token == SAS
    assert "sig=" not in repr(settings) and "c2VjcmV0" not in repr(settings)
    assert settings.sign_in == "the SAS token in AIBPLAN_BACKEND_SAS_TOKEN"
    connection = "DefaultEndpointsProtocol=https;AccountName=corpstate;AccountKey=a2V5LXZhbHVl;"
    by_string = backend_settings(
        {**BLOB, "accountUrl": None}, {"AIBPLAN_BACKEND_CONNECTION_STRING": connection}
    )
    assert isinstance(by_string, AzureBlobSettings) and by_string.account_url is None
    assert "a2V5LXZhbHVl" not in repr(by_string)


@pytest.mark.parametrize(
    ("config", "env", "message"),
    [
        ({"type": "s3"}, {}, "backend.type must be one of local, azureblob, not 's3'"),
        ({"type": "local", "container": "x"}, {}, "backend.container is not a setting of the local backend"),
        ({**BLOB, "connectionString": "AccountKey=abc"}, {}, "backend.connectionString is a secret"),
        ({**BLOB, "sasToken": SAS}, {}, "set AIBPLAN_BACKEND_SAS_TOKEN in the environment instead"),
        ({**BLOB, "accountUrl": f"https://a.blob.core.windows.net/?{SAS}"}, {}, "must not hold a SAS token"),
        (
            {**BLOB, "accountUrl": "http://corpstate.blob.core.windows.net"},
            {},
            "http:// is only for an emulator",
        ),
        ({**BLOB, "accountUrl": None}, {}, "backend.accountUrl is required"),
        ({**BLOB, "container": None}, {}, "backend.container is required"),
        ({**BLOB, "container": "Aibplan_State"}, {}, "is not a container name"),
        ({**BLOB, "key": None}, {}, "backend.key is required"),
        ({**BLOB, "key": "state/"}, {}, "is not a blob name"),
        ({**BLOB, "leaseSeconds": 5}, {}, "backend.leaseSeconds must be a whole number from 15 to 60"),
        ({**BLOB, "leaseSeconds": -1}, {}, "from 15 to 60"),
        (BLOB, {"AIBPLAN_BACKEND_LEASE_SECONDS": "infinite"}, "from 15 to 60"),
        ({**BLOB, "keepSnapshot": 3}, {}, "backend.keepSnapshot is not a setting; known: type, accountUrl"),
        ("azureblob", {}, "backend must be an object"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_it(config: Any, env: dict[str, str], message: str) -> None:
    with pytest.raises(BackendError) as caught:
        backend_settings(config, env)
    assert message in str(caught.value)
    assert str(caught.value).startswith("aibplan.json: ")
    assert "c2VjcmV0" not in str(caught.value)


def test_http_is_allowed_for_an_emulator_on_this_machine_with_a_sas_or_connection_string() -> None:
    emulator = {**BLOB, "accountUrl": "http://127.0.0.1:10000/devaccount"}
    settings = backend_settings(emulator, {"AIBPLAN_BACKEND_SAS_TOKEN": SAS})
    assert isinstance(settings, AzureBlobSettings)
    assert settings.account_url == "http://127.0.0.1:10000/devaccount"
    with pytest.raises(BackendError, match="Entra ID sign-in needs https://"):
        backend_settings(emulator, {})


def test_no_credential_to_sign_in_with_is_one_line_saying_how(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """DefaultAzureCredential narrowed to the environment's service principal, which is not set: the
    backend says so when it opens, once, before any request."""
    for name in (
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")
    settings = backend_settings({**BLOB, "accountUrl": "https://127.0.0.1:9"}, {})
    with pytest.raises(BackendError) as caught:
        open_backend(settings, state_path=tmp_path / "s.json", runtime_dir=tmp_path / ".aibplan")
    message = str(caught.value)
    assert message.startswith("could not sign in to Azure Storage with Entra ID (DefaultAzureCredential)")
    assert "az login" in message and "\n" not in message
