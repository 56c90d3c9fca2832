"""Validate a stack, or files given alone: load (reporting everything the loader finds), build the
graph, run every rule of the registry, and place each diagnostic at its file, line and column.

`plan` and `apply` go through `check_stack` too (via engine.prepare), so they stop on the same errors.
What the rules find in a stack folder is kept in its runtime folder (rules.cache) and not found again
while nothing it depends on changed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..collector import collector_paused
from ..diagnostics import Diagnostic, Severity, sort_key
from ..stack.loader import find_stack_root, load_files, load_stack, locator_for, resource_sources
from ..stack.locate import place_all
from ..stack.model import Stack
from . import run_rules
from .cache import cache_key, cache_path, code_version, read_cached, read_graph, write_cached, write_graph
from .suppress import Suppressed, apply_suppressions

if TYPE_CHECKING:
    from ..stack.kept_graph import DependencyGraph

# Whether check_stack keeps the rules' findings: not at all, only where the runtime folder exists already
# (`validate`, which makes no folder in a stack it only reads), or making the folder (`plan`, `apply`).
CacheUse = Literal["off", "existing", "create"]


def validate_stack(stack: Stack, graph: DependencyGraph | None = None) -> list[Diagnostic]:
    """Diagnostics of the rules for the stack, placed at file, line and column, sorted by place."""
    from .registry import ALL_RULES

    found = run_rules(ALL_RULES, stack, graph)
    return sorted(place_all(found, locator_for(stack), resource_sources(stack)), key=sort_key)


@dataclass(frozen=True)
class Checked:
    """A validated stack: what loaded (None when nothing could), its graph, every diagnostic, and the
    findings the stack turned off (rules.suppress)."""

    stack: Stack | None
    graph: DependencyGraph | None
    diagnostics: tuple[Diagnostic, ...]
    suppressed: tuple[Suppressed, ...] = ()
    # The rules' cache key of the stack (rules.cache), under which a plan keeps what it derives from the
    # stack alone (planning.screened); None without the cache.
    cache_key: str | None = None


def check_stack(
    root: Path,
    *,
    variables: Sequence[tuple[str, str]] = (),
    var_files: Sequence[Path] = (),
    provider: str | None = None,
    environment: str | None = None,
    cache: CacheUse = "existing",
    code: str | None = None,
) -> Checked:
    """Load and validate the stack in `root` (for `environment`), reporting loader, graph and rule
    findings together. The rules' findings come from the cache when nothing they depend on changed
    (`cache`; `code` stands for aibplan's version and its rules' source, rules.cache.code_version)."""
    with collector_paused():
        stack, loaded = load_stack(
            root,
            variables=variables,
            var_files=var_files,
            provider=provider,
            partial=True,
            environment=environment,
        )
        if stack is None:
            return Checked(None, None, tuple(sorted(loaded, key=sort_key)))
        if cache == "off":
            return _checked(stack, loaded)
        key = cache_key(stack, variables, var_files, code if code is not None else code_version())
        return _checked(stack, loaded, (key, cache == "create"))


def _checked(stack: Stack, loaded: Sequence[Diagnostic], cached: tuple[str, bool] | None = None) -> Checked:
    """The stack's findings; with `cached` (key, whether to make the runtime folder), the rules' findings
    are read from the cache under that key, or found and kept there."""
    graph: DependencyGraph | None = read_graph(stack, cached[0]) if cached is not None else None
    placed: list[Diagnostic] = []
    if graph is None:
        from ..stack.graph import drawn_graph

        graph, graph_diagnostics, edges = drawn_graph(stack)
        placed = place_all(graph_diagnostics, locator_for(stack), resource_sources(stack))
        if cached is not None and not graph_diagnostics:
            write_graph(stack, cached[0], graph, edges, create=cached[1])
    found = read_cached(cache_path(stack), cached[0]) if cached is not None else None
    if found is None:
        found = validate_stack(stack, graph)
        if cached is not None:
            write_cached(cache_path(stack), cached[0], found, create=cached[1])
    every = [*loaded, *found, *placed]
    kept, suppressed = apply_suppressions(every, stack, _rule_ids)
    key = cached[0] if cached is not None else None
    return Checked(stack, graph, tuple(sorted(kept, key=sort_key)), tuple(suppressed), key)


def _rule_ids() -> list[str]:
    """Every rule's id. The registry imports every rule: a stack whose findings were kept (rules.cache)
    and that turns none off does not need them."""
    from .registry import ALL_RULES

    return [rule.id for rule in ALL_RULES]


@dataclass(frozen=True)
class Validation:
    """What `aibplan validate` reports: diagnostics (file names relative to `base`), a resource count, and
    the findings the stack turned off."""

    diagnostics: tuple[Diagnostic, ...]
    resources: int
    base: Path
    suppressed: tuple[Suppressed, ...] = ()


def validate_paths(
    paths: Sequence[Path],
    *,
    variables: Sequence[tuple[str, str]] = (),
    var_files: Sequence[Path] = (),
    provider: str | None = None,
    environment: str | None = None,
) -> Validation:
    """A stack folder, or files. A file inside a stack is validated with its whole stack (its scope and
    the resources it refers to) and only its own diagnostics are kept; files outside any stack are
    loaded together, without a scope. File names come back relative to the current folder."""
    if len(paths) == 1 and (paths[0].is_dir() or not paths[0].exists()):
        checked = check_stack(
            paths[0], variables=variables, var_files=var_files, provider=provider, environment=environment
        )
        count = len(checked.stack.resources) if checked.stack else 0
        return Validation(checked.diagnostics, count, paths[0], checked.suppressed)
    cwd = Path.cwd()
    out: list[Diagnostic] = []
    off: list[Suppressed] = []
    count = 0
    alone: list[Path] = []
    by_stack: dict[Path, list[Path]] = {}
    for path in paths:
        root = find_stack_root(path) if path.is_file() else None
        if root is None:
            alone.append(path)
        else:
            by_stack.setdefault(root, []).append(path)
    for root, files in by_stack.items():
        checked = check_stack(
            root, variables=variables, var_files=var_files, provider=provider, environment=environment
        )
        wanted = {f.resolve(): f for f in files}
        for d in checked.diagnostics:
            full = (root / d.file).resolve() if d.file else None
            if full in wanted:
                out.append(replace(d, file=_shown(full, cwd)))
        for item in checked.suppressed:
            full = (root / item.diagnostic.file).resolve() if item.diagnostic.file else None
            if full in wanted:
                off.append(replace(item, diagnostic=replace(item.diagnostic, file=_shown(full, cwd))))
        if checked.stack is not None:
            count += sum((root / r.source.file).resolve() in wanted for r in checked.stack.resources)
    if alone:
        for path in (p for p in alone if not p.is_file()):
            why = "is a folder: give one stack folder, or files" if path.is_dir() else "is not a file"
            out.append(Diagnostic("AIB0002", Severity.ERROR, f"{path} {why}", file=str(path)))
        present = [p for p in alone if p.is_file()]
        if present:
            with collector_paused():
                stack, loaded = load_files(present, variables=variables, var_files=var_files)
                checked = _checked(stack, loaded)
            out += [_outside(d) for d in checked.diagnostics]
            off += checked.suppressed
            count += len(stack.resources)
    return Validation(tuple(sorted(out, key=sort_key)), count, cwd, tuple(off))


def _outside(d: Diagnostic) -> Diagnostic:
    """Files validated alone may depend on resources that are not among them: say so, without an error."""
    if d.code != "AIB1002":
        return d
    message = d.message.replace("matches no resource in the stack", "is not among the files given")
    return replace(d, severity=Severity.INFO, message=message, hint=None)


def _shown(path: Path, cwd: Path) -> str:
    try:
        return os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return str(path)
