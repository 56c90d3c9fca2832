"""The fields of an image template body in every api version, from 2018-02-01-preview to 2025-10-01.

Facts from the REST API (the ARM schemas and Bicep type dumps generated from its swagger, flattened into a
property matrix) and the AIB template reference: which version introduced each field, union variant and
enum value, which fields the service fills in (read-only), ranges, patterns and required fields. The rule
ids say which validation rule reports a broken constraint.
"""

from __future__ import annotations

from .schema import AnyValue, Arr, Bool, Field, Int, MapOf, Obj, Schema, Str, Union, Variant, Versioned

P2018 = "2018-02-01-preview"
P2019A = "2019-02-01-preview"
P2019B = "2019-05-01-preview"
V2020 = "2020-02-14"
V2021 = "2021-10-01"
V2022A = "2022-02-14"
V2022B = "2022-07-01"
V2023 = "2023-07-01"
V2024 = "2024-02-01"
V2025 = "2025-10-01"
STABLE_API_VERSIONS = (V2020, V2021, V2022A, V2022B, V2023, V2024, V2025)
PREVIEW_API_VERSIONS = (P2018, P2019A, P2019B)

# Template, run output and trigger names; run output names before 2019-05-01-preview took no dot.
NAME_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"
NAME_PATTERN_NO_DOT = r"^[A-Za-z0-9_\-]{1,64}$"
NAME_RULE = "1 to 64 letters, digits, '-', '_' or '.'"

_STR = Str()
_STRINGS = Arr(_STR)
_TAGS = MapOf(Str())
_STATE = Str(enum=("Enabled", "Disabled"))
_STORAGE = Str(
    enum=("Standard_LRS", "Standard_ZRS", "Premium_LRS"),
    enum_since={"Premium_LRS": V2022B},
    extensible=True,
    code="AIB3609",
)
_ON_ERROR = Str(enum=("cleanup", "abort"), extensible=True)

_SCRIPT_FIELDS = {
    "script": Field(_STR, since=P2019A, until=P2019B, note="use 'scriptUri'"),
    "inline": Field(_STRINGS, since=P2019A),
    "scriptUri": Field(_STR, since=P2019B),
    "sha256Checksum": Field(_STR, since=P2019B),
}
_POWERSHELL_FIELDS = {
    **_SCRIPT_FIELDS,
    "runElevated": Field(Bool(), since=P2019B),
    "runAsSystem": Field(Bool(), since=V2020),
    "validExitCodes": Field(Arr(Int()), since=P2019A),
}
_FILE_FIELDS = {
    "sourceUri": Field(_STR),
    "destination": Field(_STR),
    "sha256Checksum": Field(_STR),
}

_CUSTOMIZER = Union(
    "type",
    code="AIB3401",
    common={"name": Field(_STR)},
    variants={
        "shell": Variant({"script": Field(_STR)}, until=P2019A),
        "Shell": Variant(_SCRIPT_FIELDS, since=P2019A),
        "PowerShell": Variant(_POWERSHELL_FIELDS, since=P2019A),
        "WindowsRestart": Variant(
            {
                "restartCommand": Field(_STR),
                "restartCheckCommand": Field(_STR),
                "restartTimeout": Field(_STR),
            },
            since=P2019A,
        ),
        "File": Variant(_FILE_FIELDS, since=P2019B),
        "WindowsUpdate": Variant(
            {
                "searchCriteria": Field(_STR),
                "filters": Field(_STRINGS),
                "updateLimit": Field(Int(minimum=0)),
            },
            since=V2020,
        ),
    },
)

_VALIDATOR = Union(
    "type",
    code="AIB3501",
    common={"name": Field(_STR)},
    variants={
        "Shell": Variant({k: v for k, v in _SCRIPT_FIELDS.items() if k != "script"}),
        "PowerShell": Variant({k: v for k, v in _POWERSHELL_FIELDS.items() if k != "script"}),
        "File": Variant(_FILE_FIELDS, since=V2022B),
    },
)

_TARGET_REGION = Obj(
    {
        "name": Field(_STR, required=True, code="AIB3602"),
        "replicaCount": Field(Int(minimum=1)),
        "storageAccountType": Field(_STORAGE),
    }
)

_VERSIONING = Union(
    "scheme",
    code="AIB3610",
    variants={
        "Latest": Variant({"major": Field(Int(minimum=-1, code="AIB3610"))}),
        "Source": Variant({}),
    },
)

_DISTRIBUTOR = Union(
    "type",
    code="AIB3601",
    common={
        "runOutputName": Field(
            Versioned(
                (
                    (P2018, Str(pattern=NAME_PATTERN_NO_DOT, pattern_text=NAME_RULE, code="AIB3603")),
                    (P2019B, Str(pattern=NAME_PATTERN, pattern_text=NAME_RULE, code="AIB3603")),
                )
            ),
            required=True,
            code="AIB3602",
        ),
        "artifactTags": Field(_TAGS),
    },
    variants={
        "managedImage": Variant(
            {
                "imageId": Field(_STR, required=True, code="AIB3602"),
                "location": Field(_STR, required=True, code="AIB3602"),
            },
            until=P2019A,
        ),
        "sharedImage": Variant(
            {
                "galleryImageId": Field(_STR, required=True, code="AIB3602"),
                "replicationRegions": Field(_STRINGS, required=True, code="AIB3602"),
            },
            until=P2019A,
        ),
        "ManagedImage": Variant(
            {
                "imageId": Field(_STR, required=True, code="AIB3602"),
                "location": Field(_STR, required=True, code="AIB3602"),
            },
            since=P2019A,
        ),
        "SharedImage": Variant(
            {
                "galleryImageId": Field(_STR, required=True, code="AIB3602"),
                "replicationRegions": Field(_STRINGS, required_until=V2022B, code="AIB3602"),
                "excludeFromLatest": Field(Bool(), since=V2020),
                "storageAccountType": Field(_STORAGE, since=V2020),
                "targetRegions": Field(Arr(_TARGET_REGION), since=V2022B),
                "versioning": Field(_VERSIONING, since=V2022B),
                "replicationMode": Field(Str(enum=("Full", "Shallow"), extensible=True), since=V2025),
            },
            since=P2019A,
        ),
        "VHD": Variant({"uri": Field(_STR, since=V2022B)}, since=P2019A),
    },
)

_SOURCE = Union(
    "type",
    code="AIB3201",
    variants={
        "PlatformImage": Variant(
            {
                "publisher": Field(_STR),
                "offer": Field(_STR),
                "sku": Field(_STR),
                "version": Field(_STR),
                "planInfo": Field(
                    Obj(
                        {
                            "planName": Field(_STR, required=True, code="AIB3203"),
                            "planProduct": Field(_STR, required=True, code="AIB3203"),
                            "planPublisher": Field(_STR, required=True, code="AIB3203"),
                        }
                    ),
                    since=V2020,
                ),
                "exactVersion": Field(_STR, since=V2021, read_only=True),
            }
        ),
        "ManagedImage": Variant({"imageId": Field(_STR, required=True, code="AIB3202")}, since=P2019A),
        "SharedImageVersion": Variant(
            {
                "imageVersionId": Field(_STR, required=True, code="AIB3202"),
                "exactVersion": Field(_STR, since=V2022B, read_only=True),
            },
            since=P2019B,
        ),
        "ISO": Variant(
            {
                "sourceURI": Field(_STR, until=P2019B, required=True, code="AIB3202", note="now 'sourceUri'"),
                "sourceUri": Field(_STR, since=P2019B, required=True, code="AIB3202"),
                "sha256Checksum": Field(_STR, required=True, code="AIB3202"),
            },
            until=V2020,
        ),
    },
)

_VM_PROFILE = Obj(
    {
        "vmSize": Field(_STR),
        "osDiskSizeGB": Field(Int(minimum=0, code="AIB3101"), since=V2020),
        "userAssignedIdentities": Field(_STRINGS, since=V2021),
        "vnetConfig": Field(
            Obj(
                {
                    "subnetId": Field(_STR),
                    "proxyVmSize": Field(_STR, since=V2021),
                    "containerInstanceSubnetId": Field(_STR, since=V2024),
                }
            ),
            since=V2020,
        ),
    }
)

_PROPERTIES = Obj(
    {
        "buildTimeoutInMinutes": Field(Int(), since=P2019B),  # AIB3301 checks the range
        "vmProfile": Field(_VM_PROFILE, since=P2019B),
        "source": Field(_SOURCE, required=True, code="AIB2010"),
        "customize": Field(Arr(_CUSTOMIZER)),
        "validate": Field(
            Obj(
                {
                    "continueDistributeOnFailure": Field(Bool()),
                    "sourceValidationOnly": Field(Bool()),
                    "inVMValidations": Field(Arr(_VALIDATOR)),
                }
            ),
            since=V2022A,
        ),
        "distribute": Field(Arr(_DISTRIBUTOR), required=True, code="AIB2010"),
        "stagingResourceGroup": Field(_STR, since=V2022A),
        "optimize": Field(
            Obj(
                {
                    "vmBoot": Field(Obj({"state": Field(_STATE)})),
                    "workload": Field(
                        Obj(
                            {"state": Field(_STATE), "scriptUri": Field(_STR), "sha256Checksum": Field(_STR)}
                        ),
                        since=V2025,
                    ),
                }
            ),
            since=V2022B,
        ),
        "errorHandling": Field(
            Obj({"onCustomizerError": Field(_ON_ERROR), "onValidationError": Field(_ON_ERROR)}),
            since=V2023,
        ),
        "autoRun": Field(Obj({"state": Field(_STATE)}), since=V2024),
        "managedResourceTags": Field(_TAGS, since=V2024),
        "additionalDataDisks": Field(Arr(Obj({"sizeGB": Field(Int(minimum=0))})), since=V2025),
        # Filled in by the service; sending them does nothing.
        "provisioningState": Field(AnyValue(), read_only=True),
        "provisioningError": Field(AnyValue(), read_only=True),
        "lastRunStatus": Field(AnyValue(), read_only=True),
        "exactStagingResourceGroup": Field(AnyValue(), since=V2022A, read_only=True),
    }
)

_IDENTITY = Obj(
    {
        "type": Field(AnyValue()),  # AIB2031 says what is allowed
        "userAssignedIdentities": Field(
            MapOf(
                Obj(
                    {
                        "principalId": Field(AnyValue(), read_only=True),
                        "clientId": Field(AnyValue(), read_only=True),
                    }
                )
            )
        ),
        "principalId": Field(AnyValue(), read_only=True),
        "tenantId": Field(AnyValue(), read_only=True),
    }
)

IMAGE_TEMPLATE_SCHEMA = Schema(
    arm_type="Microsoft.VirtualMachineImages/imageTemplates",
    versions=(*PREVIEW_API_VERSIONS, *STABLE_API_VERSIONS),
    root=Obj(
        {
            "location": Field(AnyValue()),  # AIB2020/AIB2021
            "tags": Field(AnyValue()),  # AIB2040
            "identity": Field(_IDENTITY, since=P2019B),
            "properties": Field(_PROPERTIES, required=True, code="AIB2010"),
        }
    ),
    codes={
        "unknown": "AIB3001",
        "case": "AIB3002",
        "version": "AIB3003",
        "read_only": "AIB3004",
        "type": "AIB3005",
        "enum": "AIB3006",
        "range": "AIB3007",
        "required": "AIB2010",
    },
    # "If you send an API request to VM Image Builder API version 2024-02-01 or later with incorrect
    # case or unrecognized fields, the service rejects it."
    strict_since=V2024,
)
