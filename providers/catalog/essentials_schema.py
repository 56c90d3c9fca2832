"""The essentials of galleries, image definitions and user-assigned identities: fields, enums, names.

Facts from the Compute gallery schemas (2022-03-03, 2024-03-03) and the ManagedIdentity schemas
(2023-01-31, 2024-11-30). Fields are not gated by api version here: the schemas at hand cover only two
versions of each, so a field is known when either has it. The Compute provider rejects members it does
not know ("Could not find member ..."); the identity provider has nothing writable besides tags.
"""

from __future__ import annotations

from .schema import AnyValue, Arr, Bool, Field, Int, MapOf, Obj, Schema, Str

GALLERY_API_VERSIONS = (
    "2019-03-01",
    "2019-07-01",
    "2019-12-01",
    "2020-09-30",
    "2021-07-01",
    "2021-10-01",
    "2022-01-03",
    "2022-03-03",
    "2022-08-03",
    "2023-07-03",
    "2024-03-03",
    "2025-03-03",
    "2026-03-03",
)
IDENTITY_API_VERSIONS = (
    "2018-11-30",
    "2021-09-30-preview",
    "2022-01-31-preview",
    "2023-01-31",
    "2023-07-31-preview",
    "2024-11-30",
    "2025-05-31-preview",
)

# Gallery names: 1-80 characters, start with a letter or digit, then letters, digits, '_', '-', '.',
# not ending with '-' or '.' (the 2024-03-03 schema's pattern, written so Python's re accepts it).
GALLERY_NAME_PATTERN = r"^[^_\W][\w.\-]{0,79}(?<![-.])$"
GALLERY_NAME_RULE = (
    "1 to 80 letters, digits, '_', '-' or '.', starting with a letter or digit and not ending with '-' or '.'"
)
# Image definitions: 1-80 letters, digits, '_', '-', '.', starting and ending with a letter or digit.
IMAGE_DEFINITION_NAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9_.\-]{0,78}[A-Za-z0-9])?$"
IMAGE_DEFINITION_NAME_RULE = (
    "1 to 80 letters, digits, '_', '-' or '.', starting and ending with a letter or digit"
)
# User-assigned identities: 3-128 letters, digits, '-', '_', starting with a letter or digit.
IDENTITY_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_\-]{2,127}$"
IDENTITY_NAME_RULE = "3 to 128 letters, digits, '-' or '_', starting with a letter or digit"

_STR = Str()
_RANGE = Obj({"min": Field(Int()), "max": Field(Int())})
_CODES = {
    "unknown": "AIB4020",
    "case": "AIB4020",
    "version": "AIB4020",
    "read_only": "AIB4021",
    "type": "AIB4022",
    "enum": "AIB4011",
    "range": "AIB4022",
    "required": "AIB4010",
}
_RO = Field(AnyValue(), read_only=True)

GALLERY_SCHEMA = Schema(
    arm_type="Microsoft.Compute/galleries",
    versions=GALLERY_API_VERSIONS,
    root=Obj(
        {
            "location": Field(AnyValue()),
            "tags": Field(AnyValue()),
            "identity": Field(
                Obj(
                    {
                        "type": Field(
                            Str(
                                enum=(
                                    "None",
                                    "SystemAssigned",
                                    "SystemAssigned, UserAssigned",
                                    "UserAssigned",
                                )
                            )
                        ),
                        "userAssignedIdentities": Field(MapOf(Obj({"principalId": _RO, "clientId": _RO}))),
                        "principalId": _RO,
                        "tenantId": _RO,
                    }
                )
            ),
            "properties": Field(
                Obj(
                    {
                        "description": Field(_STR),
                        "identifier": Field(Obj({"uniqueName": _RO})),
                        "sharingProfile": Field(
                            Obj(
                                {
                                    "permissions": Field(
                                        Str(enum=("Private", "Groups", "Community"), extensible=True)
                                    ),
                                    "communityGalleryInfo": Field(
                                        Obj(
                                            {
                                                "eula": Field(_STR),
                                                "publicNamePrefix": Field(_STR),
                                                "publisherContact": Field(_STR),
                                                "publisherUri": Field(_STR),
                                                "communityGalleryEnabled": _RO,
                                                "publicNames": _RO,
                                            }
                                        )
                                    ),
                                    "groups": _RO,
                                }
                            )
                        ),
                        "softDeletePolicy": Field(Obj({"isSoftDeleteEnabled": Field(Bool())})),
                        "provisioningState": _RO,
                        "sharingStatus": _RO,
                    }
                )
            ),
        }
    ),
    codes=_CODES,
    strict_since=GALLERY_API_VERSIONS[0],
)

IMAGE_DEFINITION_SCHEMA = Schema(
    arm_type="Microsoft.Compute/galleries/images",
    versions=GALLERY_API_VERSIONS,
    root=Obj(
        {
            "location": Field(AnyValue()),
            "tags": Field(AnyValue()),
            "properties": Field(
                Obj(
                    {
                        "osType": Field(Str(enum=("Linux", "Windows")), required=True),
                        "osState": Field(Str(enum=("Generalized", "Specialized")), required=True),
                        "identifier": Field(
                            Obj(
                                {
                                    "publisher": Field(_STR, required=True),
                                    "offer": Field(_STR, required=True),
                                    "sku": Field(_STR, required=True),
                                }
                            ),
                            required=True,
                        ),
                        "hyperVGeneration": Field(Str(enum=("V1", "V2"), extensible=True)),
                        "architecture": Field(Str(enum=("x64", "Arm64"), extensible=True)),
                        "description": Field(_STR),
                        "eula": Field(_STR),
                        "privacyStatementUri": Field(_STR),
                        "releaseNoteUri": Field(_STR),
                        "endOfLifeDate": Field(_STR),
                        "disallowed": Field(Obj({"diskTypes": Field(Arr(_STR))})),
                        "features": Field(
                            Arr(
                                Obj(
                                    {
                                        "name": Field(_STR),
                                        "value": Field(_STR),
                                        "startsAtVersion": Field(_STR),
                                    }
                                )
                            )
                        ),
                        "purchasePlan": Field(
                            Obj({"name": Field(_STR), "product": Field(_STR), "publisher": Field(_STR)})
                        ),
                        "recommended": Field(Obj({"vCPUs": Field(_RANGE), "memory": Field(_RANGE)})),
                        "allowUpdateImage": Field(Bool()),
                        "provisioningState": _RO,
                    }
                ),
                required=True,
            ),
        }
    ),
    codes=_CODES,
    strict_since=GALLERY_API_VERSIONS[0],
)

IDENTITY_SCHEMA = Schema(
    arm_type="Microsoft.ManagedIdentity/userAssignedIdentities",
    versions=IDENTITY_API_VERSIONS,
    root=Obj({"location": Field(AnyValue()), "tags": Field(AnyValue()), "properties": _RO}),
    codes=_CODES,
    strict_since=None,
)
