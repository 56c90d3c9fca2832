"""The quickstart without the role assignment its build needs, as a user meets it on the local cloud:
`validate` and `plan` warn (AIB9102, naming the action and the scope), `run` refuses to start the build,
`run --ignore-permissions` starts it and the simulated service fails it at Distributing with Image
Builder's authorization text; a role assignment made outside the stack counts at plan time, and putting
the stack's back makes the build succeed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from planner.rules.validate import check_stack
from planner.stack.jsonc import load_jsonc
from providers.simulated.local import LocalProvider
from state import load_state
from tests.helpers import Run

TEMPLATE = "imageTemplate.ubuntu2204"
GROUP = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-golden-images"
DEFINITION = f"{GROUP}/providers/Microsoft.Compute/galleries/corpImages/images/ubuntu2204"
NOT_AUTHORIZED = (
    f"Not authorized to access the resource: {DEFINITION}. Please check the user assigned identity has "
    "the correct permissions. For more details, go to https://aka.ms/azvmimagebuilderts."
)


def _without_image_creation(root: Path) -> dict:  # type: ignore[type-arg]
    """Take the custom role's assignment out of permissions.json; the assignment as it was."""
    path = root / "permissions.json"
    document = load_jsonc(path.read_text(), str(path))
    (assignment,) = [
        r
        for r in document["resources"]
        if r["type"] == "Microsoft.Authorization/roleAssignments" and "imageCreationRole" in r["name"]
    ]
    document["resources"].remove(assignment)
    path.write_text(json.dumps(document, indent=2))
    return assignment  # type: ignore[no-any-return]


def _warned(run: Run) -> list[str]:
    return [line for line in (run.stdout + run.stderr).splitlines() if " warning AIB91" in line]


def test_removing_the_role_assignment_warns_then_refuses_then_fails_the_build_where_azure_does(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    assignment = _without_image_creation(root)

    validated = cli("validate", str(root))
    assert validated.exit_code == 0 and len(_warned(validated)) == 1
    plan = cli("plan", str(root))
    assert plan.exit_code == 0 and "1 to destroy" in plan.stdout
    (warning,) = _warned(plan)
    assert warning.startswith(
        "ubuntu2204.json:52:27: warning AIB9102 identity 'aibBuilder' may not write image"
    )
    assert (
        "no role assignment in the stack or the cloud grants Microsoft.Compute/galleries/images/read, "
        in warning
    )
    assert f"Microsoft.Compute/galleries/images/versions/write at {DEFINITION}" in warning
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0

    refused = cli("run", str(root))
    assert refused.exit_code == 1
    assert "1 image template(s) would build with an identity that lacks a permission" in refused.stderr
    assert "--ignore-permissions" in refused.stderr
    assert "last_run" not in load_state(root / "aibplan.state.json").by_address[TEMPLATE].extra  # type: ignore[union-attr]

    built = cli("run", "--ignore-permissions", str(root))
    assert (
        "Warning: imageTemplate.ubuntu2204: identity 'aibBuilder' may not write image versions"
        in built.stderr
    )
    assert "PartiallySucceeded" in built.stdout
    assert f"Distribution failed: ubuntu2204-sig: {NOT_AUTHORIZED}" in built.stdout
    last_run = load_state(root / "aibplan.state.json").by_address[TEMPLATE].extra["last_run"]  # type: ignore[union-attr]
    assert (last_run["run_state"], last_run["run_sub_state"]) == ("PartiallySucceeded", "Distributing")

    path = root / "permissions.json"
    document = load_jsonc(path.read_text(), str(path))
    document["resources"].append(assignment)
    path.write_text(json.dumps(document, indent=2))
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    again = cli("run", str(root))
    assert again.exit_code == 0 and "Succeeded" in again.stdout and "Not authorized" not in again.stdout


def test_a_role_assignment_made_outside_the_stack_counts_at_plan_time(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    _without_image_creation(root)
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    assert len(_warned(cli("plan", str(root)))) == 1
    cloud = LocalProvider(root / ".aibplan")
    try:
        identity = cloud.service.get(
            f"{GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aibBuilder", "2023-01-31"
        )
        contributor = "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/"
        cloud.service.put(
            f"{GROUP}/providers/Microsoft.Compute/galleries/corpImages/providers/Microsoft.Authorization/"
            "roleAssignments/3f1e0a9c-0000-4000-8000-0000000000aa",
            "2022-04-01",
            {
                "properties": {
                    "roleDefinitionId": contributor + "roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c",
                    "principalId": identity["properties"]["principalId"],
                }
            },
        )
    finally:
        cloud.close()
    plan = cli("plan", str(root))
    assert plan.exit_code == 0 and _warned(plan) == []
    # validate knows only the stack, so it still warns; `run` asks the cloud and builds.
    assert len(_warned(cli("validate", str(root)))) == 1
    built = cli("run", str(root))
    assert built.exit_code == 0 and "Succeeded" in built.stdout


def _with_subnet(root: Path) -> str:
    """Put the build VM in a subnet of a network in the stack's group (made there, outside the stack)."""
    network = f"{GROUP}/providers/Microsoft.Network/virtualNetworks/vnet-build"
    cloud = LocalProvider(root / ".aibplan")
    try:
        cloud.service.raw_write(network, {"location": "westus2"})
        cloud.service.raw_write(f"{network}/subnets/build", {"properties": {"addressPrefix": "10.0.1.0/24"}})
    finally:
        cloud.close()
    path = root / "ubuntu2204.json"
    body = load_jsonc(path.read_text(), str(path))
    body["properties"]["vmProfile"]["vnetConfig"] = {"subnetId": f"{network}/subnets/build"}
    path.write_text(json.dumps(body, indent=2))
    return network


def test_a_network_the_identity_may_not_join_fails_the_create_and_the_template_is_replaced_once_granted(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    network = _with_subnet(root)
    plan = cli("plan", str(root))
    assert sorted(w.split(" may not ")[1].split(":")[0] for w in _warned(plan)) == [
        "join the subnet",
        "read the network",
    ]
    applied = cli("apply", "--auto-approve", str(root))
    assert applied.exit_code == 1
    assert (
        f"Error: {TEMPLATE}: create failed: Unauthorized: Not authorized to access the resource: {network}. "
        "Please check the user assigned identity has the correct permissions." in applied.stderr
    )
    # The service kept the template, Failed: the next command finds it, and the plan replaces it.
    replan = cli("plan", str(root))
    assert f"  {TEMPLATE}: adopted and tainted (half made; the next apply replaces it)" in replan.stderr
    assert "1 to replace" in replan.stdout

    path = root / "permissions.json"
    document = load_jsonc(path.read_text(), str(path))
    document["resources"].append(
        {
            "type": "Microsoft.Authorization/roleAssignments",
            "apiVersion": "2022-04-01",
            "name": "[guid(resourceGroup().id, 'aibBuilder', 'Network Contributor')]",
            "scope": "[resourceId('Microsoft.Network/virtualNetworks', 'vnet-build')]",
            "dependsOn": ["[variables('identityId')]"],
            "properties": {
                "roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', "
                "'4d97b98b-1d4f-4787-a291-c67834d212e7')]",
                "principalId": "[parameters('builderPrincipalId')]",
            },
        }
    )
    path.write_text(json.dumps(document, indent=2))
    assert _warned(cli("plan", str(root))) == []
    fixed = cli("apply", "--auto-approve", str(root))
    assert fixed.exit_code == 0, fixed.stderr
    assert "1 added, 0 changed, 1 replaced" in fixed.stdout


def test_apply_run_applies_and_then_starts_no_build_whose_identity_lacks_a_permission(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    _without_image_creation(root)
    run = cli("apply", "--auto-approve", "--run", str(root))
    assert run.exit_code == 1
    assert "Apply complete! Resources: 6 added" in run.stdout
    assert f"Error: {TEMPLATE}: identity 'aibBuilder' may not write image versions" in run.stderr
    assert (
        "Builds not started: 1 image template(s) would build with an identity that lacks a permission the "
        "build needs; grant it (a role assignment in the stack), or `apply --run --ignore-permissions` to "
        "build anyway." in run.stderr
    )
    assert "starting the build" not in run.stderr


def test_apply_run_ignore_permissions_builds_and_the_service_fails_the_target(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    _without_image_creation(root)
    run = cli("apply", "--auto-approve", "--run", "--ignore-permissions", str(root))
    assert f"Warning: {TEMPLATE}: identity 'aibBuilder' may not write image versions" in run.stderr
    assert f"Distribution failed: ubuntu2204-sig: {NOT_AUTHORIZED}" in run.stdout


def test_a_role_definition_that_does_not_exist_stops_the_plan_and_a_built_in_one_is_found(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    assert cli("plan", str(root)).exit_code == 0  # Storage Blob Data Reader, a built-in role, exists
    path = root / "permissions.json"
    path.write_text(
        path.read_text().replace(
            "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "2a2b9908-0000-4000-8000-a410df84e7d1"
        )
    )
    run = cli("plan", str(root))
    assert run.exit_code == 1
    assert (
        "error AIB8001 the role definition /subscriptions/00000000-0000-0000-0000-000000000000/providers/"
        "Microsoft.Authorization/roleDefinitions/2a2b9908-0000-4000-8000-a410df84e7d1 does not exist"
    ) in run.stdout + run.stderr


def test_a_custom_role_made_outside_the_stack_is_read_from_the_cloud(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    path = root / "permissions.json"
    document = load_jsonc(path.read_text(), str(path))
    (definition,) = [
        r for r in document["resources"] if r["type"] == "Microsoft.Authorization/roleDefinitions"
    ]
    document["resources"].remove(definition)
    for resource in document["resources"]:
        resource["dependsOn"] = [d for d in resource["dependsOn"] if "roleDefinitions" not in d]
    path.write_text(json.dumps(document, indent=2))
    checked = cli("validate", str(root))
    assert checked.exit_code == 0 and _warned(checked) == []  # the role is not known offline: no warning
    stack = check_stack(root).stack
    assert stack is not None
    (role_id,) = [
        r.properties["roleDefinitionId"]
        for r in stack.resources
        if r.address.startswith("roleAssignment.") and "2a2b9908" not in r.properties["roleDefinitionId"]
    ]

    def role(actions: list[str]) -> None:
        cloud = LocalProvider(root / ".aibplan")
        try:
            body = {"properties": {"roleName": "Image Creation", "permissions": [{"actions": actions}],
                                   "assignableScopes": [GROUP]}}  # fmt: skip
            cloud.service.put(role_id, "2022-04-01", body)
        finally:
            cloud.close()

    role(["Microsoft.Compute/galleries/*"])
    assert cli("apply", "--auto-approve", str(root)).exit_code == 0
    assert _warned(cli("plan", str(root))) == []
    role(["Microsoft.Compute/galleries/images/read"])
    (warning,) = _warned(cli("plan", str(root)))
    assert "grants Microsoft.Compute/galleries/images/versions/read, " in warning
