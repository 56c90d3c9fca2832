"""The loaded stack: its settings and its resources after ARM expressions are evaluated."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..diagnostics import JsonPath
from .expressions import Unknown

CONFIG_FILE = "aibplan.json"
DEFAULT_STATE_FILE = "aibplan.state.json"
RUNTIME_DIR = ".aibplan"

# Keys of an ARM resource that are part of the REST body (everything else is template syntax).
BODY_KEYS = ("location", "tags", "identity", "sku", "kind", "plan", "properties")
# Resource.derived: the body as `json.dumps(body, sort_keys=True, default=str)` writes it, where the loader
# wrote it already (a body taken as written: loader.resources), for the stack's inputs hash.
BODY_JSON = "body as JSON"


@dataclass(frozen=True)
class SourceRef:
    """Where a resource came from: a file and the JSON path of the resource object inside it."""

    file: str
    pointer: JsonPath = ()


@dataclass(frozen=True)
class Lifecycle:
    """Guardrails on one resource (docs/guardrails.md), from aibplan.json's `lifecycle` (by address) or the
    resource's `metadata.aibplan.lifecycle`: with `prevent_destroy`, a plan that would delete or replace it
    fails; paths in `ignore_changes` keep the cloud's value (their drift is shown, never planned back)."""

    prevent_destroy: bool = False
    ignore_changes: tuple[JsonPath, ...] = ()
    # Where it was written ("aibplan.json", a resource file, or both), for messages.
    source: str = ""

    def merged(self, other: Lifecycle) -> Lifecycle:
        """Both settings at once: either one's preventDestroy, every ignored path."""
        sources = [s for s in (self.source, other.source) if s]
        return Lifecycle(
            self.prevent_destroy or other.prevent_destroy,
            tuple(dict.fromkeys((*self.ignore_changes, *other.ignore_changes))),
            " and ".join(dict.fromkeys(sources)),
        )


@dataclass(frozen=True)
class RuleSetting:
    """A rule turned off in aibplan.json's `rules`: everywhere (`addresses` None) or for some resources."""

    addresses: tuple[str, ...] | None = None
    reason: str | None = None


@dataclass(frozen=True)
class StackConfig:
    """The settings in aibplan.json."""

    subscription_id: str
    resource_group: str
    location: str
    provider: str = "local"
    parameters: Mapping[str, Any] = field(default_factory=dict)
    state_file: str = DEFAULT_STATE_FILE
    local: Mapping[str, Any] = field(default_factory=dict)
    azure: Mapping[str, Any] = field(default_factory=dict)
    # Guardrails (docs/guardrails.md): lifecycle settings by address, and rules turned off.
    lifecycle: Mapping[str, Lifecycle] = field(default_factory=dict)
    rules: Mapping[str, RuleSetting] = field(default_factory=dict)
    # Where the state lives (aibplan.json's `backend`, read by state.backends.backend_settings).
    backend: Mapping[str, Any] | None = None
    # The environment acted on (None: the stack's top-level settings) and every environment of the stack
    # (planner.stack.loader.environments); its NAME.parameters.json when there is one; whether it names a
    # backend of its own (else the stack's, with the blob key named after the environment).
    environment: str | None = None
    environments: tuple[str, ...] = ()
    parameter_file: str | None = None
    environment_backend: bool = False


@dataclass(frozen=True)
class CopyInstance:
    """One instance of a resource's ARM copy loop: the loop's name and this instance's index (its address is
    `KIND.LOOP[INDEX]`), and how the loop deploys its instances: `serial` ones in batches of `batch_size`,
    each batch after the one before it (stack.graph), else all at once."""

    loop: str
    index: int
    serial: bool = False
    batch_size: int = 1

    @property
    def batch(self) -> int:
        return self.index // self.batch_size


@dataclass(frozen=True)
class Resource:
    """One managed ARM resource as the user wrote it, expressions evaluated."""

    kind: str
    name: str
    arm_type: str
    api_version: str
    arm_id: str
    body: Mapping[str, Any]
    depends_on: tuple[str, ...]
    source: SourceRef
    api_version_given: bool = True
    # Paths (relative to the body) whose value is not known: a parameter or scope value missing when a
    # file is validated alone, or a leftover placeholder. The loader reports why; rules skip them.
    unresolved: tuple[JsonPath, ...] = ()
    # The name came from the file name (a bare body in the reference's format, with no "name").
    name_from_file: bool = False
    # Top-level keys that are neither ARM template syntax nor part of the body (typos such as "propertes").
    extra_keys: tuple[str, ...] = ()
    # Values known only after apply (reference()), by their path in the body; the body holds each one's
    # expression text there, and the path is among `unresolved` (rules skip it). Planning and apply
    # evaluate them when the cloud can answer (`body_with_unknowns` puts them back in place).
    known_after_apply: tuple[tuple[JsonPath, Unknown], ...] = ()
    # `metadata.aibplan.lifecycle` (the stack's own view, with aibplan.json's: Stack.lifecycle).
    lifecycle: Lifecycle | None = None
    # Texts in the body that are secret: the values of securestring/secureObject parameters and what the
    # expressions computed from them (the redactor keeps them out of every output; never shown).
    secret_values: tuple[str, ...] = field(default=(), repr=False)
    # The copy loop this resource is an instance of (its address is then `KIND.LOOP[INDEX]`).
    copy: CopyInstance | None = None

    @cached_property
    def address(self) -> str:
        # Asked for about 90 times per resource in a plan: made once.
        if self.copy is not None:
            return f"{self.kind}.{self.copy.loop}[{self.copy.index}]"
        return f"{self.kind}.{self.name}"

    @cached_property
    def derived(self) -> dict[str, Any]:
        """What is computed from this resource alone, kept by what computes it (the graph keeps the ids its
        body refers to): a resource never changes, and a changed copy (dataclasses.replace) has its own."""
        return {}

    def body_with_unknowns(self) -> dict[str, Any]:
        """The body with each value known only after apply in its place, as an `Unknown`."""
        body = dict(self.body)
        for path, unknown in self.known_after_apply:
            body = with_value_at(body, path, unknown)
        return body

    @property
    def location(self) -> str | None:
        value = self.body.get("location")
        if not isinstance(value, str) or (self.unresolved and ("location",) in self.unresolved):
            return None
        return value

    @property
    def properties(self) -> Mapping[str, Any]:
        props = self.body.get("properties")
        return props if isinstance(props, dict) else {}


@dataclass(frozen=True)
class UnmanagedResource:
    """A resource of a type aibplan does not manage yet: shown, never planned."""

    arm_type: str
    name: str
    source: SourceRef

    @property
    def address(self) -> str:
        return f"{self.arm_type}.{self.name}"


_NO_LIFECYCLE = Lifecycle()


@dataclass(frozen=True)
class StackFile:
    """A path in the stack folder and what loading did with it: read (as what), or ignored (and why)."""

    path: str
    read: bool
    reason: str


@dataclass(frozen=True)
class Stack:
    """A stack folder after loading: settings, resources, and the text of each file for error positions."""

    root: Path
    config: StackConfig
    resources: tuple[Resource, ...]
    unmanaged: tuple[UnmanagedResource, ...] = ()
    texts: Mapping[str, str] = field(default_factory=dict)
    # Every path in the stack folder, read or ignored and why (`validate -v` lists them).
    files: tuple[StackFile, ...] = ()
    # A hash of the evaluated resources and settings, so a saved plan can tell the inputs changed.
    inputs_hash: str = ""
    # The name of every resource copy loop (a `dependsOn` entry may name one: all its instances), those
    # with no instance too.
    copy_loops: tuple[str, ...] = ()

    @cached_property
    def by_address(self) -> dict[str, Resource]:
        return {r.address: r for r in self.resources}

    def lifecycle(self, address: str) -> Lifecycle:
        """The guardrails on `address`: aibplan.json's and the resource's own, merged (none: defaults)."""
        found = self.config.lifecycle.get(address, _NO_LIFECYCLE)
        resource = self.by_address.get(address)
        if resource is not None and resource.lifecycle is not None:
            found = found.merged(resource.lifecycle)
        return found

    @property
    def state_path(self) -> Path:
        return self.root / self.config.state_file

    @property
    def runtime_dir(self) -> Path:
        """The lock, the journal and the local cloud: `.aibplan/` beside the state (`.aibplan/ENV/` for an
        environment, so each has its own)."""
        runtime = self.state_path.parent / RUNTIME_DIR
        return runtime / self.config.environment if self.config.environment else runtime


def loop_instances(address: str, known: Iterable[str]) -> list[str]:
    """The instances of a copy loop a target names without an index (`imageTemplate.web` is every
    `imageTemplate.web[N]`), as Terraform targets every instance of a counted resource."""
    if address.endswith("]"):
        return []
    prefix = address + "["
    return sorted(
        a for a in known if a.startswith(prefix) and a.endswith("]") and a[len(prefix) : -1].isdigit()
    )


def address_order(resource: Resource) -> tuple[str, int]:
    """How a stack's resources are ordered: by address, a copy loop's instances by their index
    (`web[2]` before `web[10]`)."""
    if resource.copy is not None:
        return (f"{resource.kind}.{resource.copy.loop}[", resource.copy.index)
    return (resource.address, -1)


def with_value_at(value: Any, path: JsonPath, item: Any) -> Any:
    """A copy of `value` with `item` at `path`: only the containers on the way are copied, a missing object
    on the way is made, and a path through anything else leaves `value` as it is."""
    if not path:
        return item
    head, rest = path[0], path[1:]
    if isinstance(value, Mapping) and isinstance(head, str):
        copied = dict(value)
        copied[head] = with_value_at(copied.get(head, {}) if rest else None, rest, item)
        return copied
    if isinstance(value, list) and isinstance(head, int) and 0 <= head < len(value):
        items = list(value)
        items[head] = with_value_at(items[head], rest, item)
        return items
    return value
