"""The state lock: one writer at a time (apply, destroy, import, state edits), with a holder people can read.

Two files under `.aibplan/`:

- `lock` is never deleted; the holder keeps an exclusive `flock` on it. The kernel drops that lock
  the instant the holder's process ends, however it ends, so "is anyone holding it?" has a sure answer.
- `lock.json` says who holds it: id, operation, user, host, pid and start time. It is written after the
  flock is taken and removed when the lock is released. A `lock.json` that is still there while nobody
  holds the flock was left by a holder that died (kill -9, power cut): the lock is *stale*, and it is
  reported with the command that clears it (`aibplan force-unlock ID`), never cleared silently, because
  that holder may have left an apply half done (its journal is reconciled by the next command).

Readers (plan, drift) take no lock: the state file is replaced atomically, so they always read a whole one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

LOCK_FILE = "lock"
INFO_FILE = "lock.json"


@dataclass(frozen=True)
class LockInfo:
    """Who holds (or held) the lock."""

    id: str
    operation: str
    user: str
    host: str
    pid: int
    created: str

    def describe(self) -> str:
        return (
            f"ID: {self.id}\n  Operation: {self.operation}\n  Who: {self.user}@{self.host}\n"
            f"  Process: {self.pid}\n  Since: {self.created}"
        )

    @staticmethod
    def from_json(data: Any) -> LockInfo | None:
        if not isinstance(data, dict):
            return None
        try:
            return LockInfo(
                id=str(data["id"]),
                operation=str(data["operation"]),
                user=str(data["user"]),
                host=str(data["host"]),
                pid=int(data["pid"]),
                created=str(data["created"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


class LockError(Exception):
    """The lock cannot be taken or cleared; the message says who holds it and what to do."""

    def __init__(self, message: str, holder: LockInfo | None = None, *, stale: bool = False) -> None:
        super().__init__(message)
        self.holder = holder
        self.stale = stale


class StateLock:
    """A held lock; release it with `release()` or use it as a context manager."""

    def __init__(self, runtime_dir: Path, info: LockInfo, fd: int) -> None:
        self.runtime_dir = runtime_dir
        self.info = info
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is None:
            return
        info_path = self.runtime_dir / INFO_FILE
        current = read_holder(self.runtime_dir)
        if current is not None and current.id == self.info.id:
            with contextlib.suppress(FileNotFoundError):
                info_path.unlink()
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> StateLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_holder(runtime_dir: Path) -> LockInfo | None:
    try:
        text = (runtime_dir / INFO_FILE).read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return None
    try:
        return LockInfo.from_json(json.loads(text))
    except (ValueError, RecursionError):  # not JSON, or beyond its limits: no readable holder
        return None


def acquire(
    runtime_dir: Path,
    operation: str,
    *,
    timeout: float = 0.0,
    poll: float = 0.2,
    on_wait: Callable[[LockInfo | None], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> StateLock:
    """Take the lock for `operation`, waiting up to `timeout` seconds for a live holder to finish.

    Raises LockError at once for a stale lock, and after `timeout` for a live one.
    """
    runtime_dir.mkdir(parents=True, exist_ok=True)
    deadline = clock() + max(0.0, timeout)
    told = False
    unknown = 0
    while True:
        fd = os.open(runtime_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise LockError(f"cannot lock {runtime_dir / LOCK_FILE}: {exc}") from None
            holder = _wait_for_info(runtime_dir)
            if holder is None and unknown < 5:
                # Nobody has said who they are: a reader probing the lock, or a writer that is just
                # starting or just leaving. Look again shortly before reporting anything.
                unknown += 1
                sleep(0.05)
                continue
            if clock() >= deadline:
                raise LockError(_held_message(runtime_dir, holder, timeout), holder) from None
            if on_wait is not None and not told:
                on_wait(holder)
                told = True
            sleep(min(poll, max(0.0, deadline - clock())))
            continue
        left = read_holder(runtime_dir)
        if left is not None or (runtime_dir / INFO_FILE).exists():
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise LockError(_stale_message(runtime_dir, left), left, stale=True)
        info = LockInfo(
            id=str(uuid.uuid4()),
            operation=operation,
            user=_user(),
            host=socket.gethostname(),
            pid=os.getpid(),
            created=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        )
        _write_info(runtime_dir, info)
        return StateLock(runtime_dir, info, fd)


def is_held(runtime_dir: Path) -> tuple[bool, LockInfo | None]:
    """(whether a live process holds the lock, who) without taking it: a reader's probe."""
    path = runtime_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False, None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True, _wait_for_info(runtime_dir)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False, None
    finally:
        os.close(fd)


def force_unlock(runtime_dir: Path, lock_id: str) -> LockInfo:
    """Clear a lock whose holder is gone. Refuses a wrong id and a holder that is still running here."""
    holder = read_holder(runtime_dir)
    info_exists = (runtime_dir / INFO_FILE).exists()
    if holder is None and not info_exists:
        raise LockError(f"there is no lock to clear in {runtime_dir}")
    if holder is not None and holder.id != lock_id:
        raise LockError(
            f"lock id {lock_id!r} does not match the lock held in {runtime_dir}:\n  {holder.describe()}",
            holder,
        )
    fd = os.open(runtime_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise LockError(
                f"the lock is held by a running process (pid {holder.pid if holder else '?'}); "
                "wait for it to finish, or stop it first",
                holder,
            ) from None
        with contextlib.suppress(FileNotFoundError):
            (runtime_dir / INFO_FILE).unlink()
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    if holder is None:
        holder = LockInfo(lock_id, "?", "?", "?", 0, "?")
    return holder


def _wait_for_info(runtime_dir: Path) -> LockInfo | None:
    """The holder's info; a holder that has just taken the flock may not have written it yet."""
    for _ in range(20):
        holder = read_holder(runtime_dir)
        if holder is not None:
            return holder
        time.sleep(0.01)
    return None


def _held_message(runtime_dir: Path, holder: LockInfo | None, timeout: float) -> str:
    who = holder.describe() if holder is not None else "(holder unknown)"
    waited = f" after waiting {timeout:g}s" if timeout > 0 else ""
    return (
        f"the state is locked by another aibplan{waited}:\n  {who}\n"
        "Wait for it to finish, or pass --lock-timeout SECONDS to wait for it."
    )


def _stale_message(runtime_dir: Path, holder: LockInfo | None) -> str:
    if holder is None:
        return (
            f"a damaged lock file was left in {runtime_dir / INFO_FILE} by a process that is gone; "
            f"remove that file to clear it"
        )
    here = holder.host == socket.gethostname()
    gone = (
        f"its process {holder.pid} is no longer running on this host"
        if here and not _pid_alive(holder.pid)
        else "its process no longer holds it"
    )
    return (
        f"the state lock is stale: {gone}.\n  {holder.describe()}\n"
        "That run may have stopped half way; its journal is reconciled by the next command. "
        f"If no aibplan is running on this stack, clear the lock with:\n  aibplan force-unlock {holder.id}"
    )


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def _write_info(runtime_dir: Path, info: LockInfo) -> None:
    path = runtime_dir / INFO_FILE
    tmp = runtime_dir / f".{INFO_FILE}.{info.id}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(info), indent=2, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
