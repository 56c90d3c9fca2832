"""The `local` backend: the state file next to aibplan.json (committed in git), runtime files in `.aibplan/`.

This is aibplan's behaviour as it always was, behind the backend interface: the state file is written
atomically with one `.backup` (state.store), the lock is a flock with a `lock.json` holder (state.lock),
and the journal is `.aibplan/journal.jsonl` (state.journal). Nothing here changes those files' format.

The version token is the SHA-256 of the file's bytes. A write compares it under a short flock of its own
(`.aibplan/write.lock`), so two processes writing at once cannot both pass the check: the second one is
refused with StateChanged, never overwrites silently. A file this backend read or wrote last and whose
inode, size and times are unchanged is not read again to be hashed (a large state is written several
times during an apply); any other file is.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from ..journal import journal_path, remove_journal
from ..lock import LockError, LockInfo, StateLock, acquire, force_unlock, is_held
from ..model import text_digest
from ..store import BACKUP_SUFFIX, fsync_dir, read_regular_file, write_atomic
from .base import (
    BackendError,
    HistoryEntry,
    OnWait,
    StateChanged,
    StoredState,
    changed_message,
    journal_replaced_message,
)

WRITE_LOCK_FILE = "write.lock"
BACKUP_ID = "backup"


def version_of(data: bytes) -> str:
    """The version token: the bytes' digest, the same as the state's (state.model.text_digest)."""
    return text_digest(data)


class LocalLock:
    """The flock lock (state.lock.StateLock) as a HeldLock: it never runs out; renewal has nothing to do."""

    def __init__(self, held: StateLock) -> None:
        self._held = held

    @property
    def info(self) -> LockInfo:
        return self._held.info

    @property
    def taken_over(self) -> LockInfo | None:
        # A dead holder's lock is reported stale and cleared by force-unlock, never taken over.
        return None

    def renew(self) -> None:
        """Nothing to do: the kernel holds a flock until the process ends."""

    def check(self) -> None:
        """A flock cannot be lost while the process lives (force-unlock refuses a running holder)."""

    def release(self) -> None:
        self._held.release()

    def __enter__(self) -> LocalLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class LocalBackend:
    """One stack's state file and its `.aibplan/` folder."""

    kind = "local"

    def __init__(self, state_path: Path, runtime_dir: Path) -> None:
        self.state_path = state_path
        self.runtime_dir = runtime_dir
        # Where the journal's text ends (appends go there) and which file it is; None until known.
        self._journal_end: int | None = None
        self._journal_file: tuple[int, int] | None = None
        # The state file as last read or written here: its stat identity and version.
        self._known: tuple[tuple[int, ...], str] | None = None

    def where(self) -> str:
        return str(self.state_path)

    # -- the state -------------------------------------------------------------------------------------

    def read(self) -> StoredState:
        data = self._read_bytes()
        if data is None:
            return StoredState(None, None, self.where())
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BackendError(f"cannot read state file {self.state_path}: {exc}") from None
        assert self._known is not None
        return StoredState(text, self._known[1], self.where())

    def write(self, text: str, expected: str | None, *, keep_previous: bool = True) -> str:
        with self._write_lock():
            version = self._current_version()
            if version != expected:
                raise StateChanged(_changed_message(self.where(), expected, version))
            try:
                written = write_atomic(self.state_path, text, backup=keep_previous)
                self._known = (_stat_key(os.stat(self.state_path)), written)
            except OSError as exc:
                raise BackendError(f"cannot write the state file {self.state_path}: {exc}") from None
        return written

    @property
    def known(self) -> tuple[tuple[int, ...], str] | None:
        """The state file as last read or written here: (its identity: device, inode, size, times; its
        version), or None."""
        return self._known

    def adopt(self, known: tuple[tuple[int, ...], str] | None) -> bool:
        """Take a read made elsewhere (state.backends.read_ahead) as this backend's own, when the file is
        still the one it read (the same identity), or is still missing as it was; whether it was taken."""
        try:
            now: tuple[int, ...] | None = _stat_key(os.stat(self.state_path))
        except FileNotFoundError:
            now = None
        except OSError:
            return False
        if now != (known[0] if known is not None else None):
            return False
        self._known = known
        return True

    def _current_version(self) -> str | None:
        try:
            key = _stat_key(os.stat(self.state_path))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BackendError(f"cannot read state file {self.state_path}: {exc}") from None
        if self._known is not None and self._known[0] == key:
            return self._known[1]
        return version_of(data) if (data := self._read_bytes()) is not None else None

    def _read_bytes(self) -> bytes | None:
        """The file's bytes (None when there is none); remembers their version and the file's identity."""
        try:
            # Not a plain open: a named pipe in the state file's place would block it (state.store).
            data, status = read_regular_file(self.state_path)
            key = _stat_key(status)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BackendError(f"cannot read state file {self.state_path}: {exc}") from None
        self._known = (key, version_of(data))
        return data

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        try:
            self.runtime_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.runtime_dir / WRITE_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise BackendError(f"cannot write in {self.runtime_dir}: {exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # -- the lock --------------------------------------------------------------------------------------

    def lock(self, operation: str, *, timeout: float = 0.0, on_wait: OnWait | None = None) -> LocalLock:
        return LocalLock(acquire(self.runtime_dir, operation, timeout=timeout, on_wait=on_wait))

    def holder(self) -> LockInfo | None:
        held, info = is_held(self.runtime_dir)
        return info if held else None

    def force_unlock(self, lock_id: str) -> LockInfo:
        return force_unlock(self.runtime_dir, lock_id)

    # -- the journal -----------------------------------------------------------------------------------

    def journal_read(self) -> str | None:
        path = journal_path(self.runtime_dir)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
                stat = os.fstat(handle.fileno())
        except FileNotFoundError:
            self._journal_end = self._journal_file = None
            return None
        except OSError as exc:
            raise BackendError(f"cannot read the apply journal {path}: {exc}") from None
        # An apply lays the file out with zeros ahead of its lines; the text ends where they start.
        text = data.rstrip(b"\0")
        self._journal_end = len(text)
        self._journal_file = (stat.st_dev, stat.st_ino)
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BackendError(f"cannot read the apply journal {path}: {exc}") from None

    def journal_reset(self, content: bytes) -> None:
        path = journal_path(self.runtime_dir)
        tmp = path.with_name(path.name + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            stat = os.stat(tmp)
            os.replace(tmp, path)
            fsync_dir(path.parent)
        except OSError as exc:
            raise BackendError(f"cannot write the apply journal {path}: {exc}") from None
        self._journal_end = len(content)
        self._journal_file = (stat.st_dev, stat.st_ino)

    def journal_append(self, lines: bytes) -> None:
        path = journal_path(self.runtime_dir)
        if self._journal_end is None and self.journal_read() is None:
            raise BackendError(f"there is no apply journal at {path} to add to; start one first")
        assert self._journal_end is not None
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            fd = -1
        except OSError as exc:
            raise BackendError(f"cannot write the apply journal {path}: {exc}") from None
        if fd < 0 or _identity(fd) != self._journal_file:
            if fd >= 0:
                os.close(fd)
            self._journal_end = self._journal_file = None
            raise BackendError(journal_replaced_message(str(path)))
        try:
            try:
                os.pwrite(fd, lines, self._journal_end)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise BackendError(f"cannot write the apply journal {path}: {exc}") from None
        self._journal_end += len(lines)

    def journal_remove(self) -> None:
        remove_journal(journal_path(self.runtime_dir))
        self._journal_end = self._journal_file = None

    # -- history ---------------------------------------------------------------------------------------

    def _backup_path(self) -> Path:
        return self.state_path.with_name(self.state_path.name + BACKUP_SUFFIX)

    def history(self) -> tuple[HistoryEntry, ...]:
        try:
            stat = self._backup_path().stat()
        except FileNotFoundError:
            return ()
        taken = datetime.fromtimestamp(stat.st_mtime, timezone.utc).replace(microsecond=0).isoformat()
        return (HistoryEntry(BACKUP_ID, taken, stat.st_size),)

    def read_history(self, entry_id: str) -> str:
        path = self._backup_path()
        if entry_id != BACKUP_ID:
            raise BackendError(f"the local backend keeps one earlier state, {BACKUP_ID!r}, not {entry_id!r}")
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BackendError(f"there is no earlier state: {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BackendError(f"cannot read {path}: {exc}") from None

    def close(self) -> None:
        """Nothing is kept open between calls."""


def _stat_key(stat: os.stat_result) -> tuple[int, ...]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _identity(fd: int) -> tuple[int, int]:
    stat = os.fstat(fd)
    return (stat.st_dev, stat.st_ino)


def _changed_message(where: str, expected: str | None, found: str | None) -> str:
    if expected is None:
        return changed_message(where, "another writer created it meanwhile")
    if found is None:
        return changed_message(where, "it was removed meanwhile")
    return changed_message(where, "another writer replaced it meanwhile")


__all__ = ["LocalBackend", "LocalLock", "LockError", "version_of"]
