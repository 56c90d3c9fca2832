"""Loading a stack folder (aibplan.json and every resource file below it), its settings alone, or files
given without their stack; duplicates across files are found once everything is read."""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...diagnostics import Diagnostic, JsonPath, Severity, has_errors
from ..locate import Locator
from ..model import BODY_JSON, CONFIG_FILE, Resource, Stack, StackConfig, address_order
from .alone import report_missing, report_stand_ins
from .config import read_config
from .copies import check_loop_names
from .environments import DEFAULT_KEY, Selected, environment_names, other_parameter_file
from .files import resource_files
from .loading import Loading, body_json, placed, read_json, rel
from .parameters import check_undeclared, parameter_pool
from .references import bind_names
from .resources import load_resource_file

# `-v` shows every path of the stack folder, read or ignored and why (stack.loader.files).
_LOG = logging.getLogger("aibplan.stack")


def load_stack(
    root: Path,
    *,
    variables: Sequence[tuple[str, str]] = (),
    var_files: Sequence[Path] = (),
    provider: str | None = None,
    partial: bool = False,
    environment: str | None = None,
) -> tuple[Stack | None, list[Diagnostic]]:
    """Load the stack in `root` for `environment` (None: its default; loader.environments). Returns (None,
    diagnostics) when it cannot be used; with `partial`, the resources that did load come back even when
    errors were found (validation reports everything)."""
    loading = Loading(root)
    config = read_config(root, loading, environment)
    if config is None:
        return None, placed(loading)
    if provider is not None:
        config = StackConfig(**{**config.__dict__, "provider": provider})
    if not _parameter_files_fit(root, config, var_files, loading):
        return None, placed(loading)
    own = [root / config.parameter_file] if config.parameter_file else []
    pool, pool_sources = parameter_pool(config, variables, [*own, *var_files], loading)
    for file, shown in resource_files(root, config, loading):
        load_resource_file(file, config, pool, pool_sources, loading, shown=shown)
    check_undeclared(pool, pool_sources, loading)
    for entry in loading.files:
        _LOG.info("%s %s: %s", "read   " if entry.read else "ignored", entry.path, entry.reason)
    return _finish(root, config, loading, partial)


def _finish(
    root: Path, config: StackConfig, loading: Loading, partial: bool
) -> tuple[Stack | None, list[Diagnostic]]:
    _check_duplicates(loading)
    check_loop_names(loading)
    bind_names(loading)
    _check_guarded_addresses(config, loading)
    report_missing(loading)
    diagnostics = placed(loading)
    if has_errors(diagnostics) and not partial:
        return None, diagnostics
    stack = Stack(
        root=root,
        config=config,
        resources=tuple(sorted(loading.resources, key=address_order)),
        unmanaged=tuple(loading.unmanaged),
        texts=loading.texts,
        files=tuple(loading.files),
        inputs_hash=_inputs_hash(config, loading.resources),
        copy_loops=tuple(sorted({loop.name for loop in loading.copy_loops})),
    )
    return stack, diagnostics


def load_config(root: Path, environment: str | None = None) -> tuple[StackConfig | None, list[Diagnostic]]:
    """Only aibplan.json: enough to find the state file and open the provider (the state commands)."""
    loading = Loading(root)
    config = read_config(root, loading, environment)
    return config, placed(loading)


def environments_of(root: Path) -> tuple[tuple[str, ...], str | None, list[Diagnostic]]:
    """(the stack's environments, its defaultEnvironment, diagnostics), from aibplan.json alone and without
    choosing one (`aibplan env list`)."""
    loading = Loading(root)
    data = read_json(root / CONFIG_FILE, CONFIG_FILE, loading)
    if not isinstance(data, dict):
        if not loading.diagnostics:
            loading.add("AIB0003", Severity.ERROR, f"{CONFIG_FILE} must hold a JSON object", file=CONFIG_FILE)
        return (), None, placed(loading)
    default = data.get(DEFAULT_KEY)
    return environment_names(root, data), default if isinstance(default, str) else None, placed(loading)


def _parameter_files_fit(
    root: Path, config: StackConfig, var_files: Sequence[Path], loading: Loading
) -> bool:
    """Another environment's parameters file given with --var-file would plan that environment's resources
    against this one's state, and so plan to destroy this one's: refused, pointing at --env."""
    selected = Selected(config.environment, config.environments)
    for file in var_files:
        other = other_parameter_file(file, root, selected)
        if other is not None:
            here = f"environment {config.environment}" if config.environment else "the default environment"
            loading.add(
                "AIB0003",
                Severity.ERROR,
                f"--var-file {file} holds the parameters of environment {other}; acting on {here}, the plan "
                f"would compare {other}'s resources with {here}'s state and plan to destroy its resources",
                file=str(file),
                hint=f"use --env {other}: it reads {file.name} and uses {other}'s own state",
            )
            return False
    return True


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
    check_undeclared(pool, pool_sources, loading)
    report_stand_ins(loading)
    stack, diagnostics = _finish(root, config, loading, partial=True)
    assert stack is not None
    return stack, diagnostics


def _check_duplicates(loading: Loading) -> None:
    """A resource id declared twice, compared without case as Azure compares ids, is an error (AIB0007)
    naming both; the first declaration is the one kept."""
    first: dict[str, Resource] = {}
    for resource in loading.resources:
        key = resource.arm_id.lower()
        if key in first and ("name",) in resource.unresolved:
            continue  # a name not known here: its id is a stand-in (the cause is reported)
        if key in first:
            other = first[key]
            message = (
                f"{resource.address} is declared twice (also in {other.source.file})"
                if other.address == resource.address
                else f"{resource.address} and {other.address} (in {other.source.file}) are one Azure "
                f"resource, {resource.arm_id}: Azure compares names without case"
            )
            loading.add(
                "AIB0007",
                Severity.ERROR,
                message,
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
    settings = [config.subscription_id, config.resource_group, config.location, config.provider]
    if config.environment is not None:
        settings.append(config.environment)
    digest.update(json.dumps(settings, sort_keys=True).encode())
    if config.lifecycle:
        guarded = {a: [lc.prevent_destroy, lc.ignore_changes] for a, lc in config.lifecycle.items()}
        digest.update(json.dumps(guarded, sort_keys=True).encode())
    # Each resource as body_json writes [address, api version, body, dependsOn(, lifecycle)], its parts
    # written one by one (the body's text may be the loader's already): the same text as the whole list's.
    for resource in sorted(resources, key=lambda r: r.address):
        shown: list[Any] = [resource.address, resource.api_version, resource.body, resource.depends_on]
        if resource.lifecycle is not None:
            shown.append([resource.lifecycle.prevent_destroy, resource.lifecycle.ignore_changes])
        body_text = resource.derived.get(BODY_JSON)
        parts = [body_json(part) for part in shown[:2]]
        parts.append(body_text if body_text is not None else body_json(resource.body))
        parts += [body_json(part) for part in shown[3:]]
        digest.update(f"[{','.join(parts)}]".encode())
    return digest.hexdigest()


def resource_sources(stack: Stack) -> dict[str, tuple[str, JsonPath]]:
    """address → (file, pointer), for placing diagnostics about resources."""
    return {r.address: (r.source.file, r.source.pointer) for r in stack.resources}


def locator_for(stack: Stack) -> Locator:
    return Locator(stack.texts)
