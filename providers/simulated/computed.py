"""What the simulated service does to a body it stores, made the way the catalog says the real one does.

The catalog's service facts say, per kind and api version, which fields the service fills in and how
their values are made (`Computed`, `Made`), which values it answers in another form (`Rewrite` with a
`made`), and which fields it drops when they were sent empty (`Dropped`). `answer_body` applies all three
to a request body, in that order: dropped first (a dropped field is never filled), filled from the sent
values (an exact version from the version sent), then rewritten. A value made from the resource's id is
the same every time, so two processes sharing a database agree and tests can predict it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..catalog.arm_ids import ResourceId, fold_id, fold_location
from ..catalog.behaviour import Computed, Made, Rewrite
from ..catalog.paths import PathPattern, in_force
from ..catalog.types import ResourceType
from .region_names import display_name

Body = dict[str, Any]

_NS = uuid.UUID("6b0c4f64-4a51-4b9e-9f0b-5f3a0d7c2e11")
TENANT_ID = "72f988bf-0000-4000-8000-000000000001"
# Whoever calls the simulated service: one signed-in principal.
CALLER_ID = "5f1d9c2a-0000-4000-8000-00000000ca11"
_LATEST = "latest"
_BRACKETED = re.compile(r"^latest \((.+)\)$", re.IGNORECASE)


@dataclass(frozen=True)
class Making:
    """What values are made from: the resource, the time of the write, and the other stored resources."""

    rid: ResourceId
    now: float
    read: Callable[[str], Body | None]  # a stored body by id, None when there is none


def answer_body(rtype: ResourceType, api_version: str, body: Body, making: Making) -> None:
    """Turn the request `body` (in place) into what the service stores and answers for it."""
    service = rtype.service
    for dropped in service.dropped_when_empty:
        if in_force(dropped.since, dropped.until, api_version):
            _drop_empty(body, dropped.path)
    fill_computed(rtype, api_version, body, making)
    for rewrite in service.rewrites:
        if rewrite.made is not None and in_force(rewrite.since, rewrite.until, api_version):
            _rewrite(body, rewrite, making)


def fill_computed(rtype: ResourceType, api_version: str, body: Body, making: Making) -> None:
    """Write into `body` every value the service fills in for `rtype` at `api_version`."""
    for fact in rtype.service.computed:
        if in_force(fact.since, fact.until, api_version):
            _fill(body, fact.path, fact, making)


def platform_version(version: str, now: float) -> str:
    """The version a platform image `version` resolves to at `now`: itself, or for `latest` one made from
    the date (year.monthday.minute of the day), as the marketplace numbers Ubuntu's images."""
    bracketed = _BRACKETED.match(version)
    if bracketed:
        return bracketed.group(1)  # resolved already: `latest (16.04.202004290)`
    if version.lower() != _LATEST:
        return version
    moment = datetime.fromtimestamp(now, timezone.utc)
    return f"{moment.year}.{moment.month:02d}{moment.day:02d}.{moment.hour * 60 + moment.minute}"


def answered_id(rtype: ResourceType | None, arm_id: str) -> str:
    """The resource's id as the service spells it in its answers."""
    if rtype is not None:
        for rewrite in rtype.service.rewrites_at(("id",)):
            if rewrite.made is Made.GROUPS_LOWER_CASED:
                return _groups_lower_cased(arm_id)
    return arm_id


# -- making one value ---------------------------------------------------------------------------------


def _made(fact: Computed, holder: Body, key: str, making: Making) -> Any:
    """The value of `fact`, written under `key` of `holder`."""
    made, rid = fact.made, making.rid
    if made is Made.CONSTANT:
        return fact.value
    if made is Made.GUID:
        return _guid(rid, str(fact.value))
    if made is Made.TENANT:
        return TENANT_ID
    if made is Made.CALLER:
        return CALLER_ID
    if made is Made.SCOPE:
        return rid.scope_id
    if made is Made.NOW:
        return datetime.fromtimestamp(making.now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    if made is Made.GALLERY_UNIQUE_NAME:
        return f"{rid.subscription}-{rid.names[-1].upper()}"
    if made is Made.IDENTITY_IDS:
        props = (making.read(key) or {}).get("properties") or {}
        return {"principalId": props.get("principalId"), "clientId": props.get("clientId")}
    if made is Made.CHECKSUM:
        # The service hashes the file it downloads; the simulated one cannot download, so it hashes the
        # address: the same file always has the same checksum, another file another one.
        uri = next((holder[k] for k in fact.only_with if isinstance(holder.get(k), str)), "")
        return hashlib.sha256(uri.encode()).hexdigest()
    if made is Made.RESOLVED_VERSION:
        return platform_version(str(holder.get("version") or _LATEST), making.now)
    if made is Made.STAGING_GROUP:
        given = holder.get("stagingResourceGroup")
        if isinstance(given, str) and given:
            return given
        group = f"IT_{rid.resource_group}_{rid.names[-1]}_{_guid(rid, 'staging')}"
        return f"/subscriptions/{rid.subscription}/resourceGroups/{group}"
    raise AssertionError(f"no way to make {made}")


def _guid(rid: ResourceId, what: str) -> str:
    return str(uuid.uuid5(_NS, f"{fold_id(str(rid))}/{what}"))


def _groups_lower_cased(arm_id: str) -> str:
    head, sep, rest = arm_id.partition("/resourceGroups/")
    return f"{head}/resourcegroups/{rest}" if sep else arm_id


def _rewritten(rewrite: Rewrite, value: Any, making: Making) -> Any:
    if not isinstance(value, str):
        return value
    if rewrite.made is Made.WITH_RESOLVED:
        if value.lower() != _LATEST:
            return value
        return f"{value} ({platform_version(value, making.now)})"
    if rewrite.made is Made.REGION_DISPLAY_NAME:
        return display_name(fold_location(value))
    if rewrite.made is Made.GROUPS_LOWER_CASED:
        return _groups_lower_cased(value)
    raise AssertionError(f"no way to rewrite with {rewrite.made}")


# -- walking a body -----------------------------------------------------------------------------------


def _holders(value: Any, pattern: PathPattern, *, make: bool) -> list[Body]:
    """The objects that hold the last key of `pattern`; with `make`, objects on the way are made."""
    if not pattern[:-1]:
        return [value] if isinstance(value, dict) else []
    head, rest = pattern[0], pattern[1:]
    if head == "[]":
        items = value if isinstance(value, list) else []
        return [h for item in items for h in _holders(item, rest, make=make)]
    if not isinstance(value, dict):
        return []
    found: list[Body] = []
    for key in list(value) if head == "*" else [head]:
        if key not in value or value[key] is None:
            # Nothing is made on the way to a wildcard: an object made empty holds nothing to fill.
            if not make or head == "*" or any(part in ("*", "[]") for part in rest):
                continue
            value[key] = {}
        found.extend(_holders(value[key], rest, make=make))
    return found


def _fill(body: Body, pattern: PathPattern, fact: Computed, making: Making) -> None:
    """Set the value at every place `pattern` names, in the objects the fact holds for."""
    last = pattern[-1]
    for holder in _holders(body, pattern, make=not fact.inside_sent):
        if not fact.applies_to(holder):
            continue
        for key in list(holder) if last == "*" else [last]:
            sent = key in holder and not any(
                holder[key] == v and type(holder[key]) is type(v) for v in fact.replaces
            )
            if not (fact.only_when_omitted and sent):
                holder[key] = _made(fact, holder, key, making)


def _drop_empty(body: Body, pattern: PathPattern) -> None:
    last = pattern[-1]
    for holder in _holders(body, pattern, make=False):
        for key in list(holder) if last == "*" else [last]:
            if key in holder and holder[key] in ({}, [], None):
                del holder[key]


def _rewrite(body: Body, rewrite: Rewrite, making: Making) -> None:
    if rewrite.path == ("id",):
        return  # the answer's id is spelled when it is presented (store.present)
    last = rewrite.path[-1]
    if last == "[]":
        for holder_list in _lists(body, rewrite.path[:-1]):
            holder_list[:] = [_rewritten(rewrite, item, making) for item in holder_list]
        return
    for holder in _holders(body, rewrite.path, make=False):
        for key in list(holder) if last == "*" else [last]:
            if key in holder:
                holder[key] = _rewritten(rewrite, holder[key], making)


def _lists(body: Body, pattern: PathPattern) -> list[list[Any]]:
    """The lists at `pattern` (for a rewrite of every item of a list of strings)."""
    found: list[list[Any]] = []
    for holder in _holders(body, pattern, make=False):
        value = holder.get(pattern[-1])
        if isinstance(value, list):
            found.append(value)
    return found
