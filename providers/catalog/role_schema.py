"""The fields of role assignments and role definitions (Microsoft.Authorization), per api version.

Facts from the ARM template reference of both types and the REST api's create bodies (2022-04-01), and
from the recorded role assignment calls under `tests/fixtures/recorded/` (2018-09-01-preview,
2020-04-01-preview, 2022-04-01). Where the reference pages of the preview versions in between disagree
or were not read (`canDelegate`'s last version, the first version with `condition`), the bounds are
the recorded and documented versions either side, so a field is never refused at a version that has it.
Authorization ignores members it does not know, so unknown fields warn.
"""

from __future__ import annotations

from .schema import AnyValue, Arr, Bool, Field, Obj, Schema, Str

ROLE_ASSIGNMENT_API_VERSIONS = ("2015-07-01", "2022-04-01")
ROLE_ASSIGNMENT_PREVIEW_API_VERSIONS = (
    "2017-10-01-preview",
    "2018-01-01-preview",
    "2018-09-01-preview",
    "2020-03-01-preview",
    "2020-04-01-preview",
    "2020-08-01-preview",
    "2020-10-01-preview",
)
ROLE_DEFINITION_API_VERSIONS = ("2015-07-01", "2022-04-01")
ROLE_DEFINITION_PREVIEW_API_VERSIONS = ("2018-01-01-preview", "2022-05-01-preview")

# Role assignment and role definition names are GUIDs (the service refuses anything else).
GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# What a role definition id looks like at any scope, tenant included (/providers/...).
ROLE_DEFINITION_ID_PATTERN = (
    r"^(/subscriptions/[^/]+(/resourceGroups/[^/]+)?)?/providers/Microsoft\.Authorization/"
    r"roleDefinitions/[0-9a-fA-F-]{36}$"
)
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")

_STR = Str()
_STRINGS = Arr(_STR)
_RO = Field(AnyValue(), read_only=True)
CODES = {
    "unknown": "AIB9020",
    "case": "AIB9020",
    "version": "AIB9020",
    "read_only": "AIB9021",
    "type": "AIB9022",
    "enum": "AIB9011",
    "range": "AIB9022",
    "required": "AIB9010",
}
_BOOKKEEPING = {"createdOn": _RO, "updatedOn": _RO, "createdBy": _RO, "updatedBy": _RO}

ROLE_ASSIGNMENT_SCHEMA = Schema(
    arm_type="Microsoft.Authorization/roleAssignments",
    versions=(*ROLE_ASSIGNMENT_PREVIEW_API_VERSIONS, *ROLE_ASSIGNMENT_API_VERSIONS),
    root=Obj(
        {
            "properties": Field(
                Obj(
                    {
                        "roleDefinitionId": Field(_STR, required=True),
                        "principalId": Field(_STR, required=True),
                        "canDelegate": Field(Bool(), since="2017-10-01-preview", until="2020-04-01-preview"),
                        "principalType": Field(
                            Str(enum=PRINCIPAL_TYPES, extensible=True), since="2018-09-01-preview"
                        ),
                        "description": Field(_STR, since="2020-03-01-preview"),
                        "condition": Field(_STR, since="2020-03-01-preview"),
                        "conditionVersion": Field(_STR, since="2020-03-01-preview"),
                        "delegatedManagedIdentityResourceId": Field(_STR, since="2020-04-01-preview"),
                        "scope": _RO,
                        **_BOOKKEEPING,
                    }
                ),
                required=True,
            ),
        }
    ),
    codes=CODES,
    strict_since=None,
)

_PERMISSION = Obj(
    {
        "actions": Field(_STRINGS),
        "notActions": Field(_STRINGS),
        "dataActions": Field(_STRINGS, since="2018-01-01-preview"),
        "notDataActions": Field(_STRINGS, since="2018-01-01-preview"),
        "condition": Field(_STR, since="2022-05-01-preview"),
        "conditionVersion": Field(_STR, since="2022-05-01-preview"),
    }
)

ROLE_DEFINITION_SCHEMA = Schema(
    arm_type="Microsoft.Authorization/roleDefinitions",
    versions=(*ROLE_DEFINITION_PREVIEW_API_VERSIONS, *ROLE_DEFINITION_API_VERSIONS),
    root=Obj(
        {
            "properties": Field(
                Obj(
                    {
                        "roleName": Field(_STR, required=True),
                        "description": Field(_STR),
                        "type": Field(_STR),
                        "permissions": Field(Arr(_PERMISSION)),
                        "assignableScopes": Field(_STRINGS),
                        **_BOOKKEEPING,
                    }
                ),
                required=True,
            ),
        }
    ),
    codes=CODES,
    strict_since=None,
)
