"""Markdown for pull-request comments and `$GITHUB_STEP_SUMMARY`: plans and drift reports.

A summary line, a table of what changes and why, a Mermaid graph of the resources that change (coloured by
action), warnings, and the attribute changes folded in a <details> block. GitHub caps a comment at 65,536
characters, so the attribute details are cut short first when the document would be longer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ..diagnostics import Diagnostic, Severity, format_path
from ..plans.diff import AttributeDiff
from ..plans.drift import DriftKind, DriftReport, ResourceDrift
from ..plans.plan import Action, Change, Plan
from .drift import next_steps
from .graph import mermaid_id
from .json_plan import diagnostics_of
from .known_after_apply import KNOWN_AFTER_APPLY

MAX_LENGTH = 60_000
_VALUE_WIDTH = 80

_ACTION_WORD = {
    Action.CREATE: "`+` create",
    Action.UPDATE: "`~` update in place",
    Action.REPLACE: "`-/+` replace",
    Action.DELETE: "`-` destroy",
    Action.READ: "`<=` read",
    Action.NOOP: "moved in the state",
}
_CLASS = {
    Action.CREATE: "aibCreate",
    Action.UPDATE: "aibUpdate",
    Action.REPLACE: "aibReplace",
    Action.DELETE: "aibDelete",
    Action.READ: "aibRead",
    Action.NOOP: "aibRead",
}
_CLASS_DEFS = (
    "classDef aibCreate fill:#dafbe1,stroke:#1a7f37,color:#0d1117",
    "classDef aibUpdate fill:#fff8c5,stroke:#9a6700,color:#0d1117",
    "classDef aibReplace fill:#ffebe9,stroke:#cf222e,color:#0d1117,stroke-width:2px",
    "classDef aibDelete fill:#ffebe9,stroke:#82071e,color:#0d1117,stroke-dasharray:5",
    "classDef aibRead fill:#ddf4ff,stroke:#0969da,color:#0d1117",
)
_DRIFT_CLASS = {
    DriftKind.CHANGED: "aibUpdate",
    DriftKind.DELETED: "aibDelete",
    DriftKind.FAILED: "aibReplace",
    DriftKind.UNMANAGED: "aibRead",
}
_REASON_WORDS = {
    "new_in_configuration": "new in the configuration",
    "deleted_outside_aibplan": "deleted outside aibplan; created again",
    "update_in_place": "updated in place",
    "delete_because_not_in_configuration": "no longer in the configuration",
    "delete_because_destroy": "destroy",
}


def plan_to_markdown(plan: Plan) -> str:
    """The plan as a pull-request comment / job summary."""
    summary = plan.summary
    changes = [c for c in plan.changes if c.is_change]
    lines = ["## aibplan plan", ""]
    if plan.refresh_only:
        head = f"**Refresh-only plan:** {_drift_counts(plan.drift)}" if plan.drift else "**No drift.**"
    elif changes:
        head = (
            f"**Plan:** {summary.add} to add, {summary.change} to change, {summary.replace} to replace, "
            f"{summary.destroy} to destroy."
        )
    else:
        head = "**No changes.** The cloud matches the configuration."
    lines += [head, ""]
    if plan.environment is not None:
        lines += [f"Environment: {_code(plan.environment)}", ""]
    lines += [f"Provider: {_code(plan.provider)}"]
    if plan.targets:
        lines += ["", f"Resource targeting is in effect: {', '.join(_code(t) for t in plan.targets)}."]
    if plan.drift:
        lines += ["", "### Objects have changed outside of aibplan", ""]
        lines += _drift_table(plan.drift)
    if changes:
        lines += ["", "### Changes", "", "| Action | Resource | Why |", "| --- | --- | --- |"]
        for change in changes:
            lines.append(
                f"| {_ACTION_WORD[change.action]} | {_code(change.address)} | {_cell(_why(change))} |"
            )
        lines += ["", "```mermaid", *plan_mermaid(plan).rstrip("\n").split("\n"), "```"]
    lines += _warning_lines(diagnostics_of(plan))
    details = _details(changes)
    document = "\n".join(lines) + "\n"
    if details:
        room = MAX_LENGTH - len(document)
        document += _fit(details, room)
    return document


def drift_to_markdown(report: DriftReport) -> str:
    """The drift report as a job summary / issue comment."""
    lines = ["## aibplan drift", ""]
    if report.has_drift:
        lines.append(f"**Drift detected:** {_drift_counts(report.drift)}")
    else:
        lines.append(f"**No drift.** The cloud matches the state for all {report.checked} resource(s).")
    state = f"state serial {report.state_serial}" if report.state_serial is not None else "no state file yet"
    if report.environment is not None:
        lines += ["", f"Environment: {_code(report.environment)}"]
    lines += ["", f"Provider: {_code(report.provider)}; {state}; {report.checked} resource(s) checked."]
    if report.include_unmanaged:
        lines.append("Unmanaged resources of the managed kinds in the resource group are included.")
    if report.has_drift:
        lines += ["", *_drift_table(report.drift)]
        lines += ["", "```mermaid", *drift_mermaid(report.drift).rstrip("\n").split("\n"), "```"]
        lines += ["", " ".join(next_steps(report, _code))]
    lines += _warning_lines(report.warnings)
    document = "\n".join(lines) + "\n"
    details = _drift_details(report.drift)
    return document + (_fit(details, MAX_LENGTH - len(document)) if details else "")


def plan_mermaid(plan: Plan) -> str:
    """A flowchart of the resources that change, an arrow from each to what needs it, coloured by action."""
    changes = [c for c in plan.changes if c.is_change]
    shown = {c.address for c in changes}
    lines = ["flowchart LR"]
    for change in changes:
        lines.append(f'  {mermaid_id(change.address)}["{_label(change.address)}<br/>{change.action.value}"]')
    edges: set[tuple[str, str]] = set()
    for change in changes:
        deps = change.old_depends_on if change.action is Action.DELETE else change.depends_on
        for dep in deps:
            if dep in shown:
                edges.add((dep, change.address))
    for before, after in sorted(edges):
        lines.append(f"  {mermaid_id(before)} --> {mermaid_id(after)}")
    lines.extend(f"  {line}" for line in _CLASS_DEFS)
    for change in changes:
        lines.append(f"  class {mermaid_id(change.address)} {_CLASS[change.action]}")
    return "\n".join(lines) + "\n"


def drift_mermaid(drift: Sequence[ResourceDrift]) -> str:
    shown = {d.address for d in drift}
    lines = ["flowchart LR"]
    for item in drift:
        lines.append(f'  {mermaid_id(item.address)}["{_label(item.address)}<br/>{item.drift.value}"]')
    for item in drift:
        for dep in item.dependencies:
            if dep in shown:
                lines.append(f"  {mermaid_id(dep)} --> {mermaid_id(item.address)}")
    lines.extend(f"  {line}" for line in _CLASS_DEFS)
    for item in drift:
        lines.append(f"  class {mermaid_id(item.address)} {_DRIFT_CLASS[item.drift]}")
    return "\n".join(lines) + "\n"


# -- pieces -----------------------------------------------------------------------------------------------


def _drift_counts(drift: Sequence[ResourceDrift]) -> str:
    parts = []
    for kind in DriftKind:
        n = sum(d.drift is kind for d in drift)
        if n:
            parts.append(f"{n} {kind.value}")
    return ", ".join(parts) + "."


def _drift_table(drift: Sequence[ResourceDrift]) -> list[str]:
    lines = ["| Resource | Drift | What |", "| --- | --- | --- |"]
    for item in drift:
        if item.drift is DriftKind.CHANGED:
            what = "<br>".join(_diff_summary(d) for d in item.attribute_diffs[:5])
            if len(item.attribute_diffs) > 5:
                what += f"<br>… and {len(item.attribute_diffs) - 5} more"
        else:
            what = _cell(item.message)
        lines.append(f"| {_code(item.address)} | {item.drift.value} | {what} |")
    return lines


def _why(change: Change) -> str:
    return _reason(change) + _known_after_apply(change)


def _reason(change: Change) -> str:
    if change.reasons:
        return "; ".join(change.reasons)
    if change.action is Action.UPDATE:
        paths = ", ".join(format_path(d.path) for d in change.attribute_diffs[:4])
        more = "…" if len(change.attribute_diffs) > 4 else ""
        return f"updated in place: {paths}{more}"
    return _REASON_WORDS.get(change.action_reason or "", change.action_reason or "")


def _known_after_apply(change: Change) -> str:
    if not change.after_unknown:
        return ""
    paths = ", ".join(format_path(p) for p in change.after_unknown[:4])
    more = "…" if len(change.after_unknown) > 4 else ""
    return f"; known after apply: {paths}{more}"


def _warning_lines(diagnostics: Iterable[Diagnostic]) -> list[str]:
    found = [d for d in diagnostics if d.severity is not Severity.INFO]
    if not found:
        return []
    lines = ["", "### Warnings", ""]
    for d in found:
        where = f" {_code(d.address)}" if d.address else ""
        text = f"- **{d.severity.value} {d.code}**{where}: {_inline_text(d.message)}"
        if d.hint:
            text += f" _Hint: {_inline_text(d.hint)}_"
        lines.append(text)
    return lines


def _details(changes: Sequence[Change]) -> str:
    blocks = []
    for change in changes:
        if not change.attribute_diffs or change.action in (Action.CREATE, Action.DELETE):
            continue
        rows = ["| Attribute | Before | After | |", "| --- | --- | --- | --- |"]
        for diff in change.attribute_diffs:
            note = "forces replacement" if diff.forces_replacement else ""
            rows.append(
                f"| {_code(format_path(diff.path))} | {_value(diff.before, diff.before_present)} | "
                f"{_after(diff)} | {note} |"
            )
        blocks.append(f"#### {_code(change.address)} ({change.action.value})\n\n" + "\n".join(rows))
    if not blocks:
        return ""
    return "\n<details><summary>Attribute changes</summary>\n\n" + "\n\n".join(blocks) + "\n\n</details>\n"


def _drift_details(drift: Sequence[ResourceDrift]) -> str:
    blocks = []
    for item in drift:
        if not item.attribute_diffs:
            continue
        rows = ["| Attribute | In the state | In the cloud |", "| --- | --- | --- |"]
        for diff in item.attribute_diffs:
            rows.append(
                f"| {_code(format_path(diff.path))} | {_value(diff.before, diff.before_present)} | "
                f"{_value(diff.after, diff.after_present)} |"
            )
        blocks.append(f"#### {_code(item.address)}\n\n" + "\n".join(rows))
    if not blocks:
        return ""
    return "\n<details><summary>Attribute changes</summary>\n\n" + "\n\n".join(blocks) + "\n\n</details>\n"


def _fit(details: str, room: int) -> str:
    if len(details) <= room:
        return details
    note = "\n_(Attribute details cut short; the full plan is in the job log or `--json`.)_\n"
    return "" if room < len(note) + 200 else note


def _diff_summary(diff: AttributeDiff) -> str:
    return f"{_code(format_path(diff.path))}: {_value(diff.before, diff.before_present)} → {_after(diff)}"


def _after(diff: AttributeDiff) -> str:
    return f"_{KNOWN_AFTER_APPLY}_" if diff.after_unknown else _value(diff.after, diff.after_present)


def _value(value: Any, present: bool) -> str:
    if not present:
        return "_(absent)_"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(text) > _VALUE_WIDTH:
        text = text[: _VALUE_WIDTH - 1] + "…"
    return _code(text)


def _label(address: str) -> str:
    """A Mermaid label: no double quotes (they end the label) and no characters Mermaid reads as markup."""
    return re.sub(r'["<>{}\[\]|`#;]', "_", address)


def _code(text: str) -> str:
    """An inline code span that survives backticks and table pipes in the text."""
    text = text.replace("\n", " ").replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    return _inline_text(text).replace("|", "\\|")


def _inline_text(text: str) -> str:
    """Plain text in a Markdown line: no line breaks, no accidental HTML or emphasis."""
    text = text.replace("\r", " ").replace("\n", " ")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([*_\\\[\]])", r"\\\1", text)
