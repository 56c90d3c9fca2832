"""The embedded default provider: the simulated Azure service, called in process; the writes of a big
apply are served by a process of its own (service_process)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ..base import Body, ProviderError, ResourceRef, error_for_status
from .service import FaultHook, ServiceError, SimulatedAzure
from .service_process import ServiceProcess, carried_out

T = TypeVar("T")

DB_FILE = "local-cloud.db"
# Writes served in process before the next ones go to a service process of their own: an apply this big
# gains more from the second core than the process costs to start (about 0.1 s, on that core).
WRITES_IN_PROCESS = 64


class LocalProvider:
    """Speaks to a SimulatedAzure kept in `<runtime dir>/local-cloud.db`; nothing leaves the machine."""

    name = "local"

    def __init__(
        self,
        runtime_dir: Path,
        *,
        latency: float = 0.0,
        fault_hook: FaultHook | None = None,
        build_minute: float | None = None,
        principal_delay: float = 0.0,
        clock: Callable[[], float] = time.time,
        writes_in_process: int | None = WRITES_IN_PROCESS,
    ) -> None:
        """`writes_in_process`: how many writes are served in process before the service process starts
        (None: never). It never starts under simulated latency (a single process would serve the waits
        one after the other), injected faults or a clock of the caller's: those live in this process."""
        self.db_path = runtime_dir / DB_FILE
        self._build_minute, self._principal_delay = build_minute, principal_delay
        self.service = SimulatedAzure(
            self.db_path,
            latency=latency,
            fault_hook=fault_hook,
            build_minute=build_minute,
            principal_delay=principal_delay,
            clock=clock,
        )
        # A fault hook that can lose a write's answer after the service committed it (local_faults).
        self._after_commit: Callable[[str, str], None] | None = getattr(fault_hook, "after_commit", None)
        own_process = latency == 0 and fault_hook is None and clock is time.time and bool(sys.executable)
        self._writes_left = writes_in_process if own_process else None
        self._process: ServiceProcess | None = None
        self._process_lock = threading.Lock()

    def describe(self) -> str:
        return f"local (simulated Azure in {self.db_path}; nothing is created in a real subscription)"

    def read(self, ref: ResourceRef) -> Body | None:
        try:
            return self.service.get(ref.arm_id, ref.api_version)
        except ServiceError as exc:
            if exc.status == 404:
                return None
            raise _translate(exc) from None

    def read_many(self, refs: Iterable[ResourceRef]) -> Mapping[str, Body | None]:
        return self.service.get_many(ref.arm_id for ref in refs)

    def read_many_fingerprinted(self, refs: Iterable[ResourceRef]) -> tuple[Mapping[str, Body | None], str]:
        """`read_many` and the `read_many_fingerprint` of that answer, made from one reading of the rows."""
        return self.service.get_many_fingerprinted(ref.arm_id for ref in refs)

    def read_many_fingerprint(self, refs: Iterable[ResourceRef]) -> str:
        """A hash of what `read_many(refs)` answers now, made without reading the bodies (the plan cache)."""
        return self.service.get_many_fingerprint(ref.arm_id for ref in refs)

    def create(self, ref: ResourceRef, body: Body) -> Body:
        try:
            created: Body = self._write("put", ref, body)
        except ServiceError as exc:
            raise _translate(exc) from None
        self._answered("create", ref.arm_id)
        return created

    def update(self, ref: ResourceRef, patch: Body) -> Body:
        try:
            updated: Body = self._write("patch", ref, patch)
        except ServiceError as exc:
            raise _translate(exc) from None
        self._answered("update", ref.arm_id)
        return updated

    def delete(self, ref: ResourceRef) -> None:
        try:
            self._write("delete", ref)
        except ServiceError as exc:
            raise _translate(exc) from None
        self._answered("delete", ref.arm_id)

    def _write(self, operation: str, ref: ResourceRef, body: Body | None = None) -> Any:
        """The service's answer to a write: from its own process once that serves, else in process."""
        process = self._writer()
        if process is not None:
            return process.call(operation, ref.arm_id, ref.api_version, body)
        return carried_out(self.service, operation, ref.arm_id, ref.api_version, body)

    def _writer(self) -> ServiceProcess | None:
        """The service process, once this provider has served its share of writes in process and the
        process is ready; None: write in process (until it is ready, or if it is gone)."""
        with self._process_lock:
            if self._process is None and self._writes_left is not None:
                if self._writes_left > 0:
                    self._writes_left -= 1
                    return None
                self._writes_left = None
                try:
                    self._process = ServiceProcess(
                        self.db_path, build_minute=self._build_minute, principal_delay=self._principal_delay
                    )
                except OSError:  # no process for it: every write is served here
                    return None
            process = self._process
        return process if process is not None and process.serving else None

    def _answered(self, operation: str, arm_id: str) -> None:
        """The write is done; an injected lost answer surfaces now, as a reset connection."""
        if self._after_commit is not None:
            self._after_commit(operation, arm_id)

    def invoke_action(self, ref: ResourceRef, action: str, body: Body | None = None) -> Body | None:
        try:
            return self.service.post_action(ref.arm_id, ref.api_version, action, body)
        except ServiceError as exc:
            raise _translate(exc) from None

    def list_run_outputs(self, ref: ResourceRef) -> list[Body]:
        try:
            return self.service.list_run_outputs(ref.arm_id, ref.api_version)
        except ServiceError as exc:
            raise _translate(exc) from None

    def list_resources(self, subscription: str, resource_group: str) -> list[Body]:
        return self.service.list_resource_group(subscription, resource_group)

    def list_role_assignments(self, scope: str, principal_id: str | None = None) -> list[Body]:
        try:
            return self.service.list_role_assignments(scope, principal=principal_id)
        except ServiceError as exc:
            raise _translate(exc) from None

    def close(self) -> None:
        with self._process_lock:
            process, self._process, self._writes_left = self._process, None, None
        if process is not None:
            process.close()
        self.service.close()


def _translate(exc: ServiceError) -> ProviderError:
    return error_for_status(
        exc.status,
        exc.code,
        exc.message,
        target=exc.target,
        retry_after=exc.retry_after,
        accepted=exc.accepted,
    )
