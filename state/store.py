"""Reading and writing the state file: deterministic JSON, atomic rename, one backup, clear errors."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import replace
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from .model import FORMAT_VERSION, ResourceState, State
from .redact import redact

BACKUP_SUFFIX = ".backup"
_CONFLICT_MARKERS = ("<<<<<<< ", "=======", ">>>>>>> ")


class StateError(Exception):
    """The state file cannot be used; the message says why and what to do."""


def dumps_state(state: State) -> str:
    """Sorted keys, two-space indent, trailing newline: equal states give equal bytes and small git diffs.

    The bytes are those of `json.dumps(state.to_json(), indent=2, sort_keys=True, ensure_ascii=False)`,
    assembled from each entry's cached text (ResourceState.state_text).
    """
    resources = (
        "[\n" + ",\n".join(r.state_text for r in state.resources) + "\n  ]" if state.resources else "[]"
    )
    saved_plan = (
        f'  "last_saved_plan": {encode_basestring(state.last_saved_plan)},\n'
        if state.last_saved_plan is not None
        else ""
    )
    return (
        f'{{\n  "format_version": {state.format_version},\n{saved_plan}'
        f'  "lineage": {encode_basestring(state.lineage)},\n'
        f'  "resources": {resources},\n  "serial": {state.serial}\n}}\n'
    )


def load_state(path: Path) -> State | None:
    """The state at `path`, or None when there is no state file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"cannot read state file {path}: {exc}") from None
    return parse_state(text, str(path))


def parse_state(text: str, source: str) -> State:
    if _CONFLICT_MARKERS[0] in text or _CONFLICT_MARKERS[2] in text:
        _refuse_conflicts(text, source)
    if not text.strip():
        raise StateError(
            f"{source}: the state file is empty; delete it to start afresh or restore it from git"
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(
            f"{source}:{exc.lineno}:{exc.colno}: the state file is not valid JSON ({exc.msg}); "
            "restore it from git or from its .backup"
        ) from None
    return state_from_json(data, source)


def _refuse_conflicts(text: str, source: str) -> None:
    """A clear error for a state file git left with conflict markers: where, which resources, what to do."""
    lines = text.splitlines()
    starts = [n for n, line in enumerate(lines, start=1) if line.startswith(_CONFLICT_MARKERS[0])]
    ends = [n for n, line in enumerate(lines, start=1) if line.startswith(_CONFLICT_MARKERS[2])]
    if not starts and not ends:
        return
    where: list[str] = []
    for number in starts:
        address = None
        for line in reversed(lines[: number - 1]):
            stripped = line.strip()
            if stripped.startswith('"address": '):
                address = stripped.removeprefix('"address": ').strip('",')
                break
        name = address or "the top of the file (serial, lineage)"
        if name not in where:
            where.append(name)
    first = (starts or ends)[0]
    raise StateError(
        f"{source}:{first}: the state file contains a git merge-conflict marker "
        f"({len(starts)} conflict(s), in {', '.join(where) or 'the file'}). Resolve the conflict so each "
        "resource appears once: keep both sides' resources, for a resource both sides changed keep either "
        "side (the next `aibplan plan` compares it with the cloud), keep the higher serial and the lineage "
        "they share; then run `aibplan plan` to check it. Or take one side whole with "
        "`git checkout --ours/--theirs -- STATE_FILE` and run `aibplan apply` (or `aibplan import`) to "
        "adopt what the other side created."
    )


def state_from_json(data: Any, source: str) -> State:
    if not isinstance(data, dict):
        raise StateError(f"{source}: the state file must hold a JSON object")
    version = data.get("format_version")
    if not isinstance(version, int):
        raise StateError(f"{source}: the state file has no format_version; is this an aibplan state file?")
    if version < 1:
        raise StateError(f"{source}: format_version {version} is not a version aibplan ever wrote")
    if version > FORMAT_VERSION:
        raise StateError(
            f"{source}: the state file has format_version {version}, written by a newer aibplan "
            f"(this one reads up to {FORMAT_VERSION}); upgrade aibplan"
        )
    data = upgrade(data)
    try:
        resources = [ResourceState.from_json(r) for r in data.get("resources") or []]
        lineage = str(data["lineage"])
        serial = int(data["serial"])
        last_saved_plan = data.get("last_saved_plan")
        if last_saved_plan is not None and not isinstance(last_saved_plan, str):
            raise TypeError("last_saved_plan must be a string")
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(
            f"{source}: the state file is damaged ({exc.__class__.__name__}: {exc}); restore it "
            "from git or from its .backup"
        ) from None
    seen: set[str] = set()
    for r in resources:
        if r.address in seen:
            raise StateError(f"{source}: resource {r.address} appears twice (a bad merge?); keep one entry")
        seen.add(r.address)
    return State(
        lineage=lineage, serial=serial, format_version=FORMAT_VERSION, last_saved_plan=last_saved_plan
    ).with_resources(resources)


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older format_version up to the current one, one version at a time.

    1 → 2: version 1 could hold secrets in `applied` and `observed` (inline commands with SAS tokens,
    passwords); version 2 never does, so upgrading replaces them by fingerprints.
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
    return data


def save_state(path: Path, state: State, previous: State | None, *, backup: bool = True) -> State:
    """Write `state` if its content differs from `previous`; returns the state as written (serial bumped).

    The old file is kept as `<path>.backup`; the new one replaces it atomically (temp file, fsync, rename),
    so a crash leaves either the old or the new state, never half of one.
    """
    if previous is not None and state.same_content(previous) and path.exists():
        return previous
    written = next_state(state, previous)
    write_atomic(path, dumps_state(written), backup=backup)
    return written


def next_state(state: State, previous: State | None) -> State:
    """`state` as it is written over `previous` (None: the first write): the serial moved on, the current
    format version."""
    base_serial = previous.serial if previous is not None else state.serial
    return replace(state, serial=base_serial + 1, format_version=FORMAT_VERSION)


def write_atomic(path: Path, text: str, *, backup: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
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


def _copy_backup(path: Path, backup_path: Path) -> None:
    data = path.read_bytes()
    fd, tmp = tempfile.mkstemp(prefix=f".{backup_path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
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
