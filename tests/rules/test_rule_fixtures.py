"""Every rule has a failing and a passing fixture, and each produces exactly the diagnostics it lists.

tests/fixtures/rules/<RULE_ID>/{fail,pass}/ hold either a stack (with aibplan.json) or files validated
alone; tests/fixtures/rules/<RULE_ID>/expected.json lists, for "fail" and "pass", every diagnostic as
{"code", "severity", "file", "line", "path"} - the complete list, so a fixture also shows that nothing else
fires. A failing fixture lists its rule's code at least once; a passing fixture never does.

After a deliberate change, `python -m tests.rules.test_rule_fixtures` rewrites the expected files; review the
diff before committing it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from planner.rules.registry import ALL_RULES
from tests.helpers import run_fixture

RULES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
CASES = sorted((p.parent.name, p.name) for p in RULES_DIR.glob("*/*") if p.is_dir())


def _expected(rule: str, kind: str) -> list[dict[str, object]]:
    found = json.loads((RULES_DIR / rule / "expected.json").read_text())[kind]
    return sorted(found, key=lambda d: json.dumps(d, sort_keys=True))


def test_every_rule_has_both_fixtures() -> None:
    missing = [
        f"{rule.id}/{kind}"
        for rule in ALL_RULES
        for kind in ("fail", "pass")
        if not (RULES_DIR / rule.id / kind).is_dir() or not (RULES_DIR / rule.id / "expected.json").is_file()
    ]
    assert not missing, f"rules without fixtures: {missing}"
    unknown = sorted({rule for rule, _ in CASES} - {rule.id for rule in ALL_RULES})
    assert not unknown, f"fixtures for rules that do not exist: {unknown}"


@pytest.mark.parametrize(("rule", "kind"), CASES)
def test_fixture_produces_exactly_its_diagnostics(rule: str, kind: str) -> None:
    folder = RULES_DIR / rule / kind
    found = run_fixture(folder)
    assert found == _expected(rule, kind)
    codes = {d["code"] for d in found}
    if kind == "fail":
        assert rule in codes, f"the failing fixture does not trigger {rule}"
    else:
        assert rule not in codes, f"the passing fixture triggers {rule}"


def _regenerate() -> None:
    for rule in sorted({rule for rule, _ in CASES}):
        document = {kind: run_fixture(RULES_DIR / rule / kind) for kind in ("fail", "pass")}
        (RULES_DIR / rule / "expected.json").write_text(json.dumps(document, indent=2) + "\n")
    print(f"rewrote {len({rule for rule, _ in CASES})} expected.json files", file=sys.stderr)


if __name__ == "__main__":
    _regenerate()
