"""Build results and run outputs, as text for people and as a versioned JSON document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..builds.outcome import BuildOutcome
from ..builds.record import BuildRecord, RunOutput, TemplateOutputs
from .human import Style

FORMAT_VERSION = "1"
_RESULT_COLOUR = {
    "Succeeded": "green",
    "Started": "green",
    "Canceled": "yellow",
    "Canceling": "yellow",
    "NotRunning": "dim",
    "Running": "yellow",
    "Skipped": "yellow",
}


def render_results(
    outcomes: Sequence[BuildOutcome], *, color: bool = False, title: str = "Build results"
) -> str:
    """A table of builds, one row each, with the run outputs or the reason under each row."""
    s = Style(color)
    if not outcomes:
        return ""
    rows = [
        (o.address, o.result, o.status.run_sub_state or "-", duration(o.elapsed) if o.elapsed else "-")
        for o in outcomes
    ]
    header = ("TEMPLATE", "RESULT", "LAST STEP", "ELAPSED")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = [
        "",
        s(f"{title}:", "bold"),
        "",
        "  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
    ]
    for outcome, row in zip(outcomes, rows, strict=True):
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=True)]
        cells[1] = s(cells[1], _RESULT_COLOUR.get(outcome.result, "red"))
        lines.append("  " + "  ".join(cells).rstrip())
        lines.extend("      " + line for line in _details(outcome))
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.result] = counts.get(outcome.result, 0) + 1
    lines.append("")
    lines.append("Builds: " + ", ".join(f"{n} {_word(result)}" for result, n in counts.items()) + ".")
    return "\n".join(lines) + "\n"


def duration(seconds: float) -> str:
    """1.4s, 42s, 3m05s: tenths only where they matter."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{int(seconds)}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def _details(outcome: BuildOutcome) -> list[str]:
    if outcome.outputs:
        out = _output_lines(outcome.outputs)
        if outcome.result != "Succeeded" and outcome.status.message:
            out.insert(0, outcome.status.message)
        return out
    if outcome.result in ("Failed", "PartiallySucceeded", "Canceled") and outcome.status.message:
        return [outcome.status.message]
    return [outcome.detail] if outcome.detail else []


def _output_lines(outputs: Sequence[RunOutput]) -> list[str]:
    width = max(len(o.name) for o in outputs)
    lines = []
    for output in outputs:
        if output.artifact_id:
            what, value = "artifactId ", output.artifact_id
        elif output.artifact_uri:
            what, value = "artifactUri", output.artifact_uri
        else:
            what, value = "-          ", ""
        state = output.provisioning_state or ""
        suffix = f"  ({state})" if state and state != "Succeeded" else ""
        lines.append(f"{output.name.ljust(width)}  {what}  {value}{suffix}".rstrip())
    return lines


def _word(result: str) -> str:
    return {
        "Succeeded": "succeeded",
        "PartiallySucceeded": "partially succeeded",
        "Failed": "failed",
        "Canceled": "canceled",
        "Canceling": "canceling",
        "Started": "started",
        "Running": "still running",
        "Skipped": "skipped",
        "NotRunning": "not running",
        "Error": "refused",
    }.get(result, result.lower())


def render_outputs(templates: Sequence[TemplateOutputs], *, color: bool = False) -> str:
    s = Style(color)
    lines: list[str] = []
    for template in templates:
        run = template.record.last_run or {}
        if run:
            facts = [f"last build {run.get('run_state', '?')}"]
            if run.get("run_sub_state") and run.get("run_state") != "Succeeded":
                facts.append(f"at {run['run_sub_state']}")
            if run.get("start_time"):
                facts.append(f"started {run['start_time']}")
            if run.get("end_time"):
                facts.append(f"ended {run['end_time']}")
            lines.append(s(template.address, "bold") + f" ({', '.join(facts)})")
        else:
            lines.append(s(template.address, "bold") + " (never built)")
        if run.get("message"):
            lines.append(f"  {run['message']}")
        record = template.record
        if record.run_outputs:
            lines.extend("  " + line for line in _output_lines(record.run_outputs))
        elif run:
            lines.append("  (no run outputs)")
        if record.run_state != "Succeeded" and record.success_outputs:
            ended = (record.last_success or {}).get("end_time")
            lines.append("  last successful build" + (f" (ended {ended})" if ended else "") + ":")
            lines.extend("    " + line for line in _output_lines(record.success_outputs))
    return "\n".join(lines) + ("\n" if lines else "")


def outputs_to_json(templates: Sequence[TemplateOutputs], *, refreshed: bool) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "refreshed": refreshed,
        "templates": [
            {
                "address": t.address,
                "id": t.arm_id,
                "last_run": _plain(t.record.last_run),
                "last_success": _success(t.record),
                "run_outputs": [o.to_json() for o in t.record.run_outputs],
            }
            for t in templates
        ],
    }


def _success(record: BuildRecord) -> dict[str, Any] | None:
    """The last successful build, its run outputs in the same form as `run_outputs`."""
    if record.last_success is None:
        return None
    success = {k: v for k, v in record.last_success.items() if k != "run_outputs"}
    success["run_outputs"] = [o.to_json() for o in record.success_outputs]
    return success


def _plain(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(value) if value is not None else None
