"""A simulated Azure Resource Manager + VM Image Builder service, kept in SQLite.

One core serves the local provider (in process) and the ARM emulator (over HTTPS), so both behave alike.
It enforces what the real services enforce for the four managed types: a gallery before its image
definitions, the image definition before a template that distributes to it, no second PUT of an image
template, no delete of a gallery that still has image definitions. It never runs a customizer's commands.

`SimulatedAzure` is the REST surface; the rows live in `simulated_store`, what Azure refuses and adds is in
`simulated_rules`, image builds in `builds`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from ..catalog import BUILDABLE, for_arm_type
from ..catalog.arm_ids import ResourceId, fold_id, fold_location, parse_resource_id
from ..catalog.behaviour import PUT
from . import authorization
from .api_versions import check_for_type
from .build_artifacts import Refusal
from .build_machine import Fault
from .builds import Builds
from .computed import Making, answer_body
from .errors import ServiceError
from .service_rules import (
    TENANT_ID,
    admit_put,
    check_patch,
    check_patch_references,
    merge_patch,
    not_found,
    parse_request,
    refuse_artifact_write,
    refuse_blocked_delete,
    request_body,
)
from .store import Body, ResourceStore, present

__all__ = [
    "TENANT_ID",
    "Body",
    "FaultHook",
    "ServiceError",
    "SimulatedAzure",
]

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
        principal_delay: float = 0.0,
    ) -> None:
        self.db_path = str(db_path)
        self.latency = latency
        # Seconds a new identity's principal stays unknown to role assignments (Azure's replication delay).
        self.principal_delay = principal_delay
        self.fault_hook = fault_hook
        self.clock = clock
        self.sleep = sleep
        self.store = ResourceStore(self.db_path)
        # Image builds (Run/Cancel, lastRunStatus, run outputs, artifacts): providers/simulated/builds.py.
        self.builds = Builds(
            self.store.db, self.store.lock, self.store.transaction, self, clock, build_minute
        )

    def close(self) -> None:
        self.store.close()

    # -- the REST surface ----------------------------------------------------------------------------

    def get(self, arm_id: str, api_version: str) -> Body:
        rid = parse_resource_id(arm_id)
        if rid is not None:
            check_for_type(rid.arm_type, api_version, None)
        self._enter("read", arm_id, api_version, slow=False)
        if _BUILT_FROM in arm_id.lower():
            self.builds.sync([arm_id])
        row = self.store.row(arm_id)
        if row is None:
            built_in = authorization.built_in_definition(arm_id)
            if built_in is not None:
                return built_in
            raise not_found(arm_id)
        return present(row)

    def get_many(self, arm_ids: Iterable[str]) -> dict[str, Body | None]:
        """Bulk GET used by the local provider's refresh (one query, no latency per resource)."""
        return self._answered(list(arm_ids))[0]

    def get_many_fingerprinted(self, arm_ids: Iterable[str]) -> tuple[dict[str, Body | None], str]:
        """`get_many` and the `get_many_fingerprint` of its answer, both made from the same rows."""
        ids = list(arm_ids)
        answer, rows = self._answered(ids)
        return answer, _fingerprint(ids, rows)

    def _answered(self, ids: list[str]) -> tuple[dict[str, Body | None], dict[str, tuple[str, str, str]]]:
        """`get_many`'s answer for `ids`, and the stored rows it was made from (by folded id)."""
        self.builds.sync(ids)
        rows = self.store.rows(ids)
        found = {key: present(row) for key, row in rows.items()}
        return {i: found.get(fold_id(i)) or authorization.built_in_definition(i) for i in ids}, rows

    def get_many_fingerprint(self, arm_ids: Iterable[str]) -> str:
        """A hash of what `get_many` answers now for `arm_ids`, from the stored text (nothing parsed): what
        `get_many` makes of a row is a function of the row alone (and of the code)."""
        ids = list(arm_ids)
        self.builds.sync(ids)
        return _fingerprint(ids, self.store.rows(ids))

    def put(self, arm_id: str, api_version: str, body: Body) -> tuple[int, Body]:
        """Create or replace; returns (201 created | 200 updated, the resource as stored)."""
        rid, rtype = parse_request(arm_id, api_version)
        refuse_artifact_write(rtype)
        self._enter("create", arm_id, api_version)
        body = request_body(body)
        from .request_check import check_request, keep_read_only  # what reads never need

        check_request(rtype, api_version, body, patch=False)
        body = keep_read_only(rtype, {}, body)  # what the service owns is not taken from a request
        if rtype.located and (not isinstance(body.get("location"), str) or not body["location"]):
            raise ServiceError(
                400, "LocationRequired", "The location property is required for this definition."
            )
        with self.store.lock, self.store.transaction():
            existing = self.store.row(arm_id)
            refused = authorization.principal_not_found(
                self.store, rtype, body, self.clock(), self.principal_delay
            )
            if refused is not None:
                raise refused
            stored = admit_put(self.store, rid, rtype, api_version, body, existing, self.clock())
            denied = authorization.denied_at_create(self.store, stored) if rtype.builds else None
            if denied is not None:
                # Accepted, then failed (recorded: the operation ends Failed; the template stays, Failed).
                props = stored.setdefault("properties", {})
                props["provisioningState"] = "Failed"
                props["provisioningError"] = {"provisioningErrorCode": "Other", "message": denied}
            text = self.store.write(rid, api_version, stored, created=existing is None, now=self.clock())
        if denied is not None:
            raise ServiceError(200, authorization.UNAUTHORIZED_CODE, denied, accepted=True)
        # What was just stored, without reading it back (a big apply makes thousands of these calls).
        row = (existing[0] if existing is not None else str(rid), rtype.arm_type, text)
        return (201 if existing is None else 200), present(row)

    def patch(self, arm_id: str, api_version: str, patch: Body) -> Body:
        rid, rtype = parse_request(arm_id, api_version)
        refuse_artifact_write(rtype)
        self._enter("update", arm_id, api_version)
        with self.store.lock, self.store.transaction():
            row = self.store.row(arm_id)
            if row is None:
                raise not_found(arm_id)
            current = json.loads(row[2])
            if rtype.service.update_verb == PUT:
                raise ServiceError(
                    405,
                    "MethodNotAllowed",
                    f"The requested resource does not support http method 'PATCH' ({rtype.arm_type}).",
                )
            if rtype.patchable_since:
                check_patch(rtype, api_version, patch)
            elif "location" in patch and fold_location(str(patch["location"])) != fold_location(
                current.get("location", "")
            ):
                raise ServiceError(
                    400,
                    "InvalidResourceLocation",
                    f"The resource '{rid.name}' cannot be moved to location '{patch['location']}'.",
                )
            patch = request_body(patch)
            from .request_check import check_request, keep_read_only

            check_request(rtype, api_version, patch, patch=True)
            check_patch_references(self.store, rid, rtype, patch)
            merged = merge_patch(current, patch)
            # What the service adds to what a PATCH brings (a new distribution target's artifactTags); what
            # it owns stays as it was.
            answer_body(rtype, api_version, merged, Making(rid, self.clock(), self._stored))
            merged = keep_read_only(rtype, current, merged)
            self.store.write(rid, api_version, merged, created=False, now=self.clock())
            new_row = self.store.row(arm_id)
        assert new_row is not None
        return present(new_row)

    def delete(self, arm_id: str, api_version: str) -> int:
        """Returns 200 when deleted, 204 when there was nothing to delete."""
        rid, rtype = parse_request(arm_id, api_version)
        self._enter("delete", arm_id, api_version)
        if rtype.builds:
            self.builds.sync([arm_id])
        with self.store.lock, self.store.transaction():
            row = self.store.row(arm_id)
            if row is None:
                return 204
            children = self.store.child_ids(arm_id)
            if children:
                held = sorted(child.rsplit("/", 1)[-1] for child in children)
                raise ServiceError(
                    409,
                    "CannotDeleteResource",
                    "Can not delete resource before nested resources are deleted: "
                    f"'{rid.name}' still holds {', '.join(held)}.",
                )
            refuse_blocked_delete(self.store, rid, rtype)
            if rtype.builds:
                run = (json.loads(row[2]).get("properties") or {}).get("lastRunStatus") or {}
                if run.get("runState") in ("Running", "Canceling"):
                    raise ServiceError(
                        409,
                        "Conflict",
                        f"Image template '{rid.name}' cannot be deleted while a build is "
                        f"{run['runState'].lower()}; cancel the build and wait for it to end.",
                    )
            # ARM removes the extension resources attached to a resource (role assignments on it) with it.
            self.store.delete_with_extensions(arm_id)
            if rtype.builds:
                self.builds.forget(arm_id)
        return 200

    def list_resource_group(self, subscription: str, resource_group: str) -> list[Body]:
        prefix = fold_id(f"/subscriptions/{subscription}/resourceGroups/{resource_group}/")
        self.builds.sync()
        return [present(r) for r in self.store.rows_under(prefix)]

    def list_type(self, arm_type: str, scope: str) -> list[Body]:
        """Every resource of `arm_type` whose id starts with `scope` (a subscription, resource group or
        parent id and a slash), ordered by id, as a GET returns each."""
        rows = self.store.rows_of_type(arm_type, fold_id(scope))
        rtype = for_arm_type(arm_type)
        if rows and rtype is not None and rtype.builds:
            self.builds.sync([r[0] for r in rows])
            rows = self.store.rows_of_type(arm_type, fold_id(scope))
        return [present(r) for r in rows]

    def list_role_assignments(
        self, scope: str, *, principal: str | None = None, at_scope_only: bool = False
    ) -> list[Body]:
        """GET {scope}/providers/Microsoft.Authorization/roleAssignments: at, above and (unless
        `at_scope_only`) below the scope, of one principal when given."""
        self._enter("read", scope, "", slow=False)
        return authorization.list_role_assignments(
            self.store, scope, principal=principal, at_scope_only=at_scope_only
        )

    def list_role_definitions(
        self, scope: str, *, role_name: str | None = None, role_type: str | None = None
    ) -> list[Body]:
        """GET {scope}/providers/Microsoft.Authorization/roleDefinitions: built-in and custom roles."""
        self._enter("read", scope, "", slow=False)
        return authorization.list_role_definitions(
            self.store, scope, role_name=role_name, role_type=role_type
        )

    def post_action(
        self, arm_id: str, api_version: str, action: str, body: Body | None = None
    ) -> Body | None:
        """POST run / cancel on an image template: both return at once; lastRunStatus follows the build."""
        _rid, rtype = parse_request(arm_id, api_version)
        verb = action.lower()
        if rtype.builds and verb in rtype.service.actions:
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
        parse_request(arm_id, api_version)
        if self.store.row(arm_id) is None:
            raise not_found(arm_id)
        return self.builds.run_outputs(arm_id)

    # -- acting behind the state's back (aibplan sim) -------------------------------------------------

    def raw_write(self, arm_id: str, body: Body) -> None:
        """Overwrite a stored resource as-is, skipping every rule (a person in the portal)."""
        rid = _resource_id(arm_id)
        row = self.store.row(arm_id)
        # Written from nothing, it is kept at its type's default api version; a type the catalog does not
        # know (a subnet a stack refers to) at the image template's, as every write before it was.
        rtype = for_arm_type(rid.arm_type) or BUILDABLE
        api_version = row[3] if row else rtype.default_api_version
        with self.store.lock, self.store.transaction():
            self.store.write(rid, api_version, body, created=row is None, now=self.clock())

    def raw_delete(self, arm_id: str) -> bool:
        return self.store.delete_with_children(arm_id)

    def plant_build_fault(
        self, arm_id: str, step: str, *, message: str | None = None, hang: bool = False
    ) -> None:
        """Make the next build of a template fail at `step` (or hang there until it times out)."""
        self.builds.plant_fault(arm_id, Fault(step, message, hang))

    def clear_build_fault(self, arm_id: str) -> bool:
        return self.builds.clear_fault(arm_id)

    # -- the store as the build machinery sees it (no rules; inside the caller's transaction) -----------

    def _stored(self, arm_id: str) -> Body | None:
        row = self.store.row(arm_id)
        return None if row is None else dict(json.loads(row[2]))

    def stored_body(self, arm_id: str) -> tuple[str, Body] | None:
        row = self.store.row(arm_id)
        return None if row is None else (row[3], json.loads(row[2]))

    def store_body(self, arm_id: str, api_version: str, body: Body) -> None:
        rid = _resource_id(arm_id)
        self.store.write(rid, api_version, body, created=self.store.row(arm_id) is None, now=self.clock())

    def child_ids(self, arm_id: str) -> list[str]:
        return self.store.child_ids(arm_id)

    def denied_steps(self, template: Body) -> list[tuple[str, str, int | None]]:
        return authorization.denied_steps(self.store, template)

    def count(self) -> int:
        return self.store.count()

    def _enter(self, operation: str, arm_id: str, api_version: str, *, slow: bool = True) -> None:
        if self.fault_hook is not None:
            self.fault_hook(operation, arm_id)
        if slow and self.latency > 0:
            self.sleep(self.latency)


_BUILT_FROM = BUILDABLE.arm_type.lower()


def _resource_id(arm_id: str) -> ResourceId:
    rid = parse_resource_id(arm_id)
    if rid is None:
        raise ServiceError(400, "InvalidResourceId", f"'{arm_id}' is not a resource id.")
    return rid


def _fingerprint(ids: list[str], rows: Mapping[str, tuple[str, str, str]]) -> str:
    """A hash of the stored rows of `ids` (by folded id), in the order asked."""
    digest = hashlib.sha256()
    for arm_id in ids:
        row = rows.get(fold_id(arm_id))
        digest.update(arm_id.encode("utf-8", "surrogatepass") + b"\0")
        if row is not None:
            digest.update("\0".join(row).encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
    return digest.hexdigest()
