"""`aibplan drift` as text for people and as a versioned JSON document for CI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..plans.drift import DriftKind, DriftReport
from .human import Style, render_diagnostics, render_drift_section
from .json_plan import FORMAT_VERSION, drift_to_json


def render_drift_report(report: DriftReport, *, color: bool = False) -> str:
    s = Style(color)
    lines = [f"Provider: {report.provider}"]
    if report.environment is not None:
        lines.insert(0, f"Environment: {report.environment}")
    if report.state_serial is None:
        lines.append("State: no state file yet (nothing is managed)")
    else:
        lines.append(f"State: serial {report.state_serial}, {report.checked} resource(s) checked")
    lines.append("")
    if not report.has_drift:
        scope = " and no unmanaged resources in the resource group" if report.include_unmanaged else ""
        lines.append(s("No drift.", "bold") + f" The cloud matches the state{scope}.")
        return "\n".join(lines + _warnings(report, color)) + "\n"
    lines.extend(render_drift_section(report.drift, s))
    lines.append("")
    lines.append(s("Drift:", "bold") + " " + counts_sentence(report) + ".")
    lines.extend(next_steps(report, lambda command: command))
    return "\n".join(lines + _warnings(report, color)) + "\n"


def next_steps(report: DriftReport, command: Callable[[str], str]) -> list[str]:
    """What to do about the drift found, one sentence per sort of drift (`command` quotes a command line).

    Changed, deleted and failed resources go back with plan and apply, or are kept with a refresh-only
    apply; resources in no state are adopted with `import` (a refresh-only apply does nothing for them),
    after `generate` has written the files of those the stack does not declare yet."""
    kinds = {d.drift for d in report.drift}
    steps = []
    if kinds - {DriftKind.UNMANAGED}:
        steps.append(
            f"To put the cloud back as the configuration says, run {command('aibplan plan')} and "
            f"{command('aibplan apply')}. To keep the changes, update the configuration to match and run "
            f"{command('aibplan apply --refresh-only')}."
        )
    unmanaged = [d for d in report.drift if d.drift is DriftKind.UNMANAGED]
    declared = [d.address for d in unmanaged if d.declared]
    if declared:
        named = declared[0] if len(declared) == 1 else "ADDRESS"
        steps.append(
            f"To manage what the stack declares but the state does not track, run "
            f"{command(f'aibplan import {named}')} (or {command('aibplan import --all')})."
        )
    if len(declared) < len(unmanaged):
        steps.append(
            f"To manage the resources no stack declares, write their files with "
            f"{command('aibplan generate RESOURCE_ID... --out DIR')} (or by hand), then run "
            f"{command('aibplan import --all')}."
        )
    return steps


def _warnings(report: DriftReport, color: bool) -> list[str]:
    if not report.warnings:
        return []
    return ["", *render_diagnostics(report.warnings, color=color).rstrip("\n").split("\n")]


def counts_sentence(report: DriftReport) -> str:
    parts = [
        f"{report.count(DriftKind.CHANGED)} changed",
        f"{report.count(DriftKind.DELETED)} deleted",
        f"{report.count(DriftKind.FAILED)} failed",
    ]
    if report.include_unmanaged:
        parts.append(f"{report.count(DriftKind.UNMANAGED)} unmanaged")
    return ", ".join(parts)


def drift_report_to_json(report: DriftReport) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "provider": report.provider,
        "state": {"lineage": report.state_lineage, "serial": report.state_serial},
        "checked": report.checked,
        "include_unmanaged": report.include_unmanaged,
        "has_drift": report.has_drift,
        "drift": [drift_to_json(d) for d in report.drift],
        "summary": {kind.value: report.count(kind) for kind in DriftKind},
        "diagnostics": [d.to_json() for d in report.warnings],
        **({"environment": report.environment} if report.environment is not None else {}),
    }
