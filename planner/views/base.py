"""What every view shares: what it shows (`Shown`, stdout and stderr apart) and the stack's refusal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ..diagnostics import Diagnostic
from ..render.human import render_diagnostics, summary_counts

R_contra = TypeVar("R_contra", contravariant=True)


@dataclass(frozen=True)
class Shown:
    """Text for stdout (the result: one parseable document in the JSON views) and for stderr (notes,
    warnings, errors), each ending with a newline when not empty."""

    out: str = ""
    err: str = ""
    # Said before the result (validate's diagnostics, then its verdict).
    err_first: bool = False

    def __add__(self, other: Shown) -> Shown:
        return Shown(self.out + other.out, self.err + other.err, self.err_first or other.err_first)


class Rejecting(Protocol):
    def rejected(self, diagnostics: Sequence[Diagnostic]) -> Shown:
        """What to show when the stack's diagnostics stopped the operation."""
        ...


class View(Rejecting, Protocol[R_contra]):
    """How one kind of result is shown; each command chooses its view once, from its format option."""

    def show(self, result: R_contra) -> Shown: ...


def document(value: Any, *, ascii_only: bool = True) -> str:
    """A JSON document as the JSON views print it: sorted keys, two-space indent, a newline."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=ascii_only) + "\n"


class TextRejection:
    """Diagnostics on stderr, then how many errors stopped the way."""

    color = False

    def rejected(self, diagnostics: Sequence[Diagnostic]) -> Shown:
        errors = summary_counts(diagnostics)["errors"]
        return Shown(
            err=render_diagnostics(diagnostics, color=self.color)
            + f"Error: {errors} error(s) stop aibplan here; fix them and run again.\n"
        )


class JsonRejection(TextRejection):
    """The same on stderr, and on stdout the diagnostics as one JSON document, so stdout still parses."""

    def rejected(self, diagnostics: Sequence[Diagnostic]) -> Shown:
        doc = {
            "format_version": "1",
            "diagnostics": [d.to_json() for d in diagnostics],
            "summary": summary_counts(diagnostics),
        }
        return Shown(out=json.dumps(doc, indent=2) + "\n") + super().rejected(diagnostics)
