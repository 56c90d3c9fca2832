"""What only the azureblob backend does, against a real Azurite: clear errors with no secret in them,
the holder in the lock blob's metadata, force-unlock of a live lease, snapshots, and a journal that
stays whole when a reset is cut short."""

from __future__ import annotations

import base64
import logging
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from state import dumps_state
from state.backends import BackendError, backend_settings, open_backend
from state.lock import LockError
from tests.helpers.azurite import Azurite
from tests.helpers.backends import Place, blob_place, state_at

pytestmark = pytest.mark.azurite

LINEAGE = "8a6e0804-2bd0-4672-b79d-d97027f90720"


def open_with(place: Place, config: dict[str, object], env: dict[str, str]):  # type: ignore[no-untyped-def]
    settings = backend_settings({**place.config, **config}, env)
    return open_backend(settings, state_path=place.state_path, runtime_dir=place.runtime_dir)


def sas_for(azurite: Azurite, container: str, permission: ContainerSasPermissions) -> str:
    return generate_container_sas(
        azurite.account,
        container,
        account_key=azurite.key,
        permission=permission,
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )


@pytest.fixture
def blob(azurite: Azurite, tmp_path: Path) -> Place:
    return blob_place(azurite, tmp_path)


def test_a_missing_container_is_named_with_what_to_do(azurite: Azurite, blob: Place) -> None:
    backend = open_with(blob, {"container": "no-such-container"}, blob.env)
    with pytest.raises(BackendError) as caught:
        backend.read()
    message = str(caught.value)
    assert "the container 'no-such-container' does not exist" in message
    assert "az storage container create" in message
    assert azurite.key not in message and "AccountKey" not in message
    with pytest.raises(BackendError, match="does not exist"):
        backend.lock("apply")


def test_a_wrong_account_key_is_refused_in_one_line_without_the_key(azurite: Azurite, blob: Place) -> None:
    other_key = base64.b64encode(secrets.token_bytes(64)).decode()
    wrong = azurite.connection_string.replace(azurite.key, other_key)
    backend = open_with(blob, {}, {"AIBPLAN_BACKEND_CONNECTION_STRING": wrong})
    with pytest.raises(BackendError) as caught:
        backend.write(dumps_state(state_at(1, LINEAGE)), None)
    message = str(caught.value)
    assert message.startswith(
        f"the storage account {azurite.account_url} refused to let aibplan write the state"
    )
    assert "AIBPLAN_BACKEND_CONNECTION_STRING" in message and "\n" not in message
    assert other_key not in message and azurite.key not in message
    assert other_key not in repr(backend.settings) and other_key not in backend.where()


def test_a_key_that_is_not_a_key_is_named_without_showing_it(azurite: Azurite, blob: Place) -> None:
    cut = azurite.key[: len(azurite.key) // 2 - 1]
    wrong = azurite.connection_string.replace(azurite.key, cut)
    backend = open_with(blob, {}, {"AIBPLAN_BACKEND_CONNECTION_STRING": wrong})
    with pytest.raises(BackendError) as caught:
        backend.read()
    message = str(caught.value)
    assert "with the account key in AIBPLAN_BACKEND_CONNECTION_STRING: it is not a valid key" in message
    assert cut not in message


def test_a_sas_token_works_and_never_reaches_a_message_or_a_log_line(
    azurite: Azurite, blob: Place, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    container = str(blob.config["container"])
    everything = ContainerSasPermissions(read=True, add=True, create=True, write=True, delete=True, list=True)
    sas = sas_for(azurite, container, everything)
    signature = dict(p.split("=", 1) for p in sas.split("&"))["sig"]
    env = {"AIBPLAN_BACKEND_SAS_TOKEN": sas, "AIBPLAN_BACKEND_ACCOUNT_URL": azurite.account_url}
    backend = open_with(blob, {}, env)
    first = backend.write(dumps_state(state_at(1, LINEAGE)), None)
    with backend.lock("apply"):
        backend.journal_reset(b'{"journal": 1}\n')
        backend.journal_append(b'{"event": "failed", "seq": 1, "certain": true}\n')
        backend.write(dumps_state(state_at(2, LINEAGE)), first)
    # (Azurite refuses to read a snapshot under a container SAS; listing them works.)
    assert [entry.serial for entry in backend.history()] == [1]

    read_only = sas_for(azurite, container, ContainerSasPermissions(read=True, list=True))
    reader = open_with(blob, {}, {**env, "AIBPLAN_BACKEND_SAS_TOKEN": read_only})
    assert reader.read().text == dumps_state(state_at(2, LINEAGE))
    with pytest.raises(BackendError) as caught:
        reader.write(dumps_state(state_at(3, LINEAGE)), None)
    message = str(caught.value)
    assert "refused to let aibplan write the state" in message and "AIBPLAN_BACKEND_SAS_TOKEN" in message
    read_only_sig = dict(p.split("=", 1) for p in read_only.split("&"))["sig"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "&sig=" in logged, "the SDK logged no request URL at DEBUG: this test would prove nothing"
    for secret in (signature, read_only_sig, azurite.key):
        assert secret not in message and secret not in logged
        assert secret not in backend.where() and secret not in repr(backend.settings)


def test_the_holder_is_readable_in_the_lock_blob_metadata(azurite: Azurite, blob: Place) -> None:
    backend = blob.open()
    container = str(blob.config["container"])
    key = str(blob.config["key"])
    with (
        backend.lock("destroy") as held,
        BlobServiceClient.from_connection_string(azurite.connection_string) as sdk,
    ):
        props = sdk.get_blob_client(container, f"{key}.lock").get_blob_properties()
        assert props.lease.state == "leased" and props.lease.duration == "fixed"
        assert props.metadata["lockid"] == held.info.id
        assert props.metadata["operation"] == "destroy"
        assert props.metadata["pid"] == str(held.info.pid)
        assert props.metadata["created"] == held.info.created
    with BlobServiceClient.from_connection_string(azurite.connection_string) as sdk:
        after = sdk.get_blob_client(container, f"{key}.lock").get_blob_properties()
    assert after.lease.state == "available" and not after.metadata


def test_force_unlock_breaks_a_lease_and_its_holder_learns_it_lost_the_lock(blob: Place) -> None:
    holder = blob.open().lock("apply")
    cleared = blob.open().force_unlock(holder.info.id)
    assert cleared == holder.info
    holder.renew()
    with pytest.raises(LockError, match="was lost"):
        holder.check()
    holder.release()
    with blob.open().lock("apply") as next_run:
        assert next_run.taken_over is None


def test_earlier_states_are_snapshots_and_only_the_newest_are_kept(azurite: Azurite, tmp_path: Path) -> None:
    place = blob_place(azurite, tmp_path, keepSnapshots=2)
    backend = place.open()
    version = backend.write(dumps_state(state_at(1, LINEAGE)), None)
    for serial in (2, 3, 4):
        version = backend.write(dumps_state(state_at(serial, LINEAGE)), version)
    history = backend.history()
    assert [entry.serial for entry in history] == [3, 2]
    assert backend.read_history(history[0].id) == dumps_state(state_at(3, LINEAGE))


def test_a_journal_reset_cut_short_leaves_the_previous_journal_whole(azurite: Azurite, blob: Place) -> None:
    backend = blob.open()
    backend.journal_reset(b'{"journal": 1, "n": 1}\n')
    backend.journal_append(b'{"event": "begin", "seq": 1}\n')
    # A reset that died after making the other blob and before writing into it:
    container = str(blob.config["container"])
    with BlobServiceClient.from_connection_string(azurite.connection_string) as sdk:
        cut = sdk.get_blob_client(container, f"{blob.config['key']}.journal.1")
        cut.create_append_blob(metadata={"generation": "7", "bytes": "200"})
    expected = '{"journal": 1, "n": 1}\n{"event": "begin", "seq": 1}\n'
    assert blob.open().journal_read() == expected
    # The next reset goes past the cut one and replaces both.
    other = blob.open()
    assert other.journal_read() == expected
    other.journal_reset(b'{"journal": 1, "n": 2}\n')
    assert blob.open().journal_read() == '{"journal": 1, "n": 2}\n'
    other.journal_remove()
    assert blob.open().journal_read() is None
