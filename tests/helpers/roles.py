"""What a build identity needs before its build can succeed, granted as the AIB docs and the recorded
tests set it up: Contributor on the resource group (the image versions, the staging resources) and
Storage Blob Data Reader (the scripts). The simulated cloud fails a build whose identity lacks them, as
Azure does, so tests that drive builds through the emulator grant them first, over REST.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
BUILD_ROLES = (CONTRIBUTOR, BLOB_DATA_READER)
ROLES_API_VERSION = "2022-04-01"
IDENTITY_API_VERSION = "2023-01-31"

# send(method, path, api_version, body) -> an answer with .status_code and .json()
Send = Callable[[str, str, str, Any], Any]


def grant_build_roles(send: Send, identity_id: str, scope: str) -> None:
    """The identity's principal given the build roles at `scope` (a resource group id); idempotent: the
    assignments' names are derived from the principal, the role and the scope."""
    answer = send("GET", identity_id, IDENTITY_API_VERSION, None)
    assert answer.status_code == 200, answer.text
    principal = answer.json()["properties"]["principalId"]
    subscription = scope.split("/")[2]
    for role in BUILD_ROLES:
        name = uuid.uuid5(uuid.NAMESPACE_URL, f"{scope.lower()}|{principal}|{role}")
        body = {
            "properties": {
                "roleDefinitionId": (
                    f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role}"
                ),
                "principalId": principal,
                "principalType": "ServicePrincipal",
            }
        }
        path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
        made = send("PUT", path, ROLES_API_VERSION, body)
        assert made.status_code in (200, 201), made.text
