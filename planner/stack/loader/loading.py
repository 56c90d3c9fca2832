"""One load in progress: the files it read, the resources it made and the diagnostics it found, placed at
the end at their file, line and column."""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ...diagnostics import Diagnostic, JsonPath, Severity
from ..expressions import Evaluator, ExpressionError, Scope
from ..jsonc import JsonSyntaxError, load_jsonc
from ..locate import Locator
from ..model import Resource, StackFile, UnmanagedResource

# The largest stack file read (aibplan.json, a resource file, a parameters file): a JSON resource file is
# kilobytes; anything near this is a mistake (a log, a disk image, a link to /dev/zero) that would use
# gigabytes of memory once parsed.
MAX_FILE_BYTES = 64 << 20
# A `copy` key: a file holding one is evaluated even without an expression (a property loop's literal count).
_LOOP = re.compile(r'"copy"\s*:', re.IGNORECASE)


# What body_json writes: keys sorted; a dataclass, a date or anything else that is not JSON as its str().
_BODY_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
_BODY_ENCODER = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))


def body_json(value: Any) -> str:
    """`value` as the JSON text the stack's inputs hash is made of (and the loader looks for expressions
    in): compact, keys sorted, what is not JSON as its str(). orjson writes it; json writes the same text
    where orjson cannot: an integer beyond 64 bits, nesting deeper than 254, and a float that is not
    finite (orjson writes it as null, so a text with a null is written by json)."""
    try:
        text = orjson.dumps(value, default=str, option=_BODY_OPTIONS)
    except TypeError:
        return _BODY_ENCODER.encode(value)
    if b"null" in text:
        return _BODY_ENCODER.encode(value)
    return text.decode()


@dataclass(frozen=True)
class DeclaredLoop:
    """Where a resource copy loop's name was declared (loader.copies checks names once every file is read)."""

    name: str
    file: str
    pointer: JsonPath


@dataclass
class Loading:
    """A load in progress: the files it read and what it learned of them, the resources it made and the
    diagnostics it found."""

    root: Path
    # Each diagnostic with the JSON path of the object its `path` is relative to (the resource, or the file).
    diagnostics: list[tuple[Diagnostic, JsonPath]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)
    unmanaged: list[UnmanagedResource] = field(default_factory=list)
    # Every path in the stack folder, read or ignored and why (stack.loader.files).
    files: list[StackFile] = field(default_factory=list)
    # Files with no expression (no string starting with '[') and no '<' at all: nothing to evaluate or scan.
    plain: set[str] = field(default_factory=set)
    # How many strings starting with '[' each file has (resources.py looks for the plain resources of a
    # file with few of them).
    expressions: dict[str, int] = field(default_factory=dict)
    no_angle_brackets: set[str] = field(default_factory=set)
    # Files with a `"copy":` key somewhere: only their properties are searched for property loops.
    with_copy: set[str] = field(default_factory=set)
    # A file validated alone: per file, what may be missing ("parameter 'x'", "the subscription id") and why.
    alone: bool = False
    unknown: dict[str, frozenset[str]] = field(default_factory=dict)
    unknown_why: dict[tuple[str, str], str] = field(default_factory=dict)
    # (file, what is missing) -> where it was needed: (resource pointer, path, address)
    missing: dict[tuple[str, str], list[tuple[JsonPath, JsonPath, str | None]]] = field(default_factory=dict)
    # Every resource copy loop read (loader.copies), those with no instance too.
    copy_loops: list[DeclaredLoop] = field(default_factory=list)
    # Parameter names the templates declare and the resource files read (a value for another is AIB0012).
    declared_parameters: set[str] = field(default_factory=set)
    # The evaluator of the resource files that are not deployment templates, by scope: one for them all,
    # as they read the same parameters in the same scope and declare no variables (a template has its own,
    # and with no secure parameter declared none of them ever holds a secret).
    evaluators: dict[Scope, Evaluator] = field(default_factory=dict)

    def add(
        self,
        code: str,
        severity: Severity,
        message: str,
        file: str,
        path: JsonPath = (),
        *,
        pointer: JsonPath = (),
        **kw: Any,
    ) -> None:
        self.diagnostics.append((Diagnostic(code, severity, message, file=file, path=path, **kw), pointer))


def placed(loading: Loading) -> list[Diagnostic]:
    """The diagnostics found, each at its file, line and column where its file was read."""
    locator = Locator(loading.texts)
    out = []
    for d, pointer in loading.diagnostics:
        if d.line is None and d.file in loading.texts:
            d = locator.place(d, d.file, pointer)
        out.append(d)
    return out


def has_loop(text: str) -> bool:
    """Whether JSON text has a `copy` key (any case): a property loop there is evaluated."""
    return _LOOP.search(text) is not None


def rel(root: Path, file: Path) -> str:
    try:
        return str(file.relative_to(root))
    except ValueError:
        return str(file)


class UnreadableFile(Exception):
    """A file that is not read: not a regular file, too large, or refused by the system (the message)."""


def read_text(file: Path) -> str:
    """A stack file's text (UTF-8, a BOM allowed), refused up front when it is not a regular file (a FIFO
    would block the read forever, a device such as /dev/zero never ends) or larger than MAX_FILE_BYTES.
    The check is made on the opened file, so a file swapped for another between a look and the read is
    still caught; opening does not wait for a FIFO's writer."""
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise UnreadableFile(_os_reason(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"it is {special_kind(info.st_mode)}, not a file")
        if info.st_size > MAX_FILE_BYTES:
            limit = _size(MAX_FILE_BYTES)
            raise UnreadableFile(f"it is {_size(info.st_size)}; a stack file may hold {limit} at most")
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_FILE_BYTES:
                raise UnreadableFile(f"it grew past {_size(MAX_FILE_BYTES)} while it was read")
    except OSError as exc:
        raise UnreadableFile(_os_reason(exc)) from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"it is not UTF-8 text (byte {exc.start}: {exc.reason})") from None


def special_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    for test, words in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return words
    return "a special file"


def _os_reason(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


def _size(count: int) -> str:
    return f"{count / (1 << 20):.0f} MiB" if count >= 1 << 20 else f"{count} bytes"


def read_json(file: Path, shown: str, loading: Loading) -> Any:
    """The file's JSON (comments allowed), its text kept for placing diagnostics; None when it cannot be read
    or parsed (reported)."""
    try:
        text = read_text(file)
    except UnreadableFile as exc:
        loading.add("AIB0002", Severity.ERROR, f"cannot read {shown}: {exc}", file=shown)
        return None
    loading.texts[shown] = text
    looped = _LOOP.search(text) is not None
    if looped:
        loading.with_copy.add(shown)
    loading.expressions[shown] = text.count('"[')
    if not loading.expressions[shown] and not looped:
        loading.plain.add(shown)
    if "<" not in text:
        loading.no_angle_brackets.add(shown)
    try:
        return load_jsonc(text, shown)
    except JsonSyntaxError as exc:
        loading.diagnostics.append(
            (
                Diagnostic(
                    "AIB0001",
                    Severity.ERROR,
                    exc.message,
                    file=shown,
                    line=exc.line,
                    column=exc.column,
                    hint="fix the JSON syntax at this position",
                ),
                (),
            )
        )
        return None


def expression_diagnostic(
    exc: ExpressionError, shown: str, pointer: JsonPath, loading: Loading, address: str | None = None
) -> None:
    hint = None
    if exc.function:
        hint = "write the value literally or pass it as a parameter"
    loading.add(
        exc.code or "AIB0004",
        Severity.ERROR,
        str(exc.message),
        file=shown,
        path=tuple(exc.path),
        pointer=pointer,
        address=address,
        hint=hint,
    )
