"""Load a stack folder: aibplan.json, resource files (resources, lists, ARM deployment templates), parameters.

Parameter precedence, lowest first: a deployment template's `defaultValue`, `parameters` in aibplan.json,
each `--var-file` in the order given, each `--var NAME=VALUE` in the order given.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from providers.catalog import RESOURCE_TYPES, for_arm_type
from providers.catalog.arm_ids import build_resource_id

from .diagnostics import Diagnostic, JsonPath, Severity, has_errors
from .evaluate import evaluate
from .expressions import Evaluator, ExpressionError, Scope
from .jsonc import JsonSyntaxError, load_jsonc
from .locate import Locator
from .model import (
    BODY_KEYS,
    CONFIG_FILE,
    DEFAULT_STATE_FILE,
    Resource,
    SourceRef,
    Stack,
    StackConfig,
    UnmanagedResource,
)

_CONFIG_KEYS = (
    "subscriptionId",
    "resourceGroup",
    "location",
    "provider",
    "parameters",
    "state",
    "local",
    "azure",
    "$schema",
    "description",
)
_PROVIDERS = ("local", "azure")
_ENVELOPE_KEYS = (
    "type",
    "apiVersion",
    "name",
    "dependsOn",
    "condition",
    "copy",
    "resources",
    "comments",
    *BODY_KEYS,
)
_CANONICAL_KEYS = {key.lower(): key for key in _ENVELOPE_KEYS}
# Keys an ARM resource may carry besides the body; anything else at the top level is reported (AIB2006).
_KNOWN_RESOURCE_KEYS = frozenset(
    (*_ENVELOPE_KEYS, "scope", "zones", "managedBy", "extendedLocation", "existing", "metadata", "$schema")
)
# Files validated alone have no subscription or resource group: ids (resourceId(), the resources' own)
# are built with these stand-ins, so references between the files still resolve; AIB0010 says so.
UNKNOWN_SUBSCRIPTION = "(subscription)"
UNKNOWN_RESOURCE_GROUP = "(resourceGroup)"
_SAMPLE_TOKENS = (
    "region",
    "region1",
    "region2",
    "subscriptionid",
    "rgname",
    "imgbuilderid",
    "runoutputname",
    "imagedefname",
    "sharedimagegalname",
    "imagename",
    "vnetrgname",
    "vnetname",
    "subnetname",
    "vmsize",
    "sizeingb",
    "minutes",
    "name",
    "value",
    "imageresourcegroup",
    "imagetemplatename",
    "identityname",
    "galleryname",
    "location",
    "resourcegroup",
    "version",
    "uri",
)
_PLACEHOLDER_RE = re.compile(r"<([A-Za-z][A-Za-z0-9_.\- ]{0,40})>")


@dataclass
class _Loading:
    root: Path
    # Each diagnostic with the JSON path of the object its `path` is relative to (the resource, or the file).
    diagnostics: list[tuple[Diagnostic, JsonPath]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)
    unmanaged: list[UnmanagedResource] = field(default_factory=list)
    # Files with no expression (no string starting with '[') and no '<' at all: nothing to evaluate or scan.
    plain: set[str] = field(default_factory=set)
    no_angle_brackets: set[str] = field(default_factory=set)
    # A file validated alone: per file, what may be missing ("parameter 'x'", "the subscription id") and why.
    alone: bool = False
    unknown: dict[str, frozenset[str]] = field(default_factory=dict)
    unknown_why: dict[tuple[str, str], str] = field(default_factory=dict)
    # (file, what is missing) -> where it was needed: (resource pointer, path, address)
    missing: dict[tuple[str, str], list[tuple[JsonPath, JsonPath, str | None]]] = field(default_factory=dict)

    def add(
        self,
        code: str,
        severity: Severity,
        message: str,
        file: str,
        path: JsonPath = (),
        *,
        pointer: JsonPath = (),
        **kw: Any,
    ) -> None:
        self.diagnostics.append((Diagnostic(code, severity, message, file=file, path=path, **kw), pointer))


def parse_var(text: str) -> tuple[str, str]:
    """`NAME=VALUE` from the command line; raises ValueError with a usable message."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"--var {text!r}: expected NAME=VALUE")
    return name.strip(), value


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
    loading = _Loading(root)
    if not root.is_dir():
        loading.add("AIB0002", Severity.ERROR, f"stack folder {root} does not exist", file=str(root))
        return None, [d for d, _ in loading.diagnostics]
    config = _load_config(root, loading)
    if config is None:
        return None, _placed(loading)
    if provider is not None:
        config = StackConfig(**{**config.__dict__, "provider": provider})
    pool, pool_sources = _parameter_pool(config, variables, var_files, loading)
    for file in _resource_files(root, config):
        _load_resource_file(file, config, pool, pool_sources, loading)
    return _finish(root, config, loading, partial)


def _finish(
    root: Path, config: StackConfig, loading: _Loading, partial: bool
) -> tuple[Stack | None, list[Diagnostic]]:
    _check_duplicates(loading)
    _report_missing(loading)
    diagnostics = _placed(loading)
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
    loading = _Loading(root)
    if not root.is_dir():
        loading.add("AIB0002", Severity.ERROR, f"stack folder {root} does not exist", file=str(root))
        return None, [d for d, _ in loading.diagnostics]
    config = _load_config(root, loading)
    return config, _placed(loading)


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
    loading = _Loading(root, alone=True)
    config = StackConfig(subscription_id="", resource_group="", location="")
    pool, pool_sources = _parameter_pool(config, variables, var_files, loading)
    for file in files:
        shown = _rel(root, file.resolve()) if file.is_absolute() else str(file)
        loading.unknown[shown] = frozenset(("the resource group's location",))
        loading.unknown_why[(shown, "the resource group's location")] = "it comes from the stack"
        _load_resource_file(file, config, pool, pool_sources, loading, shown=shown)
    _report_stand_ins(loading)
    stack, diagnostics = _finish(root, config, loading, partial=True)
    assert stack is not None
    return stack, diagnostics


def _placed(loading: _Loading) -> list[Diagnostic]:
    locator = Locator(loading.texts)
    out = []
    for d, pointer in loading.diagnostics:
        if d.line is None and d.file in loading.texts:
            d = locator.place(d, d.file, pointer)
        out.append(d)
    return out


def _rel(root: Path, file: Path) -> str:
    try:
        return str(file.relative_to(root))
    except ValueError:
        return str(file)


def _read_json(file: Path, shown: str, loading: _Loading) -> Any:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        loading.add("AIB0002", Severity.ERROR, f"cannot read {shown}: {exc}", file=shown)
        return None
    loading.texts[shown] = text
    if '"[' not in text:
        loading.plain.add(shown)
    if "<" not in text:
        loading.no_angle_brackets.add(shown)
    try:
        return load_jsonc(text, shown)
    except JsonSyntaxError as exc:
        loading.diagnostics.append(
            (
                Diagnostic(
                    "AIB0001",
                    Severity.ERROR,
                    exc.message,
                    file=shown,
                    line=exc.line,
                    column=exc.column,
                    hint="fix the JSON syntax at this position",
                ),
                (),
            )
        )
        return None


def _load_config(root: Path, loading: _Loading) -> StackConfig | None:
    file = root / CONFIG_FILE
    shown = _rel(root, file) if file.exists() else CONFIG_FILE
    if not file.exists():
        loading.add(
            "AIB0003",
            Severity.ERROR,
            f"{root} is not a stack: it has no {CONFIG_FILE}",
            file=shown,
            hint=f"create {CONFIG_FILE} with subscriptionId, resourceGroup and location",
        )
        return None
    data = _read_json(file, shown, loading)
    if data is None:
        return None
    if not isinstance(data, dict):
        loading.add("AIB0003", Severity.ERROR, f"{CONFIG_FILE} must hold a JSON object", file=shown)
        return None
    for key in data:
        if key not in _CONFIG_KEYS:
            close = difflib.get_close_matches(key, _CONFIG_KEYS, n=1)
            loading.add(
                "AIB0003",
                Severity.WARNING,
                f"unknown setting '{key}' in {CONFIG_FILE}",
                file=shown,
                path=(key,),
                hint=f"did you mean '{close[0]}'?" if close else None,
            )
    ok = True
    for key in ("subscriptionId", "resourceGroup", "location"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            loading.add(
                "AIB0003",
                Severity.ERROR,
                f"{CONFIG_FILE}: '{key}' is required and must be a string",
                file=shown,
                path=(key,) if key in data else (),
            )
            ok = False
    provider = data.get("provider", "local")
    if provider not in _PROVIDERS:
        loading.add(
            "AIB0003",
            Severity.ERROR,
            f"{CONFIG_FILE}: provider must be one of {', '.join(_PROVIDERS)}, not {provider!r}",
            file=shown,
            path=("provider",),
        )
        ok = False
    for key in ("parameters", "local", "azure"):
        if key in data and not isinstance(data[key], dict):
            loading.add(
                "AIB0003",
                Severity.ERROR,
                f"{CONFIG_FILE}: '{key}' must be an object",
                file=shown,
                path=(key,),
            )
            ok = False
    state_file = data.get("state", DEFAULT_STATE_FILE)
    if not isinstance(state_file, str) or not state_file.strip():
        loading.add(
            "AIB0003",
            Severity.ERROR,
            f"{CONFIG_FILE}: 'state' must be a file path",
            file=shown,
            path=("state",),
        )
        ok = False
    if not ok:
        return None
    for key in ("subscriptionId", "resourceGroup", "location"):
        _check_placeholders(data[key], (key,), shown, None, loading)
    return StackConfig(
        subscription_id=data["subscriptionId"].strip(),
        resource_group=data["resourceGroup"].strip(),
        location=data["location"].strip(),
        provider=provider,
        parameters=dict(data.get("parameters") or {}),
        state_file=state_file,
        local=dict(data.get("local") or {}),
        azure=dict(data.get("azure") or {}),
    )


def _parameter_pool(
    config: StackConfig, variables: Sequence[tuple[str, str]], var_files: Sequence[Path], loading: _Loading
) -> tuple[dict[str, Any], dict[str, str]]:
    """Every parameter value the user supplied, keyed by name, with where each came from."""
    pool: dict[str, Any] = dict(config.parameters)
    sources = {name: CONFIG_FILE for name in pool}
    for var_file in var_files:
        shown = str(var_file)
        data = _read_json(var_file, shown, loading)
        if data is None:
            continue
        values = data.get("parameters") if isinstance(data, dict) and "parameters" in data else data
        if not isinstance(values, dict):
            loading.add(
                "AIB0009",
                Severity.ERROR,
                f"{shown} is not an ARM parameters file (no 'parameters' object)",
                file=shown,
            )
            continue
        for name, entry in values.items():
            if isinstance(entry, dict) and "value" in entry:
                pool[name] = entry["value"]
            elif isinstance(entry, dict) and "reference" in entry:
                loading.add(
                    "AIB0009",
                    Severity.ERROR,
                    f"parameter '{name}' takes its value from a Key Vault "
                    "reference, which aibplan cannot resolve",
                    file=shown,
                    path=("parameters", name),
                    hint="pass the value with --var instead",
                )
                continue
            elif isinstance(data, dict) and "parameters" in data:
                loading.add(
                    "AIB0009",
                    Severity.ERROR,
                    f"parameter '{name}' needs a 'value'",
                    file=shown,
                    path=("parameters", name),
                )
                continue
            else:
                pool[name] = entry
            sources[name] = shown
    for name, value in variables:
        pool[name] = value
        sources[name] = "--var"
    return pool, sources


def _resource_files(root: Path, config: StackConfig) -> Iterator[Path]:
    skip = {CONFIG_FILE, config.state_file, config.state_file + ".backup"}
    for file in sorted(root.rglob("*.json")):
        rel = file.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or str(rel) in skip:
            continue
        if file.name.endswith((".parameters.json", ".plan.json", ".state.json", ".state.json.backup")):
            continue
        yield file


def _load_resource_file(
    file: Path,
    config: StackConfig,
    pool: dict[str, Any],
    pool_sources: dict[str, str],
    loading: _Loading,
    *,
    shown: str | None = None,
) -> None:
    shown = shown or _rel(loading.root, file)
    data = _read_json(file, shown, loading)
    if data is None:
        return
    scope = Scope(
        subscription_id=config.subscription_id or (UNKNOWN_SUBSCRIPTION if loading.alone else None),
        resource_group=config.resource_group or (UNKNOWN_RESOURCE_GROUP if loading.alone else None),
        location=config.location or None,
    )
    if isinstance(data, dict) and _is_parameters_file(data):
        return
    if isinstance(data, dict) and _is_deployment_template(data):
        evaluator = _template_evaluator(data, scope, pool, pool_sources, shown, loading)
        if evaluator is None:
            return
        resources = data.get("resources")
        if isinstance(resources, dict):  # languageVersion 2.0: resources keyed by symbolic name
            items: list[tuple[JsonPath, Any]] = [
                (("resources", key), value) for key, value in resources.items()
            ]
        elif isinstance(resources, list):
            items = [(("resources", index), value) for index, value in enumerate(resources)]
        else:
            loading.add(
                "AIB0008",
                Severity.ERROR,
                "a deployment template needs a 'resources' list",
                file=shown,
                path=("resources",) if "resources" in data else (),
            )
            return
        for pointer, raw in items:
            _load_resource(raw, pointer, shown, evaluator, config, loading, name_from_file=None)
        return
    evaluator = Evaluator(scope, pool, {})
    if isinstance(data, list):
        for index, raw in enumerate(data):
            _load_resource(raw, (index,), shown, evaluator, config, loading, name_from_file=None)
    elif isinstance(data, dict):
        _load_resource(data, (), shown, evaluator, config, loading, name_from_file=file.stem)
    else:
        loading.add(
            "AIB0008",
            Severity.ERROR,
            "a resource file holds a resource object, a list of them, or an ARM deployment template",
            file=shown,
        )


def _is_parameters_file(data: dict[str, Any]) -> bool:
    return "deploymentParameters" in str(data.get("$schema", ""))


def _is_deployment_template(data: dict[str, Any]) -> bool:
    return "deploymentTemplate" in str(data.get("$schema", "")) or (
        "resources" in data and "type" not in data
    )


def _template_evaluator(
    data: dict[str, Any],
    scope: Scope,
    pool: Mapping[str, Any],
    pool_sources: Mapping[str, str],
    shown: str,
    loading: _Loading,
) -> Evaluator | None:
    declared = data.get("parameters") or {}
    variables = data.get("variables") or {}
    if not isinstance(declared, dict) or not isinstance(variables, dict):
        loading.add("AIB0008", Severity.ERROR, "'parameters' and 'variables' must be objects", file=shown)
        return None
    values: dict[str, Any] = {}
    ok = True
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        ptype = str(spec.get("type", "string")).lower()
        if name in pool:
            try:
                values[name] = _coerce(pool[name], ptype)
            except ValueError as exc:
                loading.add(
                    "AIB0009",
                    Severity.ERROR,
                    f"parameter '{name}' (from {pool_sources.get(name, '?')}): {exc}",
                    file=shown,
                    path=("parameters", name),
                )
                ok = False
                continue
        elif "defaultValue" in spec:
            try:
                values[name] = Evaluator(scope, values, {}, allow_nondeterministic=True).evaluate_value(
                    spec["defaultValue"], ("parameters", name, "defaultValue")
                )
            except ExpressionError as exc:
                if loading.alone and exc.missing in loading.unknown.get(shown, ()):
                    _may_be_missing(
                        loading, shown, f"parameter '{name}'", f"its defaultValue needs {exc.missing}"
                    )
                    continue
                _expression_diagnostic(exc, shown, (), loading)
                ok = False
                continue
        elif loading.alone:
            _may_be_missing(loading, shown, f"parameter '{name}'", "it has no value and no defaultValue")
            continue
        else:
            loading.add(
                "AIB0009",
                Severity.ERROR,
                f"parameter '{name}' has no value and no defaultValue",
                file=shown,
                path=("parameters", name),
                hint=f"set it with --var {name}=VALUE, a --var-file, or 'parameters' in {CONFIG_FILE}",
            )
            ok = False
            continue
        allowed = spec.get("allowedValues")
        if isinstance(allowed, list) and values[name] not in allowed:
            loading.add(
                "AIB0009",
                Severity.ERROR,
                f"parameter '{name}' is {values[name]!r}; allowed values: {', '.join(map(str, allowed))}",
                file=shown,
                path=("parameters", name),
            )
            ok = False
    return Evaluator(scope, values, variables) if ok else None


def _may_be_missing(loading: _Loading, shown: str, what: str, why: str) -> None:
    loading.unknown[shown] = loading.unknown.get(shown, frozenset()) | {what}
    loading.unknown_why[(shown, what)] = why


def _report_missing(loading: _Loading) -> None:
    """One AIB0010 per file and missing value, at its first use, with how many values it leaves unchecked."""
    for (shown, what), uses in loading.missing.items():
        pointer, path, address = uses[0]
        why = loading.unknown_why.get((shown, what))
        name = what.removeprefix("parameter '").removesuffix("'") if what.startswith("parameter '") else None
        loading.add(
            "AIB0010",
            Severity.WARNING,
            f"{what} is not known when this file is validated alone"
            + (f" ({why})" if why else "")
            + f"; {len(uses)} value(s) that use it are not checked",
            file=shown,
            path=path,
            pointer=pointer,
            address=address,
            hint=f"pass --var {name}=VALUE"
            if name
            else "validate the file in its stack (a folder with aibplan.json)",
        )


def _report_stand_ins(loading: _Loading) -> None:
    """An info per file whose values use the stand-in subscription or resource group."""
    reported: set[str] = set()
    for resource in loading.resources:
        file = resource.source.file
        if file in reported:
            continue
        text = json.dumps([resource.body, resource.depends_on])
        if UNKNOWN_SUBSCRIPTION in text or UNKNOWN_RESOURCE_GROUP in text:
            reported.add(file)
            loading.add(
                "AIB0010",
                Severity.INFO,
                f"the subscription and resource group are not known when files are validated alone: ids use "
                f"{UNKNOWN_SUBSCRIPTION} and {UNKNOWN_RESOURCE_GROUP}, so references between the files given "
                "still resolve",
                file=file,
                pointer=resource.source.pointer,
                address=resource.address,
                hint="validate the file in its stack (a folder with aibplan.json) to check the real ids",
            )


def _coerce(value: Any, ptype: str) -> Any:
    if not isinstance(value, str) or ptype in ("string", "securestring"):
        if ptype in ("string", "securestring") and not isinstance(value, str):
            raise ValueError(f"expected a string, got {json.dumps(value)}")
        return value
    if ptype == "int":
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"expected an integer, got {value!r}") from None
    if ptype == "bool":
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"expected true or false, got {value!r}")
    if ptype in ("array", "object", "secureobject"):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"expected a JSON {ptype}, got {value!r}") from None
        if not isinstance(parsed, list if ptype == "array" else dict):
            raise ValueError(f"expected a JSON {ptype}, got {value!r}")
        return parsed
    return value


def _expression_diagnostic(
    exc: ExpressionError, shown: str, pointer: JsonPath, loading: _Loading, address: str | None = None
) -> None:
    hint = None
    if exc.function:
        hint = "write the value literally or pass it as a parameter"
    loading.add(
        "AIB0004",
        Severity.ERROR,
        str(exc.message),
        file=shown,
        path=tuple(exc.path),
        pointer=pointer,
        address=address,
        hint=hint,
    )


def _load_resource(
    raw: Any,
    pointer: JsonPath,
    shown: str,
    evaluator: Evaluator,
    config: StackConfig,
    loading: _Loading,
    *,
    name_from_file: str | None,
    parent: Resource | None = None,
) -> None:
    if not isinstance(raw, dict):
        loading.add("AIB0008", Severity.ERROR, "a resource must be a JSON object", file=shown, path=pointer)
        return
    raw = {_canonical_key(k): v for k, v in raw.items()}
    envelope = _Envelope(raw, shown, pointer, evaluator, loading)
    if "condition" in raw:
        condition = envelope.value("condition")
        if not envelope.unresolved and not condition:
            return
    arm_type = envelope.value("type")
    if envelope.unresolved:
        return  # reported: without its type a resource cannot be checked
    name = envelope.value("name") if "name" in raw else name_from_file
    name_unresolved = bool(envelope.unresolved)
    envelope.last_missing = None
    api_version, api_version_paths = envelope.evaluate(
        raw.get("apiVersion"), ("apiVersion",), None, record=False
    )
    api_version_unresolved, api_version_missing = bool(api_version_paths), envelope.last_missing
    if not isinstance(arm_type, str) or not arm_type:
        loading.add(
            "AIB0008",
            Severity.ERROR,
            "the resource has no 'type'",
            file=shown,
            path=pointer,
            hint='add "type": "Microsoft.VirtualMachineImages/imageTemplates" (or the type you mean)',
        )
        return
    if parent is not None and "/" not in arm_type.split(".", 1)[-1].split("/", 1)[-1] and "." not in arm_type:
        arm_type = f"{parent.arm_type}/{arm_type}"
        name = f"{parent.name}/{name}" if isinstance(name, str) else name
    if not isinstance(name, str) or not name:
        loading.add("AIB0008", Severity.ERROR, "the resource has no 'name'", file=shown, path=pointer)
        return
    if "copy" in raw:
        loading.add(
            "AIB0004",
            Severity.ERROR,
            "resource copy loops are not supported yet",
            file=shown,
            path=(*pointer, "copy"),
            hint="write one resource per copy",
        )
        return
    rtype = for_arm_type(arm_type)
    if rtype is None:
        _unmanaged(arm_type, name, shown, pointer, loading)
        return
    if isinstance(raw.get("properties"), dict) and "copy" in raw["properties"]:
        loading.add(
            "AIB0004",
            Severity.ERROR,
            "property copy loops are not supported yet",
            file=shown,
            path=(*pointer, "properties", "copy"),
            hint="write the list out in full",
        )
        return
    address = f"{rtype.kind}.{name}"
    body: dict[str, Any] = {}
    unresolved: list[JsonPath] = [("name",)] if name_unresolved else []
    plain = shown in loading.plain
    for key in BODY_KEYS:
        if key in raw and raw[key] is not None:
            if plain:
                body[key] = raw[key]
            else:
                body[key], paths = envelope.evaluate(raw[key], (key,), address)
                unresolved += paths
    depends_on: Any = raw.get("dependsOn") or []
    if not plain:
        depends_on, dropped = envelope.evaluate(depends_on, ("dependsOn",), address)
        if dropped and isinstance(depends_on, list):
            depends_on = [d for i, d in enumerate(depends_on) if ("dependsOn", i) not in dropped]
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        loading.add(
            "AIB0008",
            Severity.ERROR,
            "'dependsOn' must be a list of resource names or ids",
            file=shown,
            path=("dependsOn",),
            pointer=pointer,
            address=address,
        )
        depends_on = []
    if "location" not in body and config.location:
        body["location"] = config.location
    api_version_given = isinstance(api_version, str) and bool(api_version) and not api_version_unresolved
    if not api_version_given:
        if api_version_unresolved:
            loading.add(
                "AIB0010",
                Severity.WARNING,
                f"apiVersion is not known here ({api_version_missing or 'it cannot be evaluated'}); "
                f"{address} is checked as {rtype.default_api_version}",
                file=shown,
                path=("apiVersion",),
                pointer=pointer,
                address=address,
                hint="pass the parameter with --var NAME=VALUE to check the version you deploy",
            )
        api_version = rtype.default_api_version
    if name.count("/") + 1 != rtype.name_segments:
        if not name_unresolved:
            loading.add(
                "AIB0008",
                Severity.ERROR,
                f"a {arm_type} name has {rtype.name_segments} segment(s) separated by '/', got '{name}'",
                file=shown,
                path=("name",),
                pointer=pointer,
                address=address,
            )
            return
        name = "/".join([name.replace("/", "_")] * rtype.name_segments)
    if shown not in loading.no_angle_brackets:
        for key, value in body.items():
            unresolved += _check_placeholders(value, (key,), shown, address, loading, pointer=pointer)
        unresolved += _check_placeholders(name, ("name",), shown, address, loading, pointer=pointer)
    resource = Resource(
        kind=rtype.kind,
        name=name,
        arm_type=rtype.arm_type,
        api_version=api_version,
        arm_id=build_resource_id(
            config.subscription_id or UNKNOWN_SUBSCRIPTION,
            config.resource_group or UNKNOWN_RESOURCE_GROUP,
            rtype.arm_type,
            name,
        ),
        body=body,
        depends_on=tuple(depends_on),
        source=SourceRef(shown, pointer),
        api_version_given=api_version_given,
        unresolved=tuple(unresolved),
        name_from_file="name" not in raw,
        extra_keys=tuple(k for k in raw if k not in _KNOWN_RESOURCE_KEYS),
    )
    loading.resources.append(resource)
    children = raw.get("resources")
    if isinstance(children, list):
        for index, child in enumerate(children):
            _load_resource(
                child,
                (*pointer, "resources", index),
                shown,
                evaluator,
                config,
                loading,
                name_from_file=None,
                parent=resource,
            )


class _Envelope:
    """Evaluates one resource's values, reporting what fails and keeping what is unresolved."""

    def __init__(
        self, raw: dict[str, Any], shown: str, pointer: JsonPath, evaluator: Evaluator, loading: _Loading
    ) -> None:
        self.raw, self.shown, self.pointer = raw, shown, pointer
        self.evaluator, self.loading = evaluator, loading
        self.unknown = loading.unknown.get(shown, frozenset())
        self.unresolved: list[JsonPath] = []
        self.last_missing: str | None = None

    def value(self, key: str) -> Any:
        value, paths = self.evaluate(self.raw.get(key), (key,), None)
        self.unresolved += paths
        return value

    def evaluate(
        self, value: Any, path: JsonPath, address: str | None, *, record: bool = True
    ) -> tuple[Any, list[JsonPath]]:
        """The value evaluated, and the paths left unresolved; a use of a missing value is recorded for
        AIB0010 unless the caller reports it itself (`record=False`, as for apiVersion)."""
        done = evaluate(self.evaluator, value, path, self.unknown)
        for exc in done.errors:
            _expression_diagnostic(exc, self.shown, self.pointer, self.loading, address)
        for what, where in done.missing:
            self.last_missing = f"{what}: {self.loading.unknown_why.get((self.shown, what), 'not known')}"
            if record:
                self.loading.missing.setdefault((self.shown, what), []).append((self.pointer, where, address))
        return done.value, done.unresolved


def _unmanaged(arm_type: str, name: str, shown: str, pointer: JsonPath, loading: _Loading) -> None:
    """A type aibplan does not manage: a near miss of a managed type is a typo (AIB2001), else a warning."""
    lowered = arm_type.lower()
    managed = [t.arm_type for t in RESOURCE_TYPES]
    is_child = any(lowered.startswith(t.lower() + "/") for t in managed)
    close = (
        [] if is_child else difflib.get_close_matches(lowered, [t.lower() for t in managed], n=1, cutoff=0.9)
    )
    if close:
        meant = next(t for t in managed if t.lower() == close[0])
        loading.add(
            "AIB2001",
            Severity.ERROR,
            f"type '{arm_type}' is not a resource type; '{name}' would be left out",
            file=shown,
            path=(*pointer, "type"),
            hint=f"did you mean '{meant}'?",
        )
        return
    loading.add(
        "AIB0006",
        Severity.WARNING,
        f"aibplan does not manage {arm_type} yet; '{name}' is left out of the plan",
        file=shown,
        path=(*pointer, "type"),
    )
    loading.unmanaged.append(UnmanagedResource(arm_type, name, SourceRef(shown, pointer)))


def _canonical_key(key: str) -> str:
    """ARM reads the template's own keys without case ("Name" is name)."""
    return _CANONICAL_KEYS.get(key.lower(), key)


def _check_placeholders(
    value: Any, path: JsonPath, shown: str, address: str | None, loading: _Loading, *, pointer: JsonPath = ()
) -> list[JsonPath]:
    """Report sample placeholders such as <region> that were never replaced; return where they are.

    Inside inline commands only the reference's own sample tokens count: `<` and `>` are shell syntax there.
    """
    found: list[JsonPath] = []
    if isinstance(value, str):
        for match in _PLACEHOLDER_RE.finditer(value):
            token = match.group(1)
            if "inline" in path and token.replace(" ", "").lower() not in _SAMPLE_TOKENS:
                continue
            loading.add(
                "AIB0005",
                Severity.ERROR,
                f"leftover placeholder '<{token}>'",
                file=shown,
                path=path,
                pointer=pointer,
                address=address,
                hint="replace the sample placeholder with a real value or a parameter",
            )
            found.append(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if _PLACEHOLDER_RE.search(key) and _check_placeholders(
                key, path, shown, address, loading, pointer=pointer
            ):
                found.append((*path, key))
            found += _check_placeholders(item, (*path, key), shown, address, loading, pointer=pointer)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _check_placeholders(item, (*path, index), shown, address, loading, pointer=pointer)
    return found


def _check_duplicates(loading: _Loading) -> None:
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
    if any(d.code == "AIB0007" for d, _ in loading.diagnostics):
        seen: set[str] = set()
        unique = []
        for resource in loading.resources:
            if resource.arm_id.lower() not in seen:
                seen.add(resource.arm_id.lower())
                unique.append(resource)
        loading.resources[:] = unique


def _inputs_hash(config: StackConfig, resources: Sequence[Resource]) -> str:
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [config.subscription_id, config.resource_group, config.location, config.provider], sort_keys=True
        ).encode()
    )
    for resource in sorted(resources, key=lambda r: r.address):
        digest.update(
            json.dumps(
                [resource.address, resource.api_version, resource.body, resource.depends_on],
                sort_keys=True,
                default=str,
            ).encode()
        )
    return digest.hexdigest()


def resource_sources(stack: Stack) -> dict[str, tuple[str, JsonPath]]:
    """address → (file, pointer), for placing diagnostics about resources."""
    return {r.address: (r.source.file, r.source.pointer) for r in stack.resources}


def locator_for(stack: Stack) -> Locator:
    return Locator(stack.texts)
