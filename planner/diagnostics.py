"""The one Diagnostic type that validators, the loader and the planner return, and EngineError.

Only bugs raise; everything a user can cause in a stack ends as a Diagnostic with a code, a place and,
where it helps, a hint about what to do next. What stops a command outside the stack's files (a state
that cannot be read, a lock held, a bad setting) is an EngineError: one line for the user.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from state.redact import redact_text

JsonPath = tuple[str | int, ...]


class EngineError(Exception):
    """A problem the user can fix, said in one line."""


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Diagnostic:
    """A finding about the user's input: what, where (file/line/column and address/JSON path) and a hint."""

    code: str
    severity: Severity
    message: str
    address: str | None = None
    path: JsonPath = ()
    file: str | None = None
    line: int | None = None
    column: int | None = None
    hint: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        # A message may quote a value from the stack: one that is a secret is shown as its fingerprint.
        object.__setattr__(self, "message", redact_text(self.message))
        if self.hint is not None:
            object.__setattr__(self, "hint", redact_text(self.hint))

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "address": self.address,
            "path": format_path(self.path) if self.path else None,
            "hint": self.hint,
        }


def format_path(path: JsonPath) -> str:
    """Render a JSON path the way users read it: properties.customize[0].inline[1]."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif out:
            out.append(f".{part}")
        else:
            out.append(str(part))
    return "".join(out)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def error(code: str, message: str, **kwargs: object) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, **kwargs)  # type: ignore[arg-type]


def warning(code: str, message: str, **kwargs: object) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, **kwargs)  # type: ignore[arg-type]


def sort_key(d: Diagnostic) -> tuple[str, int, int, str, str]:
    return (d.file or "", d.line or 0, d.column or 0, d.code, d.message)
