"""What an aibplan command imports, and what those imports cost: `sys.modules` at exit and
`python -X importtime`, from one run of the command in a fresh process.

The target (issue 14): a command imports only what it uses; a local plan imports nothing of the
emulator, TLS, the Azure SDK or deepdiff unless bodies differ. `GROUPS` names those parts (and the
apply engine, which a plan does not run) so that a report can say which of them a command loaded.

Run: `python -m benchmarks.imports [--runs 10] [--templates 100]`: the wall and CPU time of `aibplan
--version` and `aibplan --help` (fastest of the runs; target under 0.15 s), then what `--version` and a
local no-op plan (with refresh) of a generated stack import, and what those imports cost.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.generate import generate_stack
from benchmarks.measure import CLI, ROOT, aibplan_command, best_of, cli_env, run_once, tail

FIRST_PARTY = ("planner", "providers", "state")

# Runs the command and writes the names in sys.modules when it exits (click ends with sys.exit).
_PROBE = (
    "import atexit, json, sys\n"
    "out = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(out, 'w').write(json.dumps(sorted(sys.modules))))\n" + CLI
)


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


GROUPS: dict[str, Callable[[str], bool]] = {
    "emulator": lambda m: "emulator" in _last(m),
    "TLS": lambda m: (
        m in ("ssl", "_ssl") or m.split(".")[0] in ("trustme", "cryptography") or _last(m) == "tls"
    ),
    "Azure SDK": lambda m: m.split(".")[0] in ("azure", "msal", "msal_extensions"),
    "deepdiff": lambda m: m.split(".")[0] == "deepdiff",
    "apply engine": lambda m: (
        m.split(".")[0] in FIRST_PARTY and _last(m) in ("apply", "applying", "walk", "journal")
    ),
}


@dataclass(frozen=True)
class Imports:
    """The modules one command had loaded when it exited, with the import time of each."""

    command: str
    modules: tuple[str, ...]
    self_us: dict[str, int] = field(default_factory=dict)
    cumulative_us: dict[str, int] = field(default_factory=dict)
    importer: dict[str, str] = field(default_factory=dict)  # module -> the module whose import loaded it
    order: tuple[str, ...] = ()  # modules in the order their import finished

    @property
    def total_seconds(self) -> float:
        return sum(self.self_us.values()) / 1e6

    def group(self, name: str) -> list[str]:
        return [m for m in self.modules if GROUPS[name](m)]

    def chain(self, module: str) -> list[str]:
        """`module`, the module that imported it, and so on up to the command's first import."""
        out = [module]
        while out[-1] in self.importer and len(out) < 20:
            out.append(self.importer[out[-1]])
        return out

    def first_of(self, name: str) -> str | None:
        """The module of a group whose import finished first (the one that brought the group in)."""
        found = set(self.group(name))
        return next((m for m in self.order if m in found), None)

    def group_seconds(self, name: str) -> float:
        return sum(self.self_us.get(m, 0) for m in self.group(name)) / 1e6

    def third_party(self) -> dict[str, float]:
        """Top-level packages neither in the standard library nor aibplan's: seconds spent importing
        each package's own modules (self times, not what they import from elsewhere)."""
        out: dict[str, float] = {}
        for m in self.modules:
            top = m.split(".")[0]
            if top in sys.stdlib_module_names or top in FIRST_PARTY or top.startswith("_"):
                continue
            out[top] = out.get(top, 0.0) + self.self_us.get(m, 0) / 1e6
        return dict(sorted(out.items(), key=lambda item: -item[1]))


def probe(args: list[str], shown: str, cwd: Path = ROOT) -> Imports:
    """Run `aibplan ARGS` once with -X importtime and read what it imported (`shown` names it)."""
    with tempfile.TemporaryDirectory(prefix="aibplan-imports-") as tmp:
        listing = Path(tmp) / "modules.json"
        run = run_once(
            [sys.executable, "-X", "importtime", "-c", _PROBE, str(listing), *args], cli_env(), cwd
        )
        if run.exit_code not in (0, 2) or not listing.exists():
            raise SystemExit(f"aibplan {' '.join(args)} failed ({run.exit_code}):\n{tail(run.stderr)}")
        modules = tuple(json.loads(listing.read_text()))
    self_us: dict[str, int] = {}
    cumulative_us: dict[str, int] = {}
    importer: dict[str, str] = {}
    waiting: list[tuple[int, str]] = []  # (depth, module) whose importer is not known yet
    order: list[str] = []
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        own, cumulative, field_ = line[len("import time:") :].split("|", 2)
        name = field_.strip()
        depth = len(field_) - len(field_.lstrip())
        # -X importtime prints a module when its import finishes, nested ones first and indented
        # deeper: the next line less indented is the module whose import loaded them.
        while waiting and waiting[-1][0] > depth:
            importer[waiting.pop()[1]] = name
        waiting.append((depth, name))
        self_us[name] = int(own)
        cumulative_us[name] = int(cumulative)
        order.append(name)
    return Imports(shown, modules, self_us, cumulative_us, importer, tuple(order))


def describe(imports: Imports) -> list[str]:
    """Lines for a report: totals, each group (none is the target), first- and third-party parts."""
    first_party = [m for m in imports.modules if m.split(".")[0] in FIRST_PARTY]
    lines = [
        f"`aibplan {imports.command}`: {len(imports.modules)} modules loaded, "
        f"{imports.total_seconds:.2f} s of import time (sum of -X importtime self times)"
    ]
    for name in GROUPS:
        found = imports.group(name)
        first = imports.first_of(name)
        if not found or first is None:
            lines.append(f"  {name:<13} none")
            continue
        lines.append(
            f"  {name:<13} {len(found)} modules, {imports.group_seconds(name):.3f} s, "
            f"brought in by {' <- '.join(imports.chain(first))}"
        )
    third = imports.third_party()
    lines.append(
        f"  aibplan's own modules: {len(first_party)}, "
        f"{sum(imports.self_us.get(m, 0) for m in first_party) / 1e6:.3f} s"
    )
    lines.append(
        "  third-party packages (s in their own modules): "
        + ", ".join(f"{name} {seconds:.3f}" for name, seconds in third.items() if seconds >= 0.001)
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs", type=int, default=10, help="runs of --version and --help; the fastest is kept"
    )
    parser.add_argument("--templates", type=int, default=100, help="templates in the planned stack")
    args = parser.parse_args()
    print("Start-up (fastest of the runs; target under 0.15 s)")
    for flag in ("--version", "--help"):
        run = best_of(aibplan_command(flag), args.runs)
        if run.exit_code != 0:
            raise SystemExit(f"aibplan {flag} exited {run.exit_code}:\n{tail(run.stderr)}")
        print(f"  aibplan {flag:<10} {run.wall:6.3f} s wall, {run.cpu:6.3f} s CPU, {run.rss_mb:4.0f} MB")
    print("")
    print("\n".join(describe(probe(["--version"], "--version"))))
    with tempfile.TemporaryDirectory(prefix="aibplan-imports-") as tmp:
        stack = generate_stack(Path(tmp) / "stack", args.templates)
        applied = run_once(aibplan_command("apply", "--auto-approve", str(stack)), cli_env())
        if applied.exit_code != 0:
            raise SystemExit(f"aibplan apply exited {applied.exit_code}:\n{tail(applied.stderr)}")
        print("\n".join(describe(probe(["plan", "--detailed-exitcode", str(stack)], "plan (local, no-op)"))))


if __name__ == "__main__":
    main()
