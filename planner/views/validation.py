"""Views of `aibplan validate`: text (diagnostics on stderr, a verdict on stdout), JSON, SARIF 2.1.0."""

from __future__ import annotations

import json

from ..diagnostics import has_errors
from ..render.human import render_diagnostics, render_suppressed, summary_counts
from ..render.json_plan import suppressed_to_json
from ..render.sarif import render_sarif
from ..rules.registry import ALL_RULES
from ..rules.validate import Validation
from .base import Shown, TextRejection, View


class ValidationText(TextRejection):
    def __init__(self, color: bool = False) -> None:
        self.color = color

    def show(self, result: Validation) -> Shown:
        counts = summary_counts(result.diagnostics)
        verdict = "Failed:" if has_errors(result.diagnostics) else "Success!"
        off = f", {len(result.suppressed)} suppressed" if result.suppressed else ""
        said = render_diagnostics(result.diagnostics, color=self.color)
        return Shown(
            out=f"{verdict} {result.resources} resource(s) checked: {counts['errors']} error(s), "
            f"{counts['warnings']} warning(s){off}.\n",
            err=said + render_suppressed(result.suppressed),
            err_first=True,
        )


class ValidationJson(TextRejection):
    def show(self, result: Validation) -> Shown:
        document = {
            "format_version": "1",
            "diagnostics": [d.to_json() for d in result.diagnostics],
            "suppressed": [suppressed_to_json(item) for item in result.suppressed],
            "summary": {**summary_counts(result.diagnostics), "suppressed": len(result.suppressed)},
        }
        return Shown(out=json.dumps(document, indent=2) + "\n")


class ValidationSarif(TextRejection):
    def show(self, result: Validation) -> Shown:
        return Shown(
            out=json.dumps(
                render_sarif(result.diagnostics, ALL_RULES, base=result.base, suppressed=result.suppressed),
                indent=2,
            )
            + "\n"
        )


def validation_view(fmt: str, *, color: bool) -> View[Validation]:
    """`text`, `json` or `sarif`."""
    if fmt == "json":
        return ValidationJson()
    if fmt == "sarif":
        return ValidationSarif()
    return ValidationText(color)
