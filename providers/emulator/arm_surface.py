"""Azure Resource Manager's REST surface over the simulated service: what the emulator answers, as data.

`ArmSurface.handle(request) -> response` turns one HTTP request into one ARM answer, with no sockets, so
the rules are in one place and the HTTPS server around it stays thin. What it adds to the simulated
service is what ARM adds around every resource provider:

- resource ids in the path, `api-version` in the query (400 MissingApiVersionParameter without it);
- resource groups: a write into a group that does not exist fails with 404 ResourceGroupNotFound (or,
  in the emulator's "auto" mode, creates the group as `az group create` would have);
- long-running operations: PUT (201 created, 200 replaced), PATCH (202) and DELETE (202) on every type
  the catalog does not call synchronous (identities and role assignments answer at once) answer with
  `Azure-AsyncOperation` and `Location` headers and an operation status
  resource that reports InProgress for a set number of polls, then Succeeded, so SDK pollers poll;
- POST `/run` and `/cancel`, GET `/runOutputs` and `/runOutputs/{name}` on image templates;
- ARM error bodies: `{"error": {"code", "message", "target"}}`, and the flat `{"code", "message"}` that
  the Image Builder service returned before api-version 2021-10-01;
- injected faults (429 with Retry-After, 5xx, any ARM error) from a `FaultPlan`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ..catalog import for_arm_type
from ..catalog.arm_ids import parse_resource_id
from ..catalog.types import api_version_key
from ..simulated.service import ServiceError, SimulatedAzure
from .faults import Fault, FaultPlan
from .long_running import Operations
from .resource_groups import ResourceGroups
from .role_lists import role_list

Body = dict[str, Any]

# The Image Builder service wraps errors in {"error": ...} from this api version on.
NESTED_ERRORS_SINCE = "2021-10-01"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""


@dataclass(frozen=True)
class Response:
    status: int
    body: Any = None  # JSON-serialisable, or None for an empty body
    headers: Mapping[str, str] = field(default_factory=dict)


class ArmSurface:
    """The ARM REST rules around one SimulatedAzure. Thread-safe."""

    def __init__(
        self,
        service: SimulatedAzure,
        resource_groups: ResourceGroups,
        *,
        faults: FaultPlan | None = None,
        operation_polls: int = 1,
        operation_retry_after: int | None = None,
    ) -> None:
        self.service = service
        self.resource_groups = resource_groups
        self.faults = faults if faults is not None else FaultPlan()
        self.operations = Operations(service, polls=operation_polls, retry_after=operation_retry_after)

    # -- entry point ---------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = unquote(request.path).rstrip("/")
        api_version = request.query.get("api-version", "")
        if not request.headers.get("authorization", "").lower().startswith("bearer "):
            return _error(
                ServiceError(
                    401,
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is missing.",
                ),
                nested=True,
            )
        fault = self.faults.pick(request.method, path)
        if fault is not None:
            return _fault_response(fault, _nested_errors(path, api_version))
        if not api_version:
            return _error(
                ServiceError(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                ),
                nested=True,
            )
        try:
            return self._route(request, path, api_version)
        except ServiceError as exc:
            return _error(exc, nested=_nested_errors(path, api_version))

    def _route(self, request: Request, path: str, api_version: str) -> Response:
        segments = path.strip("/").split("/")
        lowered = [s.lower() for s in segments]
        if len(segments) == 8 and lowered[2] == "providers" and lowered[4] == "locations":
            host = request.headers.get("host", "localhost")
            if lowered[6] == "operations":
                return Response(*self.operations.status(segments[7], request.path))
            if lowered[6] == "operationresults":
                return Response(*self.operations.result(segments[7], f"https://{host}{request.path}"))
        if len(segments) == 4 and lowered[0] == "subscriptions" and lowered[2] == "resourcegroups":
            return self._resource_group(request, segments[1], segments[3])
        if len(segments) == 5 and lowered[2] == "resourcegroups" and lowered[4] == "resources":
            return self._list_group(segments[1], segments[3], request)
        roles = role_list(self.service, request.method, segments, request.query)
        if roles is not None:
            return Response(*roles)
        method = request.method.upper()
        if method == "POST" and parse_resource_id("/" + "/".join(segments[:-1])) is not None:
            # POST {id}/{action}: run and cancel on image templates; the service refuses the rest.
            return self._action(request, "/" + "/".join(segments[:-1]), segments[-1], api_version)
        if method == "GET" and lowered[-1] == "runoutputs":
            return self._run_outputs("/" + "/".join(segments[:-1]), api_version, None)
        if method == "GET" and len(lowered) > 2 and lowered[-2] == "runoutputs":
            return self._run_outputs("/" + "/".join(segments[:-2]), api_version, segments[-1])
        arm_id = "/" + "/".join(segments)
        rid = parse_resource_id(arm_id)
        if rid is None:
            raise ServiceError(
                400, "InvalidResourceId", f"The path '{path}' is not a resource id aibplan's emulator serves."
            )
        if method == "GET":
            return self._get(arm_id, api_version)
        if method == "PUT":
            return self._put(request, arm_id, api_version)
        if method == "PATCH":
            return self._patch(request, arm_id, api_version)
        if method == "DELETE":
            return self._delete(request, arm_id, api_version)
        raise ServiceError(405, "MethodNotAllowed", f"The method '{method}' is not allowed on '{path}'.")

    # -- resources -----------------------------------------------------------------------------------

    def _get(self, arm_id: str, api_version: str) -> Response:
        self._require_group(arm_id)
        body = self.service.get(arm_id, api_version)
        return Response(200, self._overlay(arm_id, body))

    def _put(self, request: Request, arm_id: str, api_version: str) -> Response:
        rid = parse_resource_id(arm_id)
        rtype = for_arm_type(rid.arm_type) if rid is not None else None
        # In "auto" mode a kind without a region (a role assignment or definition) may be the group's
        # first write: it is let through, and the group is made by the first write that names a region.
        unlocated = rtype is not None and not rtype.located and self.resource_groups.auto_create
        if not unlocated:
            self._require_group(arm_id, creating=_json_body(request).get("location"))
        failure: ServiceError | None = None
        try:
            status, body = self.service.put(arm_id, api_version, _json_body(request))
        except ServiceError as exc:
            if not exc.accepted:
                raise
            # Accepted (201, Creating), then the operation ends Failed with the service's error.
            failure, status = exc, 201
            body = {**self.service.get(arm_id, api_version)}
            body["properties"] = {**(body.get("properties") or {}), "provisioningState": "Creating"}
            body["properties"].pop("provisioningError", None)
        if _is_synchronous(arm_id) and failure is None:
            return Response(status, body)
        kind = "create" if status == 201 else "update"
        op = self.operations.start(kind, arm_id, api_version, body)
        op.error = failure
        return Response(
            status,
            self._overlay(arm_id, body),
            self.operations.headers(request.headers.get("host", "localhost"), op),
        )

    def _patch(self, request: Request, arm_id: str, api_version: str) -> Response:
        self._require_group(arm_id)
        body = self.service.patch(arm_id, api_version, _json_body(request))
        if _is_synchronous(arm_id):
            return Response(200, body)
        op = self.operations.start("update", arm_id, api_version, body)
        return Response(202, None, self.operations.headers(request.headers.get("host", "localhost"), op))

    def _delete(self, request: Request, arm_id: str, api_version: str) -> Response:
        group_id = _group_id(arm_id)
        if group_id is not None and not self.resource_groups.exists(group_id):
            return Response(204)
        try:
            before: Body | None = self.service.get(arm_id, api_version)
        except ServiceError:
            before = None
        status = self.service.delete(arm_id, api_version)
        if status == 204 or _is_synchronous(arm_id):
            return Response(status)
        op = self.operations.start("delete", arm_id, api_version, before)
        return Response(202, None, self.operations.headers(request.headers.get("host", "localhost"), op))

    def _action(self, request: Request, arm_id: str, action: str, api_version: str) -> Response:
        self._require_group(arm_id)
        payload = _json_body(request) if request.body else None
        self.service.post_action(arm_id, api_version, action, payload)
        op = self.operations.start("action", arm_id, api_version, self.service.get(arm_id, api_version))
        return Response(202, None, self.operations.headers(request.headers.get("host", "localhost"), op))

    def _run_outputs(self, arm_id: str, api_version: str, name: str | None) -> Response:
        self._require_group(arm_id)
        outputs = self.service.list_run_outputs(arm_id, api_version)
        if name is None:
            return Response(200, {"value": outputs})
        for output in outputs:
            if str(output.get("name", "")).lower() == name.lower():
                return Response(200, output)
        raise ServiceError(404, "ResourceNotFound", f"The run output '{name}' was not found.")

    def _overlay(self, arm_id: str, body: Body) -> Body:
        """While an operation on the resource is in progress, ARM shows Creating/Updating."""
        shown = self.operations.in_progress_state(arm_id)
        props = body.get("properties")
        if shown is not None and isinstance(props, dict) and "provisioningState" in props:
            return {**body, "properties": {**props, "provisioningState": shown}}
        return body

    # -- resource groups -----------------------------------------------------------------------------

    def _require_group(self, arm_id: str, *, creating: object = None) -> None:
        group_id = _group_id(arm_id)
        if group_id is None or self.resource_groups.exists(group_id):
            return
        if creating is not None and self.resource_groups.auto_create:
            self.resource_groups.create(group_id, str(creating))
            return
        rid = parse_resource_id(arm_id)
        name = rid.resource_group if rid else group_id.rsplit("/", 1)[-1]
        raise ServiceError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")

    def _resource_group(self, request: Request, subscription: str, name: str) -> Response:
        group_id = f"/subscriptions/{subscription}/resourceGroups/{name}"
        method = request.method.upper()
        if method == "PUT":
            location = _json_body(request).get("location")
            if not isinstance(location, str) or not location:
                raise ServiceError(400, "LocationRequired", "The location property is required.")
            created = self.resource_groups.create(group_id, location)
            return Response(201 if created else 200, self.resource_groups.get(group_id))
        body = self.resource_groups.get(group_id)
        if method in ("GET", "HEAD"):
            if body is None:
                if method == "HEAD":
                    return Response(404)
                raise ServiceError(
                    404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found."
                )
            return Response(200 if method == "GET" else 204, body if method == "GET" else None)
        if method == "DELETE":
            if body is None:
                return Response(204)
            for resource in reversed(self.service.list_resource_group(subscription, name)):
                self.service.raw_delete(str(resource["id"]))
            self.resource_groups.delete(group_id)
            return Response(200)
        raise ServiceError(
            405, "MethodNotAllowed", f"The method '{method}' is not allowed on resource groups."
        )

    def _list_group(self, subscription: str, name: str, request: Request) -> Response:
        group_id = f"/subscriptions/{subscription}/resourceGroups/{name}"
        if not self.resource_groups.exists(group_id):
            raise ServiceError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
        items = []
        for body in self.service.list_resource_group(subscription, name):
            # ARM lists the envelope; properties need a GET of each resource.
            items.append({k: v for k, v in body.items() if k != "properties"})
        return Response(200, {"value": items})


def _group_id(arm_id: str) -> str | None:
    """The resource group the resource lives in; None at subscription scope."""
    rid = parse_resource_id(arm_id)
    if rid is None:
        return arm_id
    if not rid.resource_group:
        return None
    return f"/subscriptions/{rid.subscription}/resourceGroups/{rid.resource_group}"


def _is_synchronous(arm_id: str) -> bool:
    """The catalog says the service answers writes of this type at once (no long-running operation)."""
    rid = parse_resource_id(arm_id)
    rtype = for_arm_type(rid.arm_type) if rid is not None else None
    return rtype is not None and rtype.service.synchronous


def _nested_errors(path: str, api_version: str) -> bool:
    """The Image Builder service answered with flat error bodies before 2021-10-01."""
    if "/microsoft.virtualmachineimages/" not in path.lower() or not api_version:
        return True
    return api_version_key(api_version) >= api_version_key(NESTED_ERRORS_SINCE)


def _json_body(request: Request) -> Body:
    if not request.body:
        return {}
    try:
        value = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ServiceError(
            400,
            "InvalidRequestContent",
            f"The request content was invalid and could not be deserialized: {exc}",
        ) from None
    if not isinstance(value, dict):
        raise ServiceError(400, "InvalidRequestContent", "The request content must be a JSON object.")
    return value


def _error(exc: ServiceError, *, nested: bool) -> Response:
    detail: Body = {"code": exc.code, "message": exc.message}
    if exc.target:
        detail["target"] = exc.target
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = f"{exc.retry_after:g}"
    return Response(exc.status, {"error": detail} if nested else detail, headers)


def _fault_response(fault: Fault, nested: bool) -> Response:
    return _error(
        ServiceError(
            fault.status, fault.code, fault.message, target=fault.target, retry_after=fault.retry_after
        ),
        nested=nested,
    )
