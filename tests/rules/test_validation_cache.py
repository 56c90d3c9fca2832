"""The rules' findings kept for an unchanged stack (planner.rules.cache): every input that matters misses
the cache, nothing else does, a bad cache file is ignored, and no secret is written to it.

A hit is told from a miss by a finding planted in the cache file under its key: a hit serves it, a miss
runs the rules and it is gone.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planner.diagnostics import Diagnostic
from planner.rules.cache import CACHE_FILE
from planner.rules.validate import check_stack
from tests.helpers import EXAMPLES, Run, write_stack

PLANTED = "planted in the cache by the test"
PARAMETERS = '{"parameters": {"replicationRegions": {"value": ["westeurope"]}}}\n'


def _stack(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "stack"
    shutil.copytree(
        EXAMPLES / "arm-deployment", root, ignore=shutil.ignore_patterns(".aibplan", "*.state.json*")
    )
    var_file = tmp_path / "extra.parameters.json"
    var_file.write_text(PARAMETERS)
    return root, var_file


def _check(root: Path, var_file: Path, **changed: Any) -> tuple[Diagnostic, ...]:
    inputs: dict[str, Any] = {
        "variables": [("buildTimeoutInMinutes", "90")],
        "var_files": [var_file],
        "environment": "dev",
        "code": "1.0+catalog-a",
        "cache": "create",
    }
    inputs.update(changed)
    checked = check_stack(root, **inputs)
    assert checked.stack is not None
    return checked.diagnostics


def _plant(cache: Path) -> None:
    data = json.loads(cache.read_text())
    data["diagnostics"].append({**data["diagnostics"][0], "message": PLANTED, "code": "AIB2004"})
    cache.write_text(json.dumps(data))


def _served(diagnostics: tuple[Diagnostic, ...]) -> bool:
    return any(d.message == PLANTED for d in diagnostics)


def _edit(file: str, old: str, new: str) -> Callable[[Path, Path], dict[str, Any]]:
    def edit(root: Path, var_file: Path) -> dict[str, Any]:
        path = root / file
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))
        return {}

    return edit


def _write_var_file(root: Path, var_file: Path) -> dict[str, Any]:
    var_file.write_text(PARAMETERS.replace("westeurope", "northeurope"))
    return {}


def _new_file(root: Path, var_file: Path) -> dict[str, Any]:
    identity = {
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "apiVersion": "2023-01-31",
        "name": "another",
        "location": "westeurope",
    }
    (root / "another.json").write_text(json.dumps(identity))
    return {}


FLIPS: dict[str, Callable[[Path, Path], dict[str, Any]]] = {
    "a resource file's content": _edit("pipeline.json", '"defaultValue": 90', '"defaultValue": 95'),
    "a resource file's layout only": _edit("pipeline.json", '"contentVersion"', '\n  "contentVersion"'),
    "an aibplan-ignore comment": _edit(
        "pipeline.json",
        '"resources": [',
        '// aibplan-ignore AIB9107: fetched with a SAS at build time\n  "resources": [',
    ),
    "a new resource file": _new_file,
    "aibplan.json": _edit("aibplan.json", '"location": "westeurope"', '"location": "northeurope"'),
    "rule suppression in aibplan.json": _edit(
        "aibplan.json", '"provider": "local",', '"provider": "local", "rules": {"AIB9107": "off"},'
    ),
    "a --var value": lambda root, var_file: {"variables": [("buildTimeoutInMinutes", "91")]},
    "another --var": lambda root, var_file: {
        "variables": [("buildTimeoutInMinutes", "90"), ("imageTemplateName", "other")]
    },
    "a --var-file's content": _write_var_file,
    "no --var-file": lambda root, var_file: {"var_files": []},
    "the environment": lambda root, var_file: {"environment": "prod"},
    "the provider": lambda root, var_file: {"provider": "azure"},
    "the aibplan version": lambda root, var_file: {"code": "1.1+catalog-a"},
    "the catalog version": lambda root, var_file: {"code": "1.0+catalog-b"},
}


def test_an_unchanged_stack_is_served_from_the_cache_with_the_findings_of_a_full_check(
    tmp_path: Path,
) -> None:
    root, var_file = _stack(tmp_path)
    fresh = _check(root, var_file, cache="off")
    assert fresh and not (root / ".aibplan").exists()
    assert _check(root, var_file) == fresh  # kept ...
    cache = root / ".aibplan" / "dev" / CACHE_FILE
    assert cache.is_file()
    assert _check(root, var_file) == fresh  # ... and served: the same findings, in the same order
    _plant(cache)
    assert _served(_check(root, var_file))


@pytest.mark.parametrize("flip", sorted(FLIPS))
def test_every_input_that_matters_misses_the_cache(tmp_path: Path, flip: str) -> None:
    root, var_file = _stack(tmp_path)
    _check(root, var_file)
    _plant(root / ".aibplan" / "dev" / CACHE_FILE)
    assert _served(_check(root, var_file))
    changed = FLIPS[flip](root, var_file)
    after = _check(root, var_file, **changed)
    assert not _served(after), flip
    # What a miss finds is what a check without the cache finds.
    assert after == _check(root, var_file, **{**changed, "cache": "off"})


def _document(wrong: dict[str, Any]) -> bytes:
    """A cache document under the right key whose one finding has a field of the wrong kind."""
    finding = {"code": "AIB2004", "severity": "info", "message": "m", "address": None, "path": []}
    finding |= {"file": None, "line": None, "column": None, "hint": None, "extra": []}
    return json.dumps({"format": 1, "key": "%KEY%", "diagnostics": [finding | wrong]}).encode()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json {",
        b"\xff\xfe\x00binary",
        b"[]",
        b'{"format": 1}',
        b'{"format": 1, "key": "%KEY%", "diagnostics": {}}',
        b'{"format": 1, "key": "%KEY%", "diagnostics": [{"code": "AIB2004"}]}',
        _document({"severity": "fatal"}),
        _document({"path": [1.5]}),
        _document({"line": "3"}),
        _document({"extra": [["a"]]}),
        b"[" * 100_000,
    ],
)
def test_a_cache_file_that_is_not_what_aibplan_writes_is_ignored_and_written_anew(
    tmp_path: Path, content: bytes
) -> None:
    root, var_file = _stack(tmp_path)
    fresh = _check(root, var_file, cache="off")
    _check(root, var_file)
    cache = root / ".aibplan" / "dev" / CACHE_FILE
    key = json.loads(cache.read_text())["key"]
    cache.write_bytes(content.replace(b"%KEY%", key.encode()))
    assert _check(root, var_file) == fresh
    assert json.loads(cache.read_text())["key"] == key  # written anew
    assert _check(root, var_file) == fresh


def test_a_cache_that_cannot_be_read_or_written_is_no_cache(tmp_path: Path) -> None:
    root, var_file = _stack(tmp_path)
    fresh = _check(root, var_file, cache="off")
    (root / ".aibplan" / "dev" / CACHE_FILE).mkdir(parents=True)  # a folder where the file would be
    assert _check(root, var_file) == fresh
    assert _check(root, var_file) == fresh


def test_validate_keeps_the_findings_only_where_the_runtime_folder_exists(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    root, _ = _stack(tmp_path)
    first = cli("validate", str(root))
    assert first.exit_code == 0, first.stderr
    assert not (root / ".aibplan").exists()  # a stack only validated is left as it was
    (root / ".aibplan" / "dev").mkdir(parents=True)
    assert cli("validate", str(root)).stdout == first.stdout
    assert (root / ".aibplan" / "dev" / CACHE_FILE).is_file()
    assert cli("validate", str(root)).stdout == first.stdout


SECRET_VAR = "Xk9vPlainAdm1nPw"
SECRET_TEXT = "Plainly5ecretValue"


def test_the_cache_holds_no_secret(tmp_path: Path, cli: Callable[..., Run]) -> None:
    body = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"adminPassword": {"type": "securestring"}},
        "resources": [
            {
                "type": "Microsoft.VirtualMachineImages/imageTemplates",
                "apiVersion": "2024-02-01",
                "name": "t1",
                "location": "[parameters('adminPassword')]",
                "properties": {
                    "source": {
                        "type": "PlatformImage",
                        "publisher": "p",
                        "offer": "o",
                        "sku": "s",
                        "version": "1",
                    },
                    "customize": [
                        {
                            "type": "Shell",
                            "name": "pw",
                            "inline": [
                                "[concat('echo ', parameters('adminPassword'), ' | chpasswd')]",
                                f"export DB_PASSWORD={SECRET_TEXT}",
                            ],
                        }
                    ],
                },
            }
        ],
    }
    root = write_stack(tmp_path / "stack", {"template.json": body})
    (root / ".aibplan").mkdir()
    for _ in range(2):
        run = cli("validate", "--var", f"adminPassword={SECRET_VAR}", str(root))
        assert run.exit_code == 1
        assert "is not an Azure region" in run.stdout + run.stderr
    text = (root / ".aibplan" / CACHE_FILE).read_text()
    # The findings about the secrets are kept, the secrets are not.
    assert "is not an Azure region" in text and "<secret:sha256:" in text and "AIB3410" in text
    assert SECRET_VAR not in text and SECRET_TEXT not in text
