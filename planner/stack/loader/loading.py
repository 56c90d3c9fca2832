"""One load in progress: the files it read, the resources it made and the diagnostics it found, placed at
the end at their file, line and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...diagnostics import Diagnostic, JsonPath, Severity
from ..expressions import ExpressionError
from ..jsonc import JsonSyntaxError, load_jsonc
from ..locate import Locator
from ..model import Resource, UnmanagedResource


@dataclass
class Loading:
    root: Path
    # Each diagnostic with the JSON path of the object its `path` is relative to (the resource, or the file).
    diagnostics: list[tuple[Diagnostic, JsonPath]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)
    unmanaged: list[UnmanagedResource] = field(default_factory=list)
    # Files with no expression (no string starting with '[') and no '<' at all: nothing to evaluate or scan.
    plain: set[str] = field(default_factory=set)
    no_angle_brackets: set[str] = field(default_factory=set)
    # A file validated alone: per file, what may be missing ("parameter 'x'", "the subscription id") and why.
    alone: bool = False
    unknown: dict[str, frozenset[str]] = field(default_factory=dict)
    unknown_why: dict[tuple[str, str], str] = field(default_factory=dict)
    # (file, what is missing) -> where it was needed: (resource pointer, path, address)
    missing: dict[tuple[str, str], list[tuple[JsonPath, JsonPath, str | None]]] = field(default_factory=dict)

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


def rel(root: Path, file: Path) -> str:
    try:
        return str(file.relative_to(root))
    except ValueError:
        return str(file)


def read_json(file: Path, shown: str, loading: Loading) -> Any:
    """The file's JSON (comments allowed), its text kept for placing diagnostics; None when it cannot be read
    or parsed (reported)."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        loading.add("AIB0002", Severity.ERROR, f"cannot read {shown}: {exc}", file=shown)
        return None
    loading.texts[shown] = text
    if '"[' not in text:
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
        "AIB0004",
        Severity.ERROR,
        str(exc.message),
        file=shown,
        path=tuple(exc.path),
        pointer=pointer,
        address=address,
        hint=hint,
    )
