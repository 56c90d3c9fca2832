"""Reading and writing the state file: deterministic JSON, atomic rename, one backup, clear errors."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from .conflicts import conflict_message, has_conflict_markers
from .jsontext import JsonLimitError, dumps_indented, line_col, loads
from .model import FORMAT_VERSION, ResourceState, State, digest_of, removed_json
from .observed import ObservedChangesError
from .redact import redact
from .schema import StateSchemaError, check_document

BACKUP_SUFFIX = ".backup"
# How much of a text write_atomic encodes at a time.
_PIECE = 1 << 20


class StateError(Exception):
    """The state file cannot be used; the message says why and what to do."""


def dumps_state(state: State) -> str:
    """Sorted keys, two-space indent, trailing newline: equal states give equal bytes and small git diffs.

    The bytes are those of `json.dumps(state.to_json(), indent=2, sort_keys=True, ensure_ascii=False)`,
    assembled from each entry's cached text (ResourceState.state_text); a removed resource's small entry
    stands where its entry stood.
    """
    texts = [r.state_text for r in state.resources]
    gone = [(a, n) for a, n in state.removed.items() if a not in state.by_address]
    if gone:
        removed = [(a, "    " + dumps_indented(removed_json(a, n), 2)) for a, n in gone]
        entries = zip((r.address for r in state.resources), texts, strict=True)
        texts = [text for _, text in sorted([*entries, *removed], key=lambda pair: pair[0])]
    # One join of every piece: the text is made once, not once per nesting level (a 10,000-template
    # state is 36 MB).
    parts = [
        f'{{\n  "format_version": {state.format_version},\n',
        f'  "lineage": {encode_basestring(state.lineage)},\n',
        '  "resources": ',
    ]
    if texts:
        parts.append("[\n")
        for text in texts:
            parts += (text, ",\n")
        parts[-1] = "\n  ]"
    else:
        parts.append("[]")
    parts.append("\n}\n")
    return "".join(parts)


def load_state(path: Path) -> State | None:
    """The state at `path`, or None when there is no state file yet."""
    try:
        text = read_regular_file(path)[0].decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"cannot read state file {path}: {exc}") from None
    return parse_state(text, str(path))


def read_regular_file(path: Path) -> tuple[bytes, os.stat_result]:
    """The file's bytes and its status as read; refused (OSError) without reading when it is not a regular
    file (a named pipe would block the read, a device such as /dev/zero never ends)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise OSError(f"{path} is not a regular file")
        return handle.read(), status


def parse_state(text: str, source: str, *, digest: str | None = None) -> State:
    """The state in `text` (read from `source`), upgraded; `digest` is the text's hash when the caller
    has it already (State.digest), else it is computed."""
    if has_conflict_markers(text):
        message = conflict_message(text, source)
        if message is not None:
            raise StateError(message)
    if not text.strip():
        raise StateError(
            f"{source}: the state file is empty; delete it to start afresh or restore it from git"
        )
    try:
        data = loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(
            f"{source}:{exc.lineno}:{exc.colno}: the state file is not valid JSON ({exc.msg}); "
            "restore it from git or from its .backup"
        ) from None
    except JsonLimitError as exc:
        line, column = line_col(text, exc.offset)
        raise StateError(
            f"{source}:{line}:{column}: the state file cannot be read: {exc.message}; restore it from "
            "git or from its .backup"
        ) from None
    state = state_from_json(data, source, text)
    return state.stored_as(text) if digest is None else state.with_digest(digest)


def state_from_json(data: Any, source: str, text: str | None = None) -> State:
    """The State a parsed state file holds, upgraded to the current format; StateError names the first
    field that is not what aibplan writes in the file's format version (state.schema), with its line when
    the file's `text` is given."""
    if not isinstance(data, dict):
        raise StateError(f"{source}: the state file must hold a JSON object")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise StateError(f"{source}: the state file has no format_version; is this an aibplan state file?")
    if version < 1:
        raise StateError(f"{source}: format_version {version} is not a version aibplan ever wrote")
    if version > FORMAT_VERSION:
        raise StateError(
            f"{source}: the state file has format_version {version}, written by a newer aibplan "
            f"(this one reads up to {FORMAT_VERSION}); upgrade aibplan"
        )
    try:
        # Checked as written, in its own version, before the upgrade reshapes it.
        check_document(data, version)
    except StateSchemaError as exc:
        raise _refused(exc, source, text) from None
    data = upgrade(data)
    listed = data["resources"]
    resources = [
        _entry(r, index, source, text) for index, r in enumerate(listed) if r.get("removed") is not True
    ]
    present = {r.address for r in resources}
    removed: dict[str, int] = {}
    for r in listed:
        # After a merge a resource may be both present and removed: the entry is what the cloud is
        # compared with.
        if r.get("removed") is True and r["address"] not in present:
            removed[r["address"]] = max(r["serial"], removed.get(r["address"], 0))
    return State(lineage=data["lineage"], format_version=FORMAT_VERSION, removed=removed).with_resources(
        resources
    )


def _entry(data: dict[str, Any], index: int, source: str, text: str | None) -> ResourceState:
    """One entry, its observed body rebuilt from its changes: StateError when they do not fit."""
    try:
        return ResourceState.from_json(data)
    except ObservedChangesError as exc:
        address = str(data["address"])
        where = f"resources[{index}] ({address}).observed_changes"
        error = StateSchemaError(where, f"{exc}: it does not fit the applied body", address=address)
        raise _refused(error, source, text) from None


def _refused(error: StateSchemaError, source: str, text: str | None) -> StateError:
    line = _line_of(text, error) if text is not None else None
    where = f"{source}:{line}" if line else source
    return StateError(
        f"{where}: {error}. The state was not used and is left untouched: correct that field, or "
        "restore the file from git or from its .backup"
    )


def _line_of(text: str, error: StateSchemaError) -> int | None:
    """The line a schema error points at: its entry's address, else the top-level key it names."""
    if error.address is not None:
        pattern = r'"address"\s*:\s*' + re.escape(json.dumps(error.address, ensure_ascii=False))
    elif error.where.startswith('"'):
        pattern = re.escape(error.where) + r"\s*:"
    else:
        return None
    found = re.search(pattern, text)
    return text.count("\n", 0, found.start()) + 1 if found else None


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older format_version up to the current one, one version at a time.

    1 → 2: version 1 could hold secrets in `applied` and `observed` (inline commands with SAS tokens,
    passwords); version 2 never does, so upgrading replaces them by fingerprints.
    2 → 3: the top-level `serial`, which every write changed (a conflict in every git merge), becomes each
    entry's own `serial` (all set to the state's, so the state's serial reads the same); the top-level
    `last_saved_plan` is dropped: saved plans of the aibplan that wrote version 2 are refused anyway
    (their own format is older), and from now on each entry a saved plan changes records its id.
    3 → 4: each entry's `observed` body is kept whole as read (ResourceState.from_json takes either form)
    and written as `observed_changes`, what differs from the applied body, by the next write.
    4 → 5: nothing to reshape here. Version 4's `applied` bodies are normalised, which compares as the body
    sent does (plans normalise it); ResourceState.from_json reads `observed_changes`, each entry takes the
    id the service answered (ResourceState), and the next write stores the changes as `observed_set` and
    `observed_removed` and each type the id spells no more; the next apply of a resource stores the body
    it sends.
    """
    version = data.get("format_version")
    if version == 1:
        resources = data.get("resources")
        if isinstance(resources, list):
            data = {
                **data,
                "resources": [
                    {**r, "applied": redact(r.get("applied")), "observed": redact(r.get("observed"))}
                    if isinstance(r, dict)
                    else r
                    for r in resources
                ],
            }
        data = {**data, "format_version": 2}
    if data.get("format_version") == 2:
        serial = data.get("serial")
        resources = data.get("resources")
        if isinstance(resources, list) and isinstance(serial, int):
            resources = [{**r, "serial": serial} if isinstance(r, dict) else r for r in resources]
        data = {k: v for k, v in data.items() if k not in ("serial", "last_saved_plan")}
        data = {**data, "resources": resources, "format_version": 3}
    if data.get("format_version") == 3:
        data = {**data, "format_version": 4}
    if data.get("format_version") == 4:
        data = {**data, "format_version": 5}
    return data


def save_state(path: Path, state: State, previous: State | None, *, backup: bool = True) -> State:
    """Write `state` if its content differs from `previous`; returns the state as written (serial bumped).

    The old file is kept as `<path>.backup`; the new one replaces it atomically (temp file, fsync, rename),
    so a crash leaves either the old or the new state, never half of one.
    """
    if previous is not None and state.same_content(previous) and path.exists():
        return previous
    written = next_state(state, previous)
    text = dumps_state(written)
    write_atomic(path, text, backup=backup)
    return written.stored_as(text)


def next_state(state: State, previous: State | None) -> State:
    """`state` as it is written over `previous` (None: the first write), in the current format: the
    serial moves on by one, and only what changed carries it: each entry that is new or differs from
    `previous`, and each address that left (its removal). Unchanged entries keep their serial, so an
    apply changes the lines of the resources it changed and no others."""
    base = previous if previous is not None else state
    stamp = (previous.serial if previous is not None else 0) + 1
    before = previous.by_address if previous is not None else {}
    resources = []
    for entry in state.resources:
        old = before.get(entry.address)
        if old is not None and entry.same_content(old):
            resources.append(old)
        elif entry.serial == stamp:
            resources.append(entry)  # stamped ahead (an apply's journal), its text already made
        else:
            resources.append(replace(entry, serial=stamp))
    present = state.by_address
    removed = {a: n for a, n in base.removed.items() if a not in present}
    removed.update({a: stamp for a in before if a not in present})
    return State(
        lineage=state.lineage, resources=tuple(resources), format_version=FORMAT_VERSION, removed=removed
    )


def write_cache(path: Path, text: str | Iterable[str | bytes], *, create: bool = False) -> None:
    """Replace a cache file (the rules' findings, a kept plan) whole or not at all, without syncing: a write
    that is lost only makes the next command slower. Best effort: a folder aibplan cannot write only means
    no cache. The folder is made when `create`, else the file is written only where the folder exists.
    `text` may come in pieces (text, written as UTF-8, or bytes), so that a big file is never held whole."""
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.parent.is_dir():
            return
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb", buffering=_CACHE_BUFFER) as handle:
                for piece in [text] if isinstance(text, str) else text:
                    handle.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        return


# A kept plan comes in thousands of pieces: written through a big buffer, in a few system calls.
_CACHE_BUFFER = 1 << 20


def write_atomic(path: Path, text: str, *, backup: bool = False) -> str:
    """Write `text` (UTF-8) to `path` whole or not at all: a synced temporary file renamed over it; with
    `backup`, the file it replaces is copied to PATH.backup first. Returns the digest of the bytes written
    (model.text_digest), hashed as they are written: the text is encoded a piece at a time, so a big state
    is not held a second time as bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    hashed = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for start in range(0, len(text), _PIECE):
                data = text[start : start + _PIECE].encode("utf-8")
                hashed.update(data)
                handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if backup and path.exists():
            backup_path = path.with_name(path.name + BACKUP_SUFFIX)
            _copy_backup(path, backup_path)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return digest_of(hashed)


def _copy_backup(path: Path, backup_path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{backup_path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "wb") as handle, open(path, "rb") as source:
        # Copied in chunks, not read whole into memory first.
        shutil.copyfileobj(source, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, backup_path)


def fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in `directory` durable (best effort where the platform cannot)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
