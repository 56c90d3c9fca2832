"""`aibplan drift` as text for people and as a versioned JSON document for CI."""

from __future__ import annotations

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
    lines.append(
        "To put the cloud back as the configuration says: aibplan plan, then aibplan apply. To keep the "
        "changes: change the configuration to match, then aibplan apply --refresh-only."
    )
    return "\n".join(lines + _warnings(report, color)) + "\n"


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
