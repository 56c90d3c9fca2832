"""After a clean apply, `plan` and `drift` report nothing for every example, however the cloud spells
regions ("West US 2"), however it cases ARM ids, and whatever defaults and read-only fields it fills in."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planner.normalize import normalize_body
from planner.stack.loader import load_config
from planner.stack.model import Stack
from providers.catalog import RESOURCE_TYPES, for_arm_type, read_only_paths
from providers.catalog.arm_ids import parse_resource_id
from providers.catalog.types import ResourceType
from providers.simulated.local import LocalProvider
from tests.helpers import EXAMPLES, Run

STACKS = sorted(p.parent.name for p in EXAMPLES.glob("*/aibplan.json"))
_DISPLAY = {
    "westus2": "West US 2",
    "westus3": "West US 3",
    "eastus": "East US",
    "eastus2": "East US 2",
    "westeurope": "West Europe",
    "northeurope": "North Europe",
    "centralus": "Central US",
    "uksouth": "UK South",
}
_REGION_KEYS = ("location", "replicationRegions", "name")


def spelled(region: Any) -> Any:
    return _DISPLAY.get(region.replace(" ", "").lower(), region) if isinstance(region, str) else region


def cased(value: str) -> str:
    """An ARM id as the service may return it: the same id, other letter case."""
    head, sep, rest = value.partition("/resourceGroups/")
    return head + "/resourcegroups/" + rest.upper() if sep else value.upper()


def noisy(value: Any, key: str | None = None, in_distribute: bool = False) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            new_key = cased(k) if isinstance(k, str) and k.startswith("/subscriptions/") else k
            out[new_key] = noisy(v, k, in_distribute or k == "distribute")
        return out
    if isinstance(value, list):
        return [noisy(v, key, in_distribute) for v in value]
    if isinstance(value, str) and value.startswith("/subscriptions/"):
        return cased(value)
    if in_distribute and key in _REGION_KEYS:
        return spelled(value)
    return value


def fill_defaults(body: dict[str, Any], rtype: ResourceType) -> None:
    """Write every service default the catalog knows where the user left the field out."""
    for pattern, values in rtype.defaults.items():
        _fill(body, pattern, values[0], rtype, ())


def _fill(
    node: Any, pattern: tuple[str, ...], value: Any, rtype: ResourceType, done: tuple[str, ...]
) -> None:
    head, rest = pattern[0], pattern[1:]
    if head == "[]":
        for item in node if isinstance(node, list) else []:
            _fill(item, rest, value, rtype, (*done, head))
        return
    if not isinstance(node, dict):
        return
    if not rest:
        node.setdefault(head, copy.deepcopy(value))
        return
    if head not in node and (*done, head) in rtype.empty_is_omitted:
        node[head] = {}
    if head in node:
        _fill(node[head], rest, value, rtype, (*done, head))


def make_noise(root: Path) -> int:
    """Rewrite every resource of the stack's resource group in the local cloud; returns how many."""
    config, _ = load_config(root)  # the stack's default environment: its local cloud is its own
    assert config is not None
    cloud = LocalProvider(Stack(root=root, config=config, resources=()).runtime_dir)
    try:
        listed = cloud.service.list_resource_group(config.subscription_id, config.resource_group)
        for presented in listed:
            rid = parse_resource_id(presented["id"])
            rtype = for_arm_type(rid.arm_type) if rid else None
            if rtype is None:
                continue
            body = noisy({k: v for k, v in presented.items() if k not in ("id", "name", "type")})
            body["location"] = spelled(body.get("location"))
            body["systemData"] = {"createdBy": "someone@example.com", "createdAt": "2024-05-01T10:00:00Z"}
            fill_defaults(body, rtype)
            if rtype.kind == "imageTemplate":
                props = body.setdefault("properties", {})
                props.setdefault("exactStagingResourceGroup", cased(presented["id"]) + "-staging")
                source = props.get("source") or {}
                if source.get("type") == "PlatformImage":
                    source["exactVersion"] = "22.04.202405010"
            cloud.service.raw_write(presented["id"], body)
        return len(listed)
    finally:
        cloud.close()


@pytest.mark.parametrize("name", STACKS)
def test_a_clean_apply_leaves_nothing_to_plan_and_no_drift_however_the_cloud_spells_things(
    name: str, example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example(name)
    run = cli("apply", "--auto-approve", str(root))
    assert run.exit_code == 0, run.stderr
    assert make_noise(root) >= 4
    templates = [
        r["address"]
        for r in json.loads(cli("sim", "list", "--json", str(root)).stdout)["resources"]
        if r["address"].startswith("imageTemplate.")
    ]
    shown = cli("sim", "show", str(root), templates[0]).stdout
    assert "/resourcegroups/RG-" in shown and '"systemData"' in shown and '"exactVersion"' in shown
    run = cli("plan", "--detailed-exitcode", str(root))
    assert run.exit_code == 0, run.stdout
    assert "No changes." in run.stdout and "Objects have changed outside" not in run.stdout
    run = cli("drift", "--include-unmanaged", str(root))
    assert run.exit_code == 0, run.stdout
    document = json.loads(cli("plan", "--json", str(root)).stdout)
    assert document["resource_drift"] == []
    assert {c["action"] for c in document["resource_changes"]} == {"no-op"}


def test_the_noise_is_real(example: Callable[[str], Path], cli: Callable[..., Run]) -> None:
    """The same rewrite with one real change in it is seen, by plan and by drift."""
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    make_noise(root)
    cli("sim", "edit", str(root), "imageTemplate.ubuntu2204", "properties.vmProfile.osDiskSizeGB=64")
    run = cli("drift", "--json", str(root))
    assert run.exit_code == 2
    (item,) = json.loads(run.stdout)["drift"]
    assert [d["path"] for d in item["attribute_diffs"]] == [["properties", "vmProfile", "osDiskSizeGB"]]


def _containers(pattern: tuple[str, ...], leaf: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A body holding the objects and lists on the way to `pattern` (without, then with, its value)."""

    def build(parts: tuple[str, ...], with_leaf: bool) -> Any:
        head, rest = parts[0], parts[1:]
        key = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i"
        if head == "[]":
            return [build(rest, with_leaf)] if rest else [leaf]
        name = key if head == "*" else head
        if not rest:
            return {name: leaf} if with_leaf else {}
        return {name: build(rest, with_leaf)}

    return build(pattern, False), build(pattern, True)


@pytest.mark.parametrize("rtype", RESOURCE_TYPES, ids=[t.kind for t in RESOURCE_TYPES])
def test_every_field_the_service_fills_in_is_no_difference(rtype: ResourceType) -> None:
    # The validator reports these fields as read-only from the schemas; the comparison reads the same table.
    for pattern in read_only_paths(rtype):
        without, with_value = _containers(pattern, "filled in by the service")
        assert normalize_body(rtype, with_value) == normalize_body(rtype, without), pattern
