"""Microsoft.Authorization's lists, as the emulator serves them: role assignments and role definitions at a
scope (a subscription, a resource group, a resource), with the OData filters the Azure CLI and SDKs send.

    GET {scope}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()
    GET {scope}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId eq '{id}'
    GET {scope}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName eq 'Contributor'

Assignments are listed at, above and below the scope (`atScope()`: at and above only); definitions are
the built-in roles and the custom roles assignable there (recorded:
azure-cli/image_builder_basic_2021-10-01.json#1 shows the look-up of Contributor by name).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..catalog import ROLE_GRANTS, ROLES
from ..simulated.service import ServiceError, SimulatedAzure

_EQUALS = re.compile(r"^\s*(?P<field>\w+)\s+eq\s+'(?P<value>[^']*)'\s*$", re.IGNORECASE)
_FUNCTION = re.compile(r"^\s*(?P<name>\w+)\(\s*(?:'(?P<value>[^']*)')?\s*\)\s*$", re.IGNORECASE)


def role_list(
    service: SimulatedAzure, method: str, segments: list[str], query: Mapping[str, str]
) -> tuple[int, Any] | None:
    """(status, body) for a GET of a role list; None for any other request."""
    if method.upper() != "GET" or len(segments) < 4:
        return None
    namespace, collection = segments[-2].lower(), segments[-1].lower()
    if segments[-3].lower() != "providers":
        return None
    scope = "/" + "/".join(segments[:-3])
    terms = _terms(query.get("$filter", ""))
    if f"{namespace}/{collection}" == ROLE_GRANTS.arm_type.lower():
        principal = terms.get("principalid") or terms.get("assignedto")
        listed = service.list_role_assignments(scope, principal=principal, at_scope_only="atscope" in terms)
        return 200, {"value": listed}
    if f"{namespace}/{collection}" == ROLES.arm_type.lower():
        listed = service.list_role_definitions(
            scope, role_name=terms.get("rolename"), role_type=terms.get("type")
        )
        return 200, {"value": listed}
    return None


def _terms(text: str) -> dict[str, str]:
    """An OData `$filter` of `field eq 'value'` and `function('value')` terms joined by `and`."""
    terms: dict[str, str] = {}
    if not text.strip():
        return terms
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        equals = _EQUALS.match(part)
        function = _FUNCTION.match(part)
        if equals:
            terms[equals.group("field").lower()] = equals.group("value")
        elif function:
            terms[function.group("name").lower()] = function.group("value") or ""
        else:
            raise ServiceError(400, "InvalidFilterInQueryString", f"The filter '{text}' is not supported.")
    return terms
