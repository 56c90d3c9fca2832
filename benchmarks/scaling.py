"""Scaling in every stack layout: prints figures and ratios (not a timed test).

Run: `python -m benchmarks.scaling [--sizes 1000,10000] [--layouts files,list,arm,copy] [--repeat R]`.

For each layout of `benchmarks/generate.py` (the same graph: one identity, N/50 galleries with 5 image
definitions each, N templates each using the identity and one definition) and each N, in fresh
processes on the local cloud:

- `aibplan validate` of the stack, and of the same stack with one warning in every template (so that
  N diagnostics are located: file, line and column);
- `aibplan apply --auto-approve` on an empty cloud;
- a no-op `aibplan plan` (with refresh) after it, made in full (no plan cache), then asked again (answered
  by the plan cache after reading the cloud again);

wall and CPU seconds and the command's peak RSS, then per layout and command the scaling exponent
log(t2 / t1) / log(n2 / n1) between the smallest and the largest N (1.0 is linear), and the state file's
size over the size of the stack's resource files. A layout aibplan cannot read yet (copy loops) is
reported as "not supported yet". Then start-up (`aibplan --version`, `aibplan --help`) and what a local
no-op plan imports (`benchmarks/imports.py`).

Targets (issue 14): exponent at most 1.1 from 1,000 to 10,000 templates; --version and --help under
0.15 s; a local plan imports nothing of the emulator, TLS, the Azure SDK or deepdiff; state at most 2x
the resource files; memory under 500 MB at 10,000 templates.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.generate import LAYOUTS, generate_stack, resource_count, resource_files
from benchmarks.imports import Imports, describe, probe
from benchmarks.measure import Run, aibplan_command, best_of, exponent, no_op_plans, tail

COMMANDS = (
    "validate",
    "validate (N warnings)",
    "apply",
    "no-op plan (refreshed)",
    "no-op plan asked again (plan cache)",
)
# What `aibplan validate` says about a stack that uses copy loops while they are not supported.
NOT_SUPPORTED = "not supported yet"


@dataclass(frozen=True)
class Figure:
    layout: str
    n: int
    command: str
    wall: float
    cpu: float
    rss_mb: float


@dataclass(frozen=True)
class Sizes:
    layout: str
    n: int
    resources: int
    state_bytes: int
    resource_file_bytes: int

    @property
    def ratio(self) -> float:
        return self.state_bytes / self.resource_file_bytes


@dataclass
class LayoutResult:
    layout: str
    figures: list[Figure]
    sizes: list[Sizes]
    unsupported: str | None = None


def _checked(run: Run, what: str, expected: int = 0) -> Run:
    if run.exit_code != expected:
        raise SystemExit(f"{what} exited {run.exit_code} (expected {expected}):\n{tail(run.stderr)}")
    return run


def _figure(layout: str, n: int, command: str, run: Run) -> Figure:
    return Figure(layout, n, command, run.wall, run.cpu, run.rss_mb)


def measure_layout(folder: Path, layout: str, sizes: list[int], repeat: int) -> LayoutResult:
    """Validate, apply and a no-op plan of `layout` at every size; stops at a layout not supported."""
    result = LayoutResult(layout, [], [])
    for n in sizes:
        stack = generate_stack(folder / f"{layout}-{n}", n, layout=layout)
        validated = best_of(aibplan_command("validate", str(stack)), repeat)
        if validated.exit_code != 0:
            reason = next((line for line in validated.stderr.splitlines() if NOT_SUPPORTED in line), None)
            if reason is None:
                raise SystemExit(f"aibplan validate ({layout}, N={n}) failed:\n{tail(validated.stderr)}")
            result.unsupported = reason.split(" error ", 1)[-1].strip()
            return result
        result.figures.append(_figure(layout, n, "validate", validated))
        warned = generate_stack(folder / f"{layout}-{n}-warnings", n, layout=layout, warnings=True)
        run = _checked(best_of(aibplan_command("validate", str(warned)), repeat), f"validate ({layout})")
        if run.stderr.count("warning AIB3408") != n:
            raise SystemExit(
                f"validate ({layout}, N={n}) did not report the {n} warnings:\n{tail(run.stderr)}"
            )
        result.figures.append(_figure(layout, n, COMMANDS[1], run))
        applied: Run | None = None
        for attempt in range(max(1, repeat)):  # each apply on an empty cloud: a fresh stack each time
            stack = generate_stack(folder / f"{layout}-{n}-apply{attempt}", n, layout=layout)
            run = _checked(
                best_of(aibplan_command("apply", "--auto-approve", str(stack)), 1), f"apply ({layout}, N={n})"
            )
            applied = run if applied is None or run.wall < applied.wall else applied
        assert applied is not None
        result.figures.append(_figure(layout, n, "apply", applied))
        plan, again = no_op_plans(stack, repeat)
        result.figures.append(
            _figure(layout, n, COMMANDS[3], _checked(plan, f"no-op plan ({layout}, N={n})"))
        )
        result.figures.append(_figure(layout, n, COMMANDS[4], again))
        result.sizes.append(
            Sizes(
                layout,
                n,
                resource_count(n),
                (stack / "aibplan.state.json").stat().st_size,
                sum(f.stat().st_size for f in resource_files(stack)),
            )
        )
    return result


def startup(runs: int) -> list[Figure]:
    """`aibplan --version` and `aibplan --help`: the fastest of `runs` runs."""
    out = []
    for flag in ("--version", "--help"):
        run = _checked(best_of(aibplan_command(flag), runs), f"aibplan {flag}")
        out.append(Figure("", 0, f"aibplan {flag}", run.wall, run.cpu, run.rss_mb))
    return out


def plan_imports(folder: Path, n: int) -> Imports:
    """What a local no-op plan (with refresh) imports, on an applied stack of N templates."""
    stack = generate_stack(folder / f"imports-{n}", n)
    _checked(best_of(aibplan_command("apply", "--auto-approve", str(stack)), 1), "apply (imports)")
    return probe(["plan", "--detailed-exitcode", str(stack)], "plan (local, refreshed, no-op)")


def _seconds(figures: list[Figure], layout: str, n: int, command: str, key: str) -> float:
    return float(next(getattr(f, key) for f in figures if (f.layout, f.n, f.command) == (layout, n, command)))


def report(
    results: list[LayoutResult], sizes: list[int], started: list[Figure], imports: Imports | None
) -> str:
    lines = ["Figures (fastest of the runs; CPU = user + system; peak RSS of the command)", ""]
    lines.append(
        f"{'layout':<7} {'N':>6} {'resources':>9}  {'command':<24} {'wall s':>7} {'CPU s':>7} {'peak MB':>8}"
    )
    for result in results:
        for f in result.figures:
            lines.append(
                f"{f.layout:<7} {f.n:>6} {resource_count(f.n):>9}  {f.command:<24} "
                f"{f.wall:7.2f} {f.cpu:7.2f} {f.rss_mb:8.0f}"
            )
        if result.unsupported:
            lines.append(f"{result.layout:<7} {'':>6} {'':>9}  {NOT_SUPPORTED} ({result.unsupported})")
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        lines += ["", f"Scaling exponent log(t{large} / t{small}) / log({large} / {small}), wall (CPU)", ""]
        lines.append(f"{'layout':<7}  " + "  ".join(f"{c:>22}" for c in COMMANDS))
        for result in results:
            if result.unsupported:
                lines.append(f"{result.layout:<7}  {NOT_SUPPORTED}")
                continue
            cells = []
            for command in COMMANDS:
                wall, cpu = (
                    exponent(
                        small,
                        _seconds(result.figures, result.layout, small, command, key),
                        large,
                        _seconds(result.figures, result.layout, large, command, key),
                    )
                    for key in ("wall", "cpu")
                )
                cells.append(f"{f'{wall:.2f} ({cpu:.2f})':>22}")
            lines.append(f"{result.layout:<7}  " + "  ".join(cells))
    lines += ["", "State file size over the stack's resource files (after the first apply)", ""]
    for result in results:
        for s in result.sizes:
            lines.append(
                f"{s.layout:<7} {s.n:>6}  state {s.state_bytes / 1e6:7.2f} MB / resource files "
                f"{s.resource_file_bytes / 1e6:6.2f} MB = {s.ratio:.2f}x"
            )
    lines += ["", "Start-up (fastest of the runs)", ""]
    for f in started:
        lines.append(f"  {f.command:<18} {f.wall:6.3f} s wall, {f.cpu:6.3f} s CPU, {f.rss_mb:4.0f} MB")
    if imports is not None:
        lines += ["", "Imports", "", *describe(imports)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000", help="template counts (default 1000,10000)")
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help=f"of {', '.join(LAYOUTS)}")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command; the fastest is kept")
    parser.add_argument("--startup-runs", type=int, default=5, help="runs of --version and --help")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",") if s})
    layouts = [layout for layout in args.layouts.split(",") if layout]
    unknown = [layout for layout in layouts if layout not in LAYOUTS]
    if unknown or not sizes or min(sizes) < 1:
        parser.error(f"layouts are {', '.join(LAYOUTS)} and sizes positive integers")
    with tempfile.TemporaryDirectory(prefix="aibplan-scaling-") as tmp:
        folder = Path(tmp)
        results = [measure_layout(folder, layout, sizes, args.repeat) for layout in layouts]
        started = startup(args.startup_runs)
        imports = plan_imports(folder, sizes[0])
    print(report(results, sizes, started, imports), end="")
    if args.json:
        document = {
            "format_version": "1",
            "sizes": sizes,
            "figures": [asdict(f) for r in results for f in r.figures],
            "unsupported": {r.layout: r.unsupported for r in results if r.unsupported},
            "state_sizes": [{**asdict(s), "ratio": s.ratio} for r in results for s in r.sizes],
            "startup": [asdict(f) for f in started],
            "imports": {
                "command": imports.command,
                "modules": list(imports.modules),
                "import_seconds": imports.total_seconds,
                "groups": {
                    name: imports.group(name) for name in ("emulator", "TLS", "Azure SDK", "deepdiff")
                },
            },
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
