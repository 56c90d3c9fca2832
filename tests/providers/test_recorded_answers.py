"""The simulated cloud answers a recorded request as the real service answered it (issue 11, part 3): every
create recorded from real traffic is sent to the simulated service at its api version, and what it then
holds has exactly the fields the service's answer had (added, rewritten and dropped alike), with the same
values except those the service makes per resource (ids, checksums, resolved versions, times), which the
catalog's facts say how to make. Image versions, which the simulated cloud makes only by builds, get the
catalog's facts applied the way builds apply them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from providers.catalog import ResourceType, for_arm_type
from providers.catalog.arm_ids import parse_resource_id
from providers.catalog.artifacts import IMAGE_VERSION
from providers.catalog.behaviour import Made
from providers.catalog.paths import in_force, matches
from providers.catalog.references import referenced_ids
from providers.simulated.computed import Making, answer_body
from providers.simulated.errors import ServiceError
from providers.simulated.service import SimulatedAzure
from tests.helpers.recorded import ARM_TYPES, PLANNED, Recorded, by_file
from tests.helpers.roles import CONTRIBUTOR

Path_ = tuple[str | int, ...]
# What a recording shows that the simulated cloud does not model, and why (docs/azure.md, "Fidelity").
NOT_MODELLED: dict[str, tuple[Path_, ...]] = {
    # The PUT's own answer (no GET of this template was recorded): the identity's ids come once the
    # create's operation ends; the simulated cloud answers the finished body at once.
    "azure-powershell/imagebuilder_template_2022-07-01.json#0": (("identity", "userAssignedIdentities"),),
    # A version's disk size comes from its source disk; the simulated cloud's builds set it from the
    # template's osDiskSizeGB when they publish (build_artifacts), not from these facts.
    "azure-sdk-for-python/compute_galleries_2022-03-03.json#5": (
        ("properties", "storageProfile", "osDiskImage", "sizeInGB"),
    ),
}
_ENVELOPE = ("id", "name", "type", "systemData")


def _recorded_creates() -> list[tuple[Recorded, Recorded]]:
    """(the PUT, the GET after it, else the PUT itself) for every recorded create of real traffic."""
    found = []
    for items in by_file().values():
        for position, item in enumerate(items):
            if item.source_kind != "recording" or item.method != "PUT" or item.status >= 300:
                continue
            if item.kind not in PLANNED and item.kind != "imageVersion":
                continue
            path = item.request["path"].lower()
            later = [o for o in items[position + 1 :] if o.request["path"].lower() == path]
            answer = later[0] if later and later[0].method == "GET" else item
            found.append((item, answer))
    return found


CREATES = _recorded_creates()


@pytest.mark.parametrize(("put", "answer"), CREATES, ids=[p.where for p, _ in CREATES])
def test_the_simulated_service_answers_a_recorded_create_as_the_service_did(
    put: Recorded, answer: Recorded, tmp_path: Path
) -> None:
    arm_type = PLANNED.get(put.kind) or ARM_TYPES[put.kind]
    rid = parse_resource_id(put.request["path"])
    assert rid is not None
    if put.kind == "imageVersion":
        rtype: ResourceType = IMAGE_VERSION
        ours = dict(put.request["body"])
        answer_body(IMAGE_VERSION, put.api_version, ours, Making(rid, 0.0, lambda _id: None))
    else:
        found = for_arm_type(arm_type)
        assert found is not None
        rtype = found
        service = SimulatedAzure(tmp_path / "cloud.db")
        try:
            for other_id, body in _what_it_needs(rtype, put.request["body"], str(rid)):
                service.raw_write(other_id, body)
            failed = theirs_state(answer) == "Failed"
            for identity in _identities(put.request["body"]):
                # Made by the service (so it has a principal), and, unless the recording shows the service
                # refusing it, given the build roles as the recorded tests did (az role assignment create).
                service.put(
                    identity, "2023-01-31", {"location": put.request["body"].get("location") or "westus2"}
                )
                if not failed:
                    _grant_contributor(service, identity, str(rid))
            try:
                status, _ = service.put(put.request["path"], put.api_version, dict(put.request["body"]))
                assert status == 201
            except ServiceError as exc:
                # Accepted, then failed, as recorded (the template is kept, Failed).
                assert exc.accepted and failed, exc
            ours = service.get(put.request["path"], put.api_version)
        finally:
            service.close()
    theirs = answer.response["body"]
    skipped = NOT_MODELLED.get(put.where, ())
    their_paths = {p for p in _leaves(theirs) if p[0] not in _ENVELOPE and not _under(p, skipped)}
    our_paths = {p for p in _leaves(ours) if p[0] not in _ENVELOPE and not _under(p, skipped)}
    assert our_paths == their_paths, (
        f"only the service: {sorted(their_paths - our_paths)}; only ours: {sorted(our_paths - their_paths)}"
    )
    made = _made_per_resource(rtype, put.api_version)
    for path in sorted(their_paths, key=str):
        if any(matches(pattern, path) or _under(path, (pattern,)) for pattern in made):
            continue
        assert _at(ours, path) == _at(theirs, path) or path[-1] == "provisioningState", path
    if "id" in theirs and "id" in ours:
        # Spelled as the service spells it (`/resourcegroups/` for templates and identities).
        assert ("/resourcegroups/" in ours["id"]) == ("/resourcegroups/" in theirs["id"]), theirs["id"]


def theirs_state(answer: Recorded) -> str | None:
    body = answer.response.get("body") or {}
    return (body.get("properties") or {}).get("provisioningState") if isinstance(body, dict) else None


def _identities(body: dict[str, Any]) -> list[str]:
    return list(((body.get("identity") or {}).get("userAssignedIdentities") or {}).keys())


def _grant_contributor(service: SimulatedAzure, identity: str, arm_id: str) -> None:
    principal = service.get(identity, "2023-01-31")["properties"]["principalId"]
    group = arm_id.split("/providers/", 1)[0]
    name = uuid.uuid5(uuid.NAMESPACE_URL, f"{group}|{principal}")
    subscription = arm_id.split("/")[2]
    role = f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}"
    body = {
        "properties": {
            "roleDefinitionId": role,
            "principalId": principal,
            "principalType": "ServicePrincipal",
        }
    }
    service.put(f"{group}/providers/Microsoft.Authorization/roleAssignments/{name}", "2022-04-01", body)


def _made_per_resource(rtype: ResourceType, api_version: str) -> list[tuple[str, ...]]:
    """Paths whose values the service makes per resource or per moment: compared by presence only."""
    found = [
        f.path
        for f in rtype.service.computed
        if f.made is not Made.CONSTANT and in_force(f.since, f.until, api_version)
    ]
    found += [r.path for r in rtype.service.rewrites if r.made is Made.WITH_RESOLVED]
    return found


def _what_it_needs(rtype: ResourceType, body: dict[str, Any], arm_id: str) -> Iterator[tuple[str, Any]]:
    """What must exist before the service takes the create: the parent, what the body refers to."""
    rid = parse_resource_id(arm_id)
    assert rid is not None
    ids = [str(rid.parent())] if rid.parent() is not None else []
    for reference in rtype.references:
        for other, _path in referenced_ids(body, reference):
            target = parse_resource_id(other)
            chain = []
            while target is not None:
                chain.append(str(target))
                target = target.parent()
            ids.extend(reversed(chain))
    for other in dict.fromkeys(ids):
        yield other, {"location": body.get("location") or "westus2", "properties": {}}


def _leaves(value: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Every path to a value that is not a non-empty object or list."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    elif path:
        yield path


def _under(path: Path_, prefixes: tuple[Path_, ...]) -> bool:
    return any(len(path) >= len(p) and matches(tuple(str(x) for x in p), path[: len(p)]) for p in prefixes)


def _at(body: Any, path: Path_) -> Any:
    for part in path:
        body = body[part]
    return body


def test_every_recorded_kind_of_real_traffic_is_answered() -> None:
    kinds = {put.kind for put, _ in CREATES}
    assert kinds == {
        "imageTemplate",
        "gallery",
        "imageDefinition",
        "imageVersion",
        "userAssignedIdentity",
        "roleAssignment",
    }
    assert re.match(r"^\d{4}", CREATES[0][0].api_version)
