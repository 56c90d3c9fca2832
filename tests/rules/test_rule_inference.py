"""What rules infer from a template (the source's OS and generation) and the cases where a heuristic must
stay quiet rather than raise a false alarm."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from planner.rules import RuleContext
from planner.rules.facts import source_generation, source_os
from planner.rules.validate import validate_paths
from planner.stack.model import Resource, SourceRef, Stack, StackConfig
from tests.helpers import FIXTURES

BASE = json.loads((FIXTURES / "rules" / "AIB3001" / "pass" / "template.json").read_text())


def _template(source: dict[str, Any]) -> Resource:
    return Resource(
        kind="imageTemplate",
        name="t",
        arm_type="Microsoft.VirtualMachineImages/imageTemplates",
        api_version="2024-02-01",
        arm_id="/subscriptions/s/resourceGroups/g/providers/Microsoft.VirtualMachineImages/imageTemplates/t",
        body={"properties": {"source": source}},
        depends_on=(),
        source=SourceRef("t.json"),
    )


def _context() -> RuleContext:
    return RuleContext(Stack(Path("."), StackConfig("s", "g", "westus2"), ()))


@pytest.mark.parametrize(
    ("publisher", "offer", "sku", "os_name", "generation"),
    [
        ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", "Linux", "V1"),
        ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", "Linux", "V2"),
        ("Canonical", "ubuntu-24_04-lts", "server", "Linux", None),  # Gen2, but unmarked: say nothing
        ("Canonical", "ubuntu-24_04-lts", "server-gen1", "Linux", "V1"),
        ("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter", "Windows", "V1"),
        ("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-g2", "Windows", "V2"),
        ("MicrosoftWindowsServer", "WindowsServer", "2019-datacenter-gensecond", "Windows", "V2"),
        ("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition", "Windows", "V2"),
        ("MicrosoftWindowsDesktop", "windows-11", "win11-23h2-avd", "Windows", None),
        ("RedHat", "RHEL", "9-lvm-gen2", "Linux", "V2"),
        ("MicrosoftSQLServer", "sql2022-ws2022", "enterprise-gen2", "Windows", "V2"),
        ("MicrosoftSQLServer", "sql2019-ubuntu2004", "enterprise", "Linux", None),
        ("contoso", "hardened-base", "v3", None, None),
    ],
)
def test_source_os_and_generation(
    publisher: str, offer: str, sku: str, os_name: str | None, generation: str | None
) -> None:
    resource = _template({"type": "PlatformImage", "publisher": publisher, "offer": offer, "sku": sku})
    assert source_os(resource, _context()) == os_name
    assert source_generation(resource, _context()) == generation


def _codes(tmp_path: Path, edit: Any) -> list[str]:
    template = json.loads(json.dumps(BASE))
    edit(template["properties"])
    (tmp_path / "t.json").write_text(json.dumps(template, indent=2))
    return [d.code for d in validate_paths([tmp_path / "t.json"]).diagnostics]


def test_commands_run_through_sudo_bash_c_need_no_sudo_of_their_own(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["customize"][0]["inline"] = ['sudo bash -c "apt-get update && apt-get install -y nginx"']

    assert "AIB3412" not in _codes(tmp_path, edit)


def test_a_windows_11_build_on_the_default_size_is_not_flagged(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["source"] = {"type": "PlatformImage", "publisher": "MicrosoftWindowsDesktop",
                       "offer": "windows-11", "sku": "win11-23h2-avd", "version": "latest"}  # fmt: skip
        p["customize"] = [{"type": "PowerShell", "name": "x", "inline": ["Write-Output x"]}]
        p.pop("vmProfile")

    assert "AIB3105" not in _codes(tmp_path, edit)


def test_a_windows_server_build_on_the_default_size_is_flagged(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["source"] = {"type": "PlatformImage", "publisher": "MicrosoftWindowsServer",
                       "offer": "WindowsServer", "sku": "2019-datacenter", "version": "latest"}  # fmt: skip
        p["customize"] = [{"type": "PowerShell", "name": "x", "inline": ["Write-Output x"]}]
        p.pop("vmProfile")

    assert "AIB3105" in _codes(tmp_path, edit)
