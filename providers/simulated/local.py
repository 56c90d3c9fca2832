"""The embedded default provider: the simulated Azure service, called in process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

from ..base import Body, ProviderError, ResourceRef, error_for_status
from .service import FaultHook, ServiceError, SimulatedAzure

T = TypeVar("T")

DB_FILE = "local-cloud.db"


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
    ) -> None:
        self.db_path = runtime_dir / DB_FILE
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

    def read_many_fingerprint(self, refs: Iterable[ResourceRef]) -> str:
        """A hash of what `read_many(refs)` answers now, made without reading the bodies (the plan cache)."""
        return self.service.get_many_fingerprint(ref.arm_id for ref in refs)

    def create(self, ref: ResourceRef, body: Body) -> Body:
        try:
            created = self.service.put(ref.arm_id, ref.api_version, body)[1]
        except ServiceError as exc:
            raise _translate(exc) from None
        self._answered("create", ref.arm_id)
        return created

    def update(self, ref: ResourceRef, patch: Body) -> Body:
        try:
            updated = self.service.patch(ref.arm_id, ref.api_version, patch)
        except ServiceError as exc:
            raise _translate(exc) from None
        self._answered("update", ref.arm_id)
        return updated

    def delete(self, ref: ResourceRef) -> None:
        try:
            self.service.delete(ref.arm_id, ref.api_version)
        except ServiceError as exc:
            raise _translate(exc) from None
        self._answered("delete", ref.arm_id)

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
