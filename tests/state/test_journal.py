"""The apply journal: replay folds finished calls in, lists unfinished ones; compaction keeps writes O(N)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from state import ResourceState, State, load_state
from state.journal import journal_path, read_journal, replay
from state.journaled import JournaledState, file_journal


def entry(address: str, value: int = 1) -> ResourceState:
    return ResourceState(
        address=address,
        arm_type="Microsoft.Compute/galleries",
        arm_id=f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/{address}",
        api_version="2024-03-03",
        applied={"location": "westus2", "tags": {"v": str(value)}},
        observed={"location": "westus2"},
    )


def begin(journal: JournaledState, action: str, e: ResourceState) -> int:
    return journal.begin(action, e.address, e.arm_id, e.arm_type, e.api_version, e.applied, ())


def test_replay_keeps_finished_calls_and_lists_unfinished_ones(tmp_path: Path) -> None:
    journal = file_journal(tmp_path / "s.json", tmp_path / ".aibplan", State(lineage="l"), None)
    done, refused, doubtful, open_call = (entry(f"gallery.{n}") for n in "abcd")
    journal.done(begin(journal, "create", done), done)
    journal.failed(begin(journal, "create", refused), certain=True)
    journal.failed(begin(journal, "create", doubtful), certain=False)
    begin(journal, "create", open_call)
    journal.abandon()  # the process dies here: no compaction
    header, events = read_journal(journal_path(tmp_path / ".aibplan"))
    assert header is not None and header["lineage"] == "l"
    replayed = replay(State(lineage="l"), events)
    assert [r.address for r in replayed.state.resources] == ["gallery.a"]
    assert [c.address for c in replayed.pending] == ["gallery.c", "gallery.d"]
    assert replayed.pending[0].applied == doubtful.applied


def test_a_done_line_reads_back_as_the_entry_whatever_its_texts_hold(tmp_path: Path) -> None:
    """A done line is the entry's state text on one line: texts with line breaks, indentation, quotes and
    separators of their own read back unchanged."""
    texts = {"script": "echo a\n    b", "quoted": 'say "hi", then: {x}', "wide": "tab\there\u2028end é"}
    kept = ResourceState(
        address="gallery.a",
        arm_type="Microsoft.Compute/galleries",
        arm_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/a",
        api_version="2024-03-03",
        applied={"location": "westus2", "tags": texts},
        observed={"location": "westus2", "tags": texts, "properties": {"identifier": {"n": 1.0}}},
    )
    journal = file_journal(tmp_path / "s.json", tmp_path / ".aibplan", State(lineage="l"), None)
    journal.done(begin(journal, "create", kept), kept)
    journal.abandon()
    _, events = read_journal(journal_path(tmp_path / ".aibplan"))
    replayed = replay(State(lineage="l"), events)
    [back] = replayed.state.resources
    assert back.applied == kept.applied and back.observed == kept.observed
    assert type(back.observed["properties"]["identifier"]["n"]) is float


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    runtime = tmp_path / ".aibplan"
    journal = file_journal(tmp_path / "s.json", runtime, State(lineage="l"), None)
    a = entry("gallery.a")
    journal.done(begin(journal, "create", a), a)
    journal.abandon()
    # The process died writing a line: it ends half way, where the zeros laid out ahead begin.
    path = journal_path(runtime)
    data = path.read_bytes()
    end = data.index(b"\0")
    path.write_bytes(data[:end] + b'{"event": "begin", "seq": 2, "act' + data[end + 34 :])
    _, events = read_journal(journal_path(runtime))
    assert [e["event"] for e in events] == ["begin", "done"]


def test_deletes_replay_as_removals_and_replaying_twice_changes_nothing(tmp_path: Path) -> None:
    runtime = tmp_path / ".aibplan"
    base = State(lineage="l").with_resources([entry("gallery.a"), entry("gallery.b")])
    journal = file_journal(tmp_path / "s.json", runtime, base, None)
    journal.removed(begin(journal, "delete", entry("gallery.a")), "gallery.a")
    b2 = entry("gallery.b", 2)
    journal.done(begin(journal, "update", b2), b2)
    journal.abandon()
    _, events = read_journal(journal_path(runtime))
    once = replay(base, events).state
    assert [r.address for r in once.resources] == ["gallery.b"] and once.resources[0].applied == b2.applied
    assert replay(once, events).state == once


def test_compaction_writes_the_state_a_logarithmic_number_of_times(tmp_path: Path) -> None:
    path = tmp_path / "aibplan.state.json"
    runtime = tmp_path / ".aibplan"
    journal = file_journal(path, runtime, State(lineage="l"), None)
    count = 2000
    for index in range(count):
        e = entry(f"gallery.g{index:05d}")
        journal.done(begin(journal, "create", e), e)
        if index == 1000:
            # Mid-apply, the state file plus the journal know every call so far: finished, or begun
            # (a done line still being written sends the next command to read the resource back).
            saved = load_state(path) or State(lineage="l")
            _, events = read_journal(journal_path(runtime))
            replayed = replay(saved, events)
            known = {r.address for r in replayed.state.resources} | {c.address for c in replayed.pending}
            assert len(known) == index + 1
    final = journal.close()
    assert len(final.resources) == count
    # Compaction when the journal is as large as (twice) the state: O(log N) writes, O(N) bytes in all.
    assert journal.writes <= 8, journal.writes
    assert load_state(path) == final
    assert not journal_path(runtime).exists()


def test_journal_lines_are_json_and_hold_no_state_of_others(tmp_path: Path) -> None:
    runtime = tmp_path / ".aibplan"
    journal = file_journal(tmp_path / "s.json", runtime, State(lineage="l"), None)
    a = entry("gallery.a")
    journal.done(begin(journal, "create", a), a)
    journal.abandon()
    lines = journal_path(runtime).read_text().rstrip("\0").splitlines()
    assert [json.loads(line).get("event", "header") for line in lines] == ["header", "begin", "done"]


def test_a_slow_apply_is_compacted_at_intervals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import state.journaled

    monkeypatch.setattr(state.journaled, "_COMPACT_INTERVAL", 0.0)
    path = tmp_path / "aibplan.state.json"
    journal = file_journal(path, tmp_path / ".aibplan", State(lineage="l"), None)
    a = entry("gallery.a")
    journal.done(begin(journal, "create", a), a)
    deadline = time.monotonic() + 10
    while load_state(path) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    saved = load_state(path)
    assert saved is not None and [r.address for r in saved.resources] == ["gallery.a"]
    journal.close()
