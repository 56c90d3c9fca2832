"""Views of builds: `run` and `cancel` results (text), `output` (text, JSON)."""

from __future__ import annotations

from ..operations.results import BuildsResult, OutputsResult
from ..render.builds import outputs_to_json, render_outputs, render_results
from .base import JsonRejection, Shown, TextRejection, View, document


class BuildsText(TextRejection):
    def __init__(self, title: str, color: bool = False) -> None:
        self.title = title
        self.color = color

    def show(self, result: BuildsResult) -> Shown:
        err = "".join(f"Warning: {line}\n" for line in result.missed)
        err += "".join(f"Warning: {line}\n" for line in result.stale_dependents)
        if result.report.interrupted:
            err += "Interrupted: builds already started go on in the cloud; `aibplan cancel` stops them.\n"
        return Shown(out=render_results(result.report.outcomes, color=self.color, title=self.title), err=err)


class OutputsText(TextRejection):
    def __init__(self, color: bool = False) -> None:
        self.color = color

    def show(self, result: OutputsResult) -> Shown:
        err = _problems(result)
        if not result.templates:
            return Shown(
                err=err + "No image template of this stack has been created yet; run `aibplan apply` first.\n"
            )
        return Shown(out=render_outputs(result.templates, color=self.color), err=err)


class OutputsJson(JsonRejection):
    def show(self, result: OutputsResult) -> Shown:
        return Shown(
            out=document(outputs_to_json(result.templates, refreshed=result.refreshed)), err=_problems(result)
        )


def _problems(result: OutputsResult) -> str:
    return "".join(f"Error: {line}\n" for line in result.errors) + "".join(
        f"Warning: {line}\n" for line in result.missed
    )


def outputs_view(fmt: str, *, color: bool) -> View[OutputsResult]:
    return OutputsJson() if fmt == "json" else OutputsText(color)
