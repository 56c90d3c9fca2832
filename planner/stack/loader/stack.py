"""Loading a stack folder (aibplan.json and every resource file below it), its settings alone, or files
given without their stack; duplicates across files are found once everything is read."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ...diagnostics import Diagnostic, JsonPath, Severity, has_errors
from ..locate import Locator
from ..model import CONFIG_FILE, Resource, Stack, StackConfig
from .alone import report_missing, report_stand_ins
from .config import read_config
from .loading import Loading, placed, rel
from .parameters import parameter_pool
from .references import bind_names
from .resources import load_resource_file


def load_stack(
    root: Path,
    *,
    variables: Sequence[tuple[str, str]] = (),
    var_files: Sequence[Path] = (),
    provider: str | None = None,
    partial: bool = False,
) -> tuple[Stack | None, list[Diagnostic]]:
    """Load the stack in `root`. Returns (None, diagnostics) when it cannot be used; with `partial`, the
    resources that did load come back even when errors were found (validation reports everything)."""
    loading = Loading(root)
    config = read_config(root, loading)
    if config is None:
        return None, placed(loading)
    if provider is not None:
        config = StackConfig(**{**config.__dict__, "provider": provider})
    pool, pool_sources = parameter_pool(config, variables, var_files, loading)
    for file in _resource_files(root, config):
        load_resource_file(file, config, pool, pool_sources, loading)
    return _finish(root, config, loading, partial)


def _finish(
    root: Path, config: StackConfig, loading: Loading, partial: bool
) -> tuple[Stack | None, list[Diagnostic]]:
    _check_duplicates(loading)
    bind_names(loading)
    _check_guarded_addresses(config, loading)
    report_missing(loading)
    diagnostics = placed(loading)
    if has_errors(diagnostics) and not partial:
        return None, diagnostics
    stack = Stack(
        root=root,
        config=config,
        resources=tuple(sorted(loading.resources, key=lambda r: r.address)),
        unmanaged=tuple(loading.unmanaged),
        texts=loading.texts,
        inputs_hash=_inputs_hash(config, loading.resources),
    )
    return stack, diagnostics


def load_config(root: Path) -> tuple[StackConfig | None, list[Diagnostic]]:
    """Only aibplan.json: enough to find the state file and open the provider (the state commands)."""
    loading = Loading(root)
    config = read_config(root, loading)
    return config, placed(loading)


def find_stack_root(file: Path) -> Path | None:
    """The stack a file belongs to: the nearest folder at or above it holding aibplan.json."""
    for folder in file.resolve().parents:
        if (folder / CONFIG_FILE).is_file():
            return folder
        if (folder / ".git").exists():
            return None
    return None


def load_files(
    files: Sequence[Path],
    *,
    variables: Sequence[tuple[str, str]] = (),
    var_files: Sequence[Path] = (),
) -> tuple[Stack, list[Diagnostic]]:
    """Load files that belong to no stack, together, as the reference's users write them: a bare template
    body, a list of resources or an ARM deployment template. The subscription, resource group and
    location are not known; what needs them is reported (AIB0010) and left unchecked, never guessed."""
    root = Path.cwd()
    loading = Loading(root, alone=True)
    config = StackConfig(subscription_id="", resource_group="", location="")
    pool, pool_sources = parameter_pool(config, variables, var_files, loading)
    for file in files:
        shown = rel(root, file.resolve()) if file.is_absolute() else str(file)
        loading.unknown[shown] = frozenset(("the resource group's location",))
        loading.unknown_why[(shown, "the resource group's location")] = "it comes from the stack"
        load_resource_file(file, config, pool, pool_sources, loading, shown=shown)
    report_stand_ins(loading)
    stack, diagnostics = _finish(root, config, loading, partial=True)
    assert stack is not None
    return stack, diagnostics


def _resource_files(root: Path, config: StackConfig) -> Iterator[Path]:
    """The stack's resource files: every JSON file below it but its settings, state, plans and parameters."""
    skip = {CONFIG_FILE, config.state_file, config.state_file + ".backup"}
    for file in sorted(root.rglob("*.json")):
        inside = file.relative_to(root)
        if any(part.startswith(".") for part in inside.parts) or str(inside) in skip:
            continue
        if file.name.endswith((".parameters.json", ".plan.json", ".state.json", ".state.json.backup")):
            continue
        yield file


def _check_duplicates(loading: Loading) -> None:
    """A resource id declared twice is an error (AIB0007); the first declaration is the one kept."""
    first: dict[str, Resource] = {}
    for resource in loading.resources:
        key = resource.arm_id.lower()
        if key in first:
            other = first[key]
            loading.add(
                "AIB0007",
                Severity.ERROR,
                f"{resource.address} is declared twice (also in {other.source.file})",
                file=resource.source.file,
                pointer=resource.source.pointer,
                address=resource.address,
            )
        else:
            first[key] = resource
    if len(first) < len(loading.resources):
        loading.resources[:] = first.values()


def _check_guarded_addresses(config: StackConfig, loading: Loading) -> None:
    """A lifecycle or rule setting in aibplan.json for an address the stack does not declare is a warning
    (a typo would leave a resource unguarded); a lifecycle still guards a state entry of that address."""
    declared = [r.address for r in loading.resources]
    named: list[tuple[JsonPath, str]] = [(("lifecycle", a), a) for a in config.lifecycle]
    named += [(("rules", rule, "off"), a) for rule, s in config.rules.items() for a in s.addresses or ()]
    for path, address in named:
        if address in declared:
            continue
        close = difflib.get_close_matches(address, declared, n=1)
        loading.add(
            "AIB0003",
            Severity.WARNING,
            f"{CONFIG_FILE} names {address}, which the stack does not declare",
            file=CONFIG_FILE,
            path=path,
            hint=f"did you mean '{close[0]}'?"
            if close
            else "a lifecycle still guards a state entry of that name",
        )


def _inputs_hash(config: StackConfig, resources: Sequence[Resource]) -> str:
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [config.subscription_id, config.resource_group, config.location, config.provider], sort_keys=True
        ).encode()
    )
    if config.lifecycle:
        guarded = {a: [lc.prevent_destroy, lc.ignore_changes] for a, lc in config.lifecycle.items()}
        digest.update(json.dumps(guarded, sort_keys=True).encode())
    for resource in sorted(resources, key=lambda r: r.address):
        shown: list[Any] = [resource.address, resource.api_version, resource.body, resource.depends_on]
        if resource.lifecycle is not None:
            shown.append([resource.lifecycle.prevent_destroy, resource.lifecycle.ignore_changes])
        digest.update(json.dumps(shown, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def resource_sources(stack: Stack) -> dict[str, tuple[str, JsonPath]]:
    """address → (file, pointer), for placing diagnostics about resources."""
    return {r.address: (r.source.file, r.source.pointer) for r in stack.resources}


def locator_for(stack: Stack) -> Locator:
    return Locator(stack.texts)
