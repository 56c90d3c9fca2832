"""A plan as frozen data: one Change per managed resource, in the order apply walks them, plus the state
lineage and serial and the hash of the inputs it was made against (planner.planning.plan makes it)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from providers.base import ResourceRef

from ..diagnostics import Diagnostic, JsonPath
from .diff import AttributeDiff
from .drift import ResourceDrift


class Action(str, enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NOOP = "no-op"
    READ = "read"


# Why a change has the action it has (the JSON plan's `action_reason`).
REASON_NEW = "new_in_configuration"
REASON_GONE = "deleted_outside_aibplan"
REASON_CANNOT_UPDATE = "replace_because_cannot_update"
REASON_TAINTED = "replace_because_tainted"
REASON_FAILED = "replace_because_failed"
REASON_MOVED = "replace_because_id_changed"
REASON_UPDATE = "update_in_place"
REASON_REMOVED = "delete_because_not_in_configuration"
REASON_DESTROY = "delete_because_destroy"


@dataclass(frozen=True)
class Change:
    """What apply will do to one resource, and why."""

    address: str
    kind: str
    name: str
    arm_type: str
    arm_id: str
    api_version: str
    action: Action
    # Normalised bodies: before (state or cloud) and after (desired); None when absent.
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    attribute_diffs: tuple[AttributeDiff, ...] = ()
    # Paths in `after` whose value is known only after apply (null there): reference() of what the apply
    # creates or replaces.
    after_unknown: tuple[JsonPath, ...] = ()
    reasons: tuple[str, ...] = ()
    action_reason: str | None = None
    warnings: tuple[Diagnostic, ...] = ()
    # The body to send, as the user wrote it (None for deletes); a value known only after apply is an
    # `Unknown` in it, which apply evaluates once what it refers to exists.
    body: Mapping[str, Any] | None = None
    # Managed resources this one is created after (desired graph) / was created after (state).
    depends_on: tuple[str, ...] = ()
    old_depends_on: tuple[str, ...] = ()
    # The api version the existing resource was made with (for deletes and the delete half of a replace).
    old_api_version: str | None = None
    old_arm_id: str | None = None
    # What deleting the existing resource brings with it (planning.consequences): the runState of a build
    # apply must cancel first, VHDs lost with a template, image versions / unmanaged image definitions
    # that stop the delete.
    running_build: str | None = None
    vhd_uris: tuple[str, ...] = ()
    image_versions: tuple[str, ...] = ()
    nested_definitions: tuple[str, ...] = ()
    # The address the state tracked this resource under, when only the case of its name changed: the same
    # Azure resource (ids compare without case), so apply moves the state entry instead of a delete.
    previous_address: str | None = None

    @cached_property
    def body_has_unknown(self) -> bool:
        """Whether a value of `body` is known only after apply (asked of every change an apply shows and
        makes: answered once)."""
        from ..stack.expressions.unknown import has_unknown

        return self.body is not None and has_unknown(self.body)

    @cached_property
    def body_redacted(self) -> Mapping[str, Any] | None:
        """`body` with its secrets fingerprinted (state.redact), as the plan shows it and the state keeps
        it: made once for both."""
        from state.redact import redact

        return None if self.body is None else redact(dict(self.body))

    @property
    def is_change(self) -> bool:
        """Something to apply: a call to the cloud, or a state entry to move."""
        return self.action not in (Action.NOOP, Action.READ) or self.previous_address is not None

    def ref(self) -> ResourceRef:
        return ResourceRef(self.arm_id, self.arm_type, self.api_version)

    def old_ref(self) -> ResourceRef:
        return ResourceRef(
            self.old_arm_id or self.arm_id, self.arm_type, self.old_api_version or self.api_version
        )


@dataclass(frozen=True)
class Summary:
    """How many resources a plan adds, changes, replaces and destroys."""

    add: int = 0
    change: int = 0
    replace: int = 0
    destroy: int = 0


@dataclass(frozen=True)
class Plan:
    """What apply would do: a Change per managed resource, in the order apply walks them, and the state and
    inputs the plan was made against."""

    changes: tuple[Change, ...]
    provider: str
    state_lineage: str | None
    state_serial: int | None
    inputs_hash: str
    destroy: bool = False
    refreshed: bool = True
    diagnostics: tuple[Diagnostic, ...] = ()
    unmanaged: tuple[str, ...] = ()
    stack_root: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    # Resources changed outside aibplan since it last saw them (cloud against the state's observed bodies).
    drift: tuple[ResourceDrift, ...] = ()
    # What the plan was narrowed to and asked to replace (--target, --replace); a refresh-only plan
    # proposes nothing but taking the drift into the state.
    targets: tuple[str, ...] = ()
    replace_requested: tuple[str, ...] = ()
    refresh_only: bool = False
    # A hash of the state as stored that the plan was made against (None: no state yet); a saved plan
    # applies only to that same state (planning.saved_plan.staleness).
    state_digest: str | None = None
    # The environment the plan is for (None: the stack has no environments).
    environment: str | None = None

    @property
    def summary(self) -> Summary:
        counts = {action: 0 for action in Action}
        for change in self.changes:
            counts[change.action] += 1
        return Summary(
            counts[Action.CREATE], counts[Action.UPDATE], counts[Action.REPLACE], counts[Action.DELETE]
        )

    @property
    def has_changes(self) -> bool:
        if self.refresh_only:
            return bool(self.drift)
        return any(c.is_change for c in self.changes)

    def change_for(self, address: str) -> Change | None:
        for change in self.changes:
            if change.address == address:
                return change
        return None
