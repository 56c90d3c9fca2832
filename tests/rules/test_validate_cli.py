"""`aibplan validate` as users run it: formats, exit codes, --strict, files alone or in their stack, and
plan/apply stopping on the same errors."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import FIXTURES, Run, edit_json

TEMPLATE = FIXTURES / "rules" / "AIB3001" / "pass" / "template.json"


def test_text_lines_name_file_line_column_code_address_and_path(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    edit_json(root / "ubuntu2204.json", lambda d: d["properties"].update(buildTimeoutInMinutes=3))
    run = cli("validate", str(root))
    assert run.exit_code == 1
    assert (
        "ubuntu2204.json:20:30: error AIB3301 3 minutes fails: the smallest timeout is 6 (0 means the "
        "default, 240) (imageTemplate.ubuntu2204, properties.buildTimeoutInMinutes)" in run.stderr
    )
    assert "Failed: 7 resource(s) checked: 1 error(s), 0 warning(s)." in run.stdout


def test_json_document(example: Callable[[str], Path], cli: Callable[..., Run]) -> None:
    root = example("quickstart")
    edit_json(root / "ubuntu2204.json", lambda d: d["properties"]["distribute"][0].update(aritfactTags={}))
    run = cli("validate", "--format", "json", str(root))
    assert run.exit_code == 1
    document = json.loads(run.stdout)
    assert document["format_version"] == "1"
    assert document["summary"] == {"errors": 1, "warnings": 0, "suppressed": 0}
    assert document["suppressed"] == []
    (found,) = [d for d in document["diagnostics"] if d["severity"] != "info"]
    assert set(found) == {"code", "severity", "message", "file", "line", "column", "address", "path", "hint"}
    assert found["code"] == "AIB3001" and found["path"] == "properties.distribute[0].aritfactTags"
    assert found["hint"] == "did you mean 'artifactTags'?"


def test_strict_makes_warnings_fail(tmp_path: Path, cli: Callable[..., Run]) -> None:
    template = json.loads(TEMPLATE.read_text())
    template["properties"]["customize"][0]["inline"] = ["apt-get update"]  # AIB3412, a warning
    (tmp_path / "t.json").write_text(json.dumps(template))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        assert cli("validate", "t.json").exit_code == 0
        run = cli("validate", "--strict", "t.json")
    assert run.exit_code == 1 and "warning AIB3412" in run.stderr


def test_a_file_alone_reports_missing_scope_values_instead_of_guessing(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    template = json.loads(TEMPLATE.read_text())
    template["location"] = "[resourceGroup().location]"
    template["properties"]["distribute"] = [
        {"type": "ManagedImage", "runOutputName": "img", "location": "eastus",
         "imageId": "[resourceId('Microsoft.Compute/images', 'ubuntu')]"}
    ]  # fmt: skip
    (tmp_path / "t.json").write_text(json.dumps(template, indent=2))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        run = cli("validate", "--format", "json", "t.json")
    assert run.exit_code == 0
    found = {d["code"]: d for d in json.loads(run.stdout)["diagnostics"]}
    assert "the resource group's location is not known" in found["AIB0010"]["message"]
    assert found["AIB0010"]["path"] == "location" and found["AIB0010"]["line"] == 5
    # No region check ran on the unknown location, and the managed image region was not compared with it.
    assert "AIB2020" not in found and "AIB2021" not in found and "AIB5002" not in found


def test_a_file_in_a_stack_is_checked_with_its_stack(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    edit_json(root / "gallery.json", lambda d: d[1]["properties"].update(osType="Windows"))
    run = cli("validate", str(root / "ubuntu2204.json"))
    # The template's own diagnostics only, with the stack's scope and resources: AIB5003 needs the definition.
    assert run.exit_code == 1, run.stderr
    assert (
        "error AIB5003 the source is Linux, and imageDefinition.corpImages/ubuntu2204 has osType Windows"
        in (run.stderr)
    )
    assert "gallery.json" not in run.stderr and "AIB0010" not in run.stderr


def test_files_outside_any_stack_are_checked_together(tmp_path: Path, cli: Callable[..., Run]) -> None:
    source = FIXTURES / "rules" / "AIB5003" / "fail" / "resources.json"
    resources = json.loads(source.read_text())
    for index, resource in enumerate(resources):
        (tmp_path / f"r{index}.json").write_text(json.dumps(resource, indent=2))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        run = cli("validate", *sorted(p.name for p in tmp_path.iterdir()))
    assert run.exit_code == 1
    assert "r3.json:" in run.stderr and "error AIB5003" in run.stderr
    assert "info AIB0010 the subscription and resource group are not known" in run.stderr


def test_a_missing_file_is_one_clear_error(tmp_path: Path, cli: Callable[..., Run]) -> None:
    run = cli("validate", str(tmp_path / "nope.json"), str(TEMPLATE))
    assert run.exit_code == 1 and "nope.json is not a file" in run.stderr and "Traceback" not in run.stderr


def test_plan_and_apply_stop_on_validation_errors(
    example: Callable[[str], Path], cli: Callable[..., Run]
) -> None:
    root = example("quickstart")
    edit_json(root / "ubuntu2204.json", lambda d: d["properties"]["vmProfile"].update(osDiskSizeGB=-1))
    for command in (["plan"], ["apply", "--auto-approve"]):
        run = cli(*command, str(root))
        assert run.exit_code == 1
        assert "error AIB3101 -1 is below the minimum 0" in run.stderr
        assert "error(s) stop aibplan here" in run.stderr
    assert not (root / "aibplan.state.json").exists()


def test_plan_carries_validation_warnings(example: Callable[[str], Path], cli: Callable[..., Run]) -> None:
    root = example("quickstart")
    edit_json(
        root / "ubuntu2204.json", lambda d: d["properties"]["customize"][0].update(inline=["apt-get update"])
    )
    run = cli("plan", str(root))
    assert run.exit_code == 0 and "warning AIB3412 'apt-get' needs root" in run.stdout
    document = json.loads(cli("plan", "--json", str(root)).stdout)
    assert [d["code"] for d in document["diagnostics"]] == ["AIB3412"]


# ------------------------------------------------------------------------------------------------ SARIF

_LEVELS = {"none", "note", "warning", "error"}
# Properties SARIF 2.1.0 defines for the objects aibplan writes (the schema forbids others).
_ALLOWED = {
    "log": {"$schema", "version", "runs", "inlineExternalProperties", "properties"},
    "run": {"tool", "results", "originalUriBaseIds", "columnKind", "invocations", "artifacts", "properties",
            "automationDetails", "language", "defaultEncoding", "redactionTokens"},
    "driver": {"name", "version", "semanticVersion", "informationUri", "rules", "fullName", "organization",
               "notifications", "properties", "shortDescription", "fullDescription", "language"},
    "reportingDescriptor": {"id", "name", "shortDescription", "fullDescription", "help", "helpUri",
                            "defaultConfiguration", "properties", "messageStrings", "guid", "deprecatedIds"},
    "result": {"ruleId", "ruleIndex", "rule", "level", "kind", "message", "locations", "partialFingerprints",
               "fingerprints", "properties", "relatedLocations", "suppressions"},
    "location": {"physicalLocation", "logicalLocations", "message", "id", "annotations", "relationships",
                 "properties"},
    "physicalLocation": {"artifactLocation", "region", "contextRegion", "address", "properties"},
    "region": {"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength", "byteOffset",
               "byteLength", "snippet", "message", "sourceLanguage", "properties"},
}  # fmt: skip


def _only(obj: dict[str, Any], kind: str) -> None:
    extra = set(obj) - _ALLOWED[kind]
    assert not extra, f"{kind} has properties SARIF 2.1.0 does not define: {extra}"


def _check_sarif(log: dict[str, Any]) -> None:
    _only(log, "log")
    assert log["version"] == "2.1.0" and isinstance(log["runs"], list) and len(log["runs"]) == 1
    run = log["runs"][0]
    _only(run, "run")
    driver = run["tool"]["driver"]
    _only(driver, "driver")
    assert isinstance(driver["name"], str) and driver["name"]
    rules = driver["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    for rule in rules:
        _only(rule, "reportingDescriptor")
        assert isinstance(rule["id"], str) and rule["shortDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in _LEVELS
        assert rule["help"]["text"]
        assert "helpUri" not in rule or rule["helpUri"].startswith("https://")
    bases = run.get("originalUriBaseIds", {})
    for base in bases.values():
        assert base["uri"].startswith("file://") and base["uri"].endswith("/")
    for result in run["results"]:
        _only(result, "result")
        assert result["message"]["text"]
        assert result["level"] in _LEVELS
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        for location in result.get("locations", []):
            _only(location, "location")
            physical = location["physicalLocation"]
            _only(physical, "physicalLocation")
            artifact = physical["artifactLocation"]
            assert isinstance(artifact["uri"], str) and "\\" not in artifact["uri"]
            assert artifact.get("uriBaseId", "%SRCROOT%") in bases
            region = physical.get("region")
            if region is not None:
                _only(region, "region")
                assert isinstance(region["startLine"], int) and region["startLine"] >= 1
                assert isinstance(region["startColumn"], int) and region["startColumn"] >= 1


def test_sarif_is_sarif_2_1_0_with_rule_metadata_and_lines(
    example: Callable[[str], Path], cli: Callable[..., Run], tmp_path: Path
) -> None:
    root = example("quickstart")
    edit_json(root / "ubuntu2204.json", lambda d: d["properties"].update(buildTimeoutInMinutes=3))
    shutil.copy(FIXTURES / "rules" / "AIB0001" / "fail" / "template.json", root / "broken.json")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        run = cli("validate", "--format", "sarif", str(root.relative_to(tmp_path)))
    assert run.exit_code == 1
    log = json.loads(run.stdout)
    _check_sarif(log)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    timeout = results["AIB3301"]["locations"][0]["physicalLocation"]
    assert timeout["artifactLocation"] == {"uri": "quickstart/ubuntu2204.json", "uriBaseId": "%SRCROOT%"}
    assert timeout["region"] == {"startLine": 20, "startColumn": 30}
    syntax = results["AIB0001"]["locations"][0]["physicalLocation"]
    assert (
        syntax["artifactLocation"]["uri"] == "quickstart/broken.json" and syntax["region"]["startLine"] == 25
    )
    described = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert described["AIB3301"]["defaultConfiguration"]["level"] == "error"
    assert described["AIB3412"]["defaultConfiguration"]["level"] == "warning"
    assert len(described) >= 96


def test_sarif_of_every_rule_fixture_is_valid(cli: Callable[..., Run]) -> None:
    for folder in sorted((FIXTURES / "rules").glob("*/fail")):
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(folder)
            args = (
                ["."] if (folder / "aibplan.json").exists() else sorted(p.name for p in folder.glob("*.json"))
            )
            run = cli("validate", "--format", "sarif", *args)
        _check_sarif(json.loads(run.stdout))
