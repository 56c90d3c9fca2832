"""Templates written in the style of Azure's published Image Builder quickstarts (ARM-wrapped with
parameters and no defaults, bare bodies with apiVersion inside, preview api versions, sample placeholders,
typos such as `aritfactTags` and `imageVersionID`) validate without a crash, and their known mistakes are
reported (issue 3, acceptance 3).

tests/fixtures/published/<name>/ holds the files, validated alone as `aibplan validate FILE...` would;
tests/fixtures/published/expected.json lists every diagnostic of each (`python -m
tests.rules.test_published_templates` rewrites it after a deliberate change; review the diff).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.helpers import run_fixture

PUBLISHED = Path(__file__).resolve().parent.parent / "fixtures" / "published"
EXPECTED = PUBLISHED / "expected.json"
CASES = sorted(p.name for p in PUBLISHED.iterdir() if p.is_dir())

# The mistakes each template is known for: (code, path) that must be reported.
KNOWN_MISTAKES: dict[str, list[tuple[str, str | None]]] = {
    "linux-managed-image": [
        ("AIB0005", "identity.userAssignedIdentities"),  # <imgBuilderId>
        ("AIB0005", "properties.distribute[0].location"),  # <region>
        ("AIB0010", "apiVersion"),  # [parameters('api-version')] without a value
        ("AIB0010", "location"),
        ("AIB3408", "properties.customize[0].scriptUri"),  # no checksum
    ],
    "linux-sig": [
        ("AIB3001", "properties.distribute[0].aritfactTags"),  # a warning before 2024-02-01
        ("AIB3412", "properties.customize[1].inline[0]"),  # apt-get without sudo
        ("AIB2005", "apiVersion"),  # apiVersion inside a bare body
    ],
    "windows-managed-image": [
        ("AIB3105", "properties.vmProfile.vmSize"),  # Standard_D1_v2 on Windows
        ("AIB3302", "properties.buildTimeoutInMinutes"),  # 45 minutes on Windows
        ("AIB3410", "properties.customize[3].inline[1]"),  # net user ... password
        ("AIB3411", "properties.customize[4].runAsSystem"),
        ("AIB0010", "location"),  # [resourceGroup().location] without a stack
    ],
    "linux-vnet": [
        ("AIB3001", "properties.vmProfile.proxyVmSize"),  # belongs in vnetConfig
        ("AIB3001", "properties.distribute[0].tags"),  # the reference's VHD example: artifactTags
    ],
    "sig-version-source": [
        ("AIB3002", "properties.source.imageVersionID"),  # an error from 2024-02-01
        ("AIB3004", "properties.source.exactVersion"),
        ("AIB3410", "properties.customize[0].inline[1]"),  # a SAS token
        ("AIB3608", "properties.distribute[0].targetRegions"),
        ("AIB3609", "properties.distribute[0].storageAccountType"),
    ],
    "arm-full-pipeline": [
        ("AIB2003", "apiVersion"),  # 2019-05-01-preview
        ("AIB3607", "properties.distribute[0].replicationRegions"),  # without the gallery's region
        ("AIB5005", "properties.distribute[0].galleryImageId"),  # Gen2 source, V1 definition
    ],
    "broken-json": [("AIB0001", None)],
}


def test_every_published_template_has_known_mistakes() -> None:
    assert sorted(KNOWN_MISTAKES) == CASES


@pytest.mark.parametrize("name", CASES)
def test_published_template(name: str) -> None:
    found = run_fixture(PUBLISHED / name)
    assert not [d for d in found if d["code"] == "AIB0000"], "a rule crashed"
    shown = {(d["code"], d["path"]) for d in found}
    missing = [m for m in KNOWN_MISTAKES[name] if m not in shown]
    assert not missing, f"known mistakes not reported: {missing}"
    assert found == json.loads(EXPECTED.read_text())[name]


if __name__ == "__main__":
    document = {name: run_fixture(PUBLISHED / name) for name in CASES}
    EXPECTED.write_text(json.dumps(document, indent=2) + "\n")
    print(f"rewrote {EXPECTED}", file=sys.stderr)
