"""Image builds in the simulated cloud: Run, Cancel, lastRunStatus and run outputs, kept in SQLite.

A build row holds what `build_machine` needs (the plan, the start time, the real seconds one simulated
minute takes, when a cancel arrived). Whoever reads a template brings its lastRunStatus up to date
(`sync`); the first reader that sees a build ended writes the result once, in a transaction: the final
lastRunStatus, the run outputs and, on success, what each distribution target says (a gallery image
version replicated to its regions, a managed image, a VHD). Customizer commands are never executed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import Any

from ..catalog.arm_ids import fold_id, parse_resource_id
from . import build_machine as machine
from .build_artifacts import Artifacts, Refusal, Storage

Body = dict[str, Any]

SCHEMA = """
CREATE TABLE IF NOT EXISTS builds (
    template TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    started REAL NOT NULL,
    minute REAL NOT NULL,
    snapshot TEXT NOT NULL,
    canceled REAL,
    shown TEXT,
    finished INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS build_faults (
    template TEXT PRIMARY KEY, step TEXT NOT NULL, message TEXT, hang INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS run_outputs (
    template TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (template, name)
);
"""

RUN_OUTPUT_TYPE = "Microsoft.VirtualMachineImages/imageTemplates/runOutputs"
# Real milliseconds one simulated build minute takes, unless the caller says otherwise (the engine's
# settings and aibplan.json can).
DEFAULT_BUILD_MINUTE_MS = 250.0


class Builds:
    """Run and Cancel of image templates and everything that follows from them."""

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.RLock,
        transaction: Callable[[], AbstractContextManager[None]],
        storage: Storage,
        clock: Callable[[], float],
        minute: float | None,
    ) -> None:
        self._db = db
        self._lock = lock
        self._transaction = transaction
        self._storage = storage
        self._clock = clock
        # Real seconds one simulated minute takes for builds started here (None: the default).
        self.minute = max(0.0, float(minute)) if minute is not None else DEFAULT_BUILD_MINUTE_MS / 1000.0
        self._artifacts = Artifacts(storage)
        db.executescript(SCHEMA)

    # -- actions -------------------------------------------------------------------------------------

    def run(self, arm_id: str) -> None:
        self.sync([arm_id])
        with self._lock, self._transaction():
            api_version, body = self._template(arm_id)
            name = _name(arm_id)
            props = body.setdefault("properties", {})
            if props.get("provisioningState") == "Failed":
                raise Refusal(
                    409,
                    "Conflict",
                    f"Image template '{name}' is in a failed state and cannot be run; delete it and "
                    "submit it again.",
                )
            status = props.get("lastRunStatus") or {}
            if status.get("runState") in (machine.RUNNING, machine.CANCELING):
                raise Refusal(
                    409,
                    "Conflict",
                    f"Image template '{name}' already has a build {status['runState'].lower()}; wait for "
                    "it to end or cancel it before starting another.",
                )
            now = self._clock()
            exact, source_version, source_failure = self._resolve_source(props, now)
            denied = self._storage.denied_steps(body)
            fault = (
                machine.Fault(machine.BUILDING, source_failure)
                if source_failure
                else _first_denied(denied) or self._take_fault(arm_id)
            )
            plan = machine.BuildPlan(machine.steps_for(props, fault), machine.timeout_minutes(props), fault)
            snapshot = {
                "plan": plan.to_json(),
                "template": {"location": body.get("location"), "properties": props},
                "source_version": source_version,
                # Distribution targets the identity may not write, by index: they fail with this message.
                "denied": {str(i): message for _, message, i in denied if i is not None},
            }
            key = fold_id(arm_id)
            run_id = hashlib.sha256(f"{key}/{now}".encode()).hexdigest()[:16]
            self._db.execute(
                "INSERT OR REPLACE INTO builds (template, run_id, started, minute, snapshot, canceled, "
                "shown, finished) VALUES (?, ?, ?, ?, ?, NULL, NULL, 0)",
                (key, run_id, now, self.minute, json.dumps(snapshot, sort_keys=True)),
            )
            self._db.execute("DELETE FROM run_outputs WHERE template = ?", (key,))
            if exact is not None and isinstance(props.get("source"), dict):
                props["source"]["exactVersion"] = exact
            status = machine.status_at(plan, 0.0)
            props["lastRunStatus"] = _last_run_status(status, now, None)
            self._db.execute("UPDATE builds SET shown = ? WHERE template = ?", (_shown(status), key))
            self._storage.store_body(arm_id, api_version, body)

    def cancel(self, arm_id: str) -> None:
        self.sync([arm_id])
        with self._lock, self._transaction():
            self._template(arm_id)
            row = self._build(fold_id(arm_id))
            if row is None or row["finished"]:
                raise Refusal(
                    409,
                    "Conflict",
                    f"Image template '{_name(arm_id)}' has no build in progress; there is nothing to cancel.",
                )
            if row["canceled"] is None:
                minute = (self._clock() - row["started"]) / row["minute"]
                self._db.execute(
                    "UPDATE builds SET canceled = ? WHERE template = ?", (minute, fold_id(arm_id))
                )
        self.sync([arm_id])

    def run_outputs(self, arm_id: str) -> list[Body]:
        self.sync([arm_id])
        with self._lock:
            rows = self._db.execute(
                "SELECT name, body FROM run_outputs WHERE template = ? ORDER BY position",
                (fold_id(arm_id),),
            ).fetchall()
        prefix = arm_id.rstrip("/")
        return [
            {
                "id": f"{prefix}/runOutputs/{name}",
                "name": name,
                "type": RUN_OUTPUT_TYPE,
                "properties": json.loads(body),
            }
            for name, body in rows
        ]

    def forget(self, arm_id: str) -> None:
        """The template is gone: so are its build and its run outputs (the VHD lived in its staging group)."""
        key = fold_id(arm_id)
        self._db.execute("DELETE FROM builds WHERE template = ?", (key,))
        self._db.execute("DELETE FROM run_outputs WHERE template = ?", (key,))

    # -- planted failures (aibplan sim) ----------------------------------------------------------------

    def plant_fault(self, arm_id: str, fault: machine.Fault) -> None:
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO build_faults (template, step, message, hang) VALUES (?, ?, ?, ?)",
                (fold_id(arm_id), fault.step, fault.message, int(fault.hang)),
            )

    def clear_fault(self, arm_id: str) -> bool:
        with self._lock, self._transaction():
            cur = self._db.execute("DELETE FROM build_faults WHERE template = ?", (fold_id(arm_id),))
        return cur.rowcount > 0

    def _take_fault(self, arm_id: str) -> machine.Fault | None:
        row = self._db.execute(
            "SELECT step, message, hang FROM build_faults WHERE template = ?", (fold_id(arm_id),)
        ).fetchone()
        if row is None:
            return None
        self._db.execute("DELETE FROM build_faults WHERE template = ?", (fold_id(arm_id),))
        return machine.Fault(str(row[0]), row[1], bool(row[2]))

    # -- keeping lastRunStatus current -------------------------------------------------------------------

    def sync(self, arm_ids: Iterable[str] | None = None) -> None:
        """Bring the lastRunStatus of unfinished builds (of `arm_ids`, or all) up to the clock."""
        with self._lock:
            rows = self._db.execute("SELECT template FROM builds WHERE finished = 0").fetchall()
        pending = {str(r[0]) for r in rows}
        if arm_ids is not None:
            pending &= {fold_id(i) for i in arm_ids}
        for key in sorted(pending):
            if self._needs_write(key):
                with self._lock, self._transaction():
                    self._advance(key)

    def _needs_write(self, key: str) -> bool:
        with self._lock:
            row = self._build(key)
        if row is None or row["finished"]:
            return False
        status = self._status(row)
        return status.ended or _shown(status) != row["shown"]

    def _advance(self, key: str) -> None:
        row = self._build(key)
        if row is None or row["finished"]:
            return
        stored = self._storage.stored_body(key)
        if stored is None:
            self.forget(key)
            return
        api_version, body = stored
        status = self._status(row)
        props = body.setdefault("properties", {})
        if status.ended:
            snapshot = json.loads(row["snapshot"])
            end = row["started"] + (status.ended_at or 0.0) * row["minute"]
            if status.run_state == machine.SUCCEEDED:
                status = self._distribute(key, snapshot, status, end)
            props["lastRunStatus"] = _last_run_status(status, row["started"], end)
            self._db.execute(
                "UPDATE builds SET finished = 1, shown = ? WHERE template = ?", (_shown(status), key)
            )
        else:
            props["lastRunStatus"] = _last_run_status(status, row["started"], None)
            self._db.execute("UPDATE builds SET shown = ? WHERE template = ?", (_shown(status), key))
        self._storage.store_body(key, api_version, body)

    def _status(self, row: Mapping[str, Any]) -> machine.Status:
        plan = machine.BuildPlan.from_json(json.loads(row["snapshot"])["plan"])
        minute = (self._clock() - row["started"]) / row["minute"] if row["minute"] > 0 else float("inf")
        return machine.status_at(plan, minute, row["canceled"])

    def _build(self, key: str) -> dict[str, Any] | None:
        cur = self._db.execute(
            "SELECT template, run_id, started, minute, snapshot, canceled, shown, finished "
            "FROM builds WHERE template = ?",
            (key,),
        )
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    def _template(self, arm_id: str) -> tuple[str, Body]:
        stored = self._storage.stored_body(arm_id)
        if stored is None:
            rid = parse_resource_id(arm_id)
            group = rid.resource_group if rid else "?"
            raise Refusal(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.VirtualMachineImages/imageTemplates/{_name(arm_id)}' under "
                f"resource group '{group}' was not found.",
            )
        return stored

    # -- the source, resolved when the build starts ------------------------------------------------------

    def _resolve_source(
        self, props: Mapping[str, Any], now: float
    ) -> tuple[str | None, str | None, str | None]:
        """(source.exactVersion, the source's version number, a reason the build cannot use its source)."""
        source = props.get("source") if isinstance(props.get("source"), dict) else {}
        assert isinstance(source, dict)
        kind = str(source.get("type", ""))
        if kind == "PlatformImage":
            version = str(source.get("version") or "latest")
            if version.lower() == "latest":
                moment = datetime.fromtimestamp(now, timezone.utc)
                version = (
                    f"{moment.year}.{moment.month:02d}{moment.day:02d}.{moment.hour * 60 + moment.minute}"
                )
            return version, version, None
        if kind == "ManagedImage":
            image_id = str(source.get("imageId", ""))
            if self._storage.stored_body(image_id) is None:
                return None, None, f"The source managed image '{image_id}' was not found."
            return None, None, None
        if kind == "SharedImageVersion":
            version_id = str(source.get("imageVersionId", ""))
            rid = parse_resource_id(version_id)
            if rid is None or len(rid.types) != 3:
                return None, None, f"The source image version id '{version_id}' is not an image version id."
            definition = str(rid.parent())
            if rid.names[2].lower() == "latest":
                versions = self._artifacts.versions(definition, for_latest=True)
                if not versions:
                    return (
                        None,
                        None,
                        (
                            f"The source image definition '{definition}' has no image version to build from "
                            "('latest' found none)."
                        ),
                    )
                version = max(versions, key=machine.version_key)
                return f"{definition}/versions/{version}", version, None
            if self._storage.stored_body(version_id) is None:
                return None, None, f"The source image version '{version_id}' was not found."
            return version_id, rid.names[2], None
        return None, None, None

    # -- what a successful build leaves behind ------------------------------------------------------------

    def _distribute(
        self, key: str, snapshot: Mapping[str, Any], status: machine.Status, end: float
    ) -> machine.Status:
        template = snapshot["template"]
        props = template.get("properties") or {}
        failures: list[str] = []
        made = 0
        for position, target in enumerate(props.get("distribute") or []):
            if not isinstance(target, dict):
                continue
            name = str(target.get("runOutputName", f"output{position}"))
            refused = (snapshot.get("denied") or {}).get(str(position))
            try:
                if refused:
                    raise Refusal(403, "Unauthorized", refused)
                output = self._artifacts.publish(key, target, props, snapshot.get("source_version"), end)
            except Refusal as exc:
                failures.append(f"{name}: {exc.message}")
                output = {"provisioningState": "Failed"}
            else:
                made += 1
            self._db.execute(
                "INSERT OR REPLACE INTO run_outputs (template, position, name, body) VALUES (?, ?, ?, ?)",
                (key, position, name, json.dumps(output, sort_keys=True)),
            )
        if not failures:
            return status
        state = machine.PARTIALLY_SUCCEEDED if made else machine.FAILED
        return machine.Status(
            state, machine.DISTRIBUTING, "Distribution failed: " + "; ".join(failures), status.ended_at
        )


def _first_denied(denied: list[tuple[str, str, int | None]]) -> machine.Fault | None:
    """The first build step the identity is not allowed through (distribution targets fail one by one,
    at the end, instead)."""
    order = {step: index for index, step in enumerate(machine.FAILABLE_STEPS)}
    steps = [(order.get(step, 0), step, message) for step, message, target in denied if target is None]
    if not steps:
        return None
    _, step, message = min(steps, key=lambda item: item[0])
    return machine.Fault(step, message)


def _name(arm_id: str) -> str:
    return arm_id.rstrip("/").rsplit("/", 1)[-1]


def _shown(status: machine.Status) -> str:
    return f"{status.run_state}/{status.sub_state}"


def _iso(moment: float) -> str:
    return (
        datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _last_run_status(status: machine.Status, started: float, ended: float | None) -> Body:
    out: Body = {
        "startTime": _iso(started),
        "runState": status.run_state,
        "runSubState": status.sub_state,
        "message": status.message,
    }
    if ended is not None:
        out["endTime"] = _iso(ended)
    return out
