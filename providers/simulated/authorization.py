"""Authorization in the simulated cloud: role assignments and role definitions as Microsoft.Authorization
answers them (built-in definitions by id, lists by scope and filter), a new principal's replication
delay, and the permission checks image builds make as their template's identity.

What the catalog says decides everything here: which kind grants roles (`ROLE_GRANTS`) and which kind the
roles are (`ROLES`), the built-in roles (`builtin_roles`), how actions and scopes match (`rbac`) and what a
build needs (`build_access`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..catalog import BUILDABLE, PRINCIPAL_ID, PRINCIPALS, ROLE_GRANTS, ROLES
from ..catalog.arm_ids import fold_id, parse_resource_id
from ..catalog.build_access import AT_CREATE, BUILDING, DISTRIBUTING, SUBNET, Need, needs_of
from ..catalog.builtin_roles import BUILT_IN_ROLES, built_in_role
from ..catalog.rbac import Permission, missing_actions, permissions_from, scope_covers
from ..catalog.references import IDENTITY, referenced_ids
from ..catalog.types import ResourceType
from .computed import TENANT_ID
from .service_rules import ServiceError
from .store import Body, ResourceStore, present

# AIB's words when the template's identity may not use a resource (recorded: azure-cli
# image_builder_vm_profile_2023-07-01.json#1, the operation's error and the template's provisioningError).
NOT_AUTHORIZED = (
    "Not authorized to access the resource: {resource}. Please check the user assigned identity has the "
    "correct permissions. For more details, go to https://aka.ms/azvmimagebuilderts."
)
UNAUTHORIZED_CODE = "Unauthorized"


def built_in_definition(arm_id: str) -> Body | None:
    """A built-in role definition by id, as the service answers it; None for any other id."""
    role = built_in_role(arm_id)
    if role is None:
        return None
    rid_subscription = arm_id.split("/")[2] if arm_id.lower().startswith("/subscriptions/") else None
    return role.body(rid_subscription)


# -- lists -----------------------------------------------------------------------------------------------


def list_role_assignments(
    store: ResourceStore, scope: str, *, principal: str | None = None, at_scope_only: bool = False
) -> list[Body]:
    """The role assignments that apply at `scope` (at it or above it) and, unless `at_scope_only`
    (`$filter=atScope()`), those below it; with `principal`, only that principal's."""
    found = []
    for row in store.rows_of_type(ROLE_GRANTS.arm_type):
        body = present(row)
        props = body.get("properties") or {}
        if principal is not None and str(props.get("principalId", "")).lower() != principal.lower():
            continue
        at = _scope_of(row[0], props)
        if scope_covers(at, scope) or (not at_scope_only and scope_covers(scope, at)):
            found.append(body)
    return found


def list_role_definitions(
    store: ResourceStore, scope: str, *, role_name: str | None = None, role_type: str | None = None
) -> list[Body]:
    """The role definitions that can be assigned at `scope`: every built-in role and the custom roles
    whose assignable scopes reach it, filtered by name or type (BuiltInRole, CustomRole)."""
    rid_parts = scope.strip("/").split("/")
    subscription = rid_parts[1] if len(rid_parts) > 1 and rid_parts[0].lower() == "subscriptions" else None
    found = [role.body(subscription) for role in BUILT_IN_ROLES]
    for row in store.rows_of_type(ROLES.arm_type):
        body = present(row)
        scopes = (body.get("properties") or {}).get("assignableScopes") or []
        if any(isinstance(s, str) and (scope_covers(s, scope) or scope_covers(scope, s)) for s in scopes):
            found.append(body)
    out = []
    for body in found:
        props = body.get("properties") or {}
        if role_name is not None and str(props.get("roleName", "")).lower() != role_name.lower():
            continue
        if role_type is not None and str(props.get("type", "")).lower() != role_type.lower():
            continue
        out.append(body)
    return out


def _scope_of(arm_id: str, props: Mapping[str, Any]) -> str:
    scope = props.get("scope")
    if isinstance(scope, str) and scope:
        return scope
    rid = parse_resource_id(arm_id)
    return rid.scope_id if rid is not None else arm_id


# -- principals ------------------------------------------------------------------------------------------


def principal_not_found(
    store: ResourceStore, rtype: ResourceType, body: Mapping[str, Any], now: float, delay: float
) -> ServiceError | None:
    """The refusal of a role assignment whose principal was made less than `delay` seconds ago (the
    directory has not caught up). Principals the simulated cloud did not make (users, groups) are taken
    to exist."""
    lookup = rtype.service.principal_lookup
    if lookup is None or delay <= 0:
        return None
    value: Any = body
    for key in lookup.path:
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, str) or not value:
        return None
    made = _principal_made(store, value)
    if made is None or now - made >= delay:
        return None
    refusal = lookup.refusal
    message = refusal.message.format(principal=value.replace("-", "").lower(), tenant=TENANT_ID)
    return ServiceError(refusal.status, refusal.code, message)


def _principal_made(store: ResourceStore, principal: str) -> float | None:
    """When the resource whose principal this is was created; None when no resource has it."""
    for rtype in PRINCIPALS:
        for row in store.rows_of_type(rtype.arm_type):
            if str(_at(json.loads(row[2]), PRINCIPAL_ID) or "").lower() == principal.lower():
                return store.created(row[0])
    return None


def template_principal(store: ResourceStore, template: Mapping[str, Any]) -> str | None:
    """The principal id of the identity an image template builds as; None when it has none here."""
    for reference in BUILDABLE.references:
        if reference.reason != IDENTITY:
            continue
        for identity_id, _path in referenced_ids(template, reference):
            row = store.row(identity_id)
            if row is not None:
                found = _at(json.loads(row[2]), PRINCIPAL_ID)
                return found if isinstance(found, str) else None
    return None


# -- what a build may do ---------------------------------------------------------------------------------


def grants_of(store: ResourceStore, principal: str) -> list[tuple[str, tuple[Permission, ...]]]:
    """(scope, permissions) of every role assignment the principal holds."""
    out = []
    for row in store.rows_of_type(ROLE_GRANTS.arm_type):
        props = json.loads(row[2]).get("properties") or {}
        if str(props.get("principalId", "")).lower() != principal.lower():
            continue
        out.append((_scope_of(row[0], props), role_permissions(store, props.get("roleDefinitionId"))))
    return out


def role_permissions(store: ResourceStore, role_definition_id: Any) -> tuple[Permission, ...]:
    """The permissions of a role definition by id: a built-in role, or a custom one this cloud holds."""
    role = built_in_role(role_definition_id)
    if role is not None:
        return role.permissions
    if not isinstance(role_definition_id, str):
        return ()
    row = store.row(role_definition_id)
    text = row[2] if row is not None else None
    if text is None:
        # A custom role is named at the subscription; it may be kept at its resource group's scope.
        guid = fold_id(role_definition_id).rsplit("/", 1)[-1]
        for other in store.rows_of_type(ROLES.arm_type):
            if fold_id(other[0]).rsplit("/", 1)[-1] == guid:
                text = other[2]
                break
    if text is None:
        return ()
    return permissions_from(json.loads(text).get("properties") or {})


def unmet_needs(store: ResourceStore, template: Mapping[str, Any]) -> list[tuple[Need, tuple[str, ...]]]:
    """The needs of an image template its identity's role assignments do not meet, with the actions
    missing for each (all of them when the identity is unknown here)."""
    needs = needs_of(template)
    if not needs:
        return []
    principal = template_principal(store, template)
    grants = grants_of(store, principal) if principal else []
    out = []
    for need in needs:
        missing = missing_actions(grants, need.scope, need.actions, data=need.data, blob=need.blob)
        if missing:
            out.append((need, missing))
    return out


def denied_at_create(store: ResourceStore, template: Mapping[str, Any]) -> str | None:
    """The service's message when a template create fails for want of a permission the create itself
    checks (a virtual network to join); None when nothing is missing. A staging resource group is not
    checked: whether it exists (and so must already grant the identity Contributor) is not known here."""
    checked = [n for n in needs_of(template) if n.step == AT_CREATE and n.topic == SUBNET]
    if not checked:
        return None
    principal = template_principal(store, template)
    grants = grants_of(store, principal) if principal else []
    for need in checked:
        if missing_actions(grants, need.scope, need.actions, data=need.data, blob=need.blob):
            return not_authorized(need)
    return None


def denied_steps(store: ResourceStore, template: Mapping[str, Any]) -> list[tuple[str, str, int | None]]:
    """What a build of the template fails at for want of permissions: (runSubState, the service's message,
    the distribution target's index for a target it may not write). What the create checks (a network)
    fails the build as it starts, when the permission went after the template was made."""
    out: list[tuple[str, str, int | None]] = []
    for need, _missing in unmet_needs(store, template):
        step = BUILDING if need.step == AT_CREATE else need.step
        target = need.path[2] if step == DISTRIBUTING and isinstance(need.path[2], int) else None
        out.append((step, not_authorized(need), target))
    return out


def not_authorized(need: Need) -> str:
    """The service's message for a need its identity lacks: the resource it could not access."""
    return NOT_AUTHORIZED.format(resource=need.scope)


def _at(body: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        body = body.get(key) if isinstance(body, dict) else None
    return body
