"""The state file's size against the stack's resource files (prints figures; not a timed test).

Run: `python -m benchmarks.state_size [N ...] [--layouts files,list,arm]` (default N = 1,000 templates,
the three layouts): a generated stack (benchmarks.generate) applied once on the local cloud, then the bytes
of the files its resources come from, of its state file (format 5: each body as sent, the observed body as
what differs from it), and of the same state with every observed body whole (as format 3 kept it), with
their ratios to the resource files. Target (issue 14): the state at most 2x the resource files. The copy
layout can be measured too, but its ratio means nothing: its resource file is a few kB of loops.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.generate import LAYOUTS, generate_stack, resource_count
from planner.stack.loader import load_stack
from state import load_state
from state.jsontext import dumps_indented

ROOT = Path(__file__).resolve().parent.parent
CLI = "import sys; from planner.cli import run; run()"
COMPARABLE = ("files", "list", "arm")


@dataclass(frozen=True)
class StateSize:
    resources: int
    resource_files: int  # bytes of the files the stack's resources come from
    state: int  # bytes of the state file as aibplan writes it now
    format_3: int  # bytes of the same state with every observed body whole (format 3)

    @property
    def ratio(self) -> float:
        return self.state / self.resource_files

    @property
    def ratio_format_3(self) -> float:
        return self.format_3 / self.resource_files


def state_size(root: Path) -> StateSize:
    """The sizes for the applied stack in `root` (its default environment)."""
    stack, diagnostics = load_stack(root)
    assert stack is not None, diagnostics
    files = {(stack.root / r.source.file).resolve() for r in stack.resources}
    state = load_state(stack.state_path)
    assert state is not None, f"no state at {stack.state_path}"
    entries = [{**entry.shown_json(), "serial": entry.serial} for entry in state.resources]
    format_3 = dumps_indented({"format_version": 3, "lineage": state.lineage, "resources": entries}) + "\n"
    return StateSize(
        resources=len(state.resources),
        resource_files=sum(f.stat().st_size for f in files),
        state=stack.state_path.stat().st_size,
        format_3=len(format_3.encode("utf-8")),
    )


def applied(folder: Path, templates: int, layout: str = "files") -> Path:
    root = generate_stack(folder / f"{layout}-{templates}", templates, layout=layout)
    done = subprocess.run(
        [sys.executable, "-c", CLI, "apply", "--auto-approve", str(root)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"the apply of N={templates} ({layout}) failed:\n{done.stderr[-2000:]}")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("templates", type=int, nargs="*", default=[1000])
    parser.add_argument(
        "--layouts", default=",".join(COMPARABLE), help="comma-separated: " + ", ".join(LAYOUTS)
    )
    args = parser.parse_args()
    layouts = [name for name in args.layouts.split(",") if name]
    unknown = [name for name in layouts if name not in LAYOUTS]
    if unknown:
        parser.error(f"unknown layout(s) {', '.join(unknown)}: one of {', '.join(LAYOUTS)}")
    print(
        "| layout | templates | resources | resource files MB | state MB (format 5) | ratio "
        "| observed whole (format 3) MB | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="aibplan-state-size-") as folder:
        for layout in layouts:
            for templates in args.templates:
                root = applied(Path(folder), templates, layout)
                size = state_size(root)
                assert size.resources == resource_count(templates)
                note = "" if layout in COMPARABLE else " (not comparable: a file of loops)"
                print(
                    f"| {layout}{note} | {templates:,} | {size.resources:,} | "
                    f"{size.resource_files / 1e6:.2f} | {size.state / 1e6:.2f} | **{size.ratio:.2f}** | "
                    f"{size.format_3 / 1e6:.2f} | {size.ratio_format_3:.2f} |"
                )


if __name__ == "__main__":
    main()
