"""Rule suppression, scoped and visible (docs/guardrails.md): each folder in tests/fixtures/suppression is a
stack, and `<folder>.expected.json` what `aibplan validate` reports for it: the findings kept, the ones
turned off with what turned them off, and the counts. `AIBPLAN_UPDATE_GOLDEN=1` rewrites the expected
files; review the diff before committing it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planner.diagnostics import Diagnostic, format_path
from planner.rules.validate import validate_paths
from tests.helpers import FIXTURES, Run

CASES = sorted(p for p in (FIXTURES / "suppression").iterdir() if p.is_dir())


def shown(d: Diagnostic) -> dict[str, Any]:
    return {
        "code": d.code,
        "severity": d.severity.value,
        "file": d.file,
        "line": d.line,
        "path": format_path(d.path) if d.path else None,
    }


def report(case: Path) -> dict[str, Any]:
    before = Path.cwd()
    os.chdir(case)
    try:
        result = validate_paths([Path(".")])
    finally:
        os.chdir(before)
    return {
        "diagnostics": [shown(d) for d in result.diagnostics if d.severity.value != "info"],
        "suppressed": [
            {**shown(s.diagnostic), "kind": s.by.kind, "by": s.by.where, "reason": s.by.reason}
            for s in result.suppressed
        ],
    }


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_suppression_case(case: Path) -> None:
    document = report(case)
    expected = case.with_name(case.name + ".expected.json")
    if os.environ.get("AIBPLAN_UPDATE_GOLDEN"):
        expected.write_text(json.dumps(document, indent=2) + "\n")
    assert expected.exists(), f"no {expected.name}; run with AIBPLAN_UPDATE_GOLDEN=1 and review it"
    assert document == json.loads(expected.read_text())


def test_every_case_turns_something_off_or_says_why_not() -> None:
    for case in CASES:
        document = report(case)
        notes = [d for d in document["diagnostics"] if d["code"] in ("AIB0003", "AIB0020")]
        assert document["suppressed"] or notes or case.name == "errors-from-loading-stay", case.name


def test_the_outputs_count_what_was_turned_off(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    case = FIXTURES / "suppression" / "inline-before-an-object"
    monkeypatch.chdir(case)
    run = cli("validate")
    assert run.exit_code == 0
    assert run.stdout.endswith("1 warning(s), 1 suppressed.\n")
    assert (
        "web.json:25:22: suppressed AIB3408 scriptUri without sha256Checksum: the downloaded file is not "
        "verified (by web.json:21: tools.sh is published by our own release pipeline)"
    ) in run.stderr
    document = json.loads(cli("validate", "--format", "json").stdout)
    assert document["summary"] == {"errors": 0, "warnings": 1, "suppressed": 1}
    (off,) = document["suppressed"]
    assert off["suppression"] == {
        "kind": "inSource",
        "where": "web.json:21",
        "justification": "tools.sh is published by our own release pipeline",
    }
    sarif = json.loads(cli("validate", "--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    suppressed = [r for r in results if r.get("suppressions")]
    assert [r["ruleId"] for r in suppressed] == ["AIB3408"]
    assert suppressed[0]["suppressions"] == [
        {
            "kind": "inSource",
            "status": "accepted",
            "justification": "tools.sh is published by our own release pipeline",
        }
    ]
    assert suppressed[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 25
    # --strict counts only what is left.
    assert cli("validate", "--strict").exit_code == 1


def test_a_suppressed_warning_leaves_the_plan_too(cli: Callable[..., Run], tmp_path: Path) -> None:
    case = FIXTURES / "suppression" / "config-everywhere"
    root = tmp_path / "stack"
    root.mkdir()
    for file in case.iterdir():
        (root / file.name).write_text(file.read_text())
    run = cli("plan", str(root))
    assert run.exit_code == 0, run.stderr
    assert "AIB3408" not in run.stdout + run.stderr
