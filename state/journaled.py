"""The state during an apply: every provider call journaled before and after it, the state compacted from
the journal as the apply goes (the journal's format and replay: state.journal).

A `begin` line is durable before its call is made, together with every line written before it (group
commit); `done` lines are written moments later by a background thread. The apply journals a call as
soon as it is ready to run and that thread syncs it, so the worker that takes the call seldom waits; a
call journaled but never started (an interrupt) gets a `failed`/certain line.

The lines go to a `JournalSink` and the state to a `StateSaver` (state.journal_sinks): the local file
with pwrite and fdatasync, or a backend's journal calls (an append blob). The state is compacted from the
journal at the end and whenever the journal has grown to twice the state, so an apply of N resources
writes O(N) bytes of state in all, not O(N²).

When the sink or the saver fails (the disk, the network, a lock that was lost, a state another writer
replaced), the journal stops: no call begins after that (`begin` and `durable` raise `JournalStopped`),
and `close` raises it once the calls in flight are recorded as far as they can be. The journal stays
where it is for the next command to reconcile.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .journal import JOURNAL_VERSION, PendingCall, journal_path
from .journal_sinks import FileJournal, FileSaver, JournalSink, StateSaver
from .model import ResourceState, State
from .store import StateError

# Compact at the latest after this many events even when the state is large.
_MIN_COMPACT_EVENTS = 64
# A compaction is also due this long after the last one (seconds), whenever a call finished since.
_COMPACT_INTERVAL = 30.0


class JournalStopped(StateError):
    """The journal or the state could not be written: no further call may begin."""


class JournaledState:
    """The state during an apply (see the module). Thread-safe: the walk's workers call
    `begin`/`done`/`failed` concurrently."""

    def __init__(self, sink: JournalSink, saver: StateSaver, state: State, previous: State | None) -> None:
        self._sink = sink
        self._saver = saver
        self._lock = threading.Lock()
        self._compacting = threading.Lock()
        # The entries by address (a dict, so each finished call costs O(1), not a re-sorted tuple).
        self._base = state
        self._entries: dict[str, ResourceState] = dict(state.by_address)
        self._previous = previous
        self._seq = 0
        self._pending: dict[int, PendingCall] = {}
        # Lines written to the current journal besides those it started with (lines carried over do not
        # make a compaction due). The lines themselves are kept only while a compaction runs (`_tail`:
        # those written after its snapshot, which the next journal carries); otherwise they are on disk
        # and in the entries, not held a second time.
        self._new_lines = 0
        self._tail: list[bytes] | None = None
        self._open = False
        # Events written, and how many of them are known to be durable (group commit, see `_sync`).
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
        self._syncer: threading.Thread | None = None
        self._unsynced = threading.Event()
        self._due = threading.Event()
        self._closing = False
        self._compacted_at = time.monotonic()
        # Why the journal stopped (a write that failed), if it did.
        self._failure: str | None = None
        # The serial the next write gives what changed.
        self._stamp = (previous.serial if previous is not None else 0) + 1
        self.writes = 0  # state writes, for the benchmarks and tests

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
        """Journal a call about to be made; returns its number. With `wait`, returns once the line is
        durable; without, the line is synced in the background and `durable(seq)` must be awaited before
        the call is made (so the walk can announce calls as they become ready, ahead of time)."""
        self._raise_if_stopped()
        with self._lock:
            self._seq += 1
            call = PendingCall(
                self._seq, action, address, arm_id, arm_type, api_version, applied, tuple(dependencies)
            )
            self._pending[call.seq] = call
            line = _line(call.to_event())
            written = self._append_line(line)
            self._begin_lines[call.seq] = line
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
        """Return once the begin line of call `seq` (journaled with wait=False) is durable."""
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
            try:
                self._drain()
                # Only begin lines must be durable before their call; done lines ride along.
                if self._synced < self._last_begin:
                    self._sync(self._written)
            except JournalStopped:
                continue  # said by the next begin, durable or close

    def done(self, seq: int, entry: ResourceState) -> None:
        """A call came back. The state knows it at once; its line is written by the background thread,
        so the worker goes on to its next call meanwhile. A line lost in a crash only sends the next
        command to read the resource back: its begin line is durable."""
        with self._lock:
            # The serial the entry is written with (state.store.next_state), set now so that its text,
            # made by the background thread, is the one written.
            entry = replace(entry, serial=self._stamp)
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
        # Made now, while workers wait on the cloud: each entry's text (not at the final write), which its
        # done line is made from too, and the entry as a state read back from its file holds it, its
        # observed body sharing with the applied body what they have in common (each body the service
        # returned was held whole beside the applied one: 60 MB of an apply of 11,202 resources).
        lines = [_done_line(seq, entry) for seq, entry in items]
        with self._lock:
            for line in lines:
                self._append_line(line)
        shared = [(entry, entry.sharing()) for _, entry in items]
        with self._lock:
            for entry, kept in shared:
                if self._entries.get(entry.address) is entry:
                    self._entries[entry.address] = kept

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

    # -- the sink --------------------------------------------------------------------------------------

    def _append(self, event: Mapping[str, Any]) -> int:
        """Write one event (caller holds the lock); returns its number, for `_sync`."""
        return self._append_line(_line(event))

    def _append_line(self, line: bytes) -> int:
        if not self._open:
            self._start_journal([])
        try:
            self._sink.add(line)
        except Exception as exc:
            self._stop(exc)
            raise JournalStopped(self._failure or str(exc)) from None
        if self._tail is not None:
            self._tail.append(line)
        self._new_lines += 1
        self._written += 1
        return self._written

    def _sync(self, written: int) -> None:
        """Return once event number `written` is durable. Group commit: one sync covers every event
        written before it, so workers finishing together share it instead of queueing for their own."""
        self._raise_if_stopped()
        with self._sync_lock:
            if self._synced >= written:
                return
            with self._lock:
                target = self._written
            try:
                self._sink.sync()
            except Exception as exc:
                self._stop(exc)
                raise JournalStopped(self._failure or str(exc)) from None
            self._synced = max(self._synced, target)

    def _header(self) -> bytes:
        header = {
            "journal": JOURNAL_VERSION,
            "lineage": self._base.lineage,
            "base_serial": self._previous.serial if self._previous is not None else 0,
            "state_file": self._saver.name,
        }
        return (json.dumps(header, sort_keys=True) + "\n").encode("utf-8")

    def _start_journal(self, carried: list[bytes]) -> None:
        """Start a fresh journal (header + the carried events) in place of the old one, whole."""
        try:
            self._sink.reset(self._header() + b"".join(carried))
        except Exception as exc:
            self._stop(exc)
            raise JournalStopped(self._failure or str(exc)) from None
        self._open = True
        self._new_lines = 0
        # Everything written so far is durable now: in the state or in the new journal.
        self._synced = self._written

    def _stop(self, exc: BaseException) -> None:
        if self._failure is None:
            self._failure = str(exc) or type(exc).__name__

    def _raise_if_stopped(self) -> None:
        if self._failure is not None:
            raise JournalStopped(self._failure)

    # -- compaction ------------------------------------------------------------------------------------

    def _maybe_compact(self) -> None:
        """Hand a due compaction to the compactor thread: the worker that noticed goes on with its calls."""
        with self._lock:
            # A compaction writes the state (its entries) and carries the pending begins: wait for as many
            # new lines as that again, twice over, so that all compactions together cost O(lines).
            size = len(self._entries) + len(self._pending)
            new_lines = self._new_lines
            due = new_lines >= max(_MIN_COMPACT_EVENTS, 2 * size) or (
                # A slow apply (real builds take minutes) still brings the state up to date.
                new_lines > 0 and time.monotonic() - self._compacted_at >= _COMPACT_INTERVAL
            )
            if not due or self._closing or self._failure is not None:
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
            try:
                self.compact(wait=True)
            except JournalStopped:
                return  # said by the next begin, durable or close

    def compact(self, *, wait: bool = False) -> State:
        """Write the state from memory and start a fresh journal without the calls it now holds.

        The state is written outside the journal lock so workers go on meanwhile; the new journal keeps
        the begin events of calls in flight at the snapshot and every event written after it. The state
        is written first: a crash between the two leaves a journal whose finished calls are already in
        the state, and replaying them again changes nothing.
        """
        if not self._compacting.acquire(blocking=wait):
            return self.state
        try:
            self._raise_if_stopped()
            with self._lock:
                snapshot = self._snapshot()
                previous = self._previous
                in_flight = [self._begin_lines[seq] for seq in self._pending if seq in self._begin_lines]
                self._tail = []
            try:
                written = self._save(snapshot, previous)
            except BaseException:
                with self._lock:
                    self._tail = None
                raise
            with self._sync_lock, self._lock:
                # Entries unchanged since the snapshot become the written ones (with their serials), so
                # the next write finds them unchanged at a glance.
                taken = snapshot.by_address
                for entry in written.resources:
                    if self._entries.get(entry.address) is taken.get(entry.address):
                        self._entries[entry.address] = entry
                tail, self._tail = self._tail or [], None
                self._start_journal([*in_flight, *tail])
                self._compacted_at = time.monotonic()
                return written
        finally:
            self._compacting.release()

    def _save(self, snapshot: State, previous: State | None) -> State:
        # The history keeps the state as it was before this apply, not an intermediate compaction.
        try:
            written = self._saver.save(snapshot, previous, keep_previous=self.writes == 0)
        except Exception as exc:
            self._stop(exc)
            raise JournalStopped(self._failure or str(exc)) from None
        with self._lock:
            if written is not previous:
                self.writes += 1
            self._previous = written
            self._stamp = written.serial + 1
        return written

    def close(self) -> State:
        """Final compaction; the journal is removed once nothing is in flight. Raises JournalStopped
        when the journal stopped (it stays, for the next command to reconcile)."""
        with self._lock:
            self._closing = True
            compactor = self._compactor
            syncer = self._syncer
        self._due.set()
        self._unsynced.set()
        for thread in (compactor, syncer):
            if thread is not None:
                thread.join()
        try:
            self._raise_if_stopped()
            with self._lock:
                settled = not self._pending
            if settled:
                # Nothing in flight: write the state, then drop the journal (no new journal in between).
                with self._lock:
                    snapshot = self._snapshot()
                written = self._save(snapshot, self._previous)
                if self._open:
                    self._sink.remove()
                    self._open = False
                return written
            written = self.compact(wait=True)
            self._sink.close()
            return written
        except JournalStopped:
            self.abandon()
            raise

    def abandon(self) -> None:
        """Let go of the sink without compacting (the process is leaving at once; the journal stays)."""
        try:
            self._drain()
            if self._failure is None and self._open:
                self._sink.sync()
        except Exception as exc:
            self._stop(exc)
        finally:
            self._sink.close()


def file_journal(state_path: Path, runtime_dir: Path, state: State, previous: State | None) -> JournaledState:
    """The journal in `runtime_dir` and the state at `state_path`, as plain files (no backend)."""
    return JournaledState(FileJournal(journal_path(runtime_dir)), FileSaver(state_path), state, previous)


def _line(event: Mapping[str, Any]) -> bytes:
    return (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


# A line break and the indentation after it: in JSON text, always between tokens (a string holds `\n`).
_INDENTATION = re.compile(r"\n *")


def _done_line(seq: int, entry: ResourceState) -> bytes:
    """The done line of `entry`: its text in the state file (made once for the file anyway) on one line,
    not the entry written out again (a third of what the journal thread spent on each entry)."""
    entry_text = _INDENTATION.sub("", entry.state_text).lstrip(" ")
    return f'{{"event":"done","seq":{int(seq)},"entry":{entry_text}}}\n'.encode()
