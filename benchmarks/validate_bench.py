"""How fast `aibplan validate` is: 10,000 image templates, against parsing the same bytes with `json`.

The templates vary as real ones do: Linux and Windows sources, marketplace, managed image and gallery
sources, 2020-02-14 to 2025-10-01, three to eight customizers, validators, two or three distribution
targets, half of them with ARM expressions (resourceId for the identity and image definition). They are
written as one file each into a stack with an identity, galleries and image definitions, then:

- json: `json.loads` of every file's bytes, already in memory (the floor: parsing alone);
- aibplan: `check_stack` on the folder, as `aibplan validate` runs it: reading the files, parsing with
  comments allowed, evaluating expressions, building the graph, every rule, placing the diagnostics.

Each is measured twice: with Python's cyclic garbage collector paused (the work itself) and with it on (as
in a normal run, where keeping 10,000 documents alive makes the collector rescan them, which slows the
json baseline most). Run: `python -m benchmarks.validate_bench [--templates N] [--repeat R]`; prints the
figures and the ratios.
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from planner.rules.validate import check_stack, validate_stack
from planner.stack.graph import build_graph
from planner.stack.loader import load_stack

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
GROUP = "rg-validate-bench"
IDS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers"
VERSIONS = ("2020-02-14", "2021-10-01", "2022-02-14", "2022-07-01", "2023-07-01", "2024-02-01", "2025-10-01")
SHA = "eaaf77ba05678ff2ec0274409cb21e43b3dd6cd5491e87a658af83fa68a18ecf"
GALLERIES = 20
DEFINITIONS = 5


def _support() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
         "name": "aibBuilder", "location": "westus2"}
    ]  # fmt: skip
    for g in range(GALLERIES):
        out.append({"type": "Microsoft.Compute/galleries", "apiVersion": "2024-03-03", "name": f"gal{g}",
                    "location": "westus2", "properties": {"description": "bench"}})  # fmt: skip
        for d in range(DEFINITIONS):
            windows = d % 2 == 1
            out.append({
                "type": "Microsoft.Compute/galleries/images", "apiVersion": "2024-03-03",
                "name": f"gal{g}/def{d}", "location": "westus2",
                "properties": {
                    "osType": "Windows" if windows else "Linux", "osState": "Generalized",
                    "hyperVGeneration": "V1" if windows else "V2",
                    "identifier": {"publisher": "Contoso", "offer": f"gal{g}", "sku": f"def{d}"},
                },
            })  # fmt: skip
    return out


def template(index: int) -> dict[str, Any]:
    """One realistic image template; `index` picks its OS, api version, source and steps."""
    version = VERSIONS[index % len(VERSIONS)]
    gallery, definition = index % GALLERIES, (index // GALLERIES) % DEFINITIONS
    windows = definition % 2 == 1
    expressions = index % 2 == 0
    identity = (
        "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'aibBuilder')]"
        if expressions
        else f"{IDS}/Microsoft.ManagedIdentity/userAssignedIdentities/aibBuilder"
    )
    image = (
        f"[resourceId('Microsoft.Compute/galleries/images', 'gal{gallery}', 'def{definition}')]"
        if expressions
        else f"{IDS}/Microsoft.Compute/galleries/gal{gallery}/images/def{definition}"
    )
    if windows:
        source = {"type": "PlatformImage", "publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                  "sku": "2022-datacenter", "version": "latest"}  # fmt: skip
        steps: list[dict[str, Any]] = [
            {"type": "PowerShell", "name": f"tools{i}", "runElevated": True,
             "inline": [f"Install-WindowsFeature Feature{i}", "Write-Output done"]}
            for i in range(2 + index % 4)
        ]  # fmt: skip
        steps += [
            {"type": "WindowsRestart", "restartTimeout": "10m"},
            {"type": "WindowsUpdate", "searchCriteria": "IsInstalled=0", "updateLimit": 40},
        ]
        size = "Standard_D4s_v3"
    else:
        source = {"type": "PlatformImage", "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                  "sku": "22_04-lts-gen2", "version": "latest"}  # fmt: skip
        steps = [
            {
                "type": "Shell",
                "name": f"step{i}",
                "inline": [f"sudo apt-get install -y package{i}", "echo ok"],
            }
            for i in range(2 + index % 4)
        ]
        steps += [
            {"type": "Shell", "name": "script", "scriptUri": f"https://stbench.blob.core.windows.net/s/{index}.sh",
             "sha256Checksum": SHA},
            {"type": "File", "name": "motd", "sourceUri": "https://stbench.blob.core.windows.net/s/motd",
             "destination": "/tmp/motd", "sha256Checksum": SHA},
        ]  # fmt: skip
        size = "Standard_D2ds_v4"
    properties: dict[str, Any] = {
        "buildTimeoutInMinutes": 90 + index % 60,
        "vmProfile": {"vmSize": size, "osDiskSizeGB": 64},
        "source": source,
        "customize": steps,
        "distribute": [
            {
                "type": "SharedImage",
                "galleryImageId": image,
                "runOutputName": f"t{index}-sig",
                "artifactTags": {"source": "azureVmImageBuilder", "index": str(index)},
                "replicationRegions": ["westus2", "eastus2"],
            },
            {"type": "VHD", "runOutputName": f"t{index}-vhd"},
        ],
    }
    if version == "2020-02-14" and not windows:
        properties["distribute"] = properties["distribute"][1:]  # Gen2 sources went to VHDs then
    if version >= "2022-02-14":
        shell = "PowerShell" if windows else "Shell"
        properties["validate"] = {
            "inVMValidations": [{"type": shell, "name": "check", "inline": ["echo validated"]}],
            "continueDistributeOnFailure": False,
        }
    if version >= "2023-07-01":
        properties["errorHandling"] = {"onCustomizerError": "abort", "onValidationError": "cleanup"}
    return {
        "type": "Microsoft.VirtualMachineImages/imageTemplates",
        "apiVersion": version,
        "name": f"template{index:05d}",
        "location": "westus2",
        "tags": {"owner": "platform-team", "index": str(index)},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}},
        "properties": properties,
    }


def write_stack(root: Path, count: int) -> list[bytes]:
    (root / "aibplan.json").write_text(
        json.dumps({"subscriptionId": SUBSCRIPTION, "resourceGroup": GROUP, "location": "westus2"})
    )
    files = [json.dumps(_support(), indent=2).encode()]
    (root / "support.json").write_bytes(files[0])
    folder = root / "templates"
    folder.mkdir()
    for index in range(count):
        data = json.dumps(template(index), indent=2).encode()
        (folder / f"t{index:05d}.json").write_bytes(data)
        files.append(data)
    return files


def best_of(repeat: int, runs: dict[str, Callable[[], object]], *, collect: bool) -> dict[str, float]:
    """The best time of each run over `repeat` rounds; the runs take turns, so a busy moment on the machine
    does not favour one of them. With `collect` off, Python's cyclic garbage collector is paused during
    each run: keeping 10,000 parsed documents alive makes it rescan them again and again, which says more
    about the collector's thresholds than about the work."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            gc.collect()
            if not collect:
                gc.disable()
            start = time.perf_counter()
            try:
                run()
            finally:
                gc.enable()
            times[name].append(time.perf_counter() - start)
    return {name: min(found) for name, found in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--templates", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best is shown")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aibplan-validate-bench-") as tmp:
        root = Path(tmp)
        files = write_stack(root, args.templates)
        size = sum(len(f) for f in files)
        checked = check_stack(root)
        assert checked.stack is not None and len(checked.stack.resources) >= args.templates
        problems = [d for d in checked.diagnostics if d.severity.value != "info"]
        assert not problems, problems[:5]

        stack, _ = load_stack(root)
        assert stack is not None
        graph, _ = build_graph(stack)
        runs: dict[str, Callable[[], object]] = {
            "parse": lambda: [json.loads(f) for f in files],
            "total": lambda: check_stack(root),
            "load": lambda: load_stack(root),
            "graph": lambda: build_graph(stack),
            "rules": lambda: validate_stack(stack, graph),
        }
        results = {collect: best_of(args.repeat, runs, collect=collect) for collect in (False, True)}

    n = args.templates
    print(f"templates: {n:,} (+ {len(_support())} supporting resources), {size / 1e6:.1f} MB of JSON")
    for collect, found in results.items():
        print("with Python's garbage collector on (as in a normal run):" if collect else
              "with the cyclic garbage collector paused (the work itself):")  # fmt: skip
        for key, label in (
            ("parse", "json.loads of the same bytes:  "),
            ("total", "aibplan validate (check_stack):"),
        ):
            print(f"  {label} {found[key]:7.3f} s  ({found[key] / n * 1e6:6.1f} us/template)")
        print(f"    load (read, parse, evaluate): {found['load']:7.3f} s")
        print(f"    graph:                        {found['graph']:7.3f} s")
        print(f"    rules and placement:          {found['rules']:7.3f} s")
        print(f"  ratio validate / json.loads:    {found['total'] / found['parse']:7.1f}x")


if __name__ == "__main__":
    main()
