"""Views of plans: `plan` (text, JSON, Markdown), `show PLANFILE` (text, JSON) and `drift` (text, JSON,
Markdown)."""

from __future__ import annotations

from ..operations.read_only import DriftResult, PlanResult, SavedPlanShown
from ..plans.plan import Plan
from ..render.drift import drift_report_to_json, render_drift_report
from ..render.human import render_plan
from ..render.json_plan import plan_to_json
from .base import JsonRejection, Shown, TextRejection, View, document


def _saved_note(result: PlanResult) -> str:
    if result.saved is None:
        return ""
    path = result.saved.path
    return f"\nSaved the plan to {path}. To apply exactly this plan, run: aibplan apply {path}\n"


class PlanText(TextRejection):
    def __init__(self, color: bool = False) -> None:
        self.color = color

    def plan(self, plan: Plan) -> str:
        return render_plan(plan, color=self.color)

    def show(self, result: PlanResult) -> Shown:
        return Shown(out=self.plan(result.plan), err=_saved_note(result))


class PlanJson(JsonRejection):
    def show(self, result: PlanResult) -> Shown:
        return Shown(out=document(plan_to_json(result.plan)), err=_saved_note(result))


class PlanMarkdown(TextRejection):
    def show(self, result: PlanResult) -> Shown:
        from ..render.markdown import plan_to_markdown  # with the graph module it needs: Markdown only

        return Shown(out=plan_to_markdown(result.plan), err=_saved_note(result))


def plan_view(fmt: str, *, color: bool) -> View[PlanResult]:
    """`text`, `json` or `markdown`."""
    if fmt == "json":
        return PlanJson()
    if fmt == "markdown":
        return PlanMarkdown()
    return PlanText(color)


class SavedPlanText(TextRejection):
    def __init__(self, color: bool = False) -> None:
        self.color = color

    def show(self, result: SavedPlanShown) -> Shown:
        saved = result.saved
        options = saved.options
        made = [f"Saved plan {result.path} (plan {saved.plan_id})", f"Stack: {saved.stack_root}"]
        asked = [
            flag
            for flag, given in (
                ("--destroy", options.destroy),
                ("--refresh-only", options.refresh_only),
                ("--no-refresh", not options.refresh),
            )
            if given
        ]
        asked += [f"--target {t}" for t in options.targets] + [f"--replace {r}" for r in options.replace]
        asked += [f"--var {name}=..." for name, _ in options.variables]
        asked += [f"--var-file {f}" for f in options.var_files]
        if asked:
            made.append("Made with: " + " ".join(asked))
        state = (
            f"serial {saved.plan.state_serial} of lineage {saved.plan.state_lineage}"
            if saved.plan.state_serial is not None
            else "no state file yet"
        )
        made.append(f"Made against: {state}")
        return Shown(out="\n".join(made) + "\n\n" + render_plan(saved.plan, color=self.color))


class SavedPlanJson(JsonRejection):
    def show(self, result: SavedPlanShown) -> Shown:
        return Shown(out=document(plan_to_json(result.saved.plan)))


def saved_plan_view(fmt: str, *, color: bool) -> View[SavedPlanShown]:
    """`text` or `json` (the same document `plan --json` prints)."""
    return SavedPlanJson() if fmt == "json" else SavedPlanText(color)


class DriftText(TextRejection):
    def __init__(self, color: bool = False) -> None:
        self.color = color

    def show(self, result: DriftResult) -> Shown:
        return Shown(out=render_drift_report(result.report, color=self.color))


class DriftJson(JsonRejection):
    def show(self, result: DriftResult) -> Shown:
        return Shown(out=document(drift_report_to_json(result.report)))


class DriftMarkdown(TextRejection):
    def show(self, result: DriftResult) -> Shown:
        from ..render.markdown import drift_to_markdown

        return Shown(out=drift_to_markdown(result.report))


def drift_view(fmt: str, *, color: bool) -> View[DriftResult]:
    """`text`, `json` or `markdown`."""
    if fmt == "json":
        return DriftJson()
    if fmt == "markdown":
        return DriftMarkdown()
    return DriftText(color)
