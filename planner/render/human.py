"""Terraform-like text for people: plans, diagnostics and apply summaries."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

from ..diagnostics import Diagnostic, Severity, format_path
from ..plans.diff import AttributeDiff
from ..plans.drift import DriftKind, ResourceDrift
from ..plans.plan import Action, Change, Plan
from ..rules.suppress import Suppressed
from .known_after_apply import AFTER_APPLY, KNOWN_AFTER_APPLY, shown_created_redacted

_SYMBOL = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.READ: "<=",
    Action.NOOP: " ",
}
_VERB = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in-place",
    Action.REPLACE: "must be replaced",
    Action.DELETE: "will be destroyed",
    Action.READ: "will be read during apply",
    Action.NOOP: "is unchanged",
}
_COLOURS = {"green": "32", "yellow": "33", "red": "31", "cyan": "36", "bold": "1", "dim": "2"}
_ACTION_COLOUR = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.REPLACE: "red",
    Action.DELETE: "red",
    Action.READ: "cyan",
    Action.NOOP: "dim",
}


class Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, colour: str) -> str:
        if not self.color:
            return text
        return f"\x1b[{_COLOURS[colour]}m{text}\x1b[0m"


def render_plan(plan: Plan, *, color: bool = False) -> str:
    s = Style(color)
    lines = [f"Provider: {plan.provider}"]
    if plan.environment is not None:
        lines.insert(0, f"Environment: {plan.environment}")
    if not plan.refreshed:
        lines.append("(refresh skipped: comparing with the state file only)")
    lines.append("")
    for address in plan.unmanaged:
        lines.append(s(f"Not managed by aibplan (left out of the plan): {address}", "dim"))
    if plan.unmanaged:
        lines.append("")
    if plan.drift:
        lines.extend(render_drift_section(plan.drift, s))
        lines.append("")
        if plan.refresh_only:
            lines.append(
                "This is a refresh-only plan: `aibplan apply --refresh-only` takes the changes above into "
                "the state file. Nothing in the cloud changes."
            )
        elif plan.has_changes:
            lines.append(
                "Unless the configuration is changed to match, the actions below put these resources back "
                "as the configuration says."
            )
        else:
            lines.append(
                "The configuration already matches these changes; `aibplan apply --refresh-only` records "
                "them in the state file."
            )
        lines.append("")
    if plan.refresh_only:
        if not plan.drift:
            lines.append(
                s("No changes.", "bold") + " The cloud matches the state; a refresh would change nothing."
            )
        lines.extend(_warnings(plan, s))
        return "\n".join(lines) + "\n"
    lines.extend(_targeting_notes(plan, s))
    changes = [c for c in plan.changes if c.is_change]
    if not changes:
        lines.append(s("No changes.", "bold") + " Your infrastructure matches the configuration.")
        lines.extend(_warnings(plan, s))
        return "\n".join(lines) + "\n"
    lines.append("aibplan will perform the following actions:")
    lines.append("")
    for change in changes:
        lines.extend(_render_change(change, s))
        lines.append("")
    summary = plan.summary
    moved = sum(c.previous_address is not None for c in changes)
    lines.append(
        s("Plan:", "bold") + f" {summary.add} to add, {summary.change} to change, "
        f"{summary.replace} to replace, {summary.destroy} to destroy"
        + (f"; {moved} to move to a new address in the state." if moved else ".")
    )
    lines.extend(_warnings(plan, s))
    return "\n".join(lines) + "\n"


def _targeting_notes(plan: Plan, s: Style) -> list[str]:
    lines: list[str] = []
    if plan.targets:
        lines.append(
            s("Note: resource targeting is in effect", "bold")
            + f" ({', '.join(plan.targets)}): the plan may be incomplete; other changes wait for a full plan."
        )
    if plan.replace_requested:
        lines.append(f"Replacement requested for: {', '.join(plan.replace_requested)}")
    if lines:
        lines.append("")
    return lines


_DRIFT_VERB = {
    DriftKind.CHANGED: "has changed outside aibplan",
    DriftKind.DELETED: "has been deleted outside aibplan",
    DriftKind.FAILED: "is reported as Failed by the service",
    DriftKind.UNMANAGED: "exists but is not managed by aibplan",
}
_DRIFT_SYMBOL = {
    DriftKind.CHANGED: "~",
    DriftKind.DELETED: "-",
    DriftKind.FAILED: "!",
    DriftKind.UNMANAGED: "?",
}
_DRIFT_COLOUR = {
    DriftKind.CHANGED: "yellow",
    DriftKind.DELETED: "red",
    DriftKind.FAILED: "red",
    DriftKind.UNMANAGED: "cyan",
}


def render_drift_section(drift: Sequence[ResourceDrift], s: Style) -> list[str]:
    """The "Objects have changed outside of aibplan" block that starts a plan (and the drift report)."""
    lines = [
        s("Objects have changed outside of aibplan", "bold"),
        "",
        "aibplan found these changes made outside of aibplan since it last applied or refreshed:",
        "",
    ]
    for item in drift:
        lines.extend(render_drift_item(item, s))
        lines.append("")
    return lines[:-1]


def render_drift_item(item: ResourceDrift, s: Style) -> list[str]:
    colour = _DRIFT_COLOUR[item.drift]
    lines = [s(f"  # {item.address} {_DRIFT_VERB[item.drift]}", "bold")]
    if item.drift is DriftKind.FAILED or item.drift is DriftKind.UNMANAGED:
        lines.append(f"  # ({item.message})")
    lines.append(
        s(f"{_DRIFT_SYMBOL[item.drift]:>3} ", colour) + f'resource "{item.arm_type}" "{item.name}" {{'
    )
    if item.drift is DriftKind.CHANGED:
        for diff in item.attribute_diffs:
            lines.extend(_render_diff(diff, s))
    else:
        lines.append(s(f"      {_DRIFT_SYMBOL[item.drift]} ", colour) + f'id = "{item.arm_id}"')
    lines.append("    }")
    return lines


def _warnings(plan: Plan, s: Style) -> list[str]:
    found = list(plan.diagnostics) + [w for c in plan.changes for w in c.warnings]
    if not found:
        return []
    return ["", *render_diagnostics(found, color=s.color).rstrip("\n").split("\n")]


def _render_change(change: Change, s: Style) -> list[str]:
    colour = _ACTION_COLOUR[change.action]
    symbol = _SYMBOL[change.action]
    if change.action is Action.NOOP and change.previous_address is not None:
        return _render_move(change, s)
    lines = [s(f"  # {change.address} {_VERB[change.action]}", "bold")]
    for reason in change.reasons:
        lines.append(f"  # ({reason})")
    header = f'resource "{change.arm_type}" "{change.name}" {{'
    lines.append(s(f"{symbol:>3} ", colour) + header)
    if change.action is Action.CREATE:
        lines.extend(_render_value_block(shown_created_redacted(change), "+", s, "green", indent=8))
    elif change.action is Action.DELETE:
        lines.append(s("      - ", "red") + f'id = "{change.old_arm_id or change.arm_id}"')
    else:
        for diff in change.attribute_diffs:
            lines.extend(_render_diff(diff, s))
        unchanged = _count_leaves(change.after or {}) - len(change.attribute_diffs)
        if unchanged > 0:
            lines.append(s(f"        # ({unchanged} unchanged attributes hidden)", "dim"))
    lines.append("    }")
    return lines


def _render_move(change: Change, s: Style) -> list[str]:
    """A state entry that moves to a new address, nothing else changing (Terraform's "has moved to")."""
    return [
        s(f"  # {change.previous_address} has moved to {change.address}", "bold"),
        "  # (the same Azure resource: Azure compares names without case; nothing in the cloud changes)",
        f'    resource "{change.arm_type}" "{change.name}" {{',
        f'        id = "{change.old_arm_id or change.arm_id}"',
        "    }",
    ]


def _render_diff(diff: AttributeDiff, s: Style) -> list[str]:
    path = format_path(diff.path)
    note = s(" # forces replacement", "red") if diff.forces_replacement else ""
    after = AFTER_APPLY if diff.after_unknown else diff.after
    if not diff.before_present:
        return _render_assignment(path, after, "+", s, "green", note)
    if diff.after_unknown:
        return [s("      ~ ", "yellow") + f"{path} = {_scalar(diff.before)} -> {_scalar(after)}{note}"]
    if not diff.after_present:
        return _render_assignment(path, diff.before, "-", s, "red", note)
    if isinstance(diff.before, (dict, list)) or isinstance(diff.after, (dict, list)):
        return [s("      ~ ", "yellow") + f"{path} = {_inline(diff.before)} -> {_inline(diff.after)}{note}"]
    return [s("      ~ ", "yellow") + f"{path} = {_scalar(diff.before)} -> {_scalar(diff.after)}{note}"]


def _render_assignment(path: str, value: Any, sign: str, s: Style, colour: str, note: str) -> list[str]:
    if isinstance(value, (dict, list)) and value:
        lines = [s(f"      {sign} ", colour) + f"{path} = {'{' if isinstance(value, dict) else '['}{note}"]
        lines.extend(_render_value_block(value, sign, s, colour, indent=12))
        lines.append(" " * 10 + ("}" if isinstance(value, dict) else "]"))
        return lines
    return [s(f"      {sign} ", colour) + f"{path} = {_scalar(value)}{note}"]


def _render_value_block(value: Any, sign: str, s: Style, colour: str, indent: int) -> list[str]:
    """A dict or list, one assignment per line, nested blocks indented."""
    pad = " " * indent
    mark = pad[:-2] + s(sign, colour) + " "
    lines: list[str] = []
    items: Iterable[tuple[str, Any]]
    if isinstance(value, dict):
        keys = [_key(k) for k in value]
        width = max(map(len, keys), default=0)
        items = zip((f"{key.ljust(width)} = " for key in keys), value.values(), strict=True)
    else:
        items = (("", v) for v in value)
    for prefix, item in items:
        if isinstance(item, (dict, list)) and item:
            opener, closer = ("{", "}") if isinstance(item, dict) else ("[", "]")
            lines.append(f"{mark}{prefix}{opener}")
            lines.extend(_render_value_block(item, sign, s, colour, indent + 4))
            lines.append(f"{pad}{closer}")
        else:
            lines.append(f"{mark}{prefix}{_scalar(item)}")
    return lines


@functools.lru_cache(maxsize=4096)
def _key(key: str) -> str:
    return key if key.replace("_", "").isalnum() else json.dumps(key)


def _scalar(value: Any) -> str:
    """A leaf as JSON writes it (the usual kinds written directly: a plan of 5,000 creates shows about
    130,000 of them)."""
    if value is AFTER_APPLY:
        return KNOWN_AFTER_APPLY
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return encode_basestring(value)  # what json.dumps(value, ensure_ascii=False) writes
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if isinstance(value, (dict, list)):
        return _inline(value)
    return json.dumps(value, ensure_ascii=False)


def _inline(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 100 else text[:97] + "..."


def _count_leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_count_leaves(v) for v in value.values()) or 1
    if isinstance(value, list):
        return sum(_count_leaves(v) for v in value) or 1
    return 1


def render_diagnostics(diagnostics: Sequence[Diagnostic], *, color: bool = False) -> str:
    """`file:line:column: severity CODE message (address, path)` with a hint line where one helps."""
    s = Style(color)
    colour = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
    lines = []
    for d in diagnostics:
        place = ":".join(str(x) for x in (d.file, d.line, d.column) if x is not None)
        where = ", ".join(x for x in (d.address, format_path(d.path) if d.path else None) if x)
        text = f"{s(d.severity.value, colour[d.severity])} {d.code} {d.message}"
        if where:
            text += f" ({where})"
        lines.append(f"{place}: {text}" if place else text)
        if d.hint:
            lines.append(f"    hint: {d.hint}")
    return "\n".join(lines) + ("\n" if lines else "")


def render_suppressed(suppressed: Sequence[Suppressed]) -> str:
    """One line per finding the stack turned off: where, which rule, and by what (with its reason)."""
    lines = []
    for item in suppressed:
        d, by = item.diagnostic, item.by
        place = ":".join(str(x) for x in (d.file, d.line, d.column) if x is not None)
        reason = f": {by.reason}" if by.reason else ""
        text = f"suppressed {d.code} {d.message} (by {by.where}{reason})"
        lines.append(f"{place}: {text}" if place else text)
    return "\n".join(lines) + ("\n" if lines else "")


def summary_counts(diagnostics: Iterable[Diagnostic]) -> Mapping[str, int]:
    found = list(diagnostics)
    return {
        "errors": sum(d.severity is Severity.ERROR for d in found),
        "warnings": sum(d.severity is Severity.WARNING for d in found),
    }
