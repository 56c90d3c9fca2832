"""The registry, the catalog and docs/rules.md agree: ids, sections, schema codes, and the generated page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from planner.rules.docs import render
from planner.rules.fields import SERVED
from planner.rules.registry import ALL_RULES
from planner.rules.sections import ALL_SECTIONS, ANCHORS
from providers.catalog import BY_KIND, schema_for
from providers.catalog.compiled import CArr, CInt, CMap, CNode, CObj, CompiledSchema, CStr, CUnion

ROOT = Path(__file__).resolve().parent.parent.parent
_RANGE_KINDS = {"2": None, "3": "imageTemplate", "5": "imageTemplate"}


def test_docs_rules_md_is_generated_from_the_registry() -> None:
    on_disk = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert on_disk == render(), "docs/rules.md is stale: run `python -m planner.rules.docs > docs/rules.md`"


def test_docs_end_with_every_reference_section() -> None:
    text = render()
    table = text[text.index("## Sections and the rules that enforce them") :]
    for anchor, _, why_none in ALL_SECTIONS:
        row = next(line for line in table.splitlines() if line.startswith(f"| `{anchor}` |"))
        if why_none is None:
            assert "[AIB" in row, f"section {anchor} has no rule and no reason"
        else:
            assert why_none.replace("|", "\\|") in row


def test_rule_ids_are_unique_well_formed_and_documented() -> None:
    ids = [rule.id for rule in ALL_RULES]
    assert len(ids) == len(set(ids))
    for rule in ALL_RULES:
        assert re.fullmatch(r"AIB[0-9]{4}", rule.id), rule.id
        assert rule.section in ANCHORS and set(rule.also) <= ANCHORS, rule.id
        assert rule.summary and rule.example, rule.id
        assert (rule.check is None) == (rule.stage != "rule"), rule.id
        expected_kind = _RANGE_KINDS.get(rule.id[3])
        if expected_kind and rule.id[3] != "2":
            assert rule.kinds == (expected_kind,), rule.id


def _codes(node: CNode) -> Iterator[str]:
    if isinstance(node, CObj):
        for _, code in node.required:
            if code:
                yield code
        for spec in node.fields.values():
            yield from _codes(spec.node)
    elif isinstance(node, CUnion):
        if node.code:
            yield node.code
        for variant in node.variants.values():
            yield from _codes(variant)
    elif isinstance(node, CArr):
        yield from _codes(node.items)
    elif isinstance(node, CMap):
        yield from _codes(node.values)
    elif isinstance(node, (CStr, CInt)) and node.code:
        yield node.code


def _compiled() -> Iterator[CompiledSchema]:
    for kind, rtype in BY_KIND.items():
        for version in rtype.all_api_versions():
            schema = schema_for(kind, version)
            assert schema is not None and schema.api_version == version
            yield schema


def test_every_code_a_schema_can_report_is_a_rule_that_reports_it() -> None:
    registered = {rule.id for rule in ALL_RULES}
    for schema in _compiled():
        codes = {*schema.codes.values(), *_codes(schema.root)}
        assert codes <= registered, (schema.arm_type, schema.api_version, codes - registered)
        assert codes <= SERVED, (schema.arm_type, schema.api_version, codes - SERVED)


@pytest.mark.parametrize(
    ("version", "field", "introduced"),
    [
        ("2020-02-14", ("vmProfile", "userAssignedIdentities"), "2021-10-01"),
        ("2021-10-01", ("validate",), "2022-02-14"),
        ("2022-02-14", ("optimize",), "2022-07-01"),
        ("2022-07-01", ("errorHandling",), "2023-07-01"),
        ("2023-07-01", ("autoRun",), "2024-02-01"),
        ("2024-02-01", ("additionalDataDisks",), "2025-10-01"),
        ("2019-05-01-preview", ("vmProfile", "osDiskSizeGB"), "2020-02-14"),
    ],
)
def test_the_catalog_knows_which_version_introduced_a_field(
    version: str, field: tuple[str, ...], introduced: str
) -> None:
    schema = schema_for("imageTemplate", version)
    assert schema is not None
    node = schema.root.fields["properties"].node
    for name in field[:-1]:
        assert isinstance(node, CObj)
        node = node.fields[name].node
    assert isinstance(node, CObj)
    assert node.absent[field[-1]] == f"introduced in api version {introduced}"
    later = schema_for("imageTemplate", introduced)
    assert later is not None


def test_only_2024_02_01_and_later_reject_unknown_fields() -> None:
    strict = {s.api_version for s in _compiled() if s.arm_type.endswith("imageTemplates") and s.strict}
    assert strict == {"2024-02-01", "2025-10-01"}
