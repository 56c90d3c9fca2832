"""The secret corpus (tests/fixtures/secrets/corpus.json) as a stack, every output aibplan makes from it,
and the bytes of each output scanned for every secret value.

The stack is one ARM deployment template: an identity, a gallery (tags and description), an image
definition and an image template with one Shell step per inline form and a File step for the sourceUri
form. Secure parameters get their values from where the corpus says (`--var`, a `--var-file`,
aibplan.json's `parameters` or the template's `defaultValue`). Every command runs in its own process, as
a user runs it; the outputs are stdout and stderr of each command and the files the commands write (the
state, its backup, the saved plan, the journal and lock left by an apply killed with SIGKILL).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "secrets" / "corpus.json"
CLI = "from planner.cli import run; run()"

IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities"
GALLERY = "Microsoft.Compute/galleries"
DEFINITION = "Microsoft.Compute/galleries/images"
TEMPLATE = "Microsoft.VirtualMachineImages/imageTemplates"
ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
ROLE_DEFINITION = "Microsoft.Authorization/roleDefinitions"
# Contributor (the image versions) and Storage Blob Data Reader (the File step's download), built-in ids.
BUILD_ROLES = ("b24988ac-6180-42a0-ab88-20f7382dd24c", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")


def load_corpus() -> dict[str, Any]:
    return json.loads(CORPUS.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def write_secret_stack(root: Path, corpus: Mapping[str, Any], *, tag: str = "v1") -> list[str]:
    """The corpus as a stack folder in `root`; the command-line arguments that pass its parameters."""
    root.mkdir(parents=True, exist_ok=True)
    params = corpus["parameters"]
    config: dict[str, Any] = {
        "subscriptionId": "00000000-0000-0000-0000-000000000000",
        "resourceGroup": "rg-secrets",
        "location": "westeurope",
        "provider": "local",
        "parameters": {n: p["value"] for n, p in params.items() if p["from"] == "config"},
    }
    (root / "aibplan.json").write_text(json.dumps(config, indent=2))
    var_file = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {n: {"value": p["value"]} for n, p in params.items() if p["from"] == "var-file"},
    }
    # In a folder of the stack, where a parameters file is read only when given with --var-file (one in the
    # stack's own folder would name an environment).
    (root / "vars").mkdir(exist_ok=True)
    (root / "vars" / "secrets.parameters.json").write_text(json.dumps(var_file, indent=2))
    declared = {}
    for name, p in params.items():
        declared[name] = {"type": p["type"]}
        if p["from"] == "default":
            declared[name]["defaultValue"] = p["value"]
    tags: dict[str, str] = {"release": tag}
    description = "Golden images"
    customize: list[dict[str, Any]] = []
    for form in corpus["forms"]:
        place, text = form["place"], form["text"]
        if place == "inline":
            customize.append({"type": "Shell", "name": form["id"], "inline": [text]})
        elif place.startswith("tag:"):
            tags[place[4:]] = text
        elif place == "description":
            description = text
        elif place == "sourceUri":
            customize.append(
                {
                    "type": "File",
                    "name": form["id"],
                    "sourceUri": text,
                    "destination": "/tmp/motd.txt",
                    "sha256Checksum": "7b1a24ec8c98edbb9a0f5c189ea203c0bc3b15dea1e3df2bb329062045d91234",
                }
            )
        else:
            raise ValueError(f"unknown place {place!r} in {form['id']}")
    identity_id = f"[resourceId('{IDENTITY}', 'aibBuilder')]"
    definition_id = f"[resourceId('{DEFINITION}', 'corpImages', 'ubuntu2204')]"
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": declared,
        "variables": corpus["variables"],
        "resources": [
            {"type": IDENTITY, "apiVersion": "2023-01-31", "name": "aibBuilder"},
            {
                "type": GALLERY,
                "apiVersion": "2024-03-03",
                "name": "corpImages",
                "tags": tags,
                "properties": {"description": description},
            },
            {
                "type": DEFINITION,
                "apiVersion": "2024-03-03",
                "name": "corpImages/ubuntu2204",
                "dependsOn": [f"[resourceId('{GALLERY}', 'corpImages')]"],
                "properties": {
                    "osType": "Linux",
                    "osState": "Generalized",
                    "hyperVGeneration": "V2",
                    "identifier": {"publisher": "Contoso", "offer": "ubuntu-server", "sku": "22_04-lts-gen2"},
                },
            },
            *(
                {
                    # What the build needs of its identity (as the AIB docs set it up): the stack grants
                    # it, so that `apply --run` builds.
                    "type": ROLE_ASSIGNMENT,
                    "apiVersion": "2022-04-01",
                    "name": f"[guid(resourceGroup().id, 'aibBuilder', '{role}')]",
                    "dependsOn": [identity_id],
                    "properties": {
                        "roleDefinitionId": f"[subscriptionResourceId('{ROLE_DEFINITION}', '{role}')]",
                        "principalId": f"[reference({identity_id[1:-1]}, '2023-01-31').principalId]",
                        "principalType": "ServicePrincipal",
                    },
                }
                for role in BUILD_ROLES
            ),
            {
                "type": TEMPLATE,
                "apiVersion": "2024-02-01",
                "name": "ubuntu2204",
                "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}},
                "dependsOn": [identity_id, definition_id],
                "properties": {
                    "buildTimeoutInMinutes": 240,
                    "vmProfile": {"vmSize": "Standard_D2ds_v4"},
                    "source": {
                        "type": "PlatformImage",
                        "publisher": "Canonical",
                        "offer": "0001-com-ubuntu-server-jammy",
                        "sku": "22_04-lts-gen2",
                        "version": "latest",
                    },
                    "customize": customize,
                    "distribute": [
                        {
                            "type": "SharedImage",
                            "galleryImageId": definition_id,
                            "runOutputName": "ubuntu2204-sig",
                            "replicationRegions": ["westeurope"],
                        }
                    ],
                },
            },
        ],
    }
    (root / "pipeline.json").write_text(json.dumps(template, indent=2))
    args = ["--var-file", "vars/secrets.parameters.json"]
    for name, p in params.items():
        if p["from"] == "var":
            value = p["value"] if isinstance(p["value"], str) else json.dumps(p["value"])
            args += ["--var", f"{name}={value}"]
    return args


@dataclass
class Outputs:
    """What every command printed and wrote, by output name (the name says what made it)."""

    bytes_by_output: dict[str, bytes] = field(default_factory=dict)
    exit_codes: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, data: bytes) -> None:
        self.bytes_by_output[name] = self.bytes_by_output.get(name, b"") + data


class Runner:
    """Runs `aibplan` in its own process from the code in `code_root`, inside one stack folder."""

    def __init__(self, code_root: Path, stack: Path, outputs: Outputs) -> None:
        self.code_root, self.stack, self.outputs = code_root, stack, outputs
        self.env = {
            **os.environ,
            "PYTHONPATH": str(code_root),
            "AIBPLAN_LOCAL_LATENCY_MS": "0",
            "AIBPLAN_LOCAL_BUILD_MINUTE_MS": "1",
            "NO_COLOR": "1",
            "COLUMNS": "10000",
        }

    def command(self, args: Sequence[str]) -> list[str]:
        return [sys.executable, "-c", CLI, *args]

    def run(self, name: str, *args: str, env: Mapping[str, str] | None = None) -> int:
        done = subprocess.run(
            self.command(args),
            capture_output=True,
            cwd=self.stack,
            env={**self.env, **(env or {})},
            timeout=300,
        )
        self.outputs.add(name, done.stdout + done.stderr)
        self.outputs.exit_codes[name] = done.returncode
        return done.returncode

    def run_many(self, commands: Mapping[str, Sequence[str]]) -> None:
        """Commands that only read, started together (they share no file they write)."""
        started = {
            name: subprocess.Popen(
                self.command(args),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.stack,
                env=self.env,
            )
            for name, args in commands.items()
        }
        for name, proc in started.items():
            stdout, stderr = proc.communicate(timeout=300)
            self.outputs.add(name, stdout + stderr)
            self.outputs.exit_codes[name] = proc.returncode

    def file(self, name: str, relative: str) -> None:
        path = self.stack / relative
        self.outputs.add(name, path.read_bytes() if path.exists() else b"")


def collect_outputs(code_root: Path, workdir: Path, corpus: Mapping[str, Any]) -> Outputs:
    """Every output aibplan makes from the corpus stack: the commands a user runs, in a user's order."""
    outputs = Outputs()
    # The apply killed mid-way works on a stack of its own, alongside the rest.
    killed = threading.Thread(target=_killed_apply, args=(code_root, workdir, corpus, outputs))
    killed.start()
    stack = workdir / "stack"
    params = write_secret_stack(stack, corpus)
    run = Runner(code_root, stack, outputs)
    run.run_many(
        {
            "validate text": ["validate", ".", *params],
            "validate json": ["validate", ".", "--format", "json", *params],
            "validate sarif": ["validate", ".", "--format", "sarif", *params],
            "plan text": ["plan", ".", *params],
            "plan json": ["plan", ".", "--json", *params],
            "plan markdown": ["plan", ".", "--format", "markdown", *params],
            "plan -v": ["plan", ".", "-v", *params],
        }
    )
    run.run("saved plan (output)", "plan", ".", "--out", "release.plan.json", *params)
    run.file("saved plan (file)", "release.plan.json")
    # A plan file keeps no secret --var: they are given again when it is applied.
    secret_vars = [arg for i, arg in enumerate(params) if params[i - 1] == "--var" or arg == "--var"]
    if run.run("apply output", "apply", "release.plan.json", "--run", "-v", *secret_vars) != 0:
        said = outputs.bytes_by_output["apply output"].decode(errors="replace")
        if "cannot be used with a saved plan" in said:  # an aibplan that keeps --var in the plan file
            run.run("apply output", "apply", "release.plan.json", "--run", "-v")
    run.file("state file", "aibplan.state.json")
    run.run_many(
        {
            "state list": ["state", "list", "."],
            "state list json": ["state", "list", ".", "--json"],
            "output": ["output", ".", *params],
            "output json": ["output", ".", "--json", *params],
            "drift": ["drift", ".", "-v", *params],
            "drift json": ["drift", ".", "--json", *params],
            "plan after apply": ["plan", ".", "-v", *params],
            "plan json after apply": ["plan", ".", "--json", *params],
        }
    )
    addresses = json.loads(outputs.bytes_by_output["state list json"].decode() or "{}")
    shows = {}
    for entry in _addresses(addresses):
        shows[f"state show {entry}"] = ["state", "show", entry, "."]
    run.run_many(shows)
    # A second apply (one tag changed) rewrites the state: the first is kept as the backup.
    write_secret_stack(stack, corpus, tag="v2")
    run.run("apply output (update)", "apply", ".", "--auto-approve", "-v", *params)
    run.file("state file (update)", "aibplan.state.json")
    run.file("state backup (update)", "aibplan.state.json.backup")
    run.run("destroy output (refused)", "destroy", ".", "--auto-approve", "-v", *params)
    # The build published an image version, which keeps the definition from being deleted: deleted in the
    # local cloud as a person would in the portal.
    said = outputs.bytes_by_output["destroy output (refused)"].decode(errors="replace")
    for version in sorted(set(re.findall(r"aibplan sim delete STACK (/\S+/versions/[^\s),]+)", said))):
        subprocess.run(
            [sys.executable, "-c", _DELETE_IN_LOCAL_CLOUD, str(stack / ".aibplan"), version],
            check=True,
            env=run.env,
            timeout=60,
        )
    run.run("destroy output", "destroy", ".", "--auto-approve", "-v", *params)
    run.file("state after destroy", "aibplan.state.json")
    run.file("state backup (destroy)", "aibplan.state.json.backup")
    killed.join()
    return outputs


_DELETE_IN_LOCAL_CLOUD = """
import sys
from providers.simulated.service import SimulatedAzure
from pathlib import Path
service = SimulatedAzure(Path(sys.argv[1]) / "local-cloud.db")
service.delete(sys.argv[2], "2024-03-03")
"""


def _addresses(listing: Any) -> list[str]:
    if isinstance(listing, dict):
        listing = listing.get("resources", [])
    found = []
    for item in listing if isinstance(listing, list) else []:
        found.append(item["address"] if isinstance(item, dict) else str(item))
    return found


def _killed_apply(code_root: Path, workdir: Path, corpus: Mapping[str, Any], outputs: Outputs) -> None:
    """An apply killed with SIGKILL once the image template's call is in the journal: the journal and the
    lock it leaves, then what the next command says when it reconciles them."""
    stack = workdir / "killed"
    params = write_secret_stack(stack, corpus)
    run = Runner(code_root, stack, outputs)
    _kill_apply_once_journaled(run, params, b'"imageTemplate.ubuntu2204"', "killed apply")
    run.file("journal", ".aibplan/journal.jsonl")
    for lock in (stack / ".aibplan").glob("*lock*"):
        run.file("lock file", str(lock.relative_to(stack)))
    run.run("plan after kill (reconciles)", "plan", ".", "-v", *params)
    run.run("apply after kill (lock held)", "apply", ".", "--auto-approve", "-v", *params)
    said = outputs.bytes_by_output["apply after kill (lock held)"].decode(errors="replace")
    lock_id = re.search(r"aibplan force-unlock (\S+)", said)
    if lock_id is not None:
        run.run("force-unlock", "force-unlock", lock_id.group(1), ".")
    run.run("apply after kill (reconciles)", "apply", ".", "--auto-approve", "-v", *params)
    run.file("state after kill", "aibplan.state.json")
    # An update killed mid-way, then a state edit: it reconciles the journal too, reading the gallery back
    # from the cloud, without the stack's parameters.
    write_secret_stack(stack, corpus, tag="v2")
    _kill_apply_once_journaled(run, params, b'"gallery.corpImages"', "killed update")
    run.file("journal (update)", ".aibplan/journal.jsonl")
    info = stack / ".aibplan" / "lock.json"
    holder = json.loads(info.read_text()) if info.exists() else {}
    run.run("force-unlock (update)", "force-unlock", str(holder.get("id", "")), ".")
    run.run("state rm after kill", "state", "rm", "identity.aibBuilder", ".")
    run.file("state after kill and state rm", "aibplan.state.json")
    shutil.rmtree(stack / ".aibplan", ignore_errors=True)


def _kill_apply_once_journaled(run: Runner, params: Sequence[str], address: bytes, name: str) -> None:
    """`aibplan apply` in a slow local cloud, killed with SIGKILL once `address`'s call is journaled."""
    journal = run.stack / ".aibplan" / "journal.jsonl"
    proc = subprocess.Popen(
        run.command(["apply", ".", "--auto-approve", *params]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=run.stack,
        env={**run.env, "AIBPLAN_LOCAL_LATENCY_MS": "400"},
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.exists() and address in journal.read_bytes():
                break
            time.sleep(0.01)
        killed_in_time = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    run.outputs.add(f"{name} output", stdout + stderr)
    run.outputs.exit_codes[f"{name} (killed before it ended: 1)"] = int(killed_in_time)


def scan(outputs: Outputs, corpus: Mapping[str, Any]) -> dict[str, list[str]]:
    """form id -> the outputs holding one of its secret values (every byte of every output is read)."""
    leaks: dict[str, list[str]] = {}
    for form in corpus["forms"]:
        needles = [s.encode("utf-8") for s in form["secrets"]]
        for name, data in outputs.bytes_by_output.items():
            if any(needle in data for needle in needles):
                leaks.setdefault(form["id"], []).append(name)
    return leaks


def leak_table(leaks: Mapping[str, Iterable[str]], outputs: Outputs, corpus: Mapping[str, Any]) -> str:
    """Forms that leaked and where, then per output how many forms leaked into it."""
    lines = [f"{len(leaks)} of {len(corpus['forms'])} secret forms leaked"]
    for form in corpus["forms"]:
        where = list(leaks.get(form["id"], []))
        lines.append(f"  {form['id']:32} {', '.join(where) if where else '-'}")
    lines.append("per output (forms leaked):")
    for name in outputs.bytes_by_output:
        count = sum(1 for where in leaks.values() if name in where)
        lines.append(f"  {name:40} {count}")
    return "\n".join(lines)
