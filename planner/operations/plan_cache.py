"""A plan that proposes nothing, kept so the same plan asked again is answered after reading the cloud only.

A CI job that checks for drift (`aibplan plan --detailed-exitcode`) asks the same question many times a day,
and almost every answer is "No changes". A plan is a function of what it reads: the stack's files, the
state, the cloud's answers, the options it was asked with, aibplan's own code and its environment. When
a plan finds nothing to change, it is kept in the runtime folder (`.aibplan/[ENV/]plan-cache.json`) with:

- a key made of aibplan's version and the hash of all of its source (planner/, providers/, state/), the
  Python version, the stack folder, every option of the request (`--var` values as HMACs, as the rules'
  cache keeps them), and the AIBPLAN_* and AZURE_* environment variables (as HMACs);
- the stack folder as the loader walks it (every name it sees, what each is, where a link points) with
  the content hash of every file whose name the loader could read (`.json`, `.jsonc`, `.json5`,
  `.bicep`), and of the environment's and the `--var-file` parameter files;
- the hash of the state's text, as its backend gives it;
- every call the plan made to the cloud (which method, which arguments) and a hash of each answer.

The next plan checks all of that in order: the key, the folder, the state, then it makes the same calls to
the cloud again and compares each answer. Only when every one is the same is the kept plan the answer; at
the first difference the plan is made in full (and kept again if it proposes nothing). The cloud is read
every time, as a refreshed plan must; what is saved is loading, validating, normalising and comparing.

What is never kept: a plan with changes (an apply follows it, and changes the state), a saved plan
(`--out`), a plan that said something on its way (a lock held, a journal reconciled, a retry), a plan
that asked what other git branches applied, a stack with a Bicep file (the Bicep CLI is an input), with
`utcNow()` or `newGuid()` (a new value each time), or whose load marked secret values. The file holds the
plan as a saved plan does (already redacted, without request bodies), never the stack's text. A file
that cannot be read, or that holds anything else, is ignored; writing is best effort and atomic.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import itertools
import json
import logging
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from providers.base import Provider, ProviderError, ResourceRef
from state.redact import known_secrets
from state.store import write_cache

from ..diagnostics import EngineError
from ..hooks import Hooks
from ..plans.codec import CodecError, decode
from ..plans.plan import Change, Plan
from ..settings import environment
from ..stack.model import Stack
from .read_only import PlanRequest

CACHE_FILE = "plan-cache.json"
FORMAT = 2
_LOG = logging.getLogger("aibplan.plan_cache")
_HMAC_KEY = b"aibplan plan cache v1"
_SOURCES = ("planner", "providers", "state")
_ENVIRONMENT_PREFIXES = ("AIBPLAN_", "AZURE_")
# Names the loader reads (loader.files); other files count by name and kind only.
_READ_SUFFIXES = (".json", ".jsonc", ".json5", ".bicep")
_NOT_CACHED_FUNCTIONS = (b"utcnow", b"newguid")
# A recorded answer that is the provider's own hash of it (`read_many_fingerprint`), not the answer's.
_FINGERPRINT = "fingerprint:"


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """aibplan's version and the fingerprint of its source: any change of the code is another key."""
    from planner import __version__

    return f"{__version__}+{source_fingerprint(Path(__file__).resolve().parents[2])}"


def source_fingerprint(top: Path) -> str:
    """The name, size and modification time of every source file under `top`'s packages: what Python itself
    checks before it uses a compiled module (reading them all would cost more than the rest of a cached
    plan)."""
    digest = hashlib.sha256()
    for source in _SOURCES:
        for folder, subfolders, names in os.walk(top / source):
            subfolders.sort()
            for name in sorted(names):
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    info = os.stat(path)
                    where = os.path.relpath(path, top)
                    digest.update(f"{where}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _fingerprint(value: str) -> str:
    return hmac.new(_HMAC_KEY, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def request_key(request: PlanRequest, root: Path, environ: Mapping[str, str]) -> str:
    """The hash of what the plan was asked (options, variables, environment variables) and of the code."""
    stack = request.stack
    parts = {
        "format": FORMAT,
        "code": code_version(),
        "python": list(sys.version_info[:3]),
        "root": str(root),
        "variables": [[name, _fingerprint(value)] for name, value in stack.variables],
        "var_files": [str(file) for file in stack.var_files],
        "provider": stack.provider,
        "environment": stack.environment,
        "refresh": request.refresh,
        "destroy": request.destroy,
        "refresh_only": request.refresh_only,
        "targets": list(request.targets),
        "replace": list(request.replace),
        "environ": sorted(
            [name, _fingerprint(value)]
            for name, value in environ.items()
            if name.startswith(_ENVIRONMENT_PREFIXES)
        ),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class _Folder:
    """The stack folder as the loader walks it (loader.files: names in order, hidden names not entered,
    links followed, a folder reached twice read once), each read-like file's content hashed."""

    def __init__(self, root: Path, skip: frozenset[str]) -> None:
        self.root = root
        self.skip = skip
        self.digest = hashlib.sha256()
        self.bicep = False
        self.volatile = False

    def walk(self, *, scan: bool) -> None:
        try:
            top = os.stat(self.root)
        except OSError as exc:
            self.digest.update(f"unreadable {exc.errno}\n".encode())
            return
        self._folder(self.root, "", {(top.st_dev, top.st_ino)}, scan)

    def _folder(self, folder: Path, prefix: str, seen: set[tuple[int, int]], scan: bool) -> None:
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            self.digest.update(f"{prefix}: unreadable {exc.errno}\n".encode())
            return
        for entry in entries:
            path = prefix + entry.name
            if entry.name.startswith("."):
                self.digest.update(f"{path}: hidden\n".encode())
                continue
            try:  # a link removed or changed while the folder is walked is an answer too, never a traceback
                link = os.readlink(entry.path) if entry.is_symlink() else ""
                info = os.stat(entry.path)
            except OSError as exc:
                self.digest.update(f"{path}: unreadable {exc.errno}\n".encode())
                continue
            kind = stat.S_IFMT(info.st_mode)
            self.digest.update(f"{path} -> {link}: {kind}\n".encode())
            if stat.S_ISDIR(info.st_mode):
                identity = (info.st_dev, info.st_ino)
                if identity not in seen:
                    seen.add(identity)
                    self._folder(Path(entry.path), path + "/", seen, scan)
                continue
            lower = entry.name.lower()
            if lower.endswith(".bicep"):
                self.bicep = True
            if stat.S_ISREG(info.st_mode) and lower.endswith(_READ_SUFFIXES) and path not in self.skip:
                self._content(Path(entry.path), scan)

    def _content(self, file: Path, scan: bool) -> None:
        try:
            data = file.read_bytes()
        except OSError as exc:
            self.digest.update(f"unreadable {exc.errno}\n".encode())
            return
        self.digest.update(hashlib.sha256(data).digest())
        if scan and not self.volatile:
            lowered = data.lower()
            self.volatile = any(name in lowered for name in _NOT_CACHED_FUNCTIONS)


def _files_key(stack: Stack, request: PlanRequest, *, scan: bool) -> tuple[str, bool]:
    """(the hash of the stack's files and parameter files, whether they may be kept: no Bicep file, no
    function that gives another value each time)."""
    state_file = Path(stack.config.state_file)
    skip = frozenset({state_file.as_posix(), state_file.as_posix() + ".backup"})
    folder = _Folder(stack.root, skip if not state_file.is_absolute() else frozenset())
    folder.walk(scan=scan)
    own = [stack.root / stack.config.parameter_file] if stack.config.parameter_file else []
    for file in [*own, *request.stack.var_files]:
        folder.digest.update(f"parameters {file}\n".encode())
        folder._content(Path(file), scan)
    return folder.digest.hexdigest(), not folder.bicep and not folder.volatile


def _state_key(text: str | None) -> str:
    return "none" if text is None else hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# -- the cloud's answers --------------------------------------------------------------------------------


def _answer_digest(outcome: Any) -> str:
    text = json.dumps(outcome, ensure_ascii=False, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _error(exc: ProviderError) -> list[Any]:
    return ["error", type(exc).__name__, exc.code, exc.status, str(exc)]


def _ref(ref: ResourceRef) -> list[str]:
    return [ref.arm_id, ref.arm_type, ref.api_version]


class RecordingProvider:
    """A provider that passes every call on and notes each read with a hash of its answer; a write, or a
    use it does not know, makes the plan one that is not kept."""

    def __init__(self, inner: Provider) -> None:
        self._inner = inner
        self.name = inner.name
        self.calls: list[list[Any]] = []
        self.keepable = True

    def _call(self, method: str, arguments: list[Any], call: Callable[[], Any]) -> Any:
        try:
            answer = call()
        except ProviderError as exc:
            self.calls.append([method, arguments, _answer_digest(_error(exc))])
            raise
        self.calls.append([method, arguments, _answer_digest(["ok", answer])])
        return answer

    def describe(self) -> str:
        return self._call("describe", [], self._inner.describe)  # type: ignore[no-any-return]

    def read(self, ref: ResourceRef) -> Any:
        return self._call("read", [_ref(ref)], lambda: self._inner.read(ref))

    def read_many(self, refs: Iterable[ResourceRef]) -> Mapping[str, Any]:
        refs = list(refs)
        arguments = [[_ref(r) for r in refs]]
        fingerprinted = getattr(self._inner, "read_many_fingerprinted", None)
        if fingerprinted is not None:
            # The answer and its hash made from the same rows (the local cloud): one reading, not three.
            answer, digest = fingerprinted(refs)
            self.calls.append(["read_many", arguments, _FINGERPRINT + digest])
            return answer  # type: ignore[no-any-return]
        fingerprint = getattr(self._inner, "read_many_fingerprint", None)
        if fingerprint is None:
            return self._call("read_many", arguments, lambda: self._inner.read_many(refs))  # type: ignore[no-any-return]
        # A provider that can say what it would answer without reading the bodies (the local cloud) is
        # asked before and after: a change in between would leave a hash the answer was not made from.
        try:
            before = fingerprint(refs)
        except Exception:  # the plan does not depend on it: only this plan is not kept
            self.keepable = False
            return self._inner.read_many(refs)
        answer = self._inner.read_many(refs)
        try:
            after = fingerprint(refs)
        except Exception:
            after = None
        if after is None or after != before:
            self.keepable = False
        self.calls.append(["read_many", arguments, _FINGERPRINT + str(after)])
        return answer

    def list_run_outputs(self, ref: ResourceRef) -> list[Any]:
        return self._call(  # type: ignore[no-any-return]
            "list_run_outputs", [_ref(ref)], lambda: self._inner.list_run_outputs(ref)
        )

    def list_resources(self, subscription: str, resource_group: str) -> list[Any]:
        return self._call(  # type: ignore[no-any-return]
            "list_resources",
            [subscription, resource_group],
            lambda: self._inner.list_resources(subscription, resource_group),
        )

    def list_role_assignments(self, scope: str, principal_id: str | None = None) -> list[Any]:
        return self._call(  # type: ignore[no-any-return]
            "list_role_assignments",
            [scope, principal_id],
            lambda: self._inner.list_role_assignments(scope, principal_id),
        )

    def create(self, ref: ResourceRef, body: Any) -> Any:
        self.keepable = False
        return self._inner.create(ref, body)

    def update(self, ref: ResourceRef, patch: Any) -> Any:
        self.keepable = False
        return self._inner.update(ref, patch)

    def delete(self, ref: ResourceRef) -> None:
        self.keepable = False
        self._inner.delete(ref)

    def invoke_action(self, ref: ResourceRef, action: str, body: Any = None) -> Any:
        self.keepable = False
        return self._inner.invoke_action(ref, action, body)

    def close(self) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        self.keepable = False
        return getattr(self._inner, name)


def _replay(provider: Provider, method: str, arguments: list[Any]) -> Any:
    if method == "describe":
        return provider.describe()
    if method == "read":
        return provider.read(ResourceRef(*arguments[0]))
    if method == "read_many":
        return provider.read_many([ResourceRef(*ref) for ref in arguments[0]])
    if method == "list_run_outputs":
        return provider.list_run_outputs(ResourceRef(*arguments[0]))
    if method == "list_resources":
        return provider.list_resources(arguments[0], arguments[1])
    if method == "list_role_assignments":
        return provider.list_role_assignments(arguments[0], arguments[1])
    raise ValueError(method)


def same_answers(provider: Provider, calls: Sequence[Any]) -> bool:
    """Whether the cloud answers every call as it did (stops at the first that differs)."""
    for method, arguments, digest in calls:
        if digest.startswith(_FINGERPRINT):
            fingerprint = getattr(provider, "read_many_fingerprint", None)
            now = fingerprint([ResourceRef(*ref) for ref in arguments[0]]) if fingerprint else None
            if now != digest[len(_FINGERPRINT) :]:
                _LOG.info("plan cache: the cloud answers %s differently", method)
                return False
            continue
        try:
            outcome = ["ok", _replay(provider, method, arguments)]
        except ProviderError as exc:
            outcome = _error(exc)
        if _answer_digest(outcome) != digest:
            _LOG.info("plan cache: the cloud answers %s differently", method)
            return False
    return True


# -- hooks that notice what a plan said --------------------------------------------------------------------


class WatchedHooks(Hooks):
    """The caller's hooks, noting whether the plan said anything on its way (a note, a retry): such a plan
    is not kept, since an answer from the cache would not say it again."""

    def __init__(self, inner: Hooks) -> None:
        self._inner = inner
        self.spoke = False

    def plan_ready(self, plan: Plan) -> None:
        self._inner.plan_ready(plan)

    def pre_apply(self, address: str, action: str) -> None:
        self.spoke = True
        self._inner.pre_apply(address, action)

    def post_apply(self, address: str, action: str, elapsed: float, error: BaseException | None) -> None:
        self.spoke = True
        self._inner.post_apply(address, action, elapsed, error)

    def skipped(self, address: str, action: str, reason: str) -> None:
        self.spoke = True
        self._inner.skipped(address, action, reason)

    def retrying(self, address: str, action: str, attempt: int, delay: float, error: BaseException) -> None:
        self.spoke = True
        self._inner.retrying(address, action, attempt, delay, error)

    def message(self, text: str) -> None:
        self.spoke = True
        self._inner.message(text)

    def build_progress(self, address: str, run_state: str, sub_state: str, elapsed: float) -> None:
        self.spoke = True
        self._inner.build_progress(address, run_state, sub_state, elapsed)

    def build_ended(self, address: str, result: str, elapsed: float, summary: str) -> None:
        self.spoke = True
        self._inner.build_ended(address, result, elapsed, summary)

    def build_skipped(self, address: str, reason: str) -> None:
        self.spoke = True
        self._inner.build_skipped(address, reason)


# -- the file -------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """orjson's fallback for plan data: a dataclass as its fields (a change without its request body,
    which only a create shows, and a kept plan has none), an enum as its value."""
    names = _FIELDS.get(type(value))
    if names is None:
        if not is_dataclass(value) or isinstance(value, type):
            raise TypeError(f"cannot keep a {type(value).__name__}")
        names = _FIELDS[type(value)] = tuple(
            f.name for f in fields(value) if not (type(value) is Change and f.name == "body")
        )
    return {name: getattr(value, name) for name in names}


_FIELDS: dict[type, tuple[str, ...]] = {}


def inputs_key(stack: Stack, request: PlanRequest, *, scan: bool) -> tuple[str, str, bool]:
    """(the request's key, the hash of the stack's files, whether they may be kept)."""
    files, keepable = _files_key(stack, request, scan=scan)
    return request_key(request, stack.root.resolve(), environment()), files, keepable


def cache_path(stack: Stack) -> Path:
    return stack.runtime_dir / CACHE_FILE


# The file is three lines of JSON, each read only when the one before it matched: what the plan was asked
# and read (the key, the files' and the state's hashes), the calls it made to the cloud with their answers'
# hashes, and the plan.


def keep(
    stack: Stack,
    request: PlanRequest,
    plan: Plan,
    state_text: str | None,
    recorder: RecordingProvider,
) -> None:
    """Keep `plan` for the next time (best effort), when it proposes nothing and may be kept."""
    if request.out is not None or plan.has_changes or not recorder.keepable or known_secrets():
        return
    key, files, keepable = inputs_key(stack, request, scan=True)
    if not keepable:
        return
    header = {"format": FORMAT, "key": key, "files": files, "state": _state_key(state_text)}
    try:
        calls = orjson.dumps(recorder.calls)
        rest = orjson.dumps(
            {name: value for name, value in _plain(plan).items() if name != "changes"},
            default=_plain,
            option=_OPTIONS,
        )
    except TypeError:  # a value that is not JSON (orjson's errors are TypeErrors): nothing is kept
        return
    lines = itertools.chain(
        [orjson.dumps(header), b"\n", calls, b"\n"], _plan_line(plan.changes, rest), [b"\n"]
    )
    with contextlib.suppress(TypeError):  # a value that is not JSON: nothing is kept
        write_cache(cache_path(stack), lines)


def _plan_line(changes: Sequence[Change], rest: bytes) -> Iterator[bytes]:
    """The plan as one JSON object, its changes written one at a time (a plan of 10,000 templates is
    tens of megabytes: never held whole)."""
    yield b'{"changes":['
    for index, change in enumerate(changes):
        if index:
            yield b","
        yield orjson.dumps(change, default=_plain, option=_OPTIONS)
    yield b"]" + (b"," + rest[1:] if rest != b"{}" else b"}")


# The kept plan is written and read with orjson: a plan of 5,600 templates is 16 MB of JSON, which the
# standard library encodes in about 0.25 s, orjson in about 0.07 s. Dataclasses go through `_plain` (a
# change is kept without its request body); enums are written as their values, tuples as lists; a key
# that is not text is written as text, as json.dumps writes it. orjson refuses integers beyond 64 bits
# (then nothing is kept), and writes NaN and the infinities as null: JSON has no such number (the stack's
# loader refuses them), so only a cloud that answered with one could put it in a plan.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


def answered(
    settings: Stack,
    request: PlanRequest,
    state_text: Callable[[], str | None],
    open_provider: Callable[[], Provider],
) -> Plan | None:
    """The kept plan when every input is as it was and the cloud answers every call as it did; else None.
    `state_text` reads the state's text (asked only when the request is the same)."""
    try:
        with cache_path(settings).open("rb") as handle:
            header = orjson.loads(handle.readline())
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                return None
            if header.get("key") != request_key(request, settings.root.resolve(), environment()):
                _LOG.info("plan cache: the options, the environment or aibplan changed")
                return None
            if header.get("state") != _state_key(state_text()):
                _LOG.info("plan cache: the state changed")
                return None
            if header.get("files") != _files_key(settings, request, scan=False)[0]:
                _LOG.info("plan cache: the stack's files changed")
                return None
            calls = orjson.loads(handle.readline())
            if not isinstance(calls, list) or not all(_call_shape(call) for call in calls):
                return None
            if not _same_answers_from(open_provider, calls):
                return None
            plan: Plan = decode(Plan, orjson.loads(handle.readline()))
    except (OSError, ValueError, RecursionError, CodecError):
        return None
    _LOG.info("plan cache: the stack, the state and the cloud are as the last plan found them")
    return plan if plan.stack_root == str(settings.root) else replace(plan, stack_root=str(settings.root))


def _same_answers_from(open_provider: Callable[[], Provider], calls: Sequence[Any]) -> bool:
    try:
        provider = open_provider()
    except EngineError:
        return False
    try:
        return same_answers(provider, calls)
    except Exception:  # any failure here is answered by making the plan in full
        return False
    finally:
        provider.close()


def _call_shape(call: Any) -> bool:
    return (
        isinstance(call, list)
        and len(call) == 3
        and isinstance(call[0], str)
        and isinstance(call[1], list)
        and isinstance(call[2], str)
    )
