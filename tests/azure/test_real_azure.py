"""Smoke test against a real Azure subscription: apply, re-plan with no changes, destroy.

Skipped unless AIBPLAN_SMOKE_SUBSCRIPTION and AIBPLAN_SMOKE_RESOURCE_GROUP are set (see docs/azure.md
for the credentials and permissions it needs). Nothing it makes costs money: an identity, a gallery and
an image definition; no image is built."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Run

SUBSCRIPTION = os.environ.get("AIBPLAN_SMOKE_SUBSCRIPTION", "")
GROUP = os.environ.get("AIBPLAN_SMOKE_RESOURCE_GROUP", "")
LOCATION = os.environ.get("AIBPLAN_SMOKE_LOCATION", "westus2")

pytestmark = [
    pytest.mark.real_azure,
    pytest.mark.skipif(
        not (SUBSCRIPTION and GROUP),
        reason="set AIBPLAN_SMOKE_SUBSCRIPTION and AIBPLAN_SMOKE_RESOURCE_GROUP to run against real Azure",
    ),
]


def test_apply_replan_destroy_in_a_real_subscription(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("AIBPLAN_AZURE_") and name != "AIBPLAN_AZURE_CREDENTIAL":
            monkeypatch.delenv(name)
    suffix = uuid.uuid4().hex[:6]
    (tmp_path / "aibplan.json").write_text(
        json.dumps(
            {
                "subscriptionId": SUBSCRIPTION,
                "resourceGroup": GROUP,
                "location": LOCATION,
                "provider": "azure",
            }
        )
    )
    resources = [
        {
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "apiVersion": "2023-01-31",
            "name": f"id-aibplan-smoke-{suffix}",
            "location": LOCATION,
        },
        {
            "type": "Microsoft.Compute/galleries",
            "apiVersion": "2024-03-03",
            "name": f"galAibplanSmoke{suffix}",
            "location": LOCATION,
            "tags": {"purpose": "aibplan-smoke-test"},
        },
        {
            "type": "Microsoft.Compute/galleries/images",
            "apiVersion": "2024-03-03",
            "name": f"galAibplanSmoke{suffix}/ubuntu",
            "location": LOCATION,
            "properties": {
                "osType": "Linux",
                "osState": "Generalized",
                "hyperVGeneration": "V2",
                "identifier": {"publisher": "aibplan", "offer": "smoke", "sku": suffix},
            },
        },
    ]
    (tmp_path / "stack.json").write_text(json.dumps(resources, indent=2))
    try:
        run = cli("apply", "--auto-approve", "--verbose", str(tmp_path))
        assert run.exit_code == 0, run.stderr
        assert "Apply complete! Resources: 3 added" in run.stdout
        run = cli("plan", "--detailed-exitcode", str(tmp_path))
        assert run.exit_code == 0, run.stdout + run.stderr
    finally:
        run = cli("destroy", "--auto-approve", str(tmp_path))
    assert run.exit_code == 0, run.stderr
    assert "Destroy complete! Resources: 3 destroyed." in run.stdout
