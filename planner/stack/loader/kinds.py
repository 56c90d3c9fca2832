"""The kind of a resource whose type is not one aibplan manages as written: a namespace alone that the
body's fields tell apart (AIB0015, info), a near miss of a managed type (AIB2001), or a type set aside
(AIB0006)."""

from __future__ import annotations

import difflib
from typing import Any

from providers.catalog import RESOURCE_TYPES, ResourceType, recognised

from ...diagnostics import JsonPath, Severity
from ..model import SourceRef, UnmanagedResource
from .loading import Loading


def recognised_kind(
    arm_type: str, name: str, raw: dict[str, Any], shown: str, pointer: JsonPath, loading: Loading
) -> ResourceType | None:
    """A resource typed with its namespace only, as Azure's published AIB bodies are (`az resource create
    --is-full-object` ignores the type): its kind told by what it holds, said once (AIB0015)."""
    rtype = recognised(arm_type, raw)
    if rtype is not None:
        held = " and ".join(".".join(path) for path in rtype.recognised_by)
        loading.add(
            "AIB0015",
            Severity.INFO,
            f"type '{arm_type}' names only the namespace; '{name}' holds {held}, so it is checked as "
            f"{rtype.arm_type}",
            file=shown,
            path=(*pointer, "type"),
            hint=f'write "type": "{rtype.arm_type}"',
        )
    return rtype


def unmanaged(arm_type: str, name: str, shown: str, pointer: JsonPath, loading: Loading) -> None:
    """A type aibplan does not manage: a near miss of a managed type is a typo (AIB2001), else a warning."""
    lowered = arm_type.lower()
    managed = [t.arm_type for t in RESOURCE_TYPES]
    is_child = any(lowered.startswith(t.lower() + "/") for t in managed)
    close = (
        [] if is_child else difflib.get_close_matches(lowered, [t.lower() for t in managed], n=1, cutoff=0.9)
    )
    if close:
        meant = next(t for t in managed if t.lower() == close[0])
        loading.add(
            "AIB2001",
            Severity.ERROR,
            f"type '{arm_type}' is not a resource type; '{name}' would be left out",
            file=shown,
            path=(*pointer, "type"),
            hint=f"did you mean '{meant}'?",
        )
        return
    loading.add(
        "AIB0006",
        Severity.WARNING,
        f"aibplan does not manage {arm_type} yet; '{name}' is left out of the plan",
        file=shown,
        path=(*pointer, "type"),
    )
    loading.unmanaged.append(UnmanagedResource(arm_type, name, SourceRef(shown, pointer)))
