"""The permission checks (AIB91xx) with what the cloud holds: the principal id of each identity a template
builds as, the role assignments the cloud gives it, and the roles those assign.

`validate` knows only the stack's role assignments; a plan reads the rest through the provider, so an
assignment made outside the stack (by hand, by another stack) counts, and one the apply is about to
delete (in the state, no longer in the stack) does not. `run` asks the same question before it starts
builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from providers.base import Provider, ProviderError, ResourceRef
from providers.catalog import BUILDABLE, PRINCIPAL_ID, PRINCIPALS, ROLES
from providers.catalog.arm_ids import fold_id, parse_resource_id
from providers.catalog.references import IDENTITY, referenced_ids
from state import State

from ..diagnostics import Diagnostic, Severity
from ..rules import run_rules
from ..rules.access import (
    ACCESS,
    Access,
    Grant,
    Principal,
    definition_permissions,
    role_permissions,
    stack_access,
)
from ..rules.permissions import RULES as PERMISSION_RULES
from ..stack.loader import locator_for, resource_sources
from ..stack.locate import place_all
from ..stack.model import Stack

if TYPE_CHECKING:
    from ..stack.kept_graph import DependencyGraph

PERMISSION_CODES = frozenset(rule.id for rule in PERMISSION_RULES)
UNCHECKED = "AIB9100"


def is_permission_finding(diagnostic: Diagnostic) -> bool:
    """A finding of the permission rules (which a plan makes again with the cloud's assignments)."""
    return diagnostic.code in PERMISSION_CODES


def permission_diagnostics(
    stack: Stack,
    graph: DependencyGraph,
    state: State,
    provider: Provider,
    addresses: Sequence[str] | None = None,
) -> list[Diagnostic]:
    """The AIB91xx findings for the stack's templates (or those at `addresses`) with the cloud's role
    assignments counted; when the cloud cannot be read, the stack's alone and one warning saying so."""
    try:
        access = cloud_access(stack, graph, state, provider)
    except ProviderError as exc:
        access = None
        problem = " ".join(str(exc).split())
    found = run_rules(PERMISSION_RULES, stack, graph, {ACCESS: access} if access is not None else None)
    if addresses is not None:
        found = [d for d in found if d.address in set(addresses)]
    if access is None:
        found.append(
            Diagnostic(
                UNCHECKED,
                Severity.WARNING,
                f"could not read the role assignments in the cloud ({problem}); the identities' permissions "
                "were checked against the stack's role assignments alone",
            )
        )
    return place_all(found, locator_for(stack), resource_sources(stack))


def cloud_access(stack: Stack, graph: DependencyGraph, state: State, provider: Provider) -> Access:
    """The stack's grants, and those the cloud gives each template identity whose principal is known."""
    offline = stack_access(stack, graph)
    principals = _principals(stack, provider)
    declared = {fold_id(r.arm_id) for r in stack.resources}
    leaving = {fold_id(e.arm_id) for e in state.resources} - declared
    definitions = definition_permissions((r.arm_id, r.body) for r in stack.resources if r.kind == ROLES.kind)
    subscription = f"/subscriptions/{stack.config.subscription_id}"
    grants: list[Grant] = []
    # Roles neither built in nor in the stack: read from the cloud once each (a role gone grants nothing).
    cloud_roles: dict[str, Any] = {}
    for principal in sorted(set(principals.values())):
        for body in provider.list_role_assignments(subscription, principal):
            arm_id = str(body.get("id", ""))
            if fold_id(arm_id) in declared or fold_id(arm_id) in leaving:
                continue
            props = body.get("properties") or {}
            scope = props.get("scope") or _scope_of(arm_id)
            role = props.get("roleDefinitionId")
            permissions = role_permissions(role, definitions)
            if permissions is None and isinstance(role, str):
                if role not in cloud_roles:
                    cloud_roles[role] = _read_role(provider, role)
                permissions = cloud_roles[role]
            grants.append(Grant(str(scope), permissions or (), Principal(literal=principal), arm_id))
    # The stack's assignments of a custom role made outside the stack: the role as the cloud holds it.
    known = []
    for grant in offline.grants:
        if grant.permissions is None and grant.role is not None:
            if grant.role not in cloud_roles:
                cloud_roles[grant.role] = _read_role(provider, grant.role)
            grant = replace(grant, permissions=cloud_roles[grant.role])
        known.append(grant)
    return Access((*known, *grants), principals)


def _read_role(provider: Provider, role: str) -> Any:
    body = provider.read(ResourceRef(role, ROLES.arm_type, ROLES.default_api_version))
    return next(iter(definition_permissions([(role, body or {})]).values()))


def _principals(stack: Stack, provider: Provider) -> dict[str, str]:
    """The principal id of each identity the stack's templates build as that exists (folded id -> id)."""
    wanted: dict[str, ResourceRef] = {}
    for resource in stack.resources:
        if resource.kind != BUILDABLE.kind:
            continue
        for reference in BUILDABLE.references:
            if reference.reason != IDENTITY:
                continue
            for identity_id, _path in referenced_ids(resource.body, reference):
                rid = parse_resource_id(identity_id)
                rtype = next(
                    (t for t in PRINCIPALS if rid and t.arm_type.lower() == rid.arm_type.lower()), None
                )
                if rid is not None and rtype is not None:
                    wanted[fold_id(identity_id)] = ResourceRef(
                        identity_id, rtype.arm_type, rtype.default_api_version
                    )
    if not wanted:
        return {}
    found = provider.read_many(list(wanted.values()))
    out = {}
    for key, ref in wanted.items():
        principal = _at(found.get(ref.arm_id), PRINCIPAL_ID)
        if isinstance(principal, str) and principal:
            out[key] = principal
    return out


def _scope_of(arm_id: str) -> str:
    rid = parse_resource_id(arm_id)
    return rid.scope_id if rid is not None else arm_id


def _at(body: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        body = body.get(key) if isinstance(body, dict) else None
    return body
