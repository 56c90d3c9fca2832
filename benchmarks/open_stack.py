"""Where the time goes before a plan starts planning: the imports of a `plan` command, then opening the
stack (engine.prepare: load, the rules' findings from the cache, the graph) and the resource order.

Run: `python -m benchmarks.open_stack [--templates 5000] [--layouts files,list,arm,copy] [--repeat 5]`.

Unlike the other benchmarks this one times aibplan's functions inside one process, phase by phase, so
that a change to one phase shows in its own figure: each phase is run `--repeat` times and the fastest
run is kept (CPU and wall, other load on the machine only ever slows a run down). The stack is opened
once first, so that the rules' findings are in the cache, as for a plan of an unchanged stack. The
imports are timed in a fresh interpreter: every module a local no-op plan has loaded when it exits,
imported again in a new process (the interpreter's own start-up not counted).

  load     stack.loader.load_stack (reading, parsing, evaluating every file)
  graph    stack.graph.build_graph
  open     engine.prepare on a cache hit: load, cache key and read, graph (what `plan` runs)
  order    stack.graph.topological_addresses of that graph (what planning walks)
  imports  the modules of a local no-op plan, in a fresh process
  total    open + order + imports
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.generate import LAYOUTS, generate_stack, resource_count
from benchmarks.measure import CLI, aibplan_command, cli_env, run_once, tail

# Runs the command; at exit (click ends with sys.exit) writes the names in sys.modules to a file.
_LISTING = (
    "import atexit, json, sys\n"
    "out = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(out, 'w').write(json.dumps(sorted(sys.modules))))\n" + CLI
)
# Imports the modules named in a file, those the new interpreter has not loaded already, and prints the
# CPU and wall seconds that took.
_IMPORTS = """
import importlib, json, sys, time
wanted = [m for m in json.load(open(sys.argv[1])) if m not in sys.modules and m != "__main__"]
cpu, wall = time.process_time(), time.perf_counter()
for name in wanted:
    try:
        importlib.import_module(name)
    except Exception:
        pass
print(json.dumps([time.process_time() - cpu, time.perf_counter() - wall]))
"""

Timing = tuple[float, float]  # (CPU seconds, wall seconds)


def fastest(step: Callable[[], object], repeat: int) -> Timing:
    """The fastest of `repeat` runs of `step` (CPU and wall each), collecting garbage between runs. What
    a step returns is freed after it is timed: a command keeps its stack and graph until it exits."""
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        made = step()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
        del made
    return best_cpu, best_wall


def plan_imports(repeat: int) -> Timing:
    """What importing a local no-op plan's modules takes in a fresh interpreter (fastest of `repeat`)."""
    with tempfile.TemporaryDirectory(prefix="aibplan-open-") as tmp:
        stack = generate_stack(Path(tmp) / "stack", 2)
        applied = run_once(aibplan_command("apply", "--auto-approve", str(stack)), cli_env())
        if applied.exit_code != 0:
            raise SystemExit(f"aibplan apply exited {applied.exit_code}:\n{tail(applied.stderr)}")
        listing = Path(tmp) / "modules.json"
        argv = [sys.executable, "-c", _LISTING, str(listing), "plan", "--detailed-exitcode", str(stack)]
        planned = run_once(argv, cli_env())
        if planned.exit_code != 0 or not listing.exists():
            raise SystemExit(f"aibplan plan exited {planned.exit_code}:\n{tail(planned.stderr)}")
        runs = []
        for _ in range(repeat):
            done = subprocess.run(
                [sys.executable, "-c", _IMPORTS, str(listing)],
                capture_output=True,
                text=True,
                env=cli_env(),
                check=True,
            )
            runs.append(json.loads(done.stdout))
    return min(cpu for cpu, _ in runs), min(wall for _, wall in runs)


def open_phases(root: Path, repeat: int) -> dict[str, Timing]:
    """The fastest load, graph, open and order of the stack in `root`, in this process."""
    from planner.execution.engine import Prepared, prepare
    from planner.rules.validate import collector_paused
    from planner.stack.graph import build_graph, topological_addresses
    from planner.stack.loader import load_stack

    def opened() -> Prepared:
        prepared, diagnostics = prepare(root)
        if prepared is None:
            raise SystemExit(f"{root} does not open: {diagnostics[:3]}")
        return prepared

    def load() -> object:
        with collector_paused():
            return load_stack(root, partial=True)

    prepared = opened()  # the rules' findings into the cache
    stack, graph = prepared.stack, prepared.graph

    def graphed() -> object:
        with collector_paused():
            return build_graph(stack)

    return {
        "load": fastest(load, repeat),
        "graph": fastest(graphed, repeat),
        "open": fastest(opened, repeat),
        "order": fastest(lambda: topological_addresses(graph), repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--templates", type=int, default=5000, help="image templates in each stack")
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help="comma-separated: " + ", ".join(LAYOUTS))
    parser.add_argument("--repeat", type=int, default=5, help="runs of each phase; the fastest is kept")
    args = parser.parse_args()
    layouts = [name for name in args.layouts.split(",") if name]
    imports = plan_imports(args.repeat)
    columns = ("load", "graph", "open", "order", "imports", "total")
    print(
        f"{args.templates} templates ({resource_count(args.templates)} resources); seconds, fastest of "
        f"{args.repeat}, CPU (wall)"
    )
    print(f"{'layout':<7}" + "".join(f"{name:>16}" for name in columns))
    for layout in layouts:
        with tempfile.TemporaryDirectory(prefix="aibplan-open-") as tmp:
            root = generate_stack(Path(tmp) / layout, args.templates, layout=layout)
            phases = open_phases(root, args.repeat)
        phases["imports"] = imports
        phases["total"] = (
            phases["open"][0] + phases["order"][0] + imports[0],
            phases["open"][1] + phases["order"][1] + imports[1],
        )
        print(f"{layout:<7}" + "".join(f"{phases[n][0]:>8.3f} ({phases[n][1]:.3f})" for n in columns))


if __name__ == "__main__":
    main()
