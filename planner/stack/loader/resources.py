"""Resources read from a file: a bare body, a list of resources or an ARM deployment template; each
resource's envelope evaluated, nested child resources flattened, types aibplan does not manage set aside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from providers.catalog import for_arm_type
from providers.catalog.arm_ids import build_resource_id, resource_id_at, scope_from, split_extension
from state.redact import remember_secrets

from ...diagnostics import JsonPath, Severity
from ..expressions import Evaluator, Scope
from ..expressions.evaluator import string_leaves
from ..expressions.loops import COPY_ON_CHILD
from ..model import BODY_JSON, BODY_KEYS, CopyInstance, Resource, SourceRef, StackConfig
from .alone import UNKNOWN_RESOURCE_GROUP, UNKNOWN_SUBSCRIPTION
from .bicep import SUFFIX as BICEP_SUFFIX
from .bicep import compile_bicep
from .copies import child_has_property_loop, read_loop
from .envelope import Envelope
from .guardrails import resource_lifecycle
from .kinds import recognised_kind, unmanaged
from .loading import Loading, body_json, has_loop, read_json, rel
from .parameters import template_evaluator
from .placeholders import check_placeholders

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
# Below this many expressions in a file, each of its resources is first checked for having none at all.
_FEW_EXPRESSIONS = 64
# Keys an ARM resource may carry besides the body; anything else at the top level is reported (AIB2006).
_KNOWN_RESOURCE_KEYS = frozenset(
    (*_ENVELOPE_KEYS, "scope", "zones", "managedBy", "extendedLocation", "existing", "metadata", "$schema")
)


def load_resource_file(
    file: Path,
    config: StackConfig,
    pool: dict[str, Any],
    pool_sources: dict[str, str],
    loading: Loading,
    *,
    shown: str | None = None,
) -> None:
    """Every resource `file` holds, evaluated in the stack's scope with the parameters given."""
    shown = shown or rel(loading.root, file)
    bicep = file.name.lower().endswith(BICEP_SUFFIX)
    data = compile_bicep(file, shown, loading) if bicep else read_json(file, shown, loading)
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
        evaluator = template_evaluator(data, scope, pool, pool_sources, shown, loading)
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
        # Texts computed from secure parameters are secrets wherever they appear from now on.
        remember_secrets(evaluator.secret_values)
        return
    evaluator = loading.evaluators.get(scope)
    if evaluator is None:
        evaluator = loading.evaluators[scope] = Evaluator(scope, pool, {})
    if isinstance(data, list):
        for index, raw in enumerate(data):
            _load_resource(raw, (index,), shown, evaluator, config, loading, name_from_file=None)
        loading.declared_parameters |= evaluator.parameters_read
    elif isinstance(data, dict):
        _load_resource(data, (), shown, evaluator, config, loading, name_from_file=file.stem)
        loading.declared_parameters |= evaluator.parameters_read
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


def _load_resource(
    raw: Any,
    pointer: JsonPath,
    shown: str,
    evaluator: Evaluator,
    config: StackConfig,
    loading: Loading,
    *,
    name_from_file: str | None,
    parent: Resource | None = None,
) -> None:
    if not isinstance(raw, dict):
        loading.add("AIB0008", Severity.ERROR, "a resource must be a JSON object", file=shown, path=pointer)
        return
    raw = {_canonical_key(k): v for k, v in raw.items()}
    if "copy" not in raw:
        _load_instance(raw, pointer, shown, evaluator, config, loading, name_from_file, parent, None)
        return
    envelope = Envelope(raw, shown, pointer, evaluator, loading)

    def known(value: Any, path: JsonPath) -> tuple[Any, bool]:
        evaluated, unresolved = envelope.evaluate(value, path, None)
        return evaluated, not unresolved

    loop = read_loop(raw["copy"], known, shown, pointer, loading, child=parent is not None)
    for instance in loop.instances() if loop is not None else ():
        with evaluator.loops.resource_instance(instance.loop, instance.index):
            _load_instance(raw, pointer, shown, evaluator, config, loading, name_from_file, parent, instance)


def _load_instance(
    raw: dict[str, Any],
    pointer: JsonPath,
    shown: str,
    evaluator: Evaluator,
    config: StackConfig,
    loading: Loading,
    name_from_file: str | None,
    parent: Resource | None,
    copy: CopyInstance | None,
) -> None:
    """One resource (or one instance of a resource copy loop) made from its raw object."""
    envelope = Envelope(raw, shown, pointer, evaluator, loading)
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
    subscription = config.subscription_id or UNKNOWN_SUBSCRIPTION
    resource_group = config.resource_group or UNKNOWN_RESOURCE_GROUP
    # An extension resource written as a nested type (`Microsoft.Compute/galleries/providers/
    # roleAssignments`, named `gallery/Microsoft.Authorization/<guid>`) lives on the resource it names.
    scope: str | None = None
    extension = split_extension(arm_type, name)
    if extension is not None:
        scope_type, scope_name, arm_type, name = extension
        scope = build_resource_id(subscription, resource_group, scope_type, scope_name)
    rtype = for_arm_type(arm_type) or recognised_kind(arm_type, name, raw, shown, pointer, loading)
    if rtype is None:
        unmanaged(arm_type, name, shown, pointer, loading)
        return
    if parent is not None and child_has_property_loop(raw.get("properties")):
        loading.add(
            COPY_ON_CHILD,
            Severity.ERROR,
            "a resource declared inside another's 'resources' cannot have a property copy loop (ARM allows "
            "loops on top-level resources only)",
            file=shown,
            path=("properties",),
            pointer=pointer,
            hint="declare it at the top level, its name and type in full (PARENT/CHILD)",
        )
        return
    address = f"{rtype.kind}.{copy.loop}[{copy.index}]" if copy is not None else f"{rtype.kind}.{name}"
    body: dict[str, Any] = {}
    unresolved: list[JsonPath] = [("name",)] if name_unresolved else []
    if "scope" in raw and raw["scope"] is not None:
        # `"scope": "[resourceId(...)]"`: an extension resource on that resource (or group, subscription).
        written, scope_paths = envelope.evaluate(raw["scope"], ("scope",), address)
        unresolved += scope_paths
        if not scope_paths:
            scope = scope_from(written, subscription, resource_group) if isinstance(written, str) else None
            if scope is None:
                loading.add(
                    "AIB0008",
                    Severity.ERROR,
                    f"'scope' must be a resource id, a resource group or subscription id, got {written!r}",
                    file=shown,
                    path=("scope",),
                    pointer=pointer,
                    address=address,
                    hint="[resourceId('Microsoft.Compute/galleries', 'NAME')] or [resourceGroup().id]",
                )
                return
    location = config.location if rtype.located else ""
    # A resource of a file with few expressions is looked at on its own: most of them then have none.
    plain = shown in loading.plain
    as_written = (
        _as_written(raw, location)
        if not plain and loading.expressions.get(shown, 0) < _FEW_EXPRESSIONS
        else None
    )
    depends_on: Any
    if plain:
        body = {key: raw[key] for key in BODY_KEYS if key in raw and raw[key] is not None}
        depends_on = raw.get("dependsOn") or []
    elif as_written is not None:
        body, depends_on, body_text = as_written
    else:
        for key in BODY_KEYS:
            if key in raw and raw[key] is not None:
                body[key], paths = envelope.evaluate(raw[key], (key,), address, unknown_allowed=True)
                unresolved += paths
        depends_on, dropped = envelope.evaluate(raw.get("dependsOn") or [], ("dependsOn",), address)
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
    if "location" not in body and location:
        body["location"] = location
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
            unresolved += check_placeholders(value, (key,), shown, address, loading, pointer=pointer)
        unresolved += check_placeholders(name, ("name",), shown, address, loading, pointer=pointer)
    resource = Resource(
        kind=rtype.kind,
        name=name,
        arm_type=rtype.arm_type,
        api_version=api_version,
        arm_id=resource_id_at(scope, rtype.arm_type, name)
        if scope is not None
        else build_resource_id(subscription, resource_group, rtype.arm_type, name),
        body=body,
        depends_on=tuple(depends_on),
        source=SourceRef(shown, pointer),
        api_version_given=api_version_given,
        unresolved=tuple(unresolved),
        name_from_file="name" not in raw,
        extra_keys=tuple(k for k in raw if k not in _KNOWN_RESOURCE_KEYS),
        known_after_apply=tuple(envelope.known_after_apply),
        lifecycle=resource_lifecycle(raw.get("metadata"), shown, pointer, address, loading),
        secret_values=_secrets_in(body, evaluator),
        copy=copy,
    )
    if as_written is not None:
        resource.derived[BODY_JSON] = body_text
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


def _as_written(raw: dict[str, Any], location: str) -> tuple[dict[str, Any], Any, str] | None:
    """The body (with the stack's `location` where it has none) and dependsOn as written, and the body as
    the JSON text the stack's inputs hash writes (BODY_JSON, loading.body_json), when neither holds an
    expression (a string starting with '[') or a property loop: evaluating them would give them back as
    they are. The text is written sooner than a walk of the body would find that it has no expression."""
    body = {key: raw[key] for key in BODY_KEYS if key in raw and raw[key] is not None}
    if "location" not in body and location:
        body["location"] = location
    depends_on = raw.get("dependsOn") or []
    if type(depends_on) is not list or any(type(d) is not str or d[:1] == "[" for d in depends_on):
        return None  # evaluated, as anything else there is (and what is wrong said)
    text = body_json(body)
    if '"[' in text or has_loop(text):
        return None
    return body, depends_on, text


def _secrets_in(body: dict[str, Any], evaluator: Evaluator) -> tuple[str, ...]:
    """The secret texts (secure parameters and what was computed from them) the body holds."""
    if not evaluator.secret_values:
        return ()
    texts = set(string_leaves(body, keys=True))
    return tuple(sorted(v for v in evaluator.secret_values if v in texts or any(v in t for t in texts)))


def _canonical_key(key: str) -> str:
    """ARM reads the template's own keys without case ("Name" is name)."""
    return _CANONICAL_KEYS.get(key.lower(), key)
