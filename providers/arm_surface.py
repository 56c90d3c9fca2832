"""Azure Resource Manager's REST surface over the simulated service: what the emulator answers, as data.

`ArmSurface.handle(request) -> response` turns one HTTP request into one ARM answer, with no sockets, so
the rules are in one place and the HTTPS server around it stays thin. What it adds to the simulated
service is what ARM adds around every resource provider:

- resource ids in the path, `api-version` in the query (400 MissingApiVersionParameter without it);
- resource groups: a write into a group that does not exist fails with 404 ResourceGroupNotFound (or,
  in the emulator's "auto" mode, creates the group as `az group create` would have);
- long-running operations: PUT (201 created, 200 replaced), PATCH (202) and DELETE (202) on every type
  but identities answer with `Azure-AsyncOperation` and `Location` headers and an operation status
  resource that reports InProgress for a set number of polls, then Succeeded, so SDK pollers poll;
- POST `/run` and `/cancel`, GET `/runOutputs` and `/runOutputs/{name}` on image templates;
- ARM error bodies: `{"error": {"code", "message", "target"}}`, and the flat `{"code", "message"}` that
  the Image Builder service returned before api-version 2021-10-01;
- injected faults (429 with Retry-After, 5xx, any ARM error) from a `FaultPlan`.
"""

from __future__ import annotations

import datetime
import itertools
import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from .catalog.arm_ids import fold_id, parse_resource_id
from .catalog.types import api_version_key
from .emulator_faults import Fault, FaultPlan
from .resource_groups import ResourceGroups
from .simulated import ServiceError, SimulatedAzure

Body = dict[str, Any]

# The Image Builder service wraps errors in {"error": ...} from this api version on.
NESTED_ERRORS_SINCE = "2021-10-01"
_SYNCHRONOUS_TYPES = ("microsoft.managedidentity/userassignedidentities",)
_IN_PROGRESS_STATE = {"create": "Creating", "update": "Updating"}


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


@dataclass
class _Operation:
    """One long-running operation: polls left before it ends, and how it ends."""

    op_id: str
    kind: str  # create | update | delete | action
    arm_id: str
    api_version: str
    namespace: str
    location: str
    polls_left: int
    started: str
    error: ServiceError | None = None
    ended: str | None = None


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
        self.operation_polls = operation_polls
        # Whole seconds, as HTTP's Retry-After says and as the SDK reads it on 201/202 answers.
        self.operation_retry_after = operation_retry_after
        self._operations: dict[str, _Operation] = {}
        self._lock = threading.Lock()
        self._counter = itertools.count(1)

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
            if lowered[6] == "operations":
                return self._operation_status(segments[7], request)
            if lowered[6] == "operationresults":
                return self._operation_result(segments[7], request)
        if len(segments) == 4 and lowered[0] == "subscriptions" and lowered[2] == "resourcegroups":
            return self._resource_group(request, segments[1], segments[3])
        if len(segments) == 5 and lowered[2] == "resourcegroups" and lowered[4] == "resources":
            return self._list_group(segments[1], segments[3], request)
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
        self._require_group(arm_id, creating=_json_body(request).get("location"))
        status, body = self.service.put(arm_id, api_version, _json_body(request))
        if _is_synchronous(arm_id):
            return Response(status, body)
        kind = "create" if status == 201 else "update"
        op = self._start(kind, arm_id, api_version, body)
        return Response(status, self._overlay(arm_id, body), self._operation_headers(request, op))

    def _patch(self, request: Request, arm_id: str, api_version: str) -> Response:
        self._require_group(arm_id)
        body = self.service.patch(arm_id, api_version, _json_body(request))
        if _is_synchronous(arm_id):
            return Response(200, body)
        op = self._start("update", arm_id, api_version, body)
        return Response(202, None, self._operation_headers(request, op))

    def _delete(self, request: Request, arm_id: str, api_version: str) -> Response:
        if not self.resource_groups.exists(_group_id(arm_id)):
            return Response(204)
        try:
            before: Body | None = self.service.get(arm_id, api_version)
        except ServiceError:
            before = None
        status = self.service.delete(arm_id, api_version)
        if status == 204 or _is_synchronous(arm_id):
            return Response(status)
        op = self._start("delete", arm_id, api_version, before)
        return Response(202, None, self._operation_headers(request, op))

    def _action(self, request: Request, arm_id: str, action: str, api_version: str) -> Response:
        self._require_group(arm_id)
        payload = _json_body(request) if request.body else None
        self.service.post_action(arm_id, api_version, action, payload)
        op = self._start("action", arm_id, api_version, self.service.get(arm_id, api_version))
        return Response(202, None, self._operation_headers(request, op))

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
        with self._lock:
            running = [
                op
                for op in self._operations.values()
                if op.ended is None
                and op.kind in _IN_PROGRESS_STATE
                and fold_id(op.arm_id) == fold_id(arm_id)
            ]
        props = body.get("properties")
        if running and isinstance(props, dict) and "provisioningState" in props:
            return {
                **body,
                "properties": {**props, "provisioningState": _IN_PROGRESS_STATE[running[-1].kind]},
            }
        return body

    # -- resource groups -----------------------------------------------------------------------------

    def _require_group(self, arm_id: str, *, creating: object = None) -> None:
        group_id = _group_id(arm_id)
        if self.resource_groups.exists(group_id):
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

    # -- long-running operations -----------------------------------------------------------------------

    def _start(self, kind: str, arm_id: str, api_version: str, body: Body | None) -> _Operation:
        rid = parse_resource_id(arm_id)
        location = str((body or {}).get("location") or "global").replace(" ", "").lower()
        op = _Operation(
            op_id=f"{uuid.uuid4()}-{next(self._counter)}",
            kind=kind,
            arm_id=arm_id,
            api_version=api_version,
            namespace=rid.namespace if rid else "Microsoft.Resources",
            location=location,
            polls_left=self.operation_polls,
            started=_now(),
        )
        with self._lock:
            self._operations[op.op_id] = op
        return op

    def _operation_headers(self, request: Request, op: _Operation) -> dict[str, str]:
        host = request.headers.get("host", "localhost")
        subscription = parse_resource_id(op.arm_id)
        sub = subscription.subscription if subscription else "-"
        base = f"https://{host}/subscriptions/{quote(sub)}/providers/{op.namespace}/locations/{op.location}"
        query = f"?api-version={quote(op.api_version)}"
        headers = {
            "Azure-AsyncOperation": f"{base}/operations/{op.op_id}{query}",
            "Location": f"{base}/operationResults/{op.op_id}{query}",
        }
        if self.operation_retry_after is not None:
            headers["Retry-After"] = str(self.operation_retry_after)
        return headers

    def _advance(self, op_id: str) -> _Operation:
        with self._lock:
            op = self._operations.get(op_id)
            if op is None:
                raise ServiceError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
            if op.ended is None:
                if op.polls_left > 0:
                    op.polls_left -= 1
                elif not self._action_running(op):
                    op.ended = _now()
            return op

    def _action_running(self, op: _Operation) -> bool:
        """A run's operation lasts as long as the build (the template's lastRunStatus says)."""
        if op.kind != "action":
            return False
        try:
            body = self.service.get(op.arm_id, op.api_version)
        except ServiceError:
            return False
        run = (body.get("properties") or {}).get("lastRunStatus") or {}
        state = str(run.get("runState", ""))
        if state in ("Running", "Canceling"):
            return True
        if state == "Failed":
            op.error = ServiceError(200, "BuildFailed", str(run.get("message") or "The build failed."))
        return False

    def _operation_status(self, op_id: str, request: Request) -> Response:
        op = self._advance(op_id)
        body: Body = {"id": request.path, "name": op.op_id, "startTime": op.started}
        if op.ended is None:
            body["status"] = "InProgress"
        elif op.error is not None:
            body.update(
                status="Failed", endTime=op.ended, error={"code": op.error.code, "message": op.error.message}
            )
        else:
            body.update(status="Succeeded", endTime=op.ended)
        headers = {}
        if op.ended is None and self.operation_retry_after is not None:
            headers["Retry-After"] = str(self.operation_retry_after)
        return Response(200, body, headers)

    def _operation_result(self, op_id: str, request: Request) -> Response:
        op = self._advance(op_id)
        if op.ended is None:
            headers = {"Location": f"https://{request.headers.get('host', 'localhost')}{request.path}"}
            if self.operation_retry_after is not None:
                headers["Retry-After"] = str(self.operation_retry_after)
            return Response(202, None, headers)
        if op.kind in ("create", "update"):
            return Response(200, self.service.get(op.arm_id, op.api_version))
        return Response(204)


def _group_id(arm_id: str) -> str:
    rid = parse_resource_id(arm_id)
    if rid is None:
        return arm_id
    return f"/subscriptions/{rid.subscription}/resourceGroups/{rid.resource_group}"


def _is_synchronous(arm_id: str) -> bool:
    rid = parse_resource_id(arm_id)
    return rid is not None and rid.arm_type.lower() in _SYNCHRONOUS_TYPES


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


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
