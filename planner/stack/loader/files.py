"""Which files a stack is made of: every path in the stack folder is accounted for, read or ignored (and
why), so no file a user wrote resources in is left out without a word (and its resources destroyed).

The rule (README "A stack", docs/cli.md):

- the stack folder is walked in name order; a name starting with "." (`.aibplan/`, `.git/`) is hidden and
  not entered;
- every `*.json` file is a resource file, except `aibplan.json` at the top (the settings), the state file
  and its `.backup`, and files named like a parameters file (`*.parameters.json`: read only when given
  with `--var-file`), a saved plan (`*.plan.json`) or another state (`*.state.json`, `*.state.json.backup`);
  one of those that holds resources anyway, or a `.jsonc` or upper-case `.JSON` file that does, is a
  warning (AIB0011): rename it to be read;
- a `*.bicep` file is compiled with the Bicep CLI and read as the deployment template it makes
  (loader.bicep; without the CLI it is an error, AIB0014);
- other files are not read (scripts, READMEs);
- a link to a folder is followed; a folder reached a second time (a link back to a folder above it, a
  loop, or a second link to one folder) is not read again; a link to a file is read as the file;
- what cannot be read is an error (AIB0002), never skipped: a folder or file the system refuses, a link to
  nothing, and, without being opened for reading, a `.json` path that is not a regular file (a named pipe
  would wait forever, a device such as /dev/zero never ends) or larger than MAX_FILE_BYTES.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...diagnostics import Severity
from ..jsonc import JsonSyntaxError, load_jsonc
from ..model import CONFIG_FILE, StackConfig, StackFile
from .bicep import SUFFIX as BICEP_SUFFIX
from .loading import Loading, UnreadableFile, read_text, special_kind

RESOURCE_FILE = "a resource file"
BICEP_FILE = "a Bicep file (compiled with the Bicep CLI, then read as a deployment template)"
_NAMED = (
    (".parameters.json", "named like a parameters file (read only when given with --var-file)"),
    (".plan.json", "named like a saved plan (aibplan plan --out)"),
    (".state.json", "named like a state file"),
    (".state.json.backup", "named like a state file's backup"),
)
_JSON_LIKE = (".json", ".jsonc", ".json5")


def resource_files(root: Path, config: StackConfig, loading: Loading) -> Iterator[tuple[Path, str]]:
    """The stack's resource files, in order, each with its name relative to the stack folder (as
    `Path.relative_to` gives it); every other path is recorded in `loading.files` with the reason it is
    not read, and what cannot be read is reported."""
    special = {CONFIG_FILE: (True, "the stack's settings")}
    state = Path(config.state_file)
    if not state.is_absolute():
        special[state.as_posix()] = (False, "the state file (read as the state, not as resources)")
        special[state.as_posix() + ".backup"] = (False, "the state file's backup")
    try:
        top = os.stat(root)
    except OSError:
        return
    yield from _walk(root, "", loading, special, {_identity(top): ""}, ("",))


def _walk(
    folder: Path,
    prefix: str,
    loading: Loading,
    special: dict[str, tuple[bool, str]],
    seen: dict[tuple[int, int], str],
    above: tuple[str, ...],
) -> Iterator[tuple[Path, str]]:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        shown = prefix.rstrip("/") or "."
        _refuse(loading, shown + "/", f"cannot read the folder {shown}: {_reason(exc)}")
        return
    for entry in entries:
        path = prefix + entry.name
        if entry.name.startswith("."):
            _ignore(loading, path + ("/" if _is_dir(entry) else ""), "hidden")
            continue
        try:
            info = os.stat(entry.path)  # follows links
        except OSError as exc:
            link = f" (a link to {os.readlink(entry.path)})" if entry.is_symlink() else ""
            _refuse(loading, path, f"cannot read {path}{link}: {_reason(exc)}")
            continue
        linked = f" (a link to {os.readlink(entry.path)})" if entry.is_symlink() else ""
        if stat.S_ISDIR(info.st_mode):
            key = _identity(info)
            if key in seen:
                first = seen[key] or "the stack folder"
                why = "a link back to a folder above it (a loop)" if seen[key] in above else "a second way"
                _ignore(loading, path + "/", f"{why} to {first}, which is read once")
                continue
            seen[key] = path
            if linked:
                _record(loading, path + "/", True, f"a folder{linked}, followed")
            yield from _walk(Path(entry.path), path + "/", loading, special, seen, (*above, path))
            continue
        yield from _file(Path(entry.path), path, info, linked, loading, special)


def _file(
    file: Path,
    path: str,
    info: os.stat_result,
    linked: str,
    loading: Loading,
    special: dict[str, tuple[bool, str]],
) -> Iterator[tuple[Path, str]]:
    if path in special:
        read, why = special[path]
        _record(loading, path, read, why + linked)
        return
    name = path.rsplit("/", 1)[-1]
    if name.lower().endswith(BICEP_SUFFIX) and stat.S_ISREG(info.st_mode):
        _record(loading, path, True, BICEP_FILE + linked)
        yield file, _shown(path)
        return
    if not name.endswith(".json"):
        if name.lower().endswith(_JSON_LIKE) and stat.S_ISREG(info.st_mode):
            _ignore(loading, path, "not a .json file" + linked)
            _warn_if_resources(file, path, "only files ending in .json are read", loading)
        else:
            _ignore(loading, path, _not_json(info) + linked)
        return
    if not stat.S_ISREG(info.st_mode):
        _refuse(loading, path, f"cannot read {path}{linked}: it is {special_kind(info.st_mode)}, not a file")
        return
    for suffix, why in _NAMED:
        if name.endswith(suffix):
            _ignore(loading, path, why + linked)
            _warn_if_resources(file, path, f"its name ends in {suffix}", loading)
            return
    _record(loading, path, True, RESOURCE_FILE + linked)
    yield file, _shown(path)


def _shown(path: str) -> str:
    """A path of the walk (`/` between names) as the system writes it."""
    return path if os.sep == "/" else path.replace("/", os.sep)


def _warn_if_resources(file: Path, path: str, why: str, loading: Loading) -> None:
    """AIB0011 when a file left out for its name holds ARM resources: the user meant them to be managed."""
    try:
        data = load_jsonc(read_text(file), path)
    except (UnreadableFile, JsonSyntaxError, RecursionError):
        return
    if _holds_resources(data):
        loading.add(
            "AIB0011",
            Severity.WARNING,
            f"{path} holds resources but is not read: {why}",
            file=path,
            hint="rename it to NAME.json to manage its resources (a resource the state tracks and no file "
            "declares is destroyed by the next apply)",
        )


def _holds_resources(data: Any) -> bool:
    if isinstance(data, list):
        return any(_is_resource(item) for item in data)
    if not isinstance(data, dict):
        return False
    if data.get("kind") == "aibplan-saved-plan" or "lineage" in data:
        return False
    resources = data.get("resources")
    if isinstance(resources, dict):
        resources = list(resources.values())
    return _is_resource(data) or (isinstance(resources, list) and any(_is_resource(r) for r in resources))


def _is_resource(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("type"), str) and "/" in value["type"]


def _not_json(info: os.stat_result) -> str:
    if stat.S_ISREG(info.st_mode):
        return "not a .json file"
    return f"not a .json file ({special_kind(info.st_mode)})"


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _identity(info: os.stat_result) -> tuple[int, int]:
    return (info.st_dev, info.st_ino)


def _reason(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


def _record(loading: Loading, path: str, read: bool, reason: str) -> None:
    loading.files.append(StackFile(path, read, reason))


def _ignore(loading: Loading, path: str, reason: str) -> None:
    _record(loading, path, False, reason)


def _refuse(loading: Loading, path: str, message: str) -> None:
    _record(loading, path, False, "cannot be read (an error)")
    loading.add("AIB0002", Severity.ERROR, message, file=path)


def describe(files: list[StackFile]) -> str:
    """The listing `-v` shows: one line per path, read or ignored and why."""
    return "\n".join(f"{'read   ' if f.read else 'ignored'} {f.path}: {f.reason}" for f in files)
