"""What tests share, in one module (test modules import nothing else of tests/): paths, the CLI's result,
stack and JSON edits, an engine round trip, rule fixtures, golden plan cases, and the ARM emulator's handle.

Golden plan fixtures (tests/fixtures/plans/): `bases/<base>/stack/` is a stack, `bases/<base>/state.json`
and `cloud.json` the state and the cloud after a clean apply of it (made by
`python -m tests.planning.test_plan_goldens`); `cases/<case>.json` is one case: its base, edits to the
stack files, the state and the cloud (each a file or address, a JSON path as a list, and a value, or
`"remove": true`; `"forget": true` drops a state entry), the plan options, and the action each resource is
meant to get (`expect`); `cases/<case>.plan.json` is the JSON plan the case must produce (without the
provider's description, the inputs hash and the full before/after bodies, which other tests cover, and
without `after_unknown` where nothing is known only after apply). `AIBPLAN_UPDATE_GOLDEN=1` rewrites these
files from the current code; review the diff before committing it.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.diagnostics import Diagnostic, format_path
from planner.execution.apply import apply_plan
from planner.execution.engine import open_provider, prepare, read_state
from planner.hooks import RecordingHooks
from planner.planning.plan import make_plan
from planner.render.json_plan import plan_to_json
from planner.rules.validate import validate_paths
from planner.stack.jsonc import load_jsonc
from providers.azure.settings import AzureSettings
from providers.emulator.server import ArmEmulator
from providers.simulated.computed import resource_guid
from providers.simulated.local import LocalProvider
from providers.simulated.service import SimulatedAzure

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FIXTURES = ROOT / "tests" / "fixtures"
PLANS = FIXTURES / "plans"
BASES = PLANS / "bases"
CASES = PLANS / "cases"

# -- the command line -------------------------------------------------------------------------------------


@dataclass
class Run:
    """What `aibplan ARGS...` left: its exit code, stdout and stderr apart."""

    exit_code: int
    stdout: str
    stderr: str


# -- stacks and JSON files --------------------------------------------------------------------------------

STACK_CONFIG = {"subscriptionId": "sub-1", "resourceGroup": "rg-images", "location": "westeurope"}


def write_stack(root: Path, files: dict[str, object | str], config: dict[str, object] | None = None) -> Path:
    """A stack folder: aibplan.json (`config`, else STACK_CONFIG) and the given files (text or JSON)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "aibplan.json").write_text(json.dumps(config or STACK_CONFIG))
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content, indent=2)
        (root / name).write_text(text)
    return root


def builder_principal(subscription: str, group: str, identity: str) -> str:
    """The principal id the simulated cloud gives identity `identity` in that subscription and group: what
    an example stack moved to another group passes as its `builderPrincipalId` (until reference())."""
    arm_id = (
        f"/subscriptions/{subscription}/resourceGroups/{group}/providers/"
        f"Microsoft.ManagedIdentity/userAssignedIdentities/{identity}"
    )
    return resource_guid(arm_id, "principal")


def edit_json(path: Path, edit: Callable[[dict], None]) -> None:  # type: ignore[type-arg]
    """Change a JSON (or JSON with comments) file in place, as a user editing it would."""
    data = load_jsonc(path.read_text(), str(path))
    edit(data)
    path.write_text(json.dumps(data, indent=2))


# -- the engine on the local cloud ------------------------------------------------------------------------


def apply_root(root: Path, *, destroy: bool = False, parallelism: int = 10) -> RecordingHooks:
    """Plan and apply a stack through the engine (no CLI); the hooks it reported to."""
    prepared, diagnostics = prepare(root)
    assert prepared is not None, diagnostics
    state, existing = read_state(prepared.stack)
    provider = open_provider(prepared.stack)
    hooks = RecordingHooks()
    try:
        plan = make_plan(prepared.stack, prepared.graph, state, provider, destroy=destroy)
        result = apply_plan(
            plan, state, existing, prepared.stack.state_path, provider, hooks=hooks, parallelism=parallelism
        )
    finally:
        provider.close()
    assert result.ok, result.failures
    return hooks


def cloud_count(root: Path) -> int:
    """How many resources the stack's local cloud holds."""
    provider = LocalProvider(root / ".aibplan")
    try:
        return provider.service.count()
    finally:
        provider.close()


# -- rule fixtures (tests/fixtures/rules, tests/fixtures/published) ---------------------------------------


@contextmanager
def _inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run_fixture(folder: Path) -> list[dict[str, object]]:
    """Validate a fixture folder as `aibplan validate` would, from inside it."""
    with _inside(folder):
        if (folder / "aibplan.json").exists():
            result = validate_paths([Path(".")])
        else:
            files = sorted(p.name for p in folder.glob("*.json"))
            result = validate_paths([Path(name) for name in files])
    return sorted((_shown(d) for d in result.diagnostics), key=lambda d: json.dumps(d, sort_keys=True))


def _shown(d: Diagnostic) -> dict[str, object]:
    return {
        "code": d.code,
        "severity": d.severity.value,
        "file": d.file,
        "line": d.line,
        "path": format_path(d.path) if d.path else None,
    }


# -- golden plan cases (tests/fixtures/plans) -------------------------------------------------------------

# What the stacks refer to but do not manage; the plan reads them (AIB8001), so the cloud holds them.
EXTERNAL = {
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-network/providers/"
    f"Microsoft.Network/virtualNetworks/vnet-build/subnets/{name}": {"properties": {"addressPrefix": prefix}}
    for name, prefix in (("build", "10.0.1.0/24"), ("build2", "10.0.2.0/24"))
}


def case_files() -> list[Path]:
    return sorted(p for p in CASES.glob("*.json") if not p.name.endswith(".plan.json"))


def golden_path(case_file: Path) -> Path:
    return case_file.with_name(case_file.stem + ".plan.json")


def set_at(document: Any, path: list[Any], value: Any, *, remove: bool = False) -> None:
    """Set (or remove) the value at `path` (keys and list indexes), creating objects on the way."""
    node = document
    for part in path[:-1]:
        if isinstance(node, dict) and part not in node:
            node[part] = {}
        node = node[part]
    last = path[-1]
    if remove:
        del node[last]
    elif isinstance(node, list) and last == len(node):
        node.append(value)
    else:
        node[last] = value


def materialise(case: Mapping[str, Any], where: Path) -> Path:
    """Lay the case out in `where`: the stack with its edits, the state file, the local cloud database."""
    base = BASES / case["base"]
    root = where / "stack"
    shutil.copytree(base / "stack", root)
    for edit in case.get("stack", []):
        file = root / edit["file"]
        document = load_jsonc(file.read_text(), str(file))
        set_at(document, edit["path"], copy.deepcopy(edit.get("value")), remove=edit.get("remove", False))
        file.write_text(json.dumps(document, indent=2) + "\n")
    state_data = json.loads((base / "state.json").read_text())
    by_address = {r["address"]: r for r in state_data["resources"]}
    for edit in case.get("state", []):
        entry = by_address[edit["address"]]
        if edit.get("forget"):  # the state never knew it (it stays in the cloud)
            state_data["resources"].remove(entry)
            continue
        set_at(entry, edit["path"], copy.deepcopy(edit.get("value")), remove=edit.get("remove", False))
    (root / "aibplan.state.json").write_text(json.dumps(state_data, indent=2, sort_keys=True) + "\n")
    cloud = json.loads((base / "cloud.json").read_text())
    bodies = {r["id"]: r["body"] for r in cloud["resources"]}
    for edit in case.get("cloud", []):
        arm_id = by_address[edit["address"]]["id"]
        if edit.get("delete"):
            bodies.pop(arm_id)
            continue
        value = copy.deepcopy(edit.get("value"))
        set_at(bodies[arm_id], edit["path"], value, remove=edit.get("remove", False))
    service = SimulatedAzure(root / ".aibplan" / "local-cloud.db")
    try:
        for arm_id, body in bodies.items():
            service.raw_write(arm_id, body)
    finally:
        service.close()
    return root


def plan_document(root: Path, options: Mapping[str, Any]) -> dict[str, Any]:
    prepared, diagnostics = prepare(root)
    assert prepared is not None, diagnostics
    state, _ = read_state(prepared.stack)
    provider = open_provider(prepared.stack)
    try:
        plan = make_plan(
            prepared.stack,
            prepared.graph,
            state,
            provider,
            refresh=options.get("refresh", True),
            destroy=options.get("destroy", False),
            targets=tuple(options.get("targets", ())),
            replace_addresses=tuple(options.get("replace", ())),
            refresh_only=options.get("refresh_only", False),
        )
    finally:
        provider.close()
    return golden_form(plan_to_json(plan))


def golden_form(document: dict[str, Any]) -> dict[str, Any]:
    """What a golden file pins: the JSON plan without machine paths, the hash and full bodies; what is known
    only after apply (`after_unknown`) only where something is."""
    out = {k: v for k, v in document.items() if k not in ("provider", "inputs_hash")}
    out["resource_changes"] = [_golden_change(c) for c in document["resource_changes"]]
    out["resource_drift"] = [
        {k: v for k, v in d.items() if k not in ("before", "after")} | {"attribute_diffs": _golden_diffs(d)}
        for d in document["resource_drift"]
    ]
    return out


def _golden_change(change: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in change.items() if k not in ("before", "after")}
    if out.get("after_unknown") == {}:
        del out["after_unknown"]
    out["attribute_diffs"] = _golden_diffs(change)
    return out


def _golden_diffs(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in d.items() if not (k == "after_unknown" and v is False)}
        for d in item["attribute_diffs"]
    ]


# -- the ARM emulator (tests/azure) -----------------------------------------------------------------------

SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
# Fast enough for tests, slow enough that the SDK's pollers really poll: an operation takes
# OPERATION_SECONDS, polled every POLLING_INTERVAL.
POLLING_INTERVAL = 0.01
OPERATION_SECONDS = 0.03
# Small, so that lists of a few resources come in pages and clients follow nextLink.
PAGE_SIZE = 2
# Real seconds per simulated build minute: a whole build takes a fraction of a second.
BUILD_MINUTE = 0.002


@dataclass
class Emulator:
    """The session's ARM emulator and the CA certificate that trusts it."""

    server: ArmEmulator
    ca_file: Path

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    def new_group(self, *, create: bool = True) -> str:
        name = f"rg-{uuid.uuid4().hex[:10]}"
        if create:
            self.server.surface.resource_groups.create(
                f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{name}", "westus2"
            )
        return name

    def settings(self, **overrides: object) -> AzureSettings:
        values: dict[str, object] = {
            "subscription_id": SUBSCRIPTION,
            "base_url": self.endpoint,
            "credential_scope": f"{self.endpoint}/.default",
            "ca_bundle": self.ca_file,
            "credential": "emulator",
            "polling_interval": POLLING_INTERVAL,
        }
        values.update(overrides)
        return AzureSettings(**values)  # type: ignore[arg-type]
