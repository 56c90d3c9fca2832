"""The state lock as a blob lease: `<key>.lock`, an empty block blob whose lease is the lock.

Taking the lock acquires a lease of `leaseSeconds` (15 to 60) with the lock id as the lease id, then
writes who holds it into the blob's metadata (lock id, operation, user, host, process, since when). A
thread renews the lease while it is held, so a process that dies, however it dies, frees the lock when
the lease runs out; the next writer takes it over and learns from the metadata left behind whose journal
it is about to reconcile. A normal release clears the metadata first, then releases the lease.

`force_unlock(id)` breaks the lease of the holder with that id (for a holder known to be gone); the
holder, if it was alive after all, finds its lease lost at its next renewal and stops before writing.
Its state writes are compare-and-swap on the state blob's ETag anyway, so even then nothing is lost.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from urllib.parse import quote, unquote

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import BlobClient, BlobLeaseClient

from ..lock import LockError, LockInfo
from .base import OnWait
from .blob_errors import BlobErrors, error_code

_LEASE_LOST = {
    "LeaseIdMismatchWithLeaseOperation",
    "LeaseNotPresentWithLeaseOperation",
    "LeaseLost",
    "LeaseIsBrokenAndCannotBeRenewed",
    "LeaseIdMissing",
    "LeaseIdMismatchWithBlobOperation",
}
_HELD = {"LeaseAlreadyPresent", "LeaseIsBreakingAndCannotBeAcquired"}
_FIELDS = ("lockid", "operation", "user", "host", "pid", "created")
POLL_SECONDS = 1.0


def encode_holder(info: LockInfo) -> dict[str, str]:
    """The holder as blob metadata: ASCII header values, readable in the portal."""
    values = {
        "lockid": info.id,
        "operation": info.operation,
        "user": info.user,
        "host": info.host,
        "pid": str(info.pid),
        "created": info.created,
    }
    return {key: quote(value, safe=" @:+-._/") for key, value in values.items()}


def decode_holder(metadata: Mapping[str, str] | None) -> LockInfo | None:
    if not metadata:
        return None
    values = {key.lower(): unquote(value) for key, value in metadata.items()}
    if not all(values.get(field) for field in _FIELDS):
        return None
    try:
        pid = int(values["pid"])
    except ValueError:
        pid = 0
    return LockInfo(
        id=values["lockid"],
        operation=values["operation"],
        user=values["user"],
        host=values["host"],
        pid=pid,
        created=values["created"],
    )


class LeaseLock:
    """A held lease on the lock blob, renewed by a thread until released."""

    def __init__(
        self,
        blob: BlobClient,
        lease: BlobLeaseClient,
        info: LockInfo,
        seconds: int,
        errors: BlobErrors,
        taken_over: LockInfo | None,
    ) -> None:
        self._blob = blob
        self._lease = lease
        self._info = info
        self._seconds = seconds
        self._errors = errors
        self._taken_over = taken_over
        self._renewed = time.monotonic()
        self._lost: str | None = None
        self._released = False
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep, name="aibplan-lease", daemon=True)
        self._thread.start()

    @property
    def info(self) -> LockInfo:
        return self._info

    @property
    def taken_over(self) -> LockInfo | None:
        return self._taken_over

    def renew(self) -> None:
        with self._guard:
            if self._released or self._lost:
                return
            try:
                self._lease.renew()
            except AzureError as exc:
                if error_code(exc) in _LEASE_LOST:
                    self._lost = "its lease was broken (aibplan force-unlock) or taken by another run"
                elif time.monotonic() - self._renewed > self._seconds:
                    self._lost = f"its lease could not be renewed for {self._seconds}s and ran out"
                return
            self._renewed = time.monotonic()

    def _keep(self) -> None:
        # Renew at a third of the lease, so two renewals can fail before it runs out.
        while not self._stop.wait(self._seconds / 3):
            self.renew()
            if self._lost:
                return

    def check(self) -> None:
        if self._lost:
            raise LockError(
                f"the state lock {self._info.id} was lost: {self._lost}. Nothing more is written; run the "
                "command again (it reconciles what this run journaled)",
                self._info,
            )

    def release(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        with self._guard:
            if self._released:
                return
            self._released = True
            if self._lost:
                return
            try:
                self._blob.set_blob_metadata({}, lease=self._lease)
                self._lease.release()
            except AzureError as exc:
                if error_code(exc) not in _LEASE_LOST:
                    raise self._errors.translate(exc, "release the state lock", self._blob.url) from None

    def __enter__(self) -> LeaseLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class LeaseLocks:
    """Taking, probing and clearing the lease lock on one lock blob."""

    def __init__(self, blob: BlobClient, seconds: int, errors: BlobErrors, where: str) -> None:
        self._blob = blob
        self._seconds = seconds
        self._errors = errors
        self._where = where

    def lock(
        self,
        operation: str,
        *,
        timeout: float = 0.0,
        on_wait: OnWait | None = None,
        poll: float = POLL_SECONDS,
    ) -> LeaseLock:
        deadline = time.monotonic() + max(0.0, timeout)
        told = False
        while True:
            lock_id = str(uuid.uuid4())
            lease = BlobLeaseClient(self._blob, lease_id=lock_id)
            try:
                self._acquire(lease)
            except AzureError as exc:
                if error_code(exc) not in _HELD:
                    raise self._errors.translate(exc, "take the state lock", self._where) from None
                holder = self._wait_for_holder()
                if time.monotonic() >= deadline:
                    raise LockError(self._held_message(holder, timeout), holder) from None
                if on_wait is not None and not told:
                    on_wait(holder)
                    told = True
                time.sleep(min(poll, max(0.0, deadline - time.monotonic())))
                continue
            return self._hold(lease, lock_id, operation)

    def _acquire(self, lease: BlobLeaseClient) -> None:
        try:
            lease.acquire(lease_duration=self._seconds)
        except ResourceNotFoundError as exc:
            if error_code(exc) != "BlobNotFound":
                raise
            # The first lock on this state: make the lock blob (another run may make it at the same time).
            try:
                self._blob.upload_blob(b"", overwrite=False)
            except AzureError as made:
                if error_code(made) not in ("BlobAlreadyExists", "LeaseIdMissing", "ConditionNotMet"):
                    raise
            lease.acquire(lease_duration=self._seconds)

    def _hold(self, lease: BlobLeaseClient, lock_id: str, operation: str) -> LeaseLock:
        info = LockInfo(
            id=lock_id,
            operation=operation,
            user=_user(),
            host=socket.gethostname(),
            pid=os.getpid(),
            created=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        )
        try:
            # Metadata still there under a fresh lease was left by a holder that never released it.
            left = decode_holder(self._blob.get_blob_properties(lease=lease).metadata)
            self._blob.set_blob_metadata(encode_holder(info), lease=lease)
        except AzureError as exc:
            with contextlib.suppress(AzureError):  # if not, the lease runs out on its own
                lease.release()
            raise self._errors.translate(exc, "take the state lock", self._where) from None
        return LeaseLock(self._blob, lease, info, self._seconds, self._errors, left)

    def holder(self) -> LockInfo | None:
        """The live holder (a lease is held), or None."""
        try:
            props = self._blob.get_blob_properties()
        except ResourceNotFoundError as exc:
            if error_code(exc) == "BlobNotFound":
                return None
            raise self._errors.translate(exc, "read the state lock", self._where) from None
        except AzureError as exc:
            raise self._errors.translate(exc, "read the state lock", self._where) from None
        if props.lease.state != "leased":
            return None
        return decode_holder(props.metadata) or self._wait_for_holder()

    def _wait_for_holder(self) -> LockInfo | None:
        """The holder's metadata; one that has just taken the lease may not have written it yet."""
        for _ in range(10):
            try:
                props = self._blob.get_blob_properties()
            except AzureError as exc:
                raise self._errors.translate(exc, "read the state lock", self._where) from None
            if props.lease.state != "leased":
                return None
            holder = decode_holder(props.metadata)
            if holder is not None:
                return holder
            time.sleep(0.1)
        return None

    def force_unlock(self, lock_id: str) -> LockInfo:
        try:
            props = self._blob.get_blob_properties()
        except ResourceNotFoundError as exc:
            if error_code(exc) == "BlobNotFound":
                raise LockError(f"there is no lock to clear at {self._where}") from None
            raise self._errors.translate(exc, "read the state lock", self._where) from None
        except AzureError as exc:
            raise self._errors.translate(exc, "read the state lock", self._where) from None
        holder = decode_holder(props.metadata)
        leased = props.lease.state == "leased"
        if holder is None and not leased:
            raise LockError(f"there is no lock to clear at {self._where}")
        if holder is not None and holder.id != lock_id:
            raise LockError(
                f"lock id {lock_id!r} does not match the lock held at {self._where}:\n  {holder.describe()}",
                holder,
            )
        if holder is None and leased:
            raise LockError(
                f"the lock at {self._where} is held by a run that has not said who it is yet; try again",
            )
        try:
            if leased:
                BlobLeaseClient(self._blob).break_lease(lease_break_period=0)
            self._blob.set_blob_metadata({})
        except AzureError as exc:
            raise self._errors.translate(exc, "clear the state lock", self._where) from None
        assert holder is not None
        return holder

    def _held_message(self, holder: LockInfo | None, timeout: float) -> str:
        who = holder.describe() if holder is not None else "(holder unknown)"
        waited = f" after waiting {timeout:g}s" if timeout > 0 else ""
        return (
            f"the state is locked by another aibplan{waited}:\n  {who}\n"
            "Wait for it to finish, or pass --lock-timeout SECONDS to wait for it. If its process is gone, "
            f"its lease runs out within {self._seconds}s and the next run takes over and reconciles its "
            f"journal; to clear it at once: aibplan force-unlock {holder.id if holder else 'LOCK_ID'}"
        )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())
