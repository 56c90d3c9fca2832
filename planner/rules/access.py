"""Who may do what, as the stack says (and, at plan time, the cloud): each role assignment's scope, the
permissions of its role, and whom it names, matched to the identity an image template builds as.

An assignment names its principal as a literal GUID or parameter value, or as
`reference(<identity>).principalId`, which has no value until the identity exists: then the identity is
found from the expression (a `resourceId(...)` or name written out) or, failing that, from the one
identity of the stack the assignment depends on. A literal matches an identity when the identity's
principal id is known (read from the cloud at plan time); when it is not (validating offline, an
identity not made yet), the assignment may be the identity's and is counted, as is a role whose
permissions are not known here: a warning is given only when nothing the stack or the cloud holds can
grant the action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from providers.catalog import BY_KIND, PRINCIPALS, ROLE_GRANTS, ROLES
from providers.catalog.arm_ids import build_resource_id, fold_id, parse_resource_id
from providers.catalog.build_access import Need
from providers.catalog.builtin_roles import built_in_role
from providers.catalog.rbac import Permission, allows, permissions_from, scope_covers

from ..stack.expressions.errors import ExpressionError
from ..stack.expressions.parser import Call, Literal, Member, Node, is_expression, parse
from ..stack.model import Resource, Stack

if TYPE_CHECKING:
    from ..stack.kept_graph import DependencyGraph

# The RuleContext memo key under which a plan puts what it read from the cloud (`Access`).
ACCESS = "permissions.access"


@dataclass(frozen=True)
class Principal:
    """Whom an assignment names: a principal id, the identity a `reference()` names (folded id), or
    neither when that cannot be told here."""

    literal: str | None = None
    identity: str | None = None


@dataclass(frozen=True)
class Grant:
    """One role assignment: where, which permissions (None: the role is not known here), to whom."""

    scope: str
    permissions: tuple[Permission, ...] | None
    principal: Principal
    source: str  # the assignment's address, or its id in the cloud
    role: str | None = None  # the role definition id, when written out


@dataclass(frozen=True)
class Access:
    """Every grant known, and the principal id of each identity whose id is known (folded id -> GUID)."""

    grants: tuple[Grant, ...]
    principals: Mapping[str, str] = field(default_factory=dict)
    # What `missing` answered, by identity, scope and actions: the templates of a stack share their
    # identity and most of their scopes (a 5,000-template plan asks 15,000 times, for 1,000 answers).
    _answers: dict[tuple[Any, ...], tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def grants_for(self, identity_id: str) -> list[Grant]:
        """The grants that are, or may be, the identity's."""
        folded = fold_id(identity_id)
        known = self.principals.get(folded)
        out = []
        for grant in self.grants:
            named = grant.principal
            if named.identity is not None:
                mine = named.identity == folded
            elif named.literal is not None and known is not None:
                mine = named.literal.lower() == known.lower()
            else:
                mine = True  # a principal not known here may be this identity's
            if mine:
                out.append(grant)
        return out

    def missing(self, identity_id: str, need: Need) -> tuple[str, ...]:
        """The need's actions that no grant of the identity allows at the need's scope."""
        key = (identity_id, need.scope, need.blob, need.actions, need.data)
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = self._missing(identity_id, need)
        return answer

    def _missing(self, identity_id: str, need: Need) -> tuple[str, ...]:
        reaching = [
            g
            for g in self.grants_for(identity_id)
            if (need.blob.covered_by(g.scope) if need.blob is not None else scope_covers(g.scope, need.scope))
        ]
        if any(g.permissions is None for g in reaching):
            return ()
        return tuple(
            action
            for action in need.actions
            if not any(allows(g.permissions or (), action, data=need.data) for g in reaching)
        )


def stack_access(stack: Stack, graph: DependencyGraph | None) -> Access:
    """The grants the stack declares, with what is known of their roles and principals offline."""
    definitions = _stack_definitions(stack)
    return Access(tuple(g for r in stack.resources if (g := stack_grant(r, stack, graph, definitions))))


def stack_grant(
    resource: Resource,
    stack: Stack,
    graph: DependencyGraph | None,
    definitions: Mapping[str, tuple[Permission, ...]],
) -> Grant | None:
    """The grant one role assignment of the stack makes; None for other kinds or an unreadable scope."""
    if resource.kind != ROLE_GRANTS.kind:
        return None
    rid = parse_resource_id(resource.arm_id)
    if rid is None:
        return None
    props = resource.properties
    unresolved = set(resource.unresolved)
    role = props.get("roleDefinitionId")
    permissions = (
        None if ("properties", "roleDefinitionId") in unresolved else role_permissions(role, definitions)
    )
    named = role if isinstance(role, str) and ("properties", "roleDefinitionId") not in unresolved else None
    return Grant(rid.scope_id, permissions, _principal(resource, stack, graph), resource.address, named)


def role_permissions(
    role_definition_id: Any, definitions: Mapping[str, tuple[Permission, ...]]
) -> tuple[Permission, ...] | None:
    """A role's permissions: a built-in role, or a custom one of `definitions` (by its GUID); None when
    neither knows it."""
    built_in = built_in_role(role_definition_id)
    if built_in is not None:
        return built_in.permissions
    if not isinstance(role_definition_id, str):
        return None
    return definitions.get(_guid(role_definition_id))


def definition_permissions(
    bodies: Iterable[tuple[str, Mapping[str, Any]]],
) -> dict[str, tuple[Permission, ...]]:
    """Custom role definitions (id, body) by GUID, with their permissions."""
    out = {}
    for arm_id, body in bodies:
        props = body.get("properties")
        out[_guid(arm_id)] = permissions_from(props if isinstance(props, dict) else {})
    return out


def _stack_definitions(stack: Stack) -> dict[str, tuple[Permission, ...]]:
    return definition_permissions((r.arm_id, r.body) for r in stack.resources if r.kind == ROLES.kind)


def _guid(arm_id: str) -> str:
    return fold_id(arm_id).rsplit("/", 1)[-1]


# -- whom an assignment names ----------------------------------------------------------------------------


def _principal(resource: Resource, stack: Stack, graph: DependencyGraph | None) -> Principal:
    value = resource.properties.get("principalId")
    known = ("properties", "principalId") not in set(resource.unresolved)
    if known and isinstance(value, str) and not is_expression(value):
        return Principal(literal=value)
    named = _referenced_identity(value, stack) if isinstance(value, str) else None
    if named is None:
        named = _depended_identity(resource, stack, graph)
    return Principal(identity=named)


def _referenced_identity(text: str, stack: Stack) -> str | None:
    """The identity `reference(<id or name>).principalId` names, when the expression writes it out."""
    if not is_expression(text):
        return None
    try:
        node = parse(text)
    except ExpressionError:
        return None
    if not (isinstance(node, Member) and node.name.lower() == "principalid"):
        return None
    target = node.target
    if not (isinstance(target, Call) and target.name.lower() == "reference" and target.args):
        return None
    return _identity_id(target.args[0], stack)


def _identity_id(node: Node, stack: Stack) -> str | None:
    config = stack.config
    principal_types = {t.arm_type.lower() for t in PRINCIPALS}
    if isinstance(node, Literal) and isinstance(node.value, str):
        text = node.value
        rid = parse_resource_id(text)
        if rid is not None:
            return fold_id(text) if rid.arm_type.lower() in principal_types else None
        matches = [r for r in stack.resources if BY_KIND[r.kind] in PRINCIPALS and r.name == text]
        return fold_id(matches[0].arm_id) if len(matches) == 1 else None
    if isinstance(node, Call) and node.name.lower() == "resourceid":
        words = [a.value for a in node.args if isinstance(a, Literal) and isinstance(a.value, str)]
        if len(words) != len(node.args) or len(words) < 2 or words[-2].lower() not in principal_types:
            return None
        group = words[-3] if len(words) >= 3 else config.resource_group
        return fold_id(build_resource_id(config.subscription_id, group, words[-2], words[-1]))
    return None


def _depended_identity(resource: Resource, stack: Stack, graph: DependencyGraph | None) -> str | None:
    """The one identity of the stack the assignment comes after, if there is exactly one."""
    if graph is None or resource.address not in graph:
        return None
    found = [
        stack.by_address[node].arm_id
        for node in graph.predecessors(resource.address)
        if node in stack.by_address and BY_KIND[stack.by_address[node].kind] in PRINCIPALS
    ]
    return fold_id(found[0]) if len(found) == 1 else None
