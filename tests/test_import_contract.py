"""The import contract, read from the source with `ast` (nothing is imported, so an import inside a
function counts as much as one at the top):

- only `planner/cli` imports click or rich;
- `providers/` and `state/` never import `planner/`, and `state/` never imports `providers/`;
- no cycle between packages: each package directly under planner/, providers/ (planner.stack,
  providers.simulated, ...) is one node, and so is each module directly under them (planner.hooks,
  providers.base, state.store);
- below the CLI, only planner/settings.py reads the process environment;
- test modules share code through tests/helpers.py only: no test module imports another.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from tests.helpers import ROOT

PACKAGES = ("planner", "providers", "state")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (a submodule when `from package import module`)
    where: str  # file:line


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(*tops: str) -> list[Path]:
    return sorted(p for top in tops for p in (ROOT / top).rglob("*.py"))


def imports_of(path: Path, known: set[str]) -> Iterator[Import]:
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    where = f"{path.relative_to(ROOT)}"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, f"{where}:{node.lineno}")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                yield Import(name, submodule if submodule in known else module, f"{where}:{node.lineno}")


def project_imports(*tops: str) -> list[Import]:
    files = python_files(*tops)
    known = {module_name(p) for p in files}
    return [imp for path in files for imp in imports_of(path, known)]


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def node_of(module: str) -> str:
    """planner.stack.loader.config -> planner.stack; planner.hooks -> planner.hooks; state -> state."""
    return ".".join(module.split(".")[:2])


def test_only_the_cli_imports_click_or_rich() -> None:
    found = [
        f"{imp.where}: {imp.target}"
        for imp in project_imports(*PACKAGES)
        if not within(imp.source, "planner.cli") and imp.target.split(".")[0] in ("click", "rich")
    ]
    assert found == [], "core modules import the command line's libraries:\n" + "\n".join(found)


def test_providers_and_state_import_nothing_above_them() -> None:
    found = [
        f"{imp.where}: {imp.target}"
        for imp in project_imports("providers", "state")
        if within(imp.target, "planner") or (within(imp.source, "state") and within(imp.target, "providers"))
    ]
    assert found == [], "imports against the dependency direction:\n" + "\n".join(found)


def package_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for imp in project_imports(*PACKAGES):
        if imp.target.split(".")[0] not in PACKAGES:
            continue
        source, target = node_of(imp.source), node_of(imp.target)
        if source == target:
            continue
        if graph.has_edge(source, target):
            graph.edges[source, target]["where"].append(imp.where)
        else:
            graph.add_edge(source, target, where=[imp.where])
    return graph


def test_no_import_cycle_between_packages() -> None:
    graph = package_graph()
    cycles = sorted(
        sorted(component) for component in nx.strongly_connected_components(graph) if len(component) > 1
    )
    described = []
    for component in cycles:
        cycle = nx.find_cycle(graph.subgraph(component))
        described.append(
            " -> ".join([a for a, _ in cycle] + [cycle[0][0]])
            + "\n"
            + "\n".join(f"  {a} -> {b}: {graph.edges[a, b]['where'][0]}" for a, b in cycle)
        )
    assert described == [], "import cycles between packages:\n" + "\n".join(described)


def test_the_graph_has_the_layers_the_architecture_draws() -> None:
    # A check that the cycle test sees what it should: these edges exist today.
    graph = package_graph()
    for edge in [
        ("planner.cli", "planner.execution"),
        ("planner.execution", "planner.planning"),
        ("planner.planning", "planner.plans"),
        ("planner.planning", "planner.builds"),
        ("planner.rules", "planner.stack"),
        ("providers.emulator", "providers.simulated"),
        ("state", "state.store"),
        ("planner.execution", "providers.azure"),  # imported inside a function (the SDK loads slowly)
    ]:
        assert graph.has_edge(*edge), edge


def test_only_settings_reads_the_environment_below_the_cli() -> None:
    found = []
    for path in python_files(*PACKAGES):
        name = module_name(path)
        if within(name, "planner.cli") or name == "planner.settings":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: os.{node.attr}")
            elif isinstance(node, ast.ImportFrom) and node.module == "os":
                found.extend(
                    f"{path.relative_to(ROOT)}:{node.lineno}: from os import {a.name}"
                    for a in node.names
                    if a.name in ("environ", "getenv", "putenv")
                )
    assert found == [], "environment read outside planner/settings.py:\n" + "\n".join(found)


def test_test_modules_import_no_other_test_module() -> None:
    found = [
        f"{imp.where}: {imp.target}"
        for imp in project_imports("tests")
        if within(imp.target, "tests") and not within(imp.target, "tests.helpers")
    ]
    assert found == [], "tests share code through tests/helpers.py only:\n" + "\n".join(found)
