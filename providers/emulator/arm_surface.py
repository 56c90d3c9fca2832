"""Azure Resource Manager's REST surface over the simulated service: what the emulator answers, as data.

`ArmSurface.handle(request) -> response` turns one HTTP request into one ARM answer, with no sockets, so
the rules are in one place and the HTTPS server around it stays thin. What it adds to the simulated
service is what ARM adds around every resource provider:

- `api-version` on every request: missing (400 MissingApiVersionParameter), unknown
  (InvalidApiVersionParameter) or not one of the type's (NoRegisteredProviderFound): `api_versions.py`;
- resource groups: a write into a group that does not exist fails with 404 ResourceGroupNotFound (or,
  in the emulator's "auto" mode, creates the group as `az group create` would have);
- each verb answered with the status and polling headers its resource provider answers with
  (`answers.py`), long-running operations that end with time (`long_running.py`);
- lists of every type it serves at subscription, resource group and parent scope, paged (`listing.py`);
- POST `/run` and `/cancel`, GET `/runOutputs` and `/runOutputs/{name}` on image templates;
- what clients ask before they touch a resource: subscriptions, tenants, locations, the cloud's
  endpoints (`directory.py`), and a sign-in endpoint (`sign_in.py`), neither needing a token;
- ARM error bodies, flat before 2021-10-01 for Image Builder, and injected faults from a `FaultPlan`
  (a lost answer: the request carried out, then the connection reset).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote

from ..catalog import for_arm_type
from ..catalog.arm_ids import fold_id, parse_resource_id
from ..simulated import api_versions
from ..simulated.service import ServiceError, SimulatedAzure
from . import directory
from .answers import OPERATION_SEGMENTS, style_of
from .faults import FaultPlan
from .http_shapes import Request, Response, error_response, fault_response, json_body, nested_errors
from .listing import Collection, page, parse_collection, skip_of
from .long_running import Operations
from .resource_groups import ResourceGroups
from .role_lists import role_list
from .sign_in import SignIn, is_sign_in_path

__all__ = ["ArmSurface", "Request", "Response"]

Body = dict[str, Any]
_RESOURCE_GROUPS = re.compile("/resourcegroups/", re.IGNORECASE)
_SUBSCRIPTION_CHILDREN = ("locations", "resourcegroups")


class ArmSurface:
    """The ARM REST rules around one SimulatedAzure. Thread-safe."""

    def __init__(
        self,
        service: SimulatedAzure,
        resource_groups: ResourceGroups,
        *,
        faults: FaultPlan | None = None,
        operation_seconds: float = 0.0,
        operation_retry_after: int | None = None,
        page_size: int = 100,
        subscriptions: Sequence[str] = (directory.DEFAULT_SUBSCRIPTION,),
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.service = service
        self.resource_groups = resource_groups
        self.faults = faults if faults is not None else FaultPlan()
        self.operations = Operations(
            service, seconds=operation_seconds, retry_after=operation_retry_after, clock=clock
        )
        self.page_size = max(1, page_size)
        self.subscriptions = tuple(subscriptions)
        self.sign_in = SignIn()

    # -- entry point ---------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = unquote(request.path).rstrip("/")
        segments = [s for s in path.split("/") if s]
        lowered = [s.lower() for s in segments]
        if lowered == ["metadata", "endpoints"]:
            return Response(200, directory.metadata_endpoints(request.base_url))
        if is_sign_in_path(lowered):
            return self._sign_in(request, segments, lowered)
        api_version = request.query.get("api-version", "")
        if not request.headers.get("authorization", "").lower().startswith("bearer "):
            return error_response(
                ServiceError(
                    401,
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is missing.",
                ),
                nested=True,
            )
        fault = self.faults.pick(request.method, path)
        if fault is not None and fault.answer_lost:
            self._carry_out(request, path, segments, lowered, api_version)
            # Nobody polls an operation whose answer was lost: the work goes on and ends, as in Azure.
            self.operations.settle(path)
            return Response(0, drop=True)
        if fault is not None:
            return fault_response(fault, nested_errors(path, api_version))
        return self._carry_out(request, path, segments, lowered, api_version)

    def _carry_out(
        self, request: Request, path: str, segments: list[str], lowered: list[str], api_version: str
    ) -> Response:
        try:
            if not api_version:
                raise ServiceError(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                )
            return self._route(request, path, segments, lowered, api_version)
        except ServiceError as exc:
            return error_response(exc, nested=nested_errors(path, api_version))

    def _route(
        self, request: Request, path: str, segments: list[str], lowered: list[str], api_version: str
    ) -> Response:
        method = request.method.upper()
        roles = role_list(self.service, method, segments, request.query)
        if roles is not None:
            return Response(*roles)
        own = self._arm_own(request, segments, lowered, api_version)
        if own is not None:
            return own
        if (
            len(segments) == 8
            and lowered[2] == "providers"
            and lowered[4] == "locations"
            and lowered[6] in OPERATION_SEGMENTS
        ):
            api_versions.check_well_formed(api_version)
            return Response(*self.operations.status(segments[7]))
        if method == "GET" and lowered[-1] == "runoutputs":
            return self._run_outputs(request, "/" + "/".join(segments[:-1]), api_version, None)
        if method == "GET" and len(lowered) > 2 and lowered[-2] == "runoutputs":
            return self._run_outputs(request, "/" + "/".join(segments[:-2]), api_version, segments[-1])
        parent = "/" + "/".join(segments[:-1])
        if method == "POST" and parse_resource_id(parent) is not None:
            # POST {id}/{action}: run and cancel on image templates; the service refuses the rest.
            return self._action(request, parent, segments[-1], api_version)
        collection = parse_collection(segments)
        if collection is not None and method == "GET":
            return self._list(request, collection, api_version)
        arm_id = "/" + "/".join(segments)
        rid = parse_resource_id(arm_id)
        if rid is None:
            raise ServiceError(
                400, "InvalidResourceId", f"The path '{path}' is not a resource id aibplan's emulator serves."
            )
        location = json_body(request).get("location") if method == "PUT" else None
        api_versions.check_for_type(rid.arm_type, api_version, self._location(arm_id, location))
        if method == "GET":
            return self._get(arm_id, api_version)
        if method == "PUT":
            return self._put(request, arm_id, api_version)
        if method == "PATCH":
            return self._patch(request, arm_id, api_version)
        if method == "DELETE":
            return self._delete(request, arm_id, api_version)
        raise ServiceError(405, "MethodNotAllowed", f"The method '{method}' is not allowed on '{path}'.")

    def _arm_own(
        self, request: Request, segments: list[str], lowered: list[str], api_version: str
    ) -> Response | None:
        """ARM's own endpoints: subscriptions, tenants, locations, resource groups, provider operations."""
        count = len(lowered)
        known = (
            lowered in (["subscriptions"], ["tenants"])
            or (count == 2 and lowered[0] == "subscriptions")
            or (
                count == 3 and lowered[0] == "subscriptions" and lowered[2] in ("locations", "resourcegroups")
            )
            or (count == 3 and lowered[0] == "providers" and lowered[2] == "operations")
            or (count in (4, 5) and lowered[0] == "subscriptions" and lowered[2] == "resourcegroups")
        )
        if not known or (count == 5 and lowered[4] != "resources"):
            return None
        api_versions.check_well_formed(api_version)
        if lowered == ["subscriptions"]:
            return Response(200, directory.subscriptions_body(self._subscriptions()))
        if lowered == ["tenants"]:
            return Response(200, directory.tenants_body())
        if lowered[0] == "providers":
            return Response(200, directory.provider_operations(segments[1]))
        subscription = segments[1]
        if count == 2:
            if subscription.lower() not in (s.lower() for s in self._subscriptions()):
                raise ServiceError(
                    404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found."
                )
            return Response(200, directory.subscription_body(subscription))
        if lowered[2] == "locations":
            return Response(200, directory.locations_body(subscription))
        if count == 3:
            return Response(200, {"value": self.resource_groups.in_subscription(subscription)})
        if count == 4:
            return self._resource_group(request, subscription, segments[3])
        return self._list_group(subscription, segments[3])

    def _subscriptions(self) -> list[str]:
        found = {s.lower(): s for s in (*self.subscriptions, *self.resource_groups.subscriptions())}
        return sorted(found.values(), key=str.lower)

    def _sign_in(self, request: Request, segments: list[str], lowered: list[str]) -> Response:
        tenant = segments[0]
        if request.method.upper() == "GET" and lowered[-1] == "openid-configuration":
            return Response(200, self.sign_in.openid_configuration(request.base_url, tenant))
        if request.method.upper() == "POST" and lowered[-1] == "token":
            version = "v2.0" if "v2.0" in lowered else "v1"
            return Response(*self.sign_in.token(request.base_url, tenant, request.body, version=version))
        return Response(404, {"error": "not_found", "error_description": f"No such endpoint: {request.path}"})

    # -- resources -----------------------------------------------------------------------------------

    def _get(self, arm_id: str, api_version: str) -> Response:
        self._require_group(arm_id)
        body = self.service.get(arm_id, api_version)
        return Response(200, self._overlay(arm_id, body))

    def _put(self, request: Request, arm_id: str, api_version: str) -> Response:
        body = json_body(request)
        rid = parse_resource_id(arm_id)
        rtype = for_arm_type(rid.arm_type) if rid is not None else None
        # In "auto" mode a kind without a region (a role assignment or definition) may be the group's
        # first write: it is let through, and the group is made by the first write that names a region.
        unlocated = rtype is not None and not rtype.located and self.resource_groups.auto_create
        if not unlocated:
            self._require_group(arm_id, creating=body.get("location"))
        failure: ServiceError | None = None
        try:
            status, stored = self.service.put(arm_id, api_version, body)
        except ServiceError as exc:
            if not exc.accepted:
                raise
            # Accepted (201, Creating), then the operation ends Failed with the service's error.
            failure, status = exc, 201
            stored = {**self.service.get(arm_id, api_version)}
            stored["properties"] = {**(stored.get("properties") or {}), "provisioningState": "Creating"}
            stored["properties"].pop("provisioningError", None)
        style = style_of(_namespace(arm_id))
        if style.synchronous and failure is None:
            created = status == 201 and style.location_header_on_create
            return Response(status, stored, {"Location": _answer_id(arm_id)} if created else {})
        op = self.operations.start("create" if status == 201 else "update", arm_id, api_version, stored)
        op.error = failure
        return Response(
            status, self._overlay(arm_id, stored), self.operations.headers(request.host, op, location=False)
        )

    def _patch(self, request: Request, arm_id: str, api_version: str) -> Response:
        patch = json_body(request)
        self._require_group(arm_id)
        body = self.service.patch(arm_id, api_version, patch)
        style = style_of(_namespace(arm_id))
        if style.synchronous or (style.patch_of_tags_at_once and set(patch) <= {"tags"}):
            return Response(200, body)
        op = self.operations.start("update", arm_id, api_version, body)
        headers = self.operations.headers(request.host, op, location=False)
        if style.patch_status == 200:
            return Response(200, self._overlay(arm_id, body), headers)
        return Response(202, None, headers)

    def _delete(self, request: Request, arm_id: str, api_version: str) -> Response:
        group_id = _group_id(arm_id)
        if group_id is not None and not self.resource_groups.exists(group_id):
            return Response(204)
        try:
            before: Body | None = self.service.get(arm_id, api_version)
        except ServiceError:
            before = None
        if self.service.delete(arm_id, api_version) == 204:
            return Response(204)
        if style_of(_namespace(arm_id)).synchronous:
            return Response(200)
        op = self.operations.start("delete", arm_id, api_version, before)
        return Response(202, None, self.operations.headers(request.host, op, location=True))

    def _action(self, request: Request, arm_id: str, action: str, api_version: str) -> Response:
        rid = parse_resource_id(arm_id)
        api_versions.check_for_type(rid.arm_type if rid else "", api_version, self._location(arm_id, None))
        self._require_group(arm_id)
        payload = json_body(request) if request.body else None
        self.service.post_action(arm_id, api_version, action, payload)
        if action.lower() == "cancel":
            return Response(204)  # recorded: no body, no polling headers
        op = self.operations.start("action", arm_id, api_version, self.service.get(arm_id, api_version))
        return Response(202, None, self.operations.headers(request.host, op, location=True))

    def _run_outputs(self, request: Request, arm_id: str, api_version: str, name: str | None) -> Response:
        rid = parse_resource_id(arm_id)
        api_versions.check_for_type(rid.arm_type if rid else "", api_version, self._location(arm_id, None))
        self._require_group(arm_id)
        outputs = self.service.list_run_outputs(arm_id, api_version)
        if name is None:
            return Response(200, self._page(request, outputs, api_version))
        for output in outputs:
            if str(output.get("name", "")).lower() == name.lower():
                return Response(200, output)
        raise ServiceError(404, "ResourceNotFound", f"The run output '{name}' was not found.")

    def _list(self, request: Request, collection: Collection, api_version: str) -> Response:
        if api_versions.resource_type(collection.arm_type) is None:
            namespace, _, short = collection.arm_type.partition("/")
            raise ServiceError(
                400,
                "InvalidResourceType",
                f"The resource type '{short}' could not be found in the namespace '{namespace}' for api "
                f"version '{api_version}'.",
            )
        api_versions.check_for_type(collection.arm_type, api_version, None)
        if collection.resource_group is not None:
            group = f"/subscriptions/{collection.subscription}/resourceGroups/{collection.resource_group}"
            self._require_group_id(group, collection.resource_group)
        if collection.parent_id is not None and self.service.stored_body(collection.parent_id) is None:
            raise ServiceError(
                404,
                "ParentResourceNotFound",
                f"Can not perform requested operation on nested resource. Parent resource "
                f"'{collection.parent_id.rsplit('/', 1)[-1]}' not found.",
            )
        states = self.operations.in_progress_states()
        items = [
            _shown(body, states.get(fold_id(str(body["id"]))))
            for body in self.service.list_type(collection.arm_type, collection.scope_prefix)
        ]
        return Response(200, self._page(request, items, api_version))

    def _page(self, request: Request, items: list[Body], api_version: str) -> Body:
        skip = skip_of(request.query.get("$skiptoken"))
        url = request.base_url + request.path
        return page(items, skip=skip, size=self.page_size, url=url, api_version=api_version)

    def _overlay(self, arm_id: str, body: Body) -> Body:
        """While an operation on the resource is in progress, ARM shows Creating/Updating."""
        return _shown(body, self.operations.in_progress_state(arm_id))

    def _location(self, arm_id: str, given: object) -> str | None:
        """The region a request is about, for ARM's NoRegisteredProviderFound message."""
        if isinstance(given, str) and given:
            return given
        group_id = _group_id(arm_id)
        group = self.resource_groups.get(group_id) if group_id is not None else None
        return str(group["location"]) if group else None

    # -- resource groups -----------------------------------------------------------------------------

    def _require_group(self, arm_id: str, *, creating: object = None) -> None:
        group_id = _group_id(arm_id)
        if group_id is None:  # a subscription-scope resource (a custom role definition) has no group
            return
        self._require_group_id(group_id, group_id.rsplit("/", 1)[-1], creating=creating)

    def _require_group_id(self, group_id: str, name: str, *, creating: object = None) -> None:
        if self.resource_groups.exists(group_id):
            return
        if creating is not None and self.resource_groups.auto_create:
            self.resource_groups.create(group_id, str(creating))
            return
        raise ServiceError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")

    def _resource_group(self, request: Request, subscription: str, name: str) -> Response:
        group_id = f"/subscriptions/{subscription}/resourceGroups/{name}"
        method = request.method.upper()
        if method == "PUT":
            location = json_body(request).get("location")
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

    def _list_group(self, subscription: str, name: str) -> Response:
        group_id = f"/subscriptions/{subscription}/resourceGroups/{name}"
        if not self.resource_groups.exists(group_id):
            raise ServiceError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
        items = []
        for body in self.service.list_resource_group(subscription, name):
            # ARM lists the envelope; properties need a GET of each resource.
            items.append({k: v for k, v in body.items() if k != "properties"})
        return Response(200, {"value": items})


def _shown(body: Body, in_progress: str | None) -> Body:
    props = body.get("properties")
    if in_progress is not None and isinstance(props, dict) and "provisioningState" in props:
        return {**body, "properties": {**props, "provisioningState": in_progress}}
    return body


def _group_id(arm_id: str) -> str | None:
    """The resource group the resource lives in; None at subscription scope."""
    rid = parse_resource_id(arm_id)
    if rid is None:
        return arm_id
    if not rid.resource_group:
        return None
    return f"/subscriptions/{rid.subscription}/resourceGroups/{rid.resource_group}"


def _namespace(arm_id: str) -> str:
    rid = parse_resource_id(arm_id)
    return rid.namespace if rid else ""


def _answer_id(arm_id: str) -> str:
    """The id as the Managed Identity service spells it in its Location header: `resourcegroups`."""
    return _RESOURCE_GROUPS.sub("/resourcegroups/", arm_id, count=1)
