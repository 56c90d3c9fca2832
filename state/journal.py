"""The apply journal: an append-only record of every provider mutation, written before and after the call.

The journal lives at `.aibplan/journal.jsonl` next to the state file. Its first line names the state it
continues (lineage and serial); every other line is one event:

    {"event": "begin", "seq": 7, "action": "create", "address": ..., "id": ..., "type": ...,
     "api_version": ..., "applied": {...}, "dependencies": [...]}      before the provider call
    {"event": "done", "seq": 7, "entry": {...}}                         a create/update came back
    {"event": "done", "seq": 7, "removed": "address"}                   a delete came back
    {"event": "failed", "seq": 7, "certain": true}     the call failed (certain: the service refused it)

A `begin` line is written and fsync'ed before the provider is called, together with every line written
before it (group commit); `done` lines are written moments later by a background thread. The apply
journals a call as soon as it is ready to run and that thread syncs it, so the worker that takes the call
seldom waits for the disk; a call journaled but never started (an interrupt) gets a `failed`/certain line.

So after a kill -9 at any instant, or a power cut, the journal knows every call that may have changed
the cloud: a call whose `done` line did not reach the disk still has its `begin` there, and is settled by
reading the resource back. The final compaction fsyncs the state file, so nothing an apply reports as
done is lost either.

`replay` folds a journal into a state and lists the calls whose outcome is unknown; the engine reads those
resources back from the provider (planner.execution.state_access). `JournaledState` keeps the state file
current by compacting the journal into it at the end and whenever the journal has grown as large as the
state, so an apply of N resources writes O(N) bytes of state in all, not O(N²).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .jsontext import JsonLimitError, loads
from .model import ResourceState, State
from .store import StateError, fsync_dir, save_state

JOURNAL_FILE = "journal.jsonl"
JOURNAL_VERSION = 1
# Compact at the latest after this many events even when the state is large.
_MIN_COMPACT_EVENTS = 64
# A compaction is also due this long after the last one (seconds), whenever a call finished since.
_COMPACT_INTERVAL = 30.0
# How far ahead of its lines the journal file is laid out with zeros.
_LAYOUT_CHUNK = 1 << 16


@dataclass(frozen=True)
class PendingCall:
    """A provider call that began and never reported back: the resource may or may not be changed."""

    seq: int
    action: str  # create | update | delete
    address: str
    arm_id: str
    arm_type: str
    api_version: str
    applied: Mapping[str, Any]
    dependencies: tuple[str, ...]

    def to_event(self) -> dict[str, Any]:
        return {
            "event": "begin",
            "seq": self.seq,
            "action": self.action,
            "address": self.address,
            "id": self.arm_id,
            "type": self.arm_type,
            "api_version": self.api_version,
            "applied": self.applied,
            "dependencies": list(self.dependencies),
        }

    @staticmethod
    def from_event(event: Mapping[str, Any]) -> PendingCall:
        return PendingCall(
            seq=int(event["seq"]),
            action=str(event["action"]),
            address=str(event["address"]),
            arm_id=str(event["id"]),
            arm_type=str(event["type"]),
            api_version=str(event["api_version"]),
            applied=dict(event.get("applied") or {}),
            dependencies=tuple(str(d) for d in event.get("dependencies") or ()),
        )


@dataclass(frozen=True)
class Replayed:
    """A state with a journal folded in, and the calls whose outcome must be read back from the cloud."""

    state: State
    pending: tuple[PendingCall, ...]
    events: int


def journal_path(runtime_dir: Path) -> Path:
    return runtime_dir / JOURNAL_FILE


def read_journal(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(header, events) of the journal at `path`; (None, []) when there is none.

    A torn last line (the process died while writing it) is ignored: its call had not started yet.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, []
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"cannot read the apply journal {path}: {exc}") from None
    return parse_journal(text, str(path))


def parse_journal(text: str, source: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(header, events) of a journal's text, wherever it was kept (a file, a blob); `source` names it."""
    lines = text.rstrip("\0").split("\n")
    parsed: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = loads(line)
        except json.JSONDecodeError:
            if number >= len(lines) - 1:
                break  # torn final line
            raise StateError(
                f"{source}:{number}: the apply journal is damaged; move it aside and run "
                "`aibplan plan` to compare the state with the cloud"
            ) from None
        except JsonLimitError as exc:
            raise StateError(
                f"{source}:{number}: the apply journal cannot be read ({exc.message}); move it aside and "
                "run `aibplan plan` to compare the state with the cloud"
            ) from None
        if isinstance(value, dict):
            parsed.append(value)
    if not parsed or "journal" not in parsed[0]:
        return None, parsed
    return parsed[0], parsed[1:]


def replay(state: State, events: Iterable[Mapping[str, Any]]) -> Replayed:
    """Fold finished calls into `state`; return the calls that began and never finished."""
    by_address = dict(state.by_address)
    begun: dict[int, PendingCall] = {}
    count = 0
    for event in events:
        count += 1
        kind = event.get("event")
        seq = int(event.get("seq", -1))
        if kind == "begin":
            begun[seq] = PendingCall.from_event(event)
        elif kind == "done":
            begun.pop(seq, None)
            if "entry" in event:
                entry = ResourceState.from_json(event["entry"])
                by_address[entry.address] = entry
            elif "removed" in event:
                by_address.pop(str(event["removed"]), None)
        elif kind == "failed":
            call = begun.pop(seq, None)
            if call is not None and not event.get("certain", False):
                begun[seq] = call
    return Replayed(
        state=state.with_resources(by_address.values()),
        pending=tuple(sorted(begun.values(), key=lambda c: c.seq)),
        events=count,
    )


class JournaledState:
    """The state during an apply: every call journaled before and after, the file compacted as it goes.

    Thread-safe: the walk's workers call `begin`/`done`/`failed` concurrently.
    """

    def __init__(self, state_path: Path, runtime_dir: Path, state: State, previous: State | None) -> None:
        self.state_path = state_path
        self.path = journal_path(runtime_dir)
        self._lock = threading.Lock()
        self._compacting = threading.Lock()
        # The entries by address (a dict, so each finished call costs O(1), not a re-sorted tuple).
        self._base = state
        self._entries: dict[str, ResourceState] = dict(state.by_address)
        self._previous = previous
        self._seq = 0
        self._pending: dict[int, PendingCall] = {}
        self._lines: list[bytes] = []
        # Events written, and how many of them are known to be on disk (group commit, see `_sync`).
        self._written = 0
        self._synced = 0
        self._sync_lock = threading.Lock()
        # Compactions run on a thread of their own (started on the first one), not in a worker's call.
        self._compactor: threading.Thread | None = None
        # Begins journaled ahead of their call (wait=False): their line numbers, and the thread syncing them.
        self._begin_written: dict[int, int] = {}
        self._last_begin = 0
        # Finished calls whose done line the background thread has yet to write.
        self._deferred: list[tuple[int, ResourceState]] = []
        # Each pending call's begin line as written: a compaction carries them into the next journal.
        self._begin_lines: dict[int, bytes] = {}
        # Lines the current journal started with (carried over): they do not make a compaction due.
        self._carried = 0
        self._syncer: threading.Thread | None = None
        self._unsynced = threading.Event()
        self._due = threading.Event()
        self._closing = False
        self._compacted_at = time.monotonic()
        # The journal's file descriptor, where the next line goes, and how far the file is laid out.
        self._fd: int | None = None
        self._offset = 0
        self._laid_out = 0
        self.writes = 0  # state file writes, for the benchmarks and tests

    @property
    def state(self) -> State:
        with self._lock:
            return self._snapshot()

    def rebase(self, state: State) -> None:
        """Start from `state` instead (entries renamed before the first call: a state move); only before
        anything is journaled, so no line names the state it replaces. `compact` then writes it."""
        with self._lock:
            if self._seq or self._written:
                raise RuntimeError("rebase after a call was journaled")
            self._base = state
            self._entries = dict(state.by_address)

    def _snapshot(self) -> State:
        return self._base.with_resources(self._entries.values())

    # -- events ----------------------------------------------------------------------------------------

    def begin(
        self,
        action: str,
        address: str,
        arm_id: str,
        arm_type: str,
        api_version: str,
        applied: Mapping[str, Any],
        dependencies: Sequence[str],
        *,
        wait: bool = True,
    ) -> int:
        """Journal a call about to be made; returns its number. With `wait`, returns once the line is on
        disk; without, the line is synced in the background and `durable(seq)` must be awaited before
        the call is made (so the walk can announce calls as they become ready, ahead of time)."""
        with self._lock:
            self._seq += 1
            call = PendingCall(
                self._seq, action, address, arm_id, arm_type, api_version, applied, tuple(dependencies)
            )
            self._pending[call.seq] = call
            written = self._append(call.to_event())
            self._begin_lines[call.seq] = self._lines[-1]
            if not wait:
                self._begin_written[call.seq] = written
                self._last_begin = written
                self._start_syncer()
        if wait:
            self._sync(written)
        else:
            self._unsynced.set()
        return call.seq

    def durable(self, seq: int) -> None:
        """Return once the begin line of call `seq` (journaled with wait=False) is on disk."""
        with self._lock:
            written = self._begin_written.pop(seq, 0)
        self._sync(written)

    def _start_syncer(self) -> None:
        if self._syncer is None:
            self._syncer = threading.Thread(target=self._sync_in_background, name="aibplan-sync", daemon=True)
            self._syncer.start()

    def _sync_in_background(self) -> None:
        while True:
            self._unsynced.wait()
            self._unsynced.clear()
            if self._closing:
                return
            self._drain()
            # Only begin lines must reach the disk before their call; done lines ride along.
            if self._synced < self._last_begin:
                self._sync(self._written)

    def done(self, seq: int, entry: ResourceState) -> None:
        """A call came back. The state knows it at once; its line is written by the background thread
        (with the entry's state-file text), so the worker goes on to its next call meanwhile. A line lost
        in a crash only sends the next command to read the resource back: its begin line is on disk."""
        with self._lock:
            self._pending.pop(seq, None)
            self._begin_lines.pop(seq, None)
            self._entries[entry.address] = entry
            self._deferred.append((seq, entry))
            self._start_syncer()
        self._unsynced.set()
        self._maybe_compact()

    def _drain(self) -> None:
        """Write the done lines the workers left (serialised outside the lock)."""
        with self._lock:
            items, self._deferred = self._deferred, []
        if not items:
            return
        lines = [_line({"event": "done", "seq": seq, "entry": entry.to_json()}) for seq, entry in items]
        with self._lock:
            for line in lines:
                self._append_line(line)
        for _, entry in items:
            _ = entry.state_text  # made now, while workers wait on the cloud, not at the final write

    def removed(self, seq: int, address: str) -> None:
        with self._lock:
            self._pending.pop(seq, None)
            self._begin_lines.pop(seq, None)
            self._entries.pop(address, None)
            self._append({"event": "done", "seq": seq, "removed": address})
        self._maybe_compact()

    def failed(self, seq: int, *, certain: bool) -> None:
        """The call raised. `certain`: the service refused it, so nothing changed; else it is in doubt."""
        with self._lock:
            if certain:
                self._pending.pop(seq, None)
                self._begin_lines.pop(seq, None)
            self._append({"event": "failed", "seq": seq, "certain": certain})

    # -- files -----------------------------------------------------------------------------------------

    def _append(self, event: Mapping[str, Any]) -> int:
        """Write one event (caller holds the lock); returns its number, for `_sync`."""
        return self._append_line(_line(event))

    def _append_line(self, line: bytes) -> int:
        if self._fd is None:
            self._open_new([])
        assert self._fd is not None
        if self._offset + len(line) > self._laid_out:
            self._lay_out(len(line))
        os.pwrite(self._fd, line, self._offset)
        self._offset += len(line)
        self._lines.append(line)
        self._written += 1
        return self._written

    def _sync(self, written: int) -> None:
        """Return once event number `written` is on disk. Group commit: one fsync covers every event
        written before it, so workers finishing together share it instead of queueing for their own."""
        with self._sync_lock:
            if self._synced >= written:
                return
            with self._lock:
                target = self._written
                fd = self._fd
            if fd is not None:
                _datasync(fd)
            self._synced = max(self._synced, target)

    def _lay_out(self, needed: int) -> None:
        """Write zeros ahead of the lines to come, so that syncing a line later flushes only data, not the
        file's size and extents (a cheaper fdatasync: it runs once per provider call). Readers stop at the
        zeros."""
        assert self._fd is not None
        # Small at first (a small apply should not write a megabyte of zeros), doubling as the file grows.
        size = max(_LAYOUT_CHUNK, self._laid_out, needed)
        os.pwrite(self._fd, bytes(size), self._laid_out)
        os.fsync(self._fd)
        self._laid_out += size

    def _header(self) -> bytes:
        header = {
            "journal": JOURNAL_VERSION,
            "lineage": self._base.lineage,
            "base_serial": self._previous.serial if self._previous is not None else 0,
            "state_file": self.state_path.name,
        }
        return (json.dumps(header, sort_keys=True) + "\n").encode("utf-8")

    def _open_new(self, carried: list[bytes]) -> None:
        """Start a fresh journal (header + the carried events) atomically in place of the old one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as handle:
            handle.write(self._header())
            handle.writelines(carried)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY)
        self._offset = self._laid_out = os.fstat(self._fd).st_size
        self._lines = list(carried)
        self._carried = len(carried)
        # Everything written so far is on disk now: in the state file or in the new journal.
        self._synced = self._written

    def _maybe_compact(self) -> None:
        """Hand a due compaction to the compactor thread: the worker that noticed goes on with its calls."""
        with self._lock:
            # A compaction writes the state (its entries) and carries the pending begins: wait for as many
            # new lines as that again, twice over, so that all compactions together cost O(lines).
            size = len(self._entries) + len(self._pending)
            new_lines = len(self._lines) - self._carried
            due = new_lines >= max(_MIN_COMPACT_EVENTS, 2 * size) or (
                # A slow apply (real builds take minutes) still brings the state file up to date.
                new_lines > 0 and time.monotonic() - self._compacted_at >= _COMPACT_INTERVAL
            )
            if not due or self._closing:
                return
            if self._compactor is None:
                self._compactor = threading.Thread(
                    target=self._compact_when_due, name="aibplan-compactor", daemon=True
                )
                self._compactor.start()
        self._due.set()

    def _compact_when_due(self) -> None:
        while True:
            self._due.wait()
            self._due.clear()
            if self._closing:
                return
            self.compact(wait=True)

    def compact(self, *, wait: bool = False) -> State:
        """Write the state file from memory and start a fresh journal without the calls it now holds.

        The state is written outside the journal lock so workers go on meanwhile; the new journal keeps
        the begin events of calls in flight at the snapshot and every event written after it. The state
        is written first: a crash between the two leaves a journal whose finished calls are already in
        the state, and replaying them again changes nothing.
        """
        if not self._compacting.acquire(blocking=wait):
            return self.state
        try:
            with self._lock:
                snapshot = self._snapshot()
                previous = self._previous
                mark = len(self._lines)
                in_flight = [self._begin_lines[seq] for seq in self._pending if seq in self._begin_lines]
            # The backup keeps the state as it was before this apply, not an intermediate compaction.
            written = save_state(self.state_path, snapshot, previous, backup=self.writes == 0)
            with self._sync_lock, self._lock:
                if written is not previous:
                    self.writes += 1
                self._previous = written
                self._base = replace(self._base, serial=written.serial)
                self._open_new([*in_flight, *self._lines[mark:]])
                self._compacted_at = time.monotonic()
                return written
        finally:
            self._compacting.release()

    def close(self) -> State:
        """Final compaction; the journal is removed once nothing is in flight."""
        with self._lock:
            self._closing = True
            compactor = self._compactor
            syncer = self._syncer
        self._due.set()
        self._unsynced.set()
        for thread in (compactor, syncer):
            if thread is not None:
                thread.join()
        with self._lock:
            settled = not self._pending
        if settled:
            # Nothing in flight: write the state, then drop the journal (no new journal in between).
            with self._lock:
                snapshot = self._snapshot()
            written = save_state(self.state_path, snapshot, self._previous, backup=self.writes == 0)
            with self._lock:
                if written is not self._previous:
                    self.writes += 1
                self._previous = written
                if self._fd is not None:
                    os.close(self._fd)
                    self._fd = None
                if self._fd is None and self.path.exists():
                    remove_journal(self.path)
                return written
        written = self.compact(wait=True)
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if not self._pending and len(self._lines) == 0:
                remove_journal(self.path)
            return written

    def abandon(self) -> None:
        """Close the file without compacting (the process is leaving at once; the journal stays)."""
        self._drain()
        with self._lock:
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._fd)
                self._fd = None


def _line(event: Mapping[str, Any]) -> bytes:
    return (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _datasync(fd: int) -> None:
    sync = getattr(os, "fdatasync", os.fsync)
    sync(fd)


def remove_journal(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fsync_dir(path.parent)
