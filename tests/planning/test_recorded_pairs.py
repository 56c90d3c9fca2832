"""Replay of the recorded corpus through `aibplan plan` (issue 11, acceptance): for every create the
service accepted (a PUT body, then the GET after it, or the PUT's own answer when no GET was recorded)
and every PATCH, a one-resource stack that declares what was sent, at the recorded api version, with a
state whose applied body is that request, plans against the recorded answer as the cloud: "No changes",
and `drift` finds nothing. Read from tests/fixtures/recorded/, so a recording added later is replayed
without a change here.

What the service does to a body (computes, rewrites, drops) is the catalog's to know; a difference the
service really made is listed in KNOWN with what the plan does about it (the corpus README says why).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from planner.generate.body import declared_body
from planner.normalize import normalize_body
from providers.catalog import ResourceType, for_arm_type
from providers.catalog.arm_ids import ResourceId, parse_resource_id
from providers.catalog.references import referenced_ids
from providers.simulated.service import SimulatedAzure
from providers.simulated.service_rules import merge_patch
from state import ResourceState, State, dumps_state
from tests.helpers import Run
from tests.helpers.recorded import PLANNED, Pair, by_file, filled, pairs

CREATES = pairs("PUT")
PATCHES = pairs("PATCH")


@dataclass(frozen=True)
class Known:
    """A difference the service (or a spec example) really made, and what the plan does about it."""

    action: str
    paths: tuple[tuple[str | int, ...], ...]
    why: str


_SPEC_ECHO = "the spec example's answer is not the request echoed: tags left out (a slip of the example)"
_SPEC_VNET = "the spec example's answer leaves out the vnetConfig the request sent (a slip of the example)"
KNOWN: dict[str, Known] = {
    "azure-cli/image_builder_vm_profile_2023-07-01.json#0 -> #2": Known(
        "replace",
        (),
        "the service failed the create (Unauthorized on the build identity's vnet): a Failed template is "
        "deleted and submitted again",
    ),
    **{
        f"rest-api-specs/imagebuilder-{version}/CreateImageTemplateLinux.json#{n}": Known(
            "replace" if vnet else "update",
            ((("properties", "vmProfile", "vnetConfig"),) if vnet else ()) + (("tags",),),
            f"{_SPEC_VNET}; {_SPEC_ECHO}" if vnet else _SPEC_ECHO,
        )
        for version, n, vnet in (
            ("2020-02-14", 0, False),
            ("2020-02-14", 1, True),
            ("2022-07-01", 0, False),
            ("2022-07-01", 1, True),
            ("2025-10-01", 0, True),
            ("2025-10-01", 1, False),
        )
    },
    "rest-api-specs/imagebuilder-2025-10-01/UpdateImageTemplateVmProfile.json#0": Known(
        "update",
        (("properties", "vmProfile", "vnetConfig", "subnetId"),),
        "the spec example's answer has a stray '}' in the subnet id it was sent (a slip of the example)",
    ),
}
# Rules the recorded bodies break, though the service accepted them, turned off in each replayed stack
# (aibplan.json `rules`), with the reason; `tests/rules/test_recorded_api_versions.py` lists where.
ACCEPTED_BY_THE_SERVICE = {
    "AIB3402": "the service accepted two steps with one name (image_builder_basic_2021-10-01#3)",
    "AIB2031": "the spec example PATCHes identity to None (2025-10-01)",
}


def test_the_corpus_has_creates_and_patches_of_every_planned_kind() -> None:
    assert {p.kind for p in CREATES} == set(PLANNED)
    assert {p.kind for p in PATCHES} >= {"imageTemplate", "imageDefinition", "userAssignedIdentity"}
    assert set(KNOWN) <= {p.where for p in (*CREATES, *PATCHES)}, "a KNOWN entry names no pair"


@pytest.mark.parametrize("pair", CREATES, ids=lambda p: p.where)
def test_a_recorded_create_plans_no_changes_against_its_answer(
    pair: Pair, tmp_path: Path, cli: Callable[..., Run]
) -> None:
    sent = filled(pair.write.request["body"])
    root = _stack(pair, sent, tmp_path)
    _expect_no_changes(pair, root, cli)


@pytest.mark.parametrize("pair", PATCHES, ids=lambda p: p.where)
def test_a_recorded_patch_plans_no_changes_against_its_answer(
    pair: Pair, tmp_path: Path, cli: Callable[..., Run]
) -> None:
    rtype = _rtype(pair)
    # What the stack declares: the resource as created (the file's PUT of it), else as the answer shows it
    # written as a person would, with the PATCH's fields written in.
    created = _created_body(pair)
    base = created if created is not None else declared_body(rtype, filled(pair.answer.response["body"]))
    desired = merge_patch(base, filled(pair.write.request["body"]))
    root = _stack(pair, desired, tmp_path)
    _expect_no_changes(pair, root, cli)


def _expect_no_changes(pair: Pair, root: Path, cli: Callable[..., Run]) -> None:
    known = KNOWN.get(pair.where)
    run = cli("plan", "--detailed-exitcode", "--json", str(root))
    assert run.exit_code in (0, 2), run.stderr
    document = json.loads(run.stdout)
    (change,) = document["resource_changes"]
    diffs = [tuple(d["path"]) for d in change["attribute_diffs"]]
    if known is None:
        assert (change["action"], diffs) == ("no-op", []), f"{pair.where}: {change['attribute_diffs']}"
        assert run.exit_code == 0 and document["resource_drift"] == []
        shown = cli("plan", str(root)).stdout
        assert "No changes." in shown and "Objects have changed outside" not in shown
        assert cli("drift", str(root)).exit_code == 0
    else:
        assert change["action"] == known.action, known.why
        assert sorted(diffs) == sorted(known.paths), known.why


# -- the stack, the state and the cloud of one pair -----------------------------------------------------


def _rtype(pair: Pair) -> ResourceType:
    rtype = for_arm_type(PLANNED[pair.kind])
    assert rtype is not None
    return rtype


def _rid(pair: Pair) -> ResourceId:
    rid = parse_resource_id(filled(pair.write.request["path"]))
    assert rid is not None, pair.write.request["path"]
    return rid


def _created_body(pair: Pair) -> dict[str, Any] | None:
    """The body of the last create of the PATCHed resource before the PATCH, in the same file."""
    path = pair.write.request["path"].lower()
    found = None
    for item in by_file()[pair.write.file][: pair.write.index]:
        if item.method == "PUT" and item.request["path"].lower() == path and item.status < 300:
            found = filled(item.request["body"])
    return found


def _stack(pair: Pair, desired: dict[str, Any], where: Path) -> Path:
    """A stack declaring `desired`, a state that applied it, and a local cloud holding the answer."""
    rtype, rid = _rtype(pair), _rid(pair)
    api_version = pair.write.api_version
    root = where / "stack"
    root.mkdir()
    config: dict[str, Any] = {
        "subscriptionId": rid.subscription,
        "resourceGroup": rid.resource_group,
        "location": desired.get("location") or "westus2",
        "rules": {
            code: {"off": [f"{rtype.kind}.{'/'.join(rid.names)}"], "reason": why}
            for code, why in ACCEPTED_BY_THE_SERVICE.items()
        },
    }
    (root / "aibplan.json").write_text(json.dumps(config, indent=2))
    name = "/".join(rid.names)
    resource = {"type": rtype.arm_type, "apiVersion": api_version, "name": name, **desired}
    (root / "resource.json").write_text(json.dumps(resource, indent=2))
    answer = filled(pair.answer.response["body"])
    observed = (
        filled(pair.write.response["body"]) if isinstance(pair.write.response["body"], dict) else answer
    )
    arm_id = str(rid)
    entry = ResourceState(
        address=f"{rtype.kind}.{name}",
        arm_type=rtype.arm_type,
        arm_id=arm_id,
        api_version=api_version,
        applied=normalize_body(rtype, desired, api_version),
        observed=observed,
        serial=1,
    )
    (root / "aibplan.state.json").write_text(dumps_state(State("recorded-replay", (entry,))))
    cloud = SimulatedAzure(root / ".aibplan" / "local-cloud.db")
    try:
        for other_id, body in _referenced(rtype, desired, rid):
            cloud.raw_write(other_id, body)
        cloud.raw_write(
            arm_id, {k: v for k, v in copy.deepcopy(answer).items() if k not in ("id", "name", "type")}
        )
    finally:
        cloud.close()
    return root


def _referenced(
    rtype: ResourceType, body: dict[str, Any], rid: ResourceId
) -> list[tuple[str, dict[str, Any]]]:
    """What the resource names and the plan checks exists (an identity, an image definition and its
    gallery, a subnet), as minimal bodies; and the parent of a child resource."""
    ids = [str(rid.parent())] if rid.parent() is not None else []
    for reference in rtype.references:
        for arm_id, _path in referenced_ids(body, reference):
            target = parse_resource_id(arm_id)
            while target is not None:
                ids.append(str(target))
                target = target.parent()
    location = body.get("location") or "westus2"
    return [(arm_id, {"location": location, "properties": {}}) for arm_id in dict.fromkeys(ids)]
