"""The saved plan file (`aibplan plan --out FILE`, `aibplan apply FILE`, `aibplan show FILE`): a versioned
format of its own, independent of `plan --json`.

    {"kind": "aibplan-saved-plan", "format_version": "2", "plan_id": "<uuid>",
     "stack": "<the stack folder, relative to the file>", "options": {...}, "plan": {...}}

`plan` is the plan data field by field (plans.codec), without request bodies; `options` are those the
plan was made with (`--var` values included, except that a secret one, the value of a secure parameter or
text in one of the secret forms of state.secrets, is kept as its fingerprint only: `apply FILE --var
NAME=VALUE` gives it again). `plan_id` is unique per file: applying the plan records it
in the state, so the same plan never applies twice (docs/state.md). A file of another format version is
refused with what to do: plan again with this aibplan.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from state.jsontext import JsonLimitError, line_col, loads
from state.redact import fingerprint, redact_text
from state.store import write_atomic

from .codec import CodecError, decode, encode
from .plan import Plan

KIND = "aibplan-saved-plan"
# 1: the JSON view's document wrapped (aibplan before the operations layer). 2: this format. 3: the plan
# names the state it was made against by its digest (state format 3 has no single serial line).
FORMAT_VERSION = "3"


class SavedPlanError(Exception):
    """The plan file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class PlanOptions:
    """The options a plan was made with; applying a saved plan loads the stack with the same ones."""

    variables: tuple[tuple[str, str], ...] = ()
    var_files: tuple[str, ...] = ()
    # `--var`s whose value is a secret: the file keeps only their fingerprints (name, fingerprint), and
    # `apply FILE --var NAME=VALUE` gives them again (planning.saved_plan.with_secret_variables).
    secret_variables: tuple[tuple[str, str], ...] = ()
    provider: str | None = None
    refresh: bool = True
    destroy: bool = False
    refresh_only: bool = False
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    # The environment the plan was made for (None: a stack without environments).
    environment: str | None = None


@dataclass(frozen=True)
class SavedPlan:
    """A plan file as read: its id, the stack folder, the options and the plan (without request bodies)."""

    path: Path
    plan_id: str
    stack_root: Path
    options: PlanOptions
    plan: Plan


def new_plan_id() -> str:
    return str(uuid.uuid4())


def save_plan(path: Path, plan: Plan, stack_root: Path, options: PlanOptions) -> SavedPlan:
    """Write the plan file atomically (paths relative to its folder); the plan as saved."""
    folder = path.resolve().parent
    plan_id = new_plan_id()
    options = _without_secret_values(options)
    document = {
        "kind": KIND,
        "format_version": FORMAT_VERSION,
        "plan_id": plan_id,
        "stack": _relative(stack_root, folder),
        "options": encode(
            replace(options, var_files=tuple(_relative(Path(f), folder) for f in options.var_files))
        ),
        "plan": encode(plan),
    }
    write_atomic(path, json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return SavedPlan(path, plan_id, stack_root, options, plan)


def _without_secret_values(options: PlanOptions) -> PlanOptions:
    """The options as the file keeps them: each secret `--var` (a secure parameter's value, or a value in
    one of the secret forms) moved to `secret_variables` as its fingerprint."""
    plain = tuple((name, value) for name, value in options.variables if redact_text(value) == value)
    secret = tuple(
        (name, fingerprint(value)) for name, value in options.variables if redact_text(value) != value
    )
    return replace(options, variables=plain, secret_variables=(*options.secret_variables, *secret))


def read_document(path: Path) -> dict[str, Any] | None:
    """The file's JSON object when it is one (None otherwise); SavedPlanError when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SavedPlanError(f"cannot read plan file {path}: {exc}") from None
    try:
        document = loads(text)
    except json.JSONDecodeError as exc:
        raise SavedPlanError(
            f"{path}:{exc.lineno}:{exc.colno}: not a saved plan (invalid JSON: {exc.msg})"
        ) from None
    except JsonLimitError as exc:
        line, column = line_col(text, exc.offset)
        raise SavedPlanError(
            f"{path}:{line}:{column}: not a saved plan aibplan reads ({exc.message})"
        ) from None
    return document if isinstance(document, dict) else None


def is_saved_plan(path: Path) -> bool:
    """Whether the file is an aibplan saved plan of any format version (one `plan --out` may replace)."""
    try:
        document = read_document(path)
    except SavedPlanError:
        return False
    return document is not None and document.get("kind") == KIND


def load_saved_plan(path: Path) -> SavedPlan:
    document = read_document(path)
    if document is None or document.get("kind") != KIND:
        raise SavedPlanError(f"{path}: not a saved plan (write one with `aibplan plan --out {path.name}`)")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        number = int(version) if isinstance(version, str) and version.isdigit() else None
        made_by = "another"
        if number is not None:
            made_by = "an older" if number < int(FORMAT_VERSION) else "a newer"
        raise SavedPlanError(
            f"{path}: this plan file was made by {made_by} aibplan (saved plan format {version!r}; this one "
            f"reads {FORMAT_VERSION!r}); plan again with `aibplan plan --out {path.name}`"
        )
    folder = path.resolve().parent
    try:
        plan_id = document["plan_id"]
        stack = document["stack"]
        if not isinstance(plan_id, str) or not plan_id or not isinstance(stack, str):
            raise CodecError("plan_id and stack must be strings")
        options = decode(PlanOptions, document["options"])
        options = replace(options, var_files=tuple(str(folder / f) for f in options.var_files))
        stack_root = Path(os.path.normpath(folder / stack))
        plan = replace(decode(Plan, document["plan"]), stack_root=str(stack_root))
    except (KeyError, CodecError) as exc:
        raise SavedPlanError(f"{path}: the saved plan is damaged ({exc}); plan again") from None
    return SavedPlan(path, plan_id, stack_root, options, plan)


def _relative(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(path.resolve(), folder)).as_posix()
