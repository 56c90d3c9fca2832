"""The values the simulated service fills in, made the way the catalog says the real one makes them.

The catalog's `Computed` facts say which field the service fills in, at which api versions, and how its
value is made (`Made`); this module makes each kind of value. A value made from the resource's id is
the same every time, so two processes sharing a database agree and tests can predict it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..catalog.arm_ids import ResourceId, fold_id
from ..catalog.behaviour import Computed, Made
from ..catalog.paths import in_force
from ..catalog.types import ResourceType
from .store import Body, ResourceStore

_NS = uuid.UUID("6b0c4f64-4a51-4b9e-9f0b-5f3a0d7c2e11")
TENANT_ID = "72f988bf-0000-4000-8000-000000000001"
# Whoever calls the simulated service: one signed-in principal.
CALLER_ID = "5f1d9c2a-0000-4000-8000-00000000ca11"


def fill_computed(
    store: ResourceStore, rid: ResourceId, rtype: ResourceType, api_version: str, body: Body, now: float
) -> None:
    """Write into `body` every value the service fills in for `rtype` at `api_version`."""
    for fact in rtype.service.computed:
        if not in_force(fact.since, fact.until, api_version):
            continue
        make = _maker(store, rid, fact, now)
        _fill(body, fact.path, make, fact.only_when_omitted)


def resource_guid(arm_id: str, what: str) -> str:
    """The GUID the simulated service gives a resource for `what` (an identity's "principal", "client"):
    the same for the same id in every process, so a stack can name it before the resource exists."""
    return str(uuid.uuid5(_NS, f"{fold_id(arm_id)}/{what}"))


def _maker(store: ResourceStore, rid: ResourceId, fact: Computed, now: float) -> Callable[[str], Any]:
    """How to make the value of `fact`; called with the key it is written under."""
    made = fact.made
    if made is Made.CONSTANT:
        return lambda _key: fact.value
    if made is Made.GUID:
        return lambda _key: resource_guid(str(rid), str(fact.value))
    if made is Made.TENANT:
        return lambda _key: TENANT_ID
    if made is Made.CALLER:
        return lambda _key: CALLER_ID
    if made is Made.SCOPE:
        return lambda _key: rid.scope_id
    if made is Made.NOW:
        stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
        return lambda _key: stamp
    if made is Made.GALLERY_UNIQUE_NAME:
        return lambda _key: f"{rid.subscription}-{rid.names[-1].upper()}"
    if made is Made.IDENTITY_IDS:
        return lambda key: _identity_ids(store, key)
    raise AssertionError(f"no way to make {made}")


def _identity_ids(store: ResourceStore, identity_id: str) -> dict[str, Any]:
    row = store.row(identity_id)
    props = (json.loads(row[2]).get("properties") or {}) if row is not None else {}
    return {"principalId": props.get("principalId"), "clientId": props.get("clientId")}


def _fill(value: Any, pattern: tuple[str, ...], make: Callable[[str], Any], only_when_omitted: bool) -> None:
    """Set the value at every place `pattern` names; containers on the way are made when missing."""
    if not isinstance(value, dict) and not isinstance(value, list):
        return
    head, rest = pattern[0], pattern[1:]
    if head == "[]":
        for item in value if isinstance(value, list) else ():
            _fill(item, rest, make, only_when_omitted)
        return
    if not isinstance(value, dict):
        return
    keys = list(value) if head == "*" else [head]
    for key in keys:
        if rest:
            if key not in value or value[key] is None:
                if head == "*" or rest[0] in ("*", "[]"):
                    continue
                value[key] = {}
            _fill(value[key], rest, make, only_when_omitted)
        elif not (only_when_omitted and key in value):
            value[key] = make(key)
