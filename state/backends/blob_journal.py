"""The apply journal as append blobs beside the state blob, readable from any machine.

Two append blobs, `<key>.journal.0` and `<key>.journal.1`, take turns. Each is made by a reset (a new
journal: the header line and the lines a compaction carries over) and grows by appends; its metadata
holds its `generation` (one more than the journal it replaces) and how many `bytes` the reset wrote.
A reset writes the other blob in full and only then deletes the old one, so a crash at any point leaves
a whole journal: a blob shorter than its `bytes` is a reset that did not finish, and readers take the
whole one with the highest generation. Appends name the ETag and the length they expect the blob to
have, so a line never lands in a journal that another run replaced or added to.

An append blob takes at most 50,000 appends; a journal that nears that is rolled over into the other
blob by a reset with its whole text.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import BlobClient, BlobType, ContainerClient

from .base import BackendError, journal_replaced_message
from .blob_errors import BlobErrors, error_code

# The largest single append every service version accepts.
MAX_APPEND = 4 * 1024 * 1024
# Roll over to the other blob before the service's limit of 50,000 appends per blob.
MAX_APPENDS = 49_000


@dataclass
class _Current:
    """The journal blob appends go to: its generation, and its size, append count and ETag as last seen."""

    blob: BlobClient
    generation: int
    size: int
    appends: int
    etag: str


class BlobJournal:
    """The journal of one state, in `<key>.journal.0` and `<key>.journal.1`."""

    def __init__(self, container: ContainerClient, key: str, errors: BlobErrors, where: str) -> None:
        self._blobs = (
            container.get_blob_client(f"{key}.journal.0"),
            container.get_blob_client(f"{key}.journal.1"),
        )
        self._errors = errors
        self._where = where
        self._current: _Current | None = None
        self._highest = -1

    def read(self) -> str | None:
        """The whole journal with the highest generation, or None."""
        best: tuple[int, int, BlobClient] | None = None
        self._highest = -1
        for blob in self._blobs:
            try:
                props = blob.get_blob_properties()
            except ResourceNotFoundError as exc:
                if error_code(exc) == "BlobNotFound":
                    continue
                raise self._translate(exc, "read the apply journal") from None
            except AzureError as exc:
                raise self._translate(exc, "read the apply journal") from None
            generation = _number(props.metadata.get("generation"))
            self._highest = max(self._highest, generation)
            complete = props.size >= _number(props.metadata.get("bytes"))
            if props.blob_type != BlobType.APPENDBLOB or generation < 0 or not complete:
                continue
            if best is None or generation > best[0]:
                best = (generation, _number(str(props.append_blob_committed_block_count or 0)), blob)
        if best is None:
            self._current = None
            return None
        generation, appends, blob = best
        try:
            download = blob.download_blob()
            data = download.readall()
        except AzureError as exc:
            raise self._translate(exc, "read the apply journal") from None
        self._current = _Current(blob, generation, len(data), appends, download.properties.etag)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._errors.error(f"the apply journal {blob.blob_name} is not UTF-8 text: {exc}") from None

    def reset(self, content: bytes) -> None:
        """Replace the journal by `content`, whole: the other blob is written first, the old one deleted."""
        if self._current is None and self._highest < 0:
            self.read()
        old = self._current.blob if self._current is not None else None
        target = self._blobs[1] if old is self._blobs[0] else self._blobs[0]
        generation = max(self._highest, self._current.generation if self._current else -1) + 1
        try:
            made = target.create_append_blob(
                metadata={"generation": str(generation), "bytes": str(len(content))}
            )
            appends, etag = self._append_to(target, content, 0, str(made["etag"]))
            if old is not None:
                with contextlib.suppress(ResourceNotFoundError):
                    old.delete_blob()
        except AzureError as exc:
            raise self._translate(exc, "write the apply journal") from None
        self._current = _Current(target, generation, len(content), appends, etag)
        self._highest = generation

    def append(self, lines: bytes) -> None:
        """Add lines at the end of the current journal; durable when this returns."""
        if self._current is None and self.read() is None:
            raise BackendError(f"there is no apply journal at {self._where} to add to; start one first")
        current = self._current
        assert current is not None
        if current.appends + len(lines) // MAX_APPEND + 1 > MAX_APPENDS:
            text = self.read() or ""
            self.reset(text.encode("utf-8") + lines)
            return
        try:
            appends, current.etag = self._append_to(current.blob, lines, current.size, current.etag)
            current.appends += appends
        except AzureError as exc:
            if error_code(exc) in ("AppendPositionConditionNotMet", "BlobNotFound", "ConditionNotMet"):
                self._current = None
                raise self._errors.error(journal_replaced_message(self._where)) from None
            raise self._translate(exc, "write the apply journal") from None
        current.size += len(lines)

    def remove(self) -> None:
        for blob in self._blobs:
            try:
                blob.delete_blob()
            except ResourceNotFoundError as exc:
                if error_code(exc) != "BlobNotFound":
                    raise self._translate(exc, "remove the apply journal") from None
            except AzureError as exc:
                raise self._translate(exc, "remove the apply journal") from None
        self._current = None
        self._highest = -1

    def _append_to(self, blob: BlobClient, data: bytes, size: int, etag: str) -> tuple[int, str]:
        """Append `data` in blocks, each only if the blob is still as this journal left it (ETag and
        length): (blocks appended, the blob's new ETag)."""
        count = 0
        for start in range(0, len(data), MAX_APPEND):
            chunk = data[start : start + MAX_APPEND]
            result = blob.append_block(
                chunk,
                length=len(chunk),
                appendpos_condition=size + start,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
            etag = str(result["etag"])
            count += 1
        return count, etag

    def _translate(self, exc: AzureError, doing: str) -> BackendError:
        return self._errors.translate(exc, doing, self._where)


def _number(text: str | None) -> int:
    try:
        return int(text) if text is not None else -1
    except ValueError:
        return -1
