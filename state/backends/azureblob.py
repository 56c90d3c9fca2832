"""The `azureblob` backend: the state in an Azure Storage container, shared by every machine and CI runner.

Blobs in the container, all named after the state blob's key:

    <key>                 block blob: the state file's bytes, metadata lineage and serial; written only
                          with If-Match on the ETag it was read with (If-None-Match: * to create it)
    <key> (snapshots)     earlier states: a snapshot is taken, on the same ETag, before a write that
                          asks to keep the previous state; the newest `keepSnapshots` are kept
    <key>.lock            empty block blob: its lease is the lock, its metadata says who holds it
                          (blob_lease)
    <key>.journal.0|1     append blobs: the apply journal, taking turns at each reset (blob_journal)

Signing in: DefaultAzureCredential (azure-identity), or the connection string / SAS token from the
environment (settings). Every SDK error becomes one line (blob_errors), with no secret in it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import BlobServiceClient, ContentSettings, ExponentialRetry

from ..lock import LockInfo
from .base import BackendError, HistoryEntry, OnWait, StateChanged, StoredState, changed_message
from .blob_errors import BlobErrors, error_code, guard_logs
from .blob_journal import BlobJournal
from .blob_lease import LeaseLock, LeaseLocks
from .settings import AzureBlobSettings

# The token scope of Azure Storage, the same in every cloud.
STORAGE_SCOPE = "https://storage.azure.com/.default"
_CONTENT = ContentSettings(content_type="application/json; charset=utf-8")
# The state file's layout is fixed (state.store.dumps_state): lineage near the top, each entry's serial on a
# line of its own (the state's serial is the highest).
_LINEAGE = re.compile(r'^\{\n  "format_version": \d+,\n  "lineage": "([0-9A-Za-z._-]{1,64})",\n')
_SERIAL = re.compile(r'^      "serial": (\d{1,18}),?$', re.MULTILINE)


def plain_url(url: str) -> str:
    """`url` without its query string (a SAS token) or credentials: safe to show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}".rstrip("/")


def make_service(settings: AzureBlobSettings) -> BlobServiceClient:
    """The SDK client as the settings say to sign in. Retries are short: a lock holder waits on them."""
    retry = ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=4, random_jitter_range=1)
    options: dict[str, Any] = {"retry_policy": retry, "connection_timeout": 20, "read_timeout": 120}
    if settings.connection_string:
        return BlobServiceClient.from_connection_string(settings.connection_string, **options)
    assert settings.account_url is not None
    if settings.sas_token:
        return BlobServiceClient(settings.account_url, credential=settings.sas_token.lstrip("?"), **options)
    from azure.identity import DefaultAzureCredential

    credential = DefaultAzureCredential()
    # Sign in once now: a credential that has no token fails here in one step, not once per retry.
    credential.get_token(STORAGE_SCOPE)
    return BlobServiceClient(settings.account_url, credential=credential, **options)


class AzureBlobBackend:
    """One stack's state, lock, journal and history in a blob container."""

    kind = "azureblob"

    def __init__(self, settings: AzureBlobSettings, service: BlobServiceClient | None = None) -> None:
        self.settings = settings
        guard_logs(settings)
        errors = BlobErrors(settings, settings.account_url or "(from the connection string)")
        try:
            self._service = service or make_service(settings)
        except AzureError as exc:
            raise errors.translate(exc, "sign in", errors.account) from None
        except ValueError as exc:
            raise BackendError(
                f"the storage settings cannot be used ({type(exc).__name__}): check "
                f"{settings.sign_in} and backend.accountUrl"
            ) from None
        self.account = plain_url(self._service.url)
        self._where = f"{self.account}/{settings.container}/{settings.key}"
        self._errors = BlobErrors(settings, self.account)
        self._container = self._service.get_container_client(settings.container)
        self._blob = self._container.get_blob_client(settings.key)
        self._locks = LeaseLocks(
            self._container.get_blob_client(f"{settings.key}.lock"),
            settings.lease_seconds,
            self._errors,
            self._where,
        )
        self._journal = BlobJournal(self._container, settings.key, self._errors, self._where)

    def where(self) -> str:
        return self._where

    # -- the state -------------------------------------------------------------------------------------

    def read(self) -> StoredState:
        try:
            download = self._blob.download_blob(max_concurrency=4)
            data = download.readall()
        except ResourceNotFoundError as exc:
            if error_code(exc) == "BlobNotFound":
                return StoredState(None, None, self._where)
            raise self._translate(exc, "read the state") from None
        except AzureError as exc:
            raise self._translate(exc, "read the state") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._errors.error(f"cannot read the state at {self._where}: not UTF-8 ({exc})") from None
        return StoredState(text, download.properties.etag, self._where)

    def write(self, text: str, expected: str | None, *, keep_previous: bool = True) -> str:
        data = text.encode("utf-8")
        metadata = state_metadata(text)
        try:
            if expected is None:
                result = self._blob.upload_blob(
                    data, overwrite=False, metadata=metadata, content_settings=_CONTENT, max_concurrency=4
                )
            else:
                if keep_previous:
                    self._blob.create_snapshot(etag=expected, match_condition=MatchConditions.IfNotModified)
                result = self._blob.upload_blob(
                    data,
                    overwrite=True,
                    etag=expected,
                    match_condition=MatchConditions.IfNotModified,
                    metadata=metadata,
                    content_settings=_CONTENT,
                    max_concurrency=4,
                )
        except ResourceExistsError as exc:
            if error_code(exc) == "BlobAlreadyExists" or expected is None:
                created = changed_message(self._where, "another writer created it meanwhile")
                raise StateChanged(created) from None
            raise self._translate(exc, "write the state") from None
        except ResourceModifiedError:
            raise StateChanged(changed_message(self._where, "another writer replaced it meanwhile")) from None
        except ResourceNotFoundError as exc:
            if error_code(exc) == "BlobNotFound":
                raise StateChanged(changed_message(self._where, "it was removed meanwhile")) from None
            raise self._translate(exc, "write the state") from None
        except AzureError as exc:
            raise self._translate(exc, "write the state") from None
        if keep_previous and expected is not None:
            self._prune_snapshots()
        return str(result["etag"])

    # -- history ---------------------------------------------------------------------------------------

    def history(self) -> tuple[HistoryEntry, ...]:
        try:
            listed = list(
                self._container.list_blobs(
                    name_starts_with=self.settings.key, include=["snapshots", "metadata"]
                )
            )
        except AzureError as exc:
            raise self._translate(exc, "list the earlier states") from None
        entries = [
            HistoryEntry(
                id=str(blob.snapshot),
                taken=str(blob.snapshot),
                size=int(blob.size or 0),
                serial=_serial(blob.metadata),
            )
            for blob in listed
            if blob.name == self.settings.key and blob.snapshot
        ]
        return tuple(sorted(entries, key=lambda e: e.id, reverse=True))

    def read_history(self, entry_id: str) -> str:
        blob = self._container.get_blob_client(self.settings.key, snapshot=entry_id)
        try:
            return blob.download_blob().readall().decode("utf-8")
        except ResourceNotFoundError:
            raise self._errors.error(f"there is no earlier state {entry_id!r} at {self._where}") from None
        except AzureError as exc:
            raise self._translate(exc, "read an earlier state") from None
        except UnicodeDecodeError as exc:
            raise self._errors.error(f"the earlier state {entry_id!r} is not UTF-8 ({exc})") from None

    def _prune_snapshots(self) -> None:
        """Keep the newest `keepSnapshots` earlier states; a snapshot that cannot be deleted now is
        deleted by a later write (pruning never fails the write that made it due)."""
        try:
            old = self.history()[self.settings.keep_snapshots :]
            for entry in old:
                self._container.get_blob_client(self.settings.key, snapshot=entry.id).delete_blob()
        except (AzureError, BackendError):
            return

    # -- the lock --------------------------------------------------------------------------------------

    def lock(self, operation: str, *, timeout: float = 0.0, on_wait: OnWait | None = None) -> LeaseLock:
        return self._locks.lock(operation, timeout=timeout, on_wait=on_wait)

    def holder(self) -> LockInfo | None:
        return self._locks.holder()

    def force_unlock(self, lock_id: str) -> LockInfo:
        return self._locks.force_unlock(lock_id)

    # -- the journal -----------------------------------------------------------------------------------

    def journal_read(self) -> str | None:
        return self._journal.read()

    def journal_reset(self, content: bytes) -> None:
        self._journal.reset(content)

    def journal_append(self, lines: bytes) -> None:
        self._journal.append(lines)

    def journal_remove(self) -> None:
        self._journal.remove()

    def close(self) -> None:
        self._service.close()

    def _translate(self, exc: AzureError, doing: str) -> BackendError:
        return self._errors.translate(exc, doing, self._where)


def state_metadata(text: str) -> dict[str, str]:
    """The state's lineage and serial as blob metadata, so a listing shows which state each blob is."""
    metadata: dict[str, str] = {}
    lineage = _LINEAGE.match(text[:200])
    if lineage:
        metadata["lineage"] = lineage.group(1)
    serials = [int(found) for found in _SERIAL.findall(text)]
    if serials:
        metadata["serial"] = str(max(serials))
    return metadata


def _serial(metadata: dict[str, str] | None) -> int | None:
    value = (metadata or {}).get("serial")
    return int(value) if value and value.isdigit() else None
