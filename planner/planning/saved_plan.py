"""Saved plans: `aibplan plan --out FILE` and `aibplan apply FILE`.

The file is the JSON plan (the same document `plan --json` prints) wrapped with what is needed to apply it
later: where the stack is (relative to the plan file) and the options the plan was made with. Applying it
loads the stack again with those options and refuses when anything moved since the plan was made: another
state lineage, another state serial, or other inputs (the hash of the evaluated stack). The request bodies
come from the stack loaded again, which the matching hash proves identical to what was planned.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers.catalog import for_arm_type
from state import State
from state.jsontext import JsonLimitError, line_col, loads
from state.redact import fingerprint, redact_text
from state.store import write_atomic

from ..diagnostics import Diagnostic, Severity
from ..normalize import normalize_body
from ..plans.diff import AttributeDiff
from ..plans.drift import DriftKind, ResourceDrift
from ..plans.plan import Action, Change, Plan
from ..render.json_plan import plan_to_json
from ..stack.model import Stack
from .plan import request_body

KIND = "aibplan-saved-plan"
FORMAT_VERSION = "1"


class SavedPlanError(Exception):
    """The plan file cannot be applied; the message says why and what to do."""


@dataclass(frozen=True)
class PlanOptions:
    """The options a plan was made with; applying a saved plan loads the stack with the same ones."""

    variables: tuple[tuple[str, str], ...] = ()
    var_files: tuple[str, ...] = ()
    # `--var`s whose value is a secret: the file keeps only their fingerprints (name, fingerprint), and
    # `apply FILE --var NAME=VALUE` gives them again.
    secret_variables: tuple[tuple[str, str], ...] = ()
    provider: str | None = None
    refresh: bool = True
    destroy: bool = False
    refresh_only: bool = False
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()


@dataclass(frozen=True)
class SavedPlan:
    path: Path
    stack_root: Path
    options: PlanOptions
    document: Mapping[str, Any]

    @property
    def plan_json(self) -> Mapping[str, Any]:
        return self.document["plan"]  # type: ignore[no-any-return]


def save_plan(path: Path, plan: Plan, stack: Stack, options: PlanOptions) -> None:
    """Write the plan file atomically. Paths are kept relative to the plan file's folder."""
    folder = path.resolve().parent
    document = {
        "format_version": FORMAT_VERSION,
        "kind": KIND,
        "stack": _relative(stack.root, folder),
        "options": {
            "variables": [_saved_variable(name, value) for name, value in options.variables],
            "var_files": [_relative(Path(f), folder) for f in options.var_files],
            "provider": options.provider,
            "refresh": options.refresh,
            "destroy": options.destroy,
            "refresh_only": options.refresh_only,
            "targets": list(options.targets),
            "replace": list(options.replace),
        },
        "plan": plan_to_json(plan),
    }
    write_atomic(path, json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def load_saved_plan(path: Path) -> SavedPlan:
    try:
        text = path.read_text(encoding="utf-8")
        document = loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise SavedPlanError(f"cannot read plan file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SavedPlanError(
            f"{path}:{exc.lineno}:{exc.colno}: not a saved plan (invalid JSON: {exc.msg})"
        ) from None
    except JsonLimitError as exc:
        line, column = line_col(text, exc.offset)
        raise SavedPlanError(
            f"{path}:{line}:{column}: not a saved plan aibplan reads ({exc.message})"
        ) from None
    if not isinstance(document, dict) or document.get("kind") != KIND:
        raise SavedPlanError(f"{path}: not a saved plan (write one with `aibplan plan --out {path.name}`)")
    if document.get("format_version") != FORMAT_VERSION:
        raise SavedPlanError(
            f"{path}: saved plan format {document.get('format_version')!r} is not the one this aibplan "
            f"reads ({FORMAT_VERSION}); make the plan again with this version"
        )
    try:
        raw = document["options"]
        folder = path.resolve().parent
        variables, secret_variables = _loaded_variables(raw["variables"])
        options = PlanOptions(
            variables=variables,
            secret_variables=secret_variables,
            var_files=tuple(str(folder / f) for f in raw["var_files"]),
            provider=raw["provider"],
            refresh=bool(raw["refresh"]),
            destroy=bool(raw["destroy"]),
            refresh_only=bool(raw["refresh_only"]),
            targets=tuple(raw["targets"]),
            replace=tuple(raw["replace"]),
        )
        stack_root = Path(os.path.normpath(folder / document["stack"]))
        if not isinstance(document["plan"], dict):
            raise TypeError("plan")
    except (KeyError, TypeError, ValueError) as exc:
        raise SavedPlanError(f"{path}: the saved plan is damaged ({exc}); make the plan again") from None
    return SavedPlan(path, stack_root, options, document)


def _saved_variable(name: str, value: str) -> list[Any]:
    """A `--var` as the plan file keeps it: a secret one (a secure parameter's value, or a value in one of
    the secret forms) as its fingerprint only."""
    if redact_text(value) != value:
        return [name, {"secret": fingerprint(value)}]
    return [name, value]


def _loaded_variables(
    raw: Any,
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    plain, secret = [], []
    for name, value in raw:
        if isinstance(value, dict):
            secret.append((str(name), str(value["secret"])))
        else:
            plain.append((str(name), str(value)))
    return tuple(plain), tuple(secret)


def with_secret_variables(saved: SavedPlan, given: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The plan's `--var`s with the secret ones given again on the command line, each checked against the
    fingerprint the file keeps; raises SavedPlanError naming what is missing, wrong or not asked for."""
    wanted = dict(saved.options.secret_variables)
    values = dict(given)
    unexpected = sorted(set(values) - set(wanted))
    if unexpected:
        raise SavedPlanError(
            f"--var cannot be used with a saved plan ({', '.join(unexpected)}): the plan file fixed its "
            "variables when it was made; only secret ones, which it does not keep, are given again"
        )
    missing = sorted(set(wanted) - set(values))
    if missing:
        shown = " ".join(f"--var {name}=..." for name in missing)
        raise SavedPlanError(
            f"{saved.path} was made with secret --var {', '.join(missing)}, which a plan file does not keep: "
            f"give {'it' if len(missing) == 1 else 'them'} again (`aibplan apply {saved.path.name} {shown}`)"
        )
    wrong = sorted(name for name, value in values.items() if fingerprint(value) != wanted[name])
    if wrong:
        raise SavedPlanError(
            f"--var {', '.join(wrong)}: not the value the plan was made with (its fingerprint differs); "
            "give the same value, or make a new plan"
        )
    return (*saved.options.variables, *((name, values[name]) for name, _ in saved.options.secret_variables))


def staleness(saved: SavedPlan, stack: Stack, state: State, state_exists: bool) -> list[str]:
    """Why the saved plan no longer fits the stack and state (empty when it may be applied)."""
    reasons = []
    planned = saved.plan_json.get("state") or {}
    lineage, serial = planned.get("lineage"), planned.get("serial")
    current_lineage = state.lineage if state_exists else None
    current_serial = state.serial if state_exists else None
    if lineage is not None and current_lineage is not None and lineage != current_lineage:
        reasons.append(
            f"the plan was made against another state (lineage {lineage}); the state file "
            f"{stack.state_path.name} has lineage {current_lineage}"
        )
    elif lineage is None and current_serial is not None:
        reasons.append(
            f"the plan was made with no state file; {stack.state_path.name} exists now "
            f"(serial {current_serial})"
        )
    elif lineage is not None and current_lineage is None:
        reasons.append(f"the plan was made against state serial {serial}; the state file is gone")
    elif serial != current_serial:
        reasons.append(
            f"the state changed since the plan was made (serial {serial} then, {current_serial} now)"
        )
    if saved.plan_json.get("inputs_hash") != stack.inputs_hash:
        reasons.append(
            "the configuration changed since the plan was made (the evaluated stack's hash differs: "
            "a resource file, aibplan.json, a --var or a --var-file)"
        )
    return reasons


def plan_from_saved(saved: SavedPlan, stack: Stack) -> Plan:
    """The Plan the file holds, with request bodies from the (identical) stack loaded again."""
    data = saved.plan_json
    try:
        changes = tuple(_change(c, stack) for c in data["resource_changes"])
        return Plan(
            changes=changes,
            provider=str(data["provider"]),
            state_lineage=data["state"]["lineage"],
            state_serial=data["state"]["serial"],
            inputs_hash=str(data["inputs_hash"]),
            destroy=bool(data["destroy"]),
            refreshed=bool(data["refreshed"]),
            diagnostics=tuple(_diagnostic(d) for d in data["diagnostics"] if not _on_change(d, changes)),
            unmanaged=tuple(data["unmanaged"]),
            stack_root=str(stack.root),
            drift=tuple(_drift(d) for d in data["resource_drift"]),
            targets=tuple(data["targets"]),
            replace_requested=tuple(data["replace_requested"]),
            refresh_only=bool(data["refresh_only"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SavedPlanError(
            f"{saved.path}: the saved plan is damaged ({exc}); make the plan again"
        ) from None


def _change(data: Mapping[str, Any], stack: Stack) -> Change:
    action = Action(data["action"])
    address = str(data["address"])
    body = None
    if action in (Action.CREATE, Action.UPDATE, Action.REPLACE):
        resource = stack.by_address.get(address)
        if resource is None:
            raise ValueError(f"{address} is not in the stack")
        body = request_body(resource)
    previous = data.get("previous") or {}
    return Change(
        address=address,
        kind=str(data["kind"]),
        name=str(data["name"]),
        arm_type=str(data["type"]),
        arm_id=str(data["id"]),
        api_version=str(data["api_version"]),
        action=action,
        before=data.get("before"),
        after=data.get("after"),
        attribute_diffs=tuple(AttributeDiff.from_json(d) for d in data["attribute_diffs"]),
        reasons=tuple(data["reasons"]),
        action_reason=data.get("action_reason"),
        warnings=tuple(_diagnostic(w) for w in data["warnings"]),
        body=body,
        depends_on=tuple(data["depends_on"]),
        old_depends_on=tuple(previous.get("depends_on") or ()),
        old_api_version=previous.get("api_version"),
        old_arm_id=previous.get("id"),
        running_build=data.get("running_build"),
        vhd_uris=tuple(data.get("vhd_uris") or ()),
        image_versions=tuple(data.get("image_versions") or ()),
        nested_definitions=tuple(data.get("nested_definitions") or ()),
    )


def _diagnostic(data: Mapping[str, Any]) -> Diagnostic:
    path = data.get("path")
    return Diagnostic(
        code=str(data["code"]),
        severity=Severity(data["severity"]),
        message=str(data["message"]),
        address=data.get("address"),
        path=(path,) if path else (),
        file=data.get("file"),
        line=data.get("line"),
        column=data.get("column"),
        hint=data.get("hint"),
    )


def _on_change(data: Mapping[str, Any], changes: Sequence[Change]) -> bool:
    """The JSON plan lists a change's warnings among all diagnostics; keep them on the change only."""
    return any(
        w.code == data.get("code") and w.message == data.get("message") and w.address == data.get("address")
        for c in changes
        for w in c.warnings
    )


def _drift(data: Mapping[str, Any]) -> ResourceDrift:
    return ResourceDrift(
        address=str(data["address"]),
        arm_type=str(data["type"]),
        arm_id=str(data["id"]),
        drift=DriftKind(data["drift"]),
        message=str(data["message"]),
        attribute_diffs=tuple(AttributeDiff.from_json(d) for d in data["attribute_diffs"]),
        before=data.get("before"),
        after=data.get("after"),
    )


def cloud_moved(plan: Plan, live: Mapping[str, Any]) -> list[str]:
    """For a refresh-only plan: drifted resources whose cloud body is no longer what the plan showed."""
    moved = []
    for item in plan.drift:
        if item.drift is DriftKind.UNMANAGED:
            continue
        body = live.get(item.arm_id)
        if item.drift is DriftKind.DELETED:
            if body is not None:
                moved.append(f"{item.address} exists again")
            continue
        rtype = for_arm_type(item.arm_type)
        if body is None:
            moved.append(f"{item.address} has been deleted since")
        elif rtype is not None and normalize_body(rtype, body) != dict(item.after or {}):
            moved.append(f"{item.address} changed again")
    return moved


def _relative(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(path.resolve(), folder)).as_posix()
