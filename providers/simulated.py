"""A simulated Azure Resource Manager + VM Image Builder service, kept in SQLite.

One core serves the local provider (in process) and the ARM emulator (over HTTPS), so both behave alike.
It enforces what the real services enforce for the four managed types: a gallery before its image
definitions, the image definition before a template that distributes to it, no second PUT of an image
template, no delete of a gallery that still has image definitions. It never runs a customizer's commands.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .build_artifacts import Refusal
from .build_machine import Fault
from .builds import TEMPLATE_TYPE, Builds
from .catalog import IMAGE_TEMPLATE, for_arm_type
from .catalog.arm_ids import ResourceId, fold_id, fold_location, parse_resource_id
from .catalog.artifacts import artifact_type
from .catalog.types import has_prefix

Body = dict[str, Any]

TEMPLATE_UPDATE_REFUSED = "Update/Upgrade of image templates is currently not supported"
_NS = uuid.UUID("6b0c4f64-4a51-4b9e-9f0b-5f3a0d7c2e11")
TENANT_ID = "72f988bf-0000-4000-8000-000000000001"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    key TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    rg TEXT NOT NULL,
    parent TEXT,
    api_version TEXT NOT NULL,
    body TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_parent ON resources(parent);
CREATE INDEX IF NOT EXISTS resources_rg ON resources(rg);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ServiceError(Exception):
    """An ARM error response: HTTP status, ARM error code, message, optional target and Retry-After."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.retry_after = retry_after


FaultHook = Callable[[str, str], None]
"""Called as hook(operation, arm_id) before each operation; raises ServiceError to inject a fault."""


class SimulatedAzure:
    """The simulated service. Thread-safe; several processes may share one database file."""

    def __init__(
        self,
        db_path: Path | str,
        *,
        latency: float = 0.0,
        fault_hook: FaultHook | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        build_minute: float | None = None,
    ) -> None:
        self.db_path = str(db_path)
        if self.db_path != ":memory:":
            Path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
        self.latency = latency
        self.fault_hook = fault_hook
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.db_path, timeout=60, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        # Image builds (Run/Cancel, lastRunStatus, run outputs, artifacts): providers/builds.py.
        self.builds = Builds(self._db, self._lock, self._transaction, self, clock, build_minute)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- the REST surface ----------------------------------------------------------------------------

    def get(self, arm_id: str, api_version: str) -> Body:
        self._enter("read", arm_id, api_version, slow=False)
        if TEMPLATE_TYPE in arm_id.lower():
            self.builds.sync([arm_id])
        row = self._row(arm_id)
        if row is None:
            raise _not_found(arm_id)
        return self._present(row)

    def get_many(self, arm_ids: Iterable[str]) -> dict[str, Body | None]:
        """Bulk GET used by the local provider's refresh (one query, no latency per resource)."""
        ids = list(arm_ids)
        self.builds.sync(ids)
        found: dict[str, Body] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = [fold_id(i) for i in ids[start : start + 500]]
                marks = ",".join("?" * len(chunk))
                for row in self._db.execute(
                    f"SELECT key, id, type, body FROM resources WHERE key IN ({marks})", chunk
                ):
                    found[row[0]] = self._present(row[1:])
        return {i: found.get(fold_id(i)) for i in ids}

    def put(self, arm_id: str, api_version: str, body: Body) -> tuple[int, Body]:
        """Create or replace; returns (201 created | 200 updated, the resource as stored)."""
        rid, rtype = self._parse(arm_id, api_version)
        self._refuse_artifact_write(rtype)
        self._enter("create", arm_id, api_version)
        body = _request_body(body)
        if not isinstance(body.get("location"), str) or not body["location"]:
            raise ServiceError(
                400, "LocationRequired", "The location property is required for this definition."
            )
        with self._lock, self._transaction():
            existing = self._row(arm_id)
            stored = self._admit_put(rid, rtype.kind, api_version, body, existing)
            text = self._store(rid, api_version, stored, created=existing is None)
        # What was just stored, without reading it back (a big apply makes thousands of these calls).
        row = (existing[0] if existing is not None else str(rid), rtype.arm_type, text)
        return (201 if existing is None else 200), self._present(row)

    def patch(self, arm_id: str, api_version: str, patch: Body) -> Body:
        rid, rtype = self._parse(arm_id, api_version)
        self._refuse_artifact_write(rtype)
        self._enter("update", arm_id, api_version)
        with self._lock, self._transaction():
            row = self._row(arm_id)
            if row is None:
                raise _not_found(arm_id)
            current = json.loads(row[2])
            if rtype.kind == "imageTemplate":
                self._check_template_patch(api_version, patch)
            elif "location" in patch and fold_location(str(patch["location"])) != fold_location(
                current.get("location", "")
            ):
                raise ServiceError(
                    400,
                    "InvalidResourceLocation",
                    f"The resource '{rid.name}' cannot be moved to location '{patch['location']}'.",
                )
            merged = _merge_patch(current, _request_body(patch))
            self._store(rid, api_version, merged, created=False)
            new_row = self._row(arm_id)
        assert new_row is not None
        return self._present(new_row)

    def delete(self, arm_id: str, api_version: str) -> int:
        """Returns 200 when deleted, 204 when there was nothing to delete."""
        rid, rtype = self._parse(arm_id, api_version)
        self._enter("delete", arm_id, api_version)
        if rtype.kind == "imageTemplate":
            self.builds.sync([arm_id])
        with self._lock, self._transaction():
            row = self._row(arm_id)
            if row is None:
                return 204
            children = self._db.execute(
                "SELECT id FROM resources WHERE parent = ?", (fold_id(arm_id),)
            ).fetchall()
            if children:
                held = sorted(str(child[0]).rsplit("/", 1)[-1] for child in children)
                raise ServiceError(
                    409,
                    "CannotDeleteResource",
                    "Can not delete resource before nested resources are deleted: "
                    f"'{rid.name}' still holds {', '.join(held)}.",
                )
            if rtype.kind == "imageTemplate":
                run = (json.loads(row[2]).get("properties") or {}).get("lastRunStatus") or {}
                if run.get("runState") in ("Running", "Canceling"):
                    raise ServiceError(
                        409,
                        "Conflict",
                        f"Image template '{rid.name}' cannot be deleted while a build is "
                        f"{run['runState'].lower()}; cancel the build and wait for it to end.",
                    )
            self._db.execute("DELETE FROM resources WHERE key = ?", (fold_id(arm_id),))
            if rtype.kind == "imageTemplate":
                self.builds.forget(arm_id)
        return 200

    def list_resource_group(self, subscription: str, resource_group: str) -> list[Body]:
        prefix = fold_id(f"/subscriptions/{subscription}/resourceGroups/{resource_group}/")
        self.builds.sync()
        with self._lock:
            rows = self._db.execute(
                "SELECT id, type, body FROM resources WHERE key LIKE ? ORDER BY key",
                (prefix.replace("_", r"\_").replace("%", r"\%") + "%",),
            ).fetchall()
        return [self._present(r) for r in rows if fold_id(r[0]).startswith(prefix)]

    def post_action(
        self, arm_id: str, api_version: str, action: str, body: Body | None = None
    ) -> Body | None:
        """POST run / cancel on an image template: both return at once; lastRunStatus follows the build."""
        _rid, rtype = self._parse(arm_id, api_version)
        verb = action.lower()
        if rtype.kind == "imageTemplate" and verb in ("run", "cancel"):
            self._enter(verb, arm_id, api_version)
            try:
                if verb == "run":
                    self.builds.run(arm_id)
                else:
                    self.builds.cancel(arm_id)
            except Refusal as exc:
                raise ServiceError(exc.status, exc.code, exc.message) from None
            return None
        raise ServiceError(
            400, "InvalidAction", f"The action '{action}' is not supported on {rtype.arm_type}."
        )

    def list_run_outputs(self, arm_id: str, api_version: str) -> list[Body]:
        self._parse(arm_id, api_version)
        if self._row(arm_id) is None:
            raise _not_found(arm_id)
        return self.builds.run_outputs(arm_id)

    # -- acting behind the state's back (aibplan sim) -------------------------------------------------

    def raw_write(self, arm_id: str, body: Body) -> None:
        """Overwrite a stored resource as-is, skipping every rule (a person in the portal)."""
        rid = parse_resource_id(arm_id)
        if rid is None:
            raise ServiceError(400, "InvalidResourceId", f"'{arm_id}' is not a resource id.")
        row = self._row(arm_id)
        api_version = row[3] if row else "2024-02-01"
        with self._lock, self._transaction():
            self._store(rid, api_version, body, created=row is None)

    def raw_delete(self, arm_id: str) -> bool:
        with self._lock, self._transaction():
            cur = self._db.execute(
                "DELETE FROM resources WHERE key = ? OR parent = ?", (fold_id(arm_id), fold_id(arm_id))
            )
        return cur.rowcount > 0

    def plant_build_fault(
        self, arm_id: str, step: str, *, message: str | None = None, hang: bool = False
    ) -> None:
        """Make the next build of a template fail at `step` (or hang there until it times out)."""
        self.builds.plant_fault(arm_id, Fault(step, message, hang))

    def clear_build_fault(self, arm_id: str) -> bool:
        return self.builds.clear_fault(arm_id)

    # -- the store as the build machinery sees it (no rules; inside the caller's transaction) -----------

    def stored_body(self, arm_id: str) -> tuple[str, Body] | None:
        row = self._row(arm_id)
        return None if row is None else (row[3], json.loads(row[2]))

    def store_body(self, arm_id: str, api_version: str, body: Body) -> None:
        rid = parse_resource_id(arm_id)
        if rid is None:
            raise ServiceError(400, "InvalidResourceId", f"'{arm_id}' is not a resource id.")
        self._store(rid, api_version, body, created=self._row(arm_id) is None)

    def child_ids(self, arm_id: str) -> list[str]:
        rows = self._db.execute("SELECT id FROM resources WHERE parent = ?", (fold_id(arm_id),)).fetchall()
        return [str(r[0]) for r in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM resources").fetchone()[0])

    # -- rules -----------------------------------------------------------------------------------------

    def _admit_put(
        self,
        rid: ResourceId,
        kind: str,
        api_version: str,
        body: Body,
        existing: tuple[str, str, str, str] | None,
    ) -> Body:
        stored = body  # put() passes a copy of its own (_request_body)
        props = stored.setdefault("properties", {}) if kind != "identity" else None
        if existing is not None:
            current = json.loads(existing[2])
            if kind == "imageTemplate":
                raise ServiceError(
                    409,
                    "Conflict",
                    f"{TEMPLATE_UPDATE_REFUSED}. Delete the template "
                    f"'{rid.name}' first or submit it under another name.",
                )
            if fold_location(current.get("location", "")) != fold_location(stored["location"]):
                raise ServiceError(
                    400,
                    "InvalidResourceLocation",
                    f"The resource '{rid.name}' already exists in location "
                    f"'{current.get('location')}'. A resource with the same name cannot be "
                    f"created in location '{stored['location']}'.",
                )
            if kind == "imageDefinition":
                old_props = current.get("properties") or {}
                for field in ("osType", "osState", "hyperVGeneration", "architecture", "identifier"):
                    if field in old_props and _fold(old_props.get(field)) != _fold((props or {}).get(field)):
                        raise ServiceError(
                            409,
                            "PropertyChangeNotAllowed",
                            f"Changing property '{field}' is not allowed.",
                            target=field,
                        )
        if kind == "identity":
            principal = str(uuid.uuid5(_NS, fold_id(str(rid)) + "/principal"))
            client = str(uuid.uuid5(_NS, fold_id(str(rid)) + "/client"))
            stored["properties"] = {"tenantId": TENANT_ID, "principalId": principal, "clientId": client}
        elif kind == "gallery":
            assert props is not None
            props["identifier"] = {"uniqueName": f"{rid.subscription}-{rid.names[-1].upper()}"}
            props["provisioningState"] = "Succeeded"
        elif kind == "imageDefinition":
            assert props is not None
            parent = rid.parent()
            if parent is None or self._row(str(parent)) is None:
                raise ServiceError(
                    404,
                    "ParentResourceNotFound",
                    f"Can not perform requested operation on nested resource. Parent resource "
                    f"'{rid.names[0]}' not found.",
                )
            props["provisioningState"] = "Succeeded"
        elif kind == "imageTemplate":
            assert props is not None
            self._check_template_references(rid, stored)
            props["provisioningState"] = "Succeeded"
        return stored

    def _check_template_references(self, rid: ResourceId, body: Body) -> None:
        identities = (body.get("identity") or {}).get("userAssignedIdentities") or {}
        for identity_id in identities:
            identity_row = self._row(identity_id)
            if identity_row is None:
                raise ServiceError(
                    400,
                    "InvalidParameter",
                    f"The user-assigned identity '{identity_id}' of image template '{rid.name}' "
                    f"does not exist.",
                    target="identity",
                )
            identity = json.loads(identity_row[2])
            identities[identity_id] = {
                "principalId": identity["properties"]["principalId"],
                "clientId": identity["properties"]["clientId"],
            }
        for index, target in enumerate((body.get("properties") or {}).get("distribute") or []):
            if not isinstance(target, dict) or target.get("type") != "SharedImage":
                continue
            gallery_image = parse_resource_id(str(target.get("galleryImageId", "")))
            if gallery_image is None:
                raise ServiceError(
                    400,
                    "InvalidParameter",
                    f"distribute[{index}].galleryImageId is not a gallery image id.",
                    target=f"properties.distribute[{index}].galleryImageId",
                )
            definition = gallery_image if len(gallery_image.types) == 2 else gallery_image.parent()
            if definition is None or self._row(str(definition)) is None:
                raise ServiceError(
                    400,
                    "InvalidParameter",
                    f"The gallery image definition '{definition or gallery_image}' in "
                    f"distribute[{index}] does not exist; create the gallery and the image "
                    f"definition before the image template.",
                    target=f"properties.distribute[{index}].galleryImageId",
                )

    def _check_template_patch(self, api_version: str, patch: Body) -> None:
        allowed = IMAGE_TEMPLATE.patchable_prefixes(api_version)
        for path in _leaf_paths(patch):
            if not any(has_prefix(path, p) or has_prefix(p, path) for p in allowed):  # type: ignore[arg-type]
                shown = ".".join(str(p) for p in path)
                raise ServiceError(
                    400,
                    "InvalidRequestContent",
                    f"The property '{shown}' cannot be updated with api-version {api_version}; "
                    f"only {', '.join('.'.join(p) for p in allowed)} can.",
                    target=shown,
                )

    # -- storage -------------------------------------------------------------------------------------------

    def _parse(self, arm_id: str, api_version: str) -> tuple[ResourceId, Any]:
        rid = parse_resource_id(arm_id)
        if rid is None:
            raise ServiceError(400, "InvalidResourceId", f"'{arm_id}' is not a valid resource id.")
        rtype = for_arm_type(rid.arm_type) or artifact_type(rid.arm_type)
        if rtype is None:
            raise ServiceError(
                400,
                "InvalidResourceType",
                f"The resource type '{rid.arm_type}' is not supported by this service.",
            )
        if api_version not in rtype.all_api_versions():
            raise ServiceError(
                400,
                "NoRegisteredProviderFound",
                f"No registered resource provider found for API version '{api_version}' and type "
                f"'{rtype.arm_type}'. The supported api-versions are "
                f"'{', '.join(rtype.all_api_versions())}'.",
            )
        return rid, rtype

    def _refuse_artifact_write(self, rtype: Any) -> None:
        if artifact_type(rtype.arm_type) is not None:
            raise ServiceError(
                400,
                "OperationNotAllowed",
                f"This simulated service makes {rtype.arm_type} only by building image templates; "
                "it does not accept them written directly.",
            )

    def _enter(self, operation: str, arm_id: str, api_version: str, *, slow: bool = True) -> None:
        if self.fault_hook is not None:
            self.fault_hook(operation, arm_id)
        if slow and self.latency > 0:
            self.sleep(self.latency)

    def _row(self, arm_id: str) -> tuple[str, str, str, str] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, type, body, api_version FROM resources WHERE key = ?", (fold_id(arm_id),)
            ).fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3])

    def _store(self, rid: ResourceId, api_version: str, body: Body, *, created: bool) -> str:
        """Write the resource; returns the body text stored."""
        now = self.clock()
        parent = rid.parent()
        key = fold_id(str(rid))
        text = json.dumps(body, sort_keys=True)
        if created:
            self._db.execute(
                "INSERT OR REPLACE INTO resources "
                "(key, id, type, rg, parent, api_version, body, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    str(rid),
                    rid.arm_type.lower(),
                    rid.resource_group.lower(),
                    fold_id(str(parent)) if parent else None,
                    api_version,
                    text,
                    now,
                    now,
                ),
            )
        else:
            self._db.execute(
                "UPDATE resources SET body = ?, api_version = ?, updated = ? WHERE key = ?",
                (text, api_version, now, key),
            )
        return text

    def _present(self, row: tuple[str, ...] | sqlite3.Row) -> Body:
        arm_id, _type, body_text = row[0], row[1], row[2]
        rid = parse_resource_id(arm_id)
        assert rid is not None
        body = json.loads(body_text)
        if isinstance(body.get("location"), str):
            body["location"] = fold_location(body["location"])
        return {"id": arm_id, "name": rid.names[-1], "type": rid.arm_type, **body}

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _not_found(arm_id: str) -> ServiceError:
    rid = parse_resource_id(arm_id)
    what = f"{rid.arm_type}/{rid.name}" if rid else arm_id
    group = rid.resource_group if rid else "?"
    return ServiceError(
        404, "ResourceNotFound", f"The Resource '{what}' under resource group '{group}' was not found."
    )


def _request_body(body: Body) -> Body:
    """Only the writable envelope of a request, as a copy of its own; ARM ignores id/name/type in bodies.

    Copied through JSON (C speed; a request body is JSON) rather than copy.deepcopy (a big apply makes
    thousands of these)."""
    ignored = ("id", "name", "type", "apiVersion", "systemData", "dependsOn")
    kept = {k: v for k, v in body.items() if k not in ignored}
    copied: Body = json.loads(json.dumps(kept))
    return copied


def _merge_patch(current: Body, patch: Body) -> Body:
    merged = copy.deepcopy(current)
    for key, value in patch.items():
        if key == "properties" and isinstance(value, dict) and isinstance(merged.get("properties"), dict):
            props = merged["properties"]
            for pkey, pvalue in value.items():
                if (
                    pkey == "vmProfile"
                    and isinstance(pvalue, dict)
                    and isinstance(props.get("vmProfile"), dict)
                ):
                    props["vmProfile"] = {**props["vmProfile"], **copy.deepcopy(pvalue)}
                elif pvalue is None:
                    props.pop(pkey, None)
                else:
                    props[pkey] = copy.deepcopy(pvalue)
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _leaf_paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(value, dict) and value and not (prefix and prefix[-1] in ("tags", "identity")):
        out: list[tuple[str | int, ...]] = []
        for k, v in value.items():
            out.extend(_leaf_paths(v, (*prefix, k)))
        return out
    return [prefix]


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, dict):
        return {k.lower(): _fold(v) for k, v in value.items()}
    return value
