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
resources back from the provider (planner.execution.state_access). state.journaled.JournaledState writes
the journal during an apply and keeps the state current by compacting the journal into it; the journal
may live elsewhere than in a file (state.journal_sinks: an append blob of the azureblob backend).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .jsontext import JsonLimitError, loads
from .model import ResourceState, State
from .store import StateError, fsync_dir

JOURNAL_FILE = "journal.jsonl"
JOURNAL_VERSION = 1


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


def remove_journal(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fsync_dir(path.parent)
