"""How a value known only after apply is shown: `(known after apply)` in the human plan, Terraform's
`after_unknown` in the JSON plan (`true` where a value is unknown, `false` for a known list item, known
values of objects left out), null in `after`; a plan file shown again marks the same values."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.helpers import Run, write_stack

GALLERY = {
    "type": "Microsoft.Compute/galleries",
    "apiVersion": "2024-03-03",
    "name": "gal",
    "location": "westeurope",
}
ROLE = {
    "type": "Microsoft.Authorization/roleDefinitions",
    "apiVersion": "2022-04-01",
    "name": "[guid(resourceGroup().id, 'gallery reader')]",
    "properties": {
        "roleName": "Gallery reader",
        "type": "customRole",
        "permissions": [{"actions": ["Microsoft.Compute/galleries/read"]}],
        # The gallery's id is known before apply; its full object (`.id` among it) only once it exists.
        # The service keeps these in no order: the plan sorts the unknown last, the apply sorts the real
        # id before `zzz`, and the two still agree.
        "assignableScopes": [
            "[resourceGroup().id]",
            "[reference(resourceId('Microsoft.Compute/galleries', 'gal'), '2024-03-03', 'Full').id]",
            "[resourceId('Microsoft.Compute/galleries', 'zzz')]",
        ],
    },
}


def test_an_unknown_list_item_in_each_view(tmp_path: Path, cli: Callable[..., Run]) -> None:
    root = write_stack(tmp_path, {"stack.json": {"resources": [GALLERY, ROLE]}})
    document = json.loads(cli("plan", "--json", str(root)).stdout)
    role = next(c for c in document["resource_changes"] if c["kind"] == "roleDefinition")
    assert role["after_unknown"] == {"properties": {"assignableScopes": [False, False, True]}}
    scopes = role["after"]["properties"]["assignableScopes"]
    assert (
        scopes[0].endswith("/resourcegroups/rg-images") and scopes[1].endswith("/zzz") and scopes[2] is None
    )

    run = cli("plan", "--out", str(tmp_path / "p.plan"), str(root))
    assert run.exit_code == 0, run.stderr
    shown = cli("show", str(tmp_path / "p.plan")).stdout
    for text in (run.stdout, shown):
        lines = text.splitlines()
        at = next(i for i, line in enumerate(lines) if "assignableScopes" in line)
        assert "+ (known after apply)" in {line.strip() for line in lines[at + 1 : at + 4]}, text

    assert cli("apply", str(tmp_path / "p.plan")).exit_code == 0
    state = json.loads((root / "aibplan.state.json").read_text())
    (entry,) = [e for e in state["resources"] if e["address"].startswith("roleDefinition.")]
    gallery_id = next(e["id"] for e in state["resources"] if e["address"] == "gallery.gal")
    # The state keeps the body as sent: the reference's value where it was written.
    assert entry["applied"]["properties"]["assignableScopes"][1] == gallery_id
    assert cli("plan", "--detailed-exitcode", str(root)).exit_code == 0
