"""ARM's long-running operations, as the emulator presents the simulated service's synchronous work.

The simulated service finishes a PUT, PATCH or DELETE at once; ARM would answer 201/202 and let the
client poll. Each operation here is a record that reports InProgress for a set number of status polls,
then Succeeded, so SDK pollers really poll. A Run's operation lasts as long as the build: it reports
InProgress while the template's lastRunStatus says Running or Canceling, then how the build ended.
"""

from __future__ import annotations

import datetime
import itertools
import threading
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..catalog.arm_ids import fold_id, parse_resource_id
from ..simulated.service import ServiceError, SimulatedAzure

Body = dict[str, Any]
Answer = tuple[int, Body | None, dict[str, str]]  # status, JSON body, headers

_IN_PROGRESS_STATE = {"create": "Creating", "update": "Updating"}


@dataclass
class Operation:
    """One long-running operation: polls left before it ends, and how it ends."""

    op_id: str
    kind: str  # create | update | delete | action
    arm_id: str
    api_version: str
    namespace: str
    location: str
    polls_left: int
    started: str
    error: ServiceError | None = None
    ended: str | None = None


class Operations:
    """The operations in flight; thread-safe. `retry_after` is whole seconds (HTTP's Retry-After)."""

    def __init__(self, service: SimulatedAzure, *, polls: int, retry_after: int | None) -> None:
        self.service = service
        self.polls = polls
        self.retry_after = retry_after
        self._operations: dict[str, Operation] = {}
        self._lock = threading.Lock()
        self._counter = itertools.count(1)

    def start(self, kind: str, arm_id: str, api_version: str, body: Body | None) -> Operation:
        rid = parse_resource_id(arm_id)
        op = Operation(
            op_id=f"{uuid.uuid4()}-{next(self._counter)}",
            kind=kind,
            arm_id=arm_id,
            api_version=api_version,
            namespace=rid.namespace if rid else "Microsoft.Resources",
            location=str((body or {}).get("location") or "global").replace(" ", "").lower(),
            polls_left=self.polls,
            started=_now(),
        )
        with self._lock:
            self._operations[op.op_id] = op
        return op

    def headers(self, host: str, op: Operation) -> dict[str, str]:
        """Azure-AsyncOperation and Location for the answer that started `op`."""
        rid = parse_resource_id(op.arm_id)
        subscription = quote(rid.subscription if rid else "-")
        base = f"https://{host}/subscriptions/{subscription}/providers/{op.namespace}/locations/{op.location}"
        query = f"?api-version={quote(op.api_version)}"
        return {
            "Azure-AsyncOperation": f"{base}/operations/{op.op_id}{query}",
            "Location": f"{base}/operationResults/{op.op_id}{query}",
            **self._retry_after(),
        }

    def in_progress_state(self, arm_id: str) -> str | None:
        """Creating / Updating while a create or update of the resource is in progress."""
        with self._lock:
            running = [
                op
                for op in self._operations.values()
                if op.ended is None
                and op.kind in _IN_PROGRESS_STATE
                and fold_id(op.arm_id) == fold_id(arm_id)
            ]
        return _IN_PROGRESS_STATE[running[-1].kind] if running else None

    def settle(self, arm_id: str) -> None:
        """End the create, update and delete operations on `arm_id` now (their client will not poll)."""
        with self._lock:
            for op in self._operations.values():
                if op.ended is None and op.kind != "action" and fold_id(op.arm_id) == fold_id(arm_id):
                    op.ended = _now()

    def status(self, op_id: str, path: str) -> Answer:
        """GET of the Azure-AsyncOperation URL: the operation status resource."""
        op = self._advance(op_id)
        body: Body = {"id": path, "name": op.op_id, "startTime": op.started}
        if op.ended is None:
            body["status"] = "InProgress"
            return 200, body, self._retry_after()
        if op.error is not None:
            error = {"code": op.error.code, "message": op.error.message}
            body.update(status="Failed", endTime=op.ended, error=error)
        else:
            body.update(status="Succeeded", endTime=op.ended)
        return 200, body, {}

    def result(self, op_id: str, url: str) -> Answer:
        """GET of the Location URL: 202 while in progress, then the resource (or 204 when nothing)."""
        op = self._advance(op_id)
        if op.ended is None:
            return 202, None, {"Location": url, **self._retry_after()}
        if op.kind in ("create", "update"):
            return 200, self.service.get(op.arm_id, op.api_version), {}
        return 204, None, {}

    def _retry_after(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}

    def _advance(self, op_id: str) -> Operation:
        with self._lock:
            op = self._operations.get(op_id)
            if op is None:
                raise ServiceError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
            if op.ended is None:
                if op.polls_left > 0:
                    op.polls_left -= 1
                elif not self._build_running(op):
                    op.ended = _now()
            return op

    def _build_running(self, op: Operation) -> bool:
        """A run's operation lasts as long as the build (the template's lastRunStatus says)."""
        if op.kind != "action":
            return False
        try:
            body = self.service.get(op.arm_id, op.api_version)
        except ServiceError:
            return False
        run = (body.get("properties") or {}).get("lastRunStatus") or {}
        state = str(run.get("runState", ""))
        if state in ("Running", "Canceling"):
            return True
        if state == "Failed":
            op.error = ServiceError(200, "BuildFailed", str(run.get("message") or "The build failed."))
        return False


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
