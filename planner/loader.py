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

from providers.catalog import for_arm_type
from providers.catalog.arm_ids import build_resource_id

from .diagnostics import Diagnostic, JsonPath, Severity, has_errors
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
) -> tuple[Stack | None, list[Diagnostic]]:
    """Load the stack in `root`. Returns (None, diagnostics) when it cannot be used."""
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
    _check_duplicates(loading)
    diagnostics = _placed(loading)
    if has_errors(diagnostics):
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
    file: Path, config: StackConfig, pool: dict[str, Any], pool_sources: dict[str, str], loading: _Loading
) -> None:
    shown = _rel(loading.root, file)
    data = _read_json(file, shown, loading)
    if data is None:
        return
    scope = Scope(
        subscription_id=config.subscription_id, resource_group=config.resource_group, location=config.location
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
                _expression_diagnostic(exc, shown, (), loading)
                ok = False
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
    try:
        if "condition" in raw and not evaluator.evaluate_value(raw["condition"], ("condition",)):
            return
        arm_type = evaluator.evaluate_value(raw.get("type"), ("type",))
        name = evaluator.evaluate_value(raw.get("name"), ("name",)) if "name" in raw else name_from_file
        api_version = evaluator.evaluate_value(raw.get("apiVersion"), ("apiVersion",))
    except ExpressionError as exc:
        _expression_diagnostic(exc, shown, pointer, loading)
        return
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
        loading.add(
            "AIB0006",
            Severity.WARNING,
            f"aibplan does not manage {arm_type} yet; '{name}' is left out of the plan",
            file=shown,
            path=(*pointer, "type"),
        )
        loading.unmanaged.append(UnmanagedResource(arm_type, name, SourceRef(shown, pointer)))
        return
    if "copy" in (raw.get("properties") or {}):
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
    try:
        for key in BODY_KEYS:
            if key in raw and raw[key] is not None:
                body[key] = evaluator.evaluate_value(raw[key], (key,))
        depends_on = evaluator.evaluate_value(raw.get("dependsOn") or [], ("dependsOn",))
    except ExpressionError as exc:
        _expression_diagnostic(exc, shown, pointer, loading, address)
        return
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
    if "location" not in body:
        body["location"] = config.location
    if not isinstance(api_version, str) or not api_version:
        api_version_given = False
        api_version = rtype.default_api_version
    else:
        api_version_given = True
    if name.count("/") + 1 != rtype.name_segments:
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
    for key, value in body.items():
        _check_placeholders(value, (key,), shown, address, loading, pointer=pointer)
    _check_placeholders(name, ("name",), shown, address, loading, pointer=pointer)
    resource = Resource(
        kind=rtype.kind,
        name=name,
        arm_type=rtype.arm_type,
        api_version=api_version,
        arm_id=build_resource_id(config.subscription_id, config.resource_group, rtype.arm_type, name),
        body=body,
        depends_on=tuple(depends_on),
        source=SourceRef(shown, pointer),
        api_version_given=api_version_given,
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


def _canonical_key(key: str) -> str:
    """ARM reads the template's own keys without case ("Name" is name)."""
    for known in _ENVELOPE_KEYS:
        if key.lower() == known.lower():
            return known
    return key


def _check_placeholders(
    value: Any, path: JsonPath, shown: str, address: str | None, loading: _Loading, *, pointer: JsonPath = ()
) -> None:
    """Report sample placeholders such as <region> that were never replaced.

    Inside inline commands only the reference's own sample tokens count: `<` and `>` are shell syntax there.
    """
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
    elif isinstance(value, dict):
        for key, item in value.items():
            if _PLACEHOLDER_RE.search(key):
                _check_placeholders(key, path, shown, address, loading, pointer=pointer)
            _check_placeholders(item, (*path, key), shown, address, loading, pointer=pointer)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_placeholders(item, (*path, index), shown, address, loading, pointer=pointer)


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
