"""ARM's long-running operations, as the emulator presents the simulated service's work.

The simulated service does a PUT, PATCH or DELETE at once; Azure answers 201/202 and finishes later. Each
operation here ends when its time is up (`seconds` after it started, on the service's clock), whoever
looks and however often: its status URL, a GET of the resource (which shows Creating or Updating until
then) or a list. A client that never polls (`--no-wait`) or that watches `provisioningState` sees it
finish as one that polls does. A Run's operation lasts as long as the build as well: it reports
InProgress while the template's lastRunStatus says Running or Canceling, then how the build ended.

The status resource is the recorded one: `{name, status, startTime[, endTime][, error]}`, the name being
the operation id (upper case for Image Builder, as answers.py says).
"""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..catalog.arm_ids import fold_id, parse_resource_id
from ..simulated.service import ServiceError, SimulatedAzure
from .answers import style_of

Body = dict[str, Any]
Answer = tuple[int, Body | None, dict[str, str]]  # status, JSON body, headers

_IN_PROGRESS_STATE = {"create": "Creating", "update": "Updating"}
# Ended operations are forgotten this long after they ended (a client polls them for a while at most).
_KEEP_ENDED_SECONDS = 3600.0


@dataclass
class Operation:
    """One long-running operation: when it is due to end, and how it ended."""

    op_id: str
    kind: str  # create | update | delete | action
    arm_id: str
    api_version: str
    namespace: str
    location: str
    started_at: float
    due_at: float
    error: ServiceError | None = None
    ended_at: float | None = None


class Operations:
    """The operations in flight; thread-safe. `retry_after` is whole seconds (HTTP's Retry-After)."""

    def __init__(
        self,
        service: SimulatedAzure,
        *,
        seconds: float,
        retry_after: int | None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.service = service
        self.seconds = max(0.0, seconds)
        self.retry_after = retry_after
        self.clock = clock if clock is not None else service.clock
        self._operations: dict[str, Operation] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, arm_id: str, api_version: str, body: Body | None) -> Operation:
        rid = parse_resource_id(arm_id)
        now = self.clock()
        op = Operation(
            op_id=str(uuid.uuid4()),
            kind=kind,
            arm_id=arm_id,
            api_version=api_version,
            namespace=rid.namespace if rid else "Microsoft.Resources",
            location=str((body or {}).get("location") or "global").replace(" ", "").lower(),
            started_at=now,
            due_at=now + self.seconds,
        )
        with self._lock:
            self._forget_old(now)
            self._operations[op.op_id] = op
        return op

    def headers(self, host: str, op: Operation, *, location: bool) -> dict[str, str]:
        """Azure-AsyncOperation (and, for DELETE and POST, Location: the same URL, as recorded)."""
        url = self.status_url(host, op)
        headers = {"Azure-AsyncOperation": url}
        if location:
            headers["Location"] = url
        return {**headers, **self._retry_after()}

    def status_url(self, host: str, op: Operation) -> str:
        rid = parse_resource_id(op.arm_id)
        subscription = quote(rid.subscription if rid else "-")
        segment = style_of(op.namespace).operation_segment
        return (
            f"https://{host}/subscriptions/{subscription}/providers/{op.namespace}/locations/{op.location}"
            f"/{segment}/{op.op_id}?api-version={quote(op.api_version)}"
        )

    def in_progress_state(self, arm_id: str) -> str | None:
        """Creating / Updating while a create or update of the resource has not ended."""
        key = fold_id(arm_id)
        with self._lock:
            running = [
                op
                for op in self._operations.values()
                if op.kind in _IN_PROGRESS_STATE and fold_id(op.arm_id) == key and not self._settle(op)
            ]
        return _IN_PROGRESS_STATE[running[-1].kind] if running else None

    def in_progress_states(self) -> dict[str, str]:
        """Creating / Updating by folded resource id, for every resource with an operation not ended."""
        with self._lock:
            running = [
                op
                for op in self._operations.values()
                if op.kind in _IN_PROGRESS_STATE and not self._settle(op)
            ]
        return {fold_id(op.arm_id): _IN_PROGRESS_STATE[op.kind] for op in running}

    def settle(self, arm_id: str) -> None:
        """End the create, update and delete operations on `arm_id` now (their client will not poll)."""
        key = fold_id(arm_id)
        now = self.clock()
        with self._lock:
            for op in self._operations.values():
                if op.ended_at is None and op.kind != "action" and fold_id(op.arm_id) == key:
                    op.ended_at = now

    def status(self, op_id: str) -> Answer:
        """GET of the operation's URL: the operation status resource."""
        with self._lock:
            op = self._operations.get(op_id.lower())
            if op is None:
                raise ServiceError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
            ended = self._settle(op)
        name = op.op_id.upper() if style_of(op.namespace).upper_case_operation_name else op.op_id
        body: Body = {"name": name, "status": "InProgress", "startTime": _timestamp(op.started_at)}
        if not ended:
            return 200, body, self._retry_after()
        body.update(status="Failed" if op.error is not None else "Succeeded")
        body["endTime"] = _timestamp(op.ended_at or op.due_at)
        if op.error is not None:
            body["error"] = {"code": op.error.code, "message": op.error.message}
        return 200, body, {}

    def _retry_after(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}

    def _settle(self, op: Operation) -> bool:
        """True when `op` has ended (ending it now if its time is up); call with the lock held."""
        if op.ended_at is not None:
            return True
        now = self.clock()
        if now < op.due_at or self._build_running(op):
            return False
        op.ended_at = now
        return True

    def _forget_old(self, now: float) -> None:
        old = [
            key
            for key, op in self._operations.items()
            if op.ended_at is not None and now - op.ended_at > _KEEP_ENDED_SECONDS
        ]
        for key in old:
            del self._operations[key]

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


def _timestamp(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")
