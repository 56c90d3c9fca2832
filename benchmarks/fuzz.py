"""Property-based fuzzing of the command line with hypothesis: stack files (resource bodies, expressions,
structure, raw text), `--var` values and state files, mutated and run through the real CLI entry point in
process. The property: every command exits 0, 1 or 2 with something said, never with an uncaught
exception or a traceback, and never leaves a partial state file (the state is untouched, or whole).

tests/fuzz/ runs these strategies bounded and derandomized (a few seconds each, cannot flake); the long run
is this script:

    python -m benchmarks.fuzz --stacks 5000 --states 1000 [--vars 1000] [--workers 2] [--seed 1]

It prints, per class, how many mutations ran, their exit codes, tracebacks found (with the first few
reproducers) and the time taken.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from planner.cli import main as cli_main
from planner.stack.expressions import functions_array as _fa
from planner.stack.expressions import functions_conversion as _fc
from planner.stack.expressions import functions_logic as _fl
from planner.stack.expressions import functions_numeric as _fn
from planner.stack.expressions import functions_scope as _fs
from planner.stack.expressions import functions_string as _fstr
from state import StateError, load_state
from state.redact import forget_secrets

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart"
ARM_DEPLOYMENT = ROOT / "examples" / "arm-deployment"
STATE_FILE = "aibplan.state.json"

_LIBRARY = (_fa, _fc, _fl, _fn, _fs, _fstr)
FUNCTION_NAMES = [
    *sorted({name for module in _LIBRARY for name in module.FUNCTIONS} | {"if"}),
    *("reference", "listKeys", "utcNow", "newGuid", "noSuchFunction"),
]

# A deployment template with a parameter of every type, each used in a body: what --var values reach.
TYPED_TEMPLATE: dict[str, Any] = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {
        "text": {"type": "string", "defaultValue": "golden"},
        "count": {"type": "int", "defaultValue": 2},
        "flag": {"type": "bool", "defaultValue": True},
        "regions": {"type": "array", "defaultValue": ["westus2"]},
        "settings": {"type": "object", "defaultValue": {"owner": "platform"}},
        "secret": {"type": "securestring", "defaultValue": "S3cret-default"},
        "secretObject": {"type": "secureObject", "defaultValue": {"key": "value"}},
        "env": {"type": "string", "allowedValues": ["dev", "prod"], "defaultValue": "dev"},
    },
    "variables": {
        "note": "[format('{0}-{1}-{2}', parameters('text'), parameters('count'), parameters('flag'))]"
    },
    "resources": [
        {
            "type": "Microsoft.Compute/galleries",
            "apiVersion": "2024-03-03",
            "name": "[concat('gal', parameters('env'))]",
            "tags": "[union(parameters('settings'), createObject('note', variables('note')))]",
            "properties": {
                "description": "[concat(parameters('secret'), string(parameters('secretObject')))]"
            },
        },
        {
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "apiVersion": "2023-01-31",
            "name": "[concat('id-', parameters('text'))]",
            "location": "[first(parameters('regions'))]",
        },
    ],
}
VAR_NAMES = [*TYPED_TEMPLATE["parameters"], "unknownParameter", "", "=", "text=more"]
STRUCTURED_VARS = ["regions", "settings", "secretObject"]
CONFIG = {
    "subscriptionId": "00000000-0000-0000-0000-000000000000",
    "resourceGroup": "rg-fuzz",
    "location": "westus2",
}


# -- values and mutations -----------------------------------------------------------------------------

_ODD_TEXT = [
    "",
    " ",
    "[",
    "]",
    "[]",
    "[[escaped]",
    "\ud800",
    "\udcff",
    "\ud83d\ude00",
    "\u0000",
    "\ufeff",
    "line\nbreak",
    "<placeholder>",
    "$(command)",
    "%s%s%n",
    "x" * 300,
    "9" * 5000,
    "1e999",
    "https://user:p4ss@host/x?sig=abc",
]


def odd_strings() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(_ODD_TEXT),
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12),
        expressions(),
    )


# Numbers no Python value can be in a strategy (hypothesis prints its examples, and Python refuses to print
# an int of more than 4,300 digits): markers that write_json and json_text turn into the number's text.
_MARKED_NUMBERS = {
    '"<<digits:5000>>"': "9" * 5000,
    '"<<digits:4301>>"': "1" * 4301,
    '"<<digits:400>>"': "7" * 400,
    '"<<float:1e999>>"': "1e999",
    '"<<float:-1e400>>"': "-1e400",
    '"<<constant:NaN>>"': "NaN",
}


def numbers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from([0, -1, 2**63 - 1, 2**63, -(2**63) - 1]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([1e308, 1.5, -0.0]),
        st.sampled_from([marker.strip('"') for marker in _MARKED_NUMBERS]),
    )


def json_text(value: Any, indent: int | None = None, *, ascii_only: bool = False) -> str:
    """`value` as JSON text, the marked numbers written out."""
    try:
        text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    except (ValueError, RecursionError):
        return "[]"
    if "<<" in text:
        for marker, number in _MARKED_NUMBERS.items():
            text = text.replace(marker, number)
        text = _NEST_MARKER.sub(lambda m: _nested_text(int(m.group(1))), text)
    return text


def depths() -> st.SearchStrategy[int]:
    """Nesting depths: around aibplan's limit (64), Python's recursion limit (1000) and beyond."""
    return st.one_of(st.sampled_from([2, 63, 64, 65, 200, 500, 990, 1001, 3000]), st.integers(1, 3000))


def nested(depth: int) -> str:
    """A marker json_text writes out as objects and arrays nested `depth` levels deep (as a Python value,
    hypothesis could not print it, nor this script walk it)."""
    return f"<<nest:{depth}>>"


def _nested_text(depth: int) -> str:
    opening = "".join('{"a": ' if level % 2 == 0 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 == 0 else "]" for level in reversed(range(depth)))
    return opening + "1" + closing


def json_values() -> st.SearchStrategy[Any]:
    leaves = st.one_of(st.none(), st.booleans(), numbers(), odd_strings())
    trees = st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(odd_strings(), children, max_size=4)
        ),
        max_leaves=12,
    )
    deep = depths().map(nested)
    return st.one_of(trees, deep)


_NEST_MARKER = re.compile(r'"<<nest:(\d+)>>"')


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _calls(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    call = st.builds(
        lambda name, args: f"{name}({', '.join(args)})",
        st.sampled_from(FUNCTION_NAMES),
        st.lists(inner, max_size=4),
    )
    member = st.builds(
        lambda target, name: f"{target}.{name}", call, st.sampled_from(["id", "name", "x", "[0]"])
    )
    index = st.builds(lambda target, key: f"{target}[{key}]", call, inner)
    return st.one_of(call, member, index)


_LITERALS = st.one_of(
    st.text(alphabet="abc xyz'{}[]()0123456789.,", max_size=8).map(_quoted),
    st.integers(min_value=-(2**65), max_value=2**65).map(str),
    st.sampled_from(["true", "false", "null", "'", "(", ")", ",", "''", "[", "]", "..", "1e5"]),
)
_EXPRESSIONS = st.recursive(_LITERALS, _calls, max_leaves=10).map(lambda body: f"[{body}]")


def expressions() -> st.SearchStrategy[str]:
    """ARM expressions from the library's functions (and a few it does not evaluate), well formed or not."""
    return _EXPRESSIONS


def _paths(value: Any) -> Iterator[tuple[Any, ...]]:
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        yield path
        if isinstance(item, dict):
            stack.extend((child, (*path, key)) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((child, (*path, index)) for index, child in enumerate(item))


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    node = doc
    for part in path[:-1]:
        node = node[part]
    return node


def mutate_json(doc: Any, data: st.DataObject, *, references: Sequence[str] = ()) -> Any:
    """One mutation of a JSON document: a value replaced, a key removed or added, a list grown, a type
    changed, a reference (dependsOn, dependencies) pointed elsewhere."""
    paths = [p for p in _paths(doc) if p]
    kind = data.draw(st.sampled_from(["replace", "remove", "add", "reference", "swap-type", "whole"]))
    if kind == "whole" or not paths:
        return data.draw(json_values())
    path = data.draw(st.sampled_from(paths))
    parent = _parent(doc, path)
    key = path[-1]
    if kind == "replace":
        parent[key] = data.draw(json_values())
    elif kind == "remove":
        del parent[key]
    elif kind == "add":
        target = parent[key]
        if isinstance(target, dict):
            target[data.draw(odd_strings())] = data.draw(json_values())
        elif isinstance(target, list):
            target.insert(data.draw(st.integers(0, len(target))), data.draw(json_values()))
        else:
            parent[key] = [target, data.draw(json_values())]
    elif kind == "reference":
        choices = [
            *references,
            "",
            "nothing.here",
            "[resourceId('Microsoft.Compute/galleries', 'corpImages')]",
        ]
        parent[key] = data.draw(st.lists(st.sampled_from(choices), max_size=3))
    else:
        target = parent[key]
        parent[key] = {"value": target} if not isinstance(target, dict) else list(target.values())
    return doc


def mutate_text(text: str, data: st.DataObject) -> str:
    """A mutation of the bytes a user could leave in a file: cut short, a character inserted or deleted."""
    kind = data.draw(st.sampled_from(["truncate", "insert", "delete", "duplicate-line"]))
    at = data.draw(st.integers(0, len(text)))
    if kind == "truncate":
        return text[:at]
    if kind == "insert":
        return (
            text[:at]
            + data.draw(st.sampled_from([",", "}", "]", '"', "\\", "//", "/*", "\\ud800", "\x00", "é"]))
            + text[at:]
        )
    if kind == "delete":
        return text[:at] + text[at + 1 :]
    lines = text.splitlines(keepends=True)
    index = data.draw(st.integers(0, max(0, len(lines) - 1)))
    return "".join([*lines[: index + 1], *lines[index:]])


def write_json(path: Path, value: Any, data: st.DataObject) -> None:
    """`value` as a user would write it (indented or not; non-ASCII as is when UTF-8 can hold it)."""
    text = json_text(value, data.draw(st.sampled_from([None, 2])))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: written as its escape, as JSON allows
        text = json_text(value, ascii_only=True)
    path.write_text(text, encoding="utf-8")


# -- the property --------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What a run saw: examples, exit codes, and every broken property (with what reproduces it)."""

    examples: int = 0
    commands: int = 0
    exit_codes: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        self.examples += other.examples
        self.commands += other.commands
        self.exit_codes.update(other.exit_codes)
        self.failures.extend(other.failures)


class PropertyBroken(AssertionError):
    pass


@contextlib.contextmanager
def _inside(folder: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run_cli(root: Path, args: Sequence[str], tally: Tally, *, raise_on_failure: bool) -> int:
    """Run `aibplan ARGS` in `root` in process and check the property; returns the exit code."""
    state_path = root / STATE_FILE
    before = state_path.read_bytes() if state_path.exists() else None
    runner = CliRunner()
    with _inside(root):
        result = runner.invoke(cli_main, list(args), catch_exceptions=True)
    forget_secrets()
    tally.commands += 1
    tally.exit_codes[result.exit_code] += 1
    output = result.stdout + result.stderr
    problems = []
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stack = "".join(traceback.format_exception(result.exception))
        problems.append(f"uncaught {type(result.exception).__name__}: {result.exception}\n{stack[-3000:]}")
    if result.exit_code not in (0, 1, 2):
        problems.append(f"exit code {result.exit_code}")
    if result.exit_code != 0 and not output.strip():
        problems.append("an error exit with nothing said")
    if "Traceback (most recent call last)" in output:
        problems.append("a traceback in the output:\n" + output[-3000:])
    after = state_path.read_bytes() if state_path.exists() else None
    if after != before and after is not None:
        try:
            load_state(state_path)
        except StateError as exc:
            problems.append(f"the state file was left unreadable: {exc}")
    leftovers = [p.name for p in root.glob(f".{STATE_FILE}.*.tmp")]
    if leftovers:
        problems.append(f"temporary state files left behind: {leftovers}")
    if problems:
        report = f"aibplan {' '.join(_shown(a) for a in args)} (in {root}):\n  " + "\n  ".join(problems)
        tally.failures.append(report)
        if raise_on_failure:
            raise PropertyBroken(report)
    return result.exit_code


def _shown(arg: str) -> str:
    return arg if len(arg) < 120 else arg[:100] + f"...({len(arg)} characters)"


# -- the three classes ---------------------------------------------------------------------------------


def _copy_example(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".aibplan", "aibplan.state.json*"))
    return target


def stack_example(data: st.DataObject, workdir: Path, tally: Tally, *, raise_on_failure: bool) -> None:
    """A stack (quickstart, the ARM deployment example or a template with every parameter type) with
    mutated files, validated and planned (and applied when the plan is made)."""
    base = data.draw(st.sampled_from(["quickstart", "arm-deployment", "typed"]))
    root = workdir / "stack"
    if base == "typed":
        root.mkdir()
        (root / "aibplan.json").write_text(json.dumps(CONFIG))
        (root / "pipeline.json").write_text(json.dumps(TYPED_TEMPLATE, indent=2))
    else:
        _copy_example(QUICKSTART if base == "quickstart" else ARM_DEPLOYMENT, root)
    files = sorted(p for p in root.glob("*.json") if p.name != "aibplan.json" or data.draw(st.booleans()))
    for _ in range(data.draw(st.integers(1, 3))):
        target = data.draw(st.sampled_from(files))
        text = target.read_text(encoding="utf-8")
        if data.draw(st.integers(0, 4)) == 0:
            target.write_text(mutate_text(text, data), encoding="utf-8")
            continue
        try:
            doc = json.loads(_without_comments(text))
        except (ValueError, RecursionError):  # an earlier mutation left it so: mutate its text instead
            target.write_text(mutate_text(text, data), encoding="utf-8")
            continue
        write_json(
            target,
            mutate_json(doc, data, references=["aibBuilder", "corpImages", "corpImages/ubuntu2204"]),
            data,
        )
    tally.examples += 1
    run_cli(root, ["validate", "."], tally, raise_on_failure=raise_on_failure)
    if run_cli(root, ["plan", "."], tally, raise_on_failure=raise_on_failure) == 0:
        run_cli(root, ["apply", "--auto-approve", "."], tally, raise_on_failure=raise_on_failure)


def _without_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def var_example(data: st.DataObject, workdir: Path, tally: Tally, *, raise_on_failure: bool) -> None:
    """`plan --var NAME=VALUE` with values of every shape for parameters of every type."""
    root = workdir / "stack"
    root.mkdir()
    (root / "aibplan.json").write_text(json.dumps(CONFIG))
    (root / "pipeline.json").write_text(json.dumps(TYPED_TEMPLATE, indent=2))
    args = ["plan", "."]
    for _ in range(data.draw(st.integers(1, 3))):
        structured = data.draw(st.booleans())
        name = data.draw(st.sampled_from(STRUCTURED_VARS if structured else VAR_NAMES))
        texts = [
            json_values().map(json_text),
            depths().map(lambda d: json_text(nested(d))),
            st.sampled_from(list(_MARKED_NUMBERS.values())),
        ]
        if not structured or data.draw(st.integers(0, 3)) == 0:
            texts += [odd_strings(), numbers().map(lambda n: json_text(n))]
        args += ["--var", f"{name}={data.draw(st.one_of(*texts))}"]
    tally.examples += 1
    run_cli(root, args, tally, raise_on_failure=raise_on_failure)


_APPLIED: dict[str, Path] = {}


def applied_quickstart(cache: Path) -> Path:
    """The quickstart stack applied once (state and local cloud), copied for each state example."""
    if "root" not in _APPLIED:
        root = _copy_example(QUICKSTART, cache / "applied")
        tally = Tally()
        code = run_cli(root, ["apply", "--auto-approve", "."], tally, raise_on_failure=True)
        assert code == 0, tally
        _APPLIED["root"] = root
    return _APPLIED["root"]


def state_example(
    data: st.DataObject, workdir: Path, cache: Path, tally: Tally, *, raise_on_failure: bool
) -> None:
    """An applied stack whose state file was edited (values, types, dependencies, whole entries, bytes),
    then read (plan, state list, state show) and written (apply, state rm)."""
    root = workdir / "stack"
    shutil.copytree(applied_quickstart(cache), root)
    state_path = root / STATE_FILE
    text = state_path.read_text(encoding="utf-8")
    if data.draw(st.integers(0, 4)) == 0:
        state_path.write_text(mutate_text(text, data), encoding="utf-8")
    else:
        doc = json.loads(text)
        addresses = [r["address"] for r in doc["resources"]]
        for _ in range(data.draw(st.integers(1, 3))):
            doc = mutate_json(doc, data, references=addresses)
        write_json(state_path, doc, data)
    tally.examples += 1
    commands = [
        ["plan", "."],
        ["state", "list", "."],
        ["state", "show", "imageTemplate.ubuntu2204", "."],
        ["apply", "--auto-approve", "."],
        ["state", "rm", "identity.aibBuilder", "."],
        ["destroy", "--auto-approve", "."],
    ]
    for args in data.draw(st.lists(st.sampled_from(commands), min_size=1, max_size=3, unique_by=tuple)):
        run_cli(root, args, tally, raise_on_failure=raise_on_failure)


# -- running -------------------------------------------------------------------------------------------

KINDS = ("stacks", "vars", "states")


def run_kind(
    kind: str, examples: int, random_seed: int | None, *, raise_on_failure: bool, derandomize: bool
) -> Tally:
    """Run `examples` mutations of one class with hypothesis; the tally of what they did."""
    tally = Tally()
    cache = Path(tempfile.mkdtemp(prefix="aibplan-fuzz-cache-"))

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        workdir = Path(tempfile.mkdtemp(prefix="aibplan-fuzz-"))
        try:
            if kind == "stacks":
                stack_example(data, workdir, tally, raise_on_failure=raise_on_failure)
            elif kind == "vars":
                var_example(data, workdir, tally, raise_on_failure=raise_on_failure)
            else:
                state_example(data, workdir, cache, tally, raise_on_failure=raise_on_failure)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    test: Callable[[], None] = one if random_seed is None else seed(random_seed)(one)
    try:
        test()
    finally:
        _APPLIED.clear()
        shutil.rmtree(cache, ignore_errors=True)
    return tally


def _worker(job: tuple[str, int, int]) -> Tally:
    kind, examples, random_seed = job
    return run_kind(kind, examples, random_seed, raise_on_failure=False, derandomize=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stacks", type=int, default=5000, help="stack-file mutations")
    parser.add_argument("--vars", type=int, default=1000, help="--var value mutations")
    parser.add_argument("--states", type=int, default=1000, help="state-file mutations")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes")
    parser.add_argument("--seed", type=int, default=1, help="the first worker's seed (the others follow)")
    options = parser.parse_args(argv)
    os.environ.setdefault("AIBPLAN_LOCAL_LATENCY_MS", "0")
    os.environ.setdefault("AIBPLAN_LOCAL_BUILD_MINUTE_MS", "1")
    failures = 0
    for kind in KINDS:
        total = getattr(options, kind)
        if total <= 0:
            continue
        workers = max(1, min(options.workers, total))
        shares = [total // workers + (1 if i < total % workers else 0) for i in range(workers)]
        jobs = [(kind, share, options.seed + i) for i, share in enumerate(shares)]
        started = time.perf_counter()
        with get_context("spawn").Pool(workers) as pool:
            tallies = pool.map(_worker, jobs)
        tally = Tally()
        for part in tallies:
            tally.merge(part)
        seconds = time.perf_counter() - started
        codes = ", ".join(f"exit {code}: {count}" for code, count in sorted(tally.exit_codes.items()))
        per_command = seconds / max(1, tally.commands) * 1000
        print(
            f"{kind:7} {tally.examples:6} mutations, {tally.commands:6} commands ({codes}); "
            f"{len(tally.failures)} broken; {seconds:.0f}s ({per_command:.0f} ms a command)"
        )
        for report in tally.failures[:5]:
            print("  " + report.replace("\n", "\n  "))
        failures += len(tally.failures)
    print(f"tracebacks or broken properties: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
