"""Deployment values and resource ids: parameters(), variables(), resourceGroup(), subscription(),
tenant(), deployment(), resourceId() and its subscription, tenant and extension forms, and reference()
(a value known only after apply until the cloud can answer: expressions.unknown)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .errors import ExpressionError
from .functions import Function, registrar, want_str
from .unknown import ReferenceTarget

if TYPE_CHECKING:
    from .evaluator import Evaluator

FUNCTIONS: dict[str, Function] = {}
_register = registrar(FUNCTIONS)

_TYPE_PATTERN = re.compile(r"[A-Za-z0-9][\w-]*(?:\.[\w-]+)+(?:/[^/]+)+")


@_register("parameters", 1, 1)
def _fn_parameters(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return ev.parameter(want_str(name, args[0], "a parameter name (string)"))


@_register("variables", 1, 1)
def _fn_variables(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return ev.variable(want_str(name, args[0], "a variable name (string)"))


@_register("resourceGroup", 0, 0)
def _fn_resource_group(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return ev.scope_object("resourcegroup", None)


@_register("subscription", 0, 0)
def _fn_subscription(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return ev.scope_object("subscription", None)


@_register("tenant", 0, 0)
def _fn_tenant(ev: Evaluator, name: str, args: list[Any]) -> Any:
    tenant = ev.scope.tenant_id
    return {"id": f"/tenants/{tenant}", "tenantId": tenant}


@_register("deployment", 0, 0)
def _fn_deployment(ev: Evaluator, name: str, args: list[Any]) -> Any:
    return {"name": ev.scope.deployment_name, "properties": {}}


def _split_type(name: str, args: list[Any], leading_max: int) -> tuple[list[str], str, list[str]]:
    """Split resourceId-style arguments into (leading args, resource type, names)."""
    for arg in args:
        want_str(name, arg, "string arguments")
    type_index = next((i for i, arg in enumerate(args) if "/" in arg and _TYPE_PATTERN.fullmatch(arg)), None)
    if type_index is None:
        raise ExpressionError(
            f"{name}() needs a resource type such as 'Microsoft.Compute/galleries' among its arguments"
        )
    if type_index > leading_max:
        raise ExpressionError(
            f"{name}() accepts at most {leading_max} argument(s) before the resource type, got {type_index}"
        )
    resource_type = args[type_index]
    names = args[type_index + 1 :]
    segments = resource_type.split("/")[1:]
    if len(names) != len(segments):
        raise ExpressionError(
            f"{name}(): resource type '{resource_type}' needs {len(segments)} resource "
            f"name(s), got {len(names)}"
        )
    return args[:type_index], resource_type, names


def _provider_path(resource_type: str, names: list[str]) -> str:
    namespace, *segments = resource_type.split("/")
    parts = [f"/providers/{namespace}"]
    for segment, resource_name in zip(segments, names, strict=True):
        parts.append(f"/{segment}/{resource_name}")
    return "".join(parts)


@_register("resourceId", 2, None)
def _fn_resource_id(ev: Evaluator, name: str, args: list[Any]) -> Any:
    leading, resource_type, names = _split_type(name, args, 2)
    if len(leading) == 2:
        subscription, group = leading
    elif len(leading) == 1:
        subscription, group = ev.subscription_id(), leading[0]
    else:
        subscription, group = ev.subscription_id(), ev.resource_group()
    return f"/subscriptions/{subscription}/resourceGroups/{group}" + _provider_path(resource_type, names)


@_register("subscriptionResourceId", 2, None)
def _fn_subscription_resource_id(ev: Evaluator, name: str, args: list[Any]) -> Any:
    leading, resource_type, names = _split_type(name, args, 1)
    subscription = leading[0] if leading else ev.subscription_id()
    return f"/subscriptions/{subscription}" + _provider_path(resource_type, names)


@_register("tenantResourceId", 2, None)
def _fn_tenant_resource_id(ev: Evaluator, name: str, args: list[Any]) -> Any:
    _, resource_type, names = _split_type(name, args, 0)
    return _provider_path(resource_type, names)


@_register("extensionResourceId", 3, None)
def _fn_extension_resource_id(ev: Evaluator, name: str, args: list[Any]) -> Any:
    base = want_str(name, args[0], "a resource id (string) as first argument")
    _, resource_type, names = _split_type(name, args[1:], 0)
    return base.rstrip("/") + _provider_path(resource_type, names)


@_register("reference", 1, 3)
def _fn_reference(ev: Evaluator, name: str, args: list[Any]) -> Any:
    resource = want_str(name, args[0], "a resource id or name (string) as first argument")
    if not resource:
        raise ExpressionError(f"{name}() needs a resource id or name, got ''")
    api_version = None
    if len(args) > 1:
        api_version = want_str(name, args[1], "an api version (string) as second argument")
    full = False
    if len(args) == 3:
        option = want_str(name, args[2], "'Full' as third argument")
        if option.lower() != "full":
            raise ExpressionError(f"{name}(): the third argument can only be 'Full', got '{option}'")
        full = True
    return ev.reference(ReferenceTarget(resource, api_version or None, full), name, args)
