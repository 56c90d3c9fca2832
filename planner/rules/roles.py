"""AIB9xxx: role assignments and role definitions (Microsoft.Authorization), the permissions an image
template's identity builds with: names, fields per api version, ids, permissions and assignable scopes.

The range leaves room after 90xx (these kinds' own fields) for the permission checks across a stack
(which actions a template's identity needs, issue 12).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from providers.catalog import BY_KIND
from providers.catalog.arm_ids import parse_resource_id, scope_from
from providers.catalog.role_schema import GUID_PATTERN, ROLE_DEFINITION_ID_PATTERN

from ..diagnostics import Severity
from ..stack.model import Resource
from . import Finding, Rule, RuleContext, get
from .fields import findings_for

_ROLES = ("roleAssignment", "roleDefinition")
_ASSIGNMENT = ("roleAssignment",)
_DEFINITION = ("roleDefinition",)
_SECTION = "api-role-assignments"
_GUID = re.compile(GUID_PATTERN)
_ROLE_DEFINITION_ID = re.compile(ROLE_DEFINITION_ID_PATTERN, re.IGNORECASE)


def check_guid_name(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    if not _GUID.match(resource.name):
        yield Finding(
            f"a {BY_KIND[resource.kind].title} is named by a GUID, not '{resource.name}'",
            ("name",),
            hint="[guid(resourceGroup().id, 'a name of your own')] makes the same GUID on every deploy",
        )


def check_assignment_ids(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    role = get(resource.body, "properties", "roleDefinitionId")
    if isinstance(role, str) and not _ROLE_DEFINITION_ID.match(role):
        yield Finding(
            f"roleDefinitionId '{role}' is not a role definition id",
            ("properties", "roleDefinitionId"),
            hint="[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '<role GUID>')]",
        )
    principal = get(resource.body, "properties", "principalId")
    if isinstance(principal, str) and not _GUID.match(principal):
        yield Finding(
            f"principalId '{principal}' is not a GUID (the object id of a user, group or identity)",
            ("properties", "principalId"),
            hint="the identity's principal id: az identity show --query principalId",
        )


def check_definition_permissions(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    props = resource.properties
    permissions = props.get("permissions")
    listed = permissions if isinstance(permissions, list) else []
    granted = [p for p in listed if isinstance(p, dict) and (p.get("actions") or p.get("dataActions"))]
    if not granted:
        yield Finding(
            "the role definition grants nothing: no permission lists actions or dataActions",
            ("properties", "permissions") if "permissions" in props else ("properties",),
            hint='"permissions": [{"actions": ["Microsoft.Compute/galleries/read", ...]}]',
        )
    scopes = props.get("assignableScopes")
    config = context.stack.config
    if not isinstance(scopes, list) or not scopes:
        yield Finding(
            "the role definition has no assignableScopes: say where it may be assigned",
            ("properties", "assignableScopes") if "assignableScopes" in props else ("properties",),
            hint='"assignableScopes": ["[resourceGroup().id]"]',
        )
        return
    for index, scope in enumerate(scopes):
        understood = isinstance(scope, str) and (
            scope == "/"
            or scope_from(scope, config.subscription_id, config.resource_group) == scope.rstrip("/")
        )
        if not understood:
            yield Finding(
                f"assignable scope {scope!r} is not a subscription, resource group or resource id",
                ("properties", "assignableScopes", index),
            )


def check_scope(resource: Resource, context: RuleContext) -> Iterator[Finding]:
    """Role kinds live where their scopes allow, in the stack's subscription and resource group."""
    rid = parse_resource_id(resource.arm_id)
    if rid is None:
        return
    config = context.stack.config
    if config.subscription_id and rid.subscription.lower() != config.subscription_id.lower():
        yield Finding(
            f"the scope {rid.scope_id} is in another subscription than the stack's",
            ("scope",),
        )
    elif (
        rid.resource_group
        and config.resource_group
        and rid.resource_group.lower() != config.resource_group.lower()
    ):
        yield Finding(
            f"the scope {rid.scope_id} is in another resource group than the stack's; a deployment "
            "scopes extension resources to resources of its own resource group",
            ("scope",),
        )


RULES = (
    Rule(
        "AIB9001",
        Severity.ERROR,
        "role assignments and role definitions are named by a GUID",
        _SECTION,
        _ROLES,
        check_guid_name,
        example='"name": "builder-can-write"',
    ),
    Rule(
        "AIB9002",
        Severity.ERROR,
        "a role assignment and a role definition live in the stack's subscription and resource group",
        _SECTION,
        _ROLES,
        check_scope,
        example="\"scope\": \"[resourceId('otherGroup', 'Microsoft.Compute/galleries', 'g')]\"",
    ),
    Rule(
        "AIB9010",
        Severity.ERROR,
        "a role assignment has roleDefinitionId and principalId; a role definition has roleName",
        _SECTION,
        _ROLES,
        findings_for("AIB9010"),
        example='"properties": {"roleDefinitionId": "..."}',
    ),
    Rule(
        "AIB9011",
        Severity.ERROR,
        "principalType is one of User, Group, ServicePrincipal, ForeignGroup, Device",
        _SECTION,
        _ASSIGNMENT,
        findings_for("AIB9011"),
        example='"principalType": "servicePrincipal"',
    ),
    Rule(
        "AIB9020",
        Severity.WARNING,
        "no unknown fields, and each field exists in the resource's api version (Authorization ignores "
        "the others)",
        _SECTION,
        _ROLES,
        findings_for("AIB9020"),
        example='"properties": {"principalID": "..."}',
    ),
    Rule(
        "AIB9021",
        Severity.WARNING,
        "read-only fields (scope, createdOn, updatedBy, ...) are not sent",
        _SECTION,
        _ROLES,
        findings_for("AIB9021"),
        example='"properties": {"scope": "/subscriptions/..."}',
    ),
    Rule(
        "AIB9022",
        Severity.ERROR,
        "values have the JSON type the api expects",
        _SECTION,
        _ROLES,
        findings_for("AIB9022"),
        example='"assignableScopes": "/subscriptions/..."',
    ),
    Rule(
        "AIB9030",
        Severity.ERROR,
        "roleDefinitionId is a role definition id and principalId a GUID",
        _SECTION,
        _ASSIGNMENT,
        check_assignment_ids,
        example='"roleDefinitionId": "Contributor"',
    ),
    Rule(
        "AIB9031",
        Severity.ERROR,
        "a role definition grants actions and says where it may be assigned (assignableScopes)",
        _SECTION,
        _DEFINITION,
        check_definition_permissions,
        example='"permissions": [{"actions": []}]',
    ),
)
