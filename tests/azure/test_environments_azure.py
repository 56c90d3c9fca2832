"""Two environments of one stack in one resource group of one cloud (the ARM emulator, through the Azure
SDK): each has its own state, so applying or destroying one never plans to touch the other's resources,
though both sit side by side."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from tests.helpers import EXAMPLES, SUBSCRIPTION, Emulator, Run


def test_one_environment_never_plans_to_destroy_the_others_resources(
    tmp_path: Path, azure_env: Emulator, cli: Callable[..., Run]
) -> None:
    root = tmp_path / "pipeline"
    shutil.copytree(
        EXAMPLES / "arm-deployment", root, ignore=shutil.ignore_patterns(".aibplan", "*.state.json*")
    )
    group = azure_env.new_group()
    config = {
        "subscriptionId": SUBSCRIPTION,
        "resourceGroup": group,
        "location": "westeurope",
        "provider": "azure",
        "environments": {
            "dev": {"parameters": {"environment": "dev", "imageTemplateName": "ubuntu2204-dev"}},
            "prod": {"parameters": {"imageTemplateName": "ubuntu2204-prod"}},
        },
    }
    (root / "aibplan.json").write_text(json.dumps(config, indent=2))

    def held() -> set[str]:
        return {item["name"] for item in azure_env.server.service.list_resource_group(SUBSCRIPTION, group)}

    assert cli("apply", "--auto-approve", "--env", "dev", str(root)).exit_code == 0
    dev = held()
    assert "id-aib-dev" in dev and "ubuntu2204-dev" in dev

    planned = json.loads(cli("plan", "--json", "--env", "prod", str(root)).stdout)
    assert planned["environment"] == "prod"
    assert planned["summary"] == {"add": 5, "change": 0, "replace": 0, "destroy": 0}
    assert all("dev" not in c["address"] for c in planned["resource_changes"])
    prod = cli("apply", "--auto-approve", "--env", "prod", str(root))
    assert prod.exit_code == 0 and "5 added, 0 changed, 0 replaced, 0 destroyed" in prod.stdout, prod.stdout
    assert dev < held() and {"id-aib-prod", "ubuntu2204-prod"} <= held()
    for env in ("dev", "prod"):
        run = cli("plan", "--detailed-exitcode", "--env", env, str(root))
        assert run.exit_code == 0, run.stdout + run.stderr

    gone = cli("destroy", "--auto-approve", "--env", "prod", str(root))
    assert gone.exit_code == 0 and "Destroy complete! Resources: 5 destroyed." in gone.stdout
    assert held() == dev, "destroying prod left dev's resources where they were"
    assert cli("plan", "--detailed-exitcode", "--env", "dev", str(root)).exit_code == 0
