"""ARM's parameter rules as a stack loads them: values for undeclared parameters refused with a did-you-mean
(AIB0012), names matched without case, and a declaration's limits checked (AIB0013)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from planner.stack.loader import load_stack
from tests.helpers import write_stack

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def stack_with(tmp_path: Path, parameters: dict[str, Any]) -> Path:
    document = {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": parameters,
        "resources": [
            {
                "type": "Microsoft.Compute/galleries",
                "apiVersion": "2022-03-03",
                "name": "gal",
                "tags": {name: f"[string(parameters('{name}'))]" for name in parameters},
            }
        ],
    }
    return write_stack(tmp_path / "stack", {"main.json": document})


def test_a_var_for_an_undeclared_parameter_is_an_error_with_a_did_you_mean(tmp_path: Path) -> None:
    root = stack_with(tmp_path, {"vmSize": {"type": "string", "defaultValue": "Standard_D2s_v5"}})
    stack, diagnostics = load_stack(root, variables=[("vmSzie", "Standard_D4s_v5")])
    assert stack is None
    [problem] = diagnostics
    assert problem.code == "AIB0012"
    assert (
        problem.message
        == "--var gives a value for parameter 'vmSzie', which no template in the stack declares"
    )
    assert problem.hint == "did you mean 'vmSize'?"


def test_parameter_names_match_without_case_as_in_arm(tmp_path: Path) -> None:
    """`--var vmsize=...` for `vmSize` was silently ignored (the default used): it is the same parameter."""
    root = stack_with(tmp_path, {"vmSize": {"type": "string", "defaultValue": "Standard_D2s_v5"}})
    stack, diagnostics = load_stack(root, variables=[("vmsize", "Standard_D4s_v5")])
    assert stack is not None and diagnostics == []
    assert stack.resources[0].body["tags"] == {"vmSize": "Standard_D4s_v5"}


def test_the_later_source_wins_whatever_the_case(tmp_path: Path) -> None:
    root = stack_with(tmp_path, {"vmSize": {"type": "string"}})
    var_file = tmp_path / "values.json"
    var_file.write_text(json.dumps({"parameters": {"VMSIZE": {"value": "from-file"}}}))
    stack, _ = load_stack(root, variables=[("vmsize", "from-var")], var_files=[var_file])
    assert stack is not None and stack.resources[0].body["tags"] == {"vmSize": "from-var"}
    stack, _ = load_stack(root, var_files=[var_file])
    assert stack is not None and stack.resources[0].body["tags"] == {"vmSize": "from-file"}


def test_an_undeclared_value_in_a_var_file_is_placed_in_that_file(tmp_path: Path) -> None:
    root = stack_with(tmp_path, {"replicationRegions": {"type": "array", "defaultValue": []}})
    var_file = tmp_path / "values.json"
    var_file.write_text('{\n  "parameters": {\n    "replicationRegion": {"value": ["eastus"]}\n  }\n}\n')
    _, diagnostics = load_stack(root, var_files=[var_file])
    [problem] = diagnostics
    assert (problem.code, problem.line, problem.hint) == ("AIB0012", 3, "did you mean 'replicationRegions'?")


def test_a_value_a_plain_resource_file_reads_is_declared(tmp_path: Path) -> None:
    """Resource files outside a deployment template read the stack's values with parameters()."""
    body = {
        "type": "Microsoft.Compute/galleries",
        "apiVersion": "2022-03-03",
        "name": "gal",
        "tags": {"team": "[parameters('team')]"},
    }
    root = write_stack(tmp_path, {"gallery.json": body})
    _, diagnostics = load_stack(root, variables=[("team", "images"), ("tema", "x")])
    assert [(d.code, d.hint) for d in diagnostics] == [("AIB0012", "did you mean 'team'?")]


@pytest.mark.parametrize(
    ("declared", "value", "message"),
    [
        (
            {"type": "string", "allowedValues": ["dev", "prod"]},
            "test",
            "parameter 'p' (from --var) is \"test\"; allowed values: dev, prod",
        ),
        (
            {"type": "int", "minValue": 1, "maxValue": 5},
            "9",
            "parameter 'p' (from --var) is 9; it must be from 1 to 5 (minValue, maxValue)",
        ),
        (
            {"type": "int", "minValue": 10},
            "9",
            "parameter 'p' (from --var) is 9; it must be at least 10 (minValue)",
        ),
        (
            {"type": "string", "maxLength": 4},
            "abcdef",
            "parameter 'p' (from --var) has 6 characters; it must have at most 4 (maxLength)",
        ),
        (
            {"type": "array", "minLength": 2, "maxLength": 3},
            '["westus"]',
            "parameter 'p' (from --var) has 1 items; it must have from 2 to 3 (minLength, maxLength)",
        ),
        (
            {"type": "securestring", "minLength": 12},
            "hunter2",
            "parameter 'p' (from --var) has 7 characters; it must have at least 12 (minLength)",
        ),
        (
            {"type": "array", "allowedValues": ["westus", "eastus"]},
            '["westus", "mars"]',
            'parameter \'p\' (from --var) is ["westus", "mars"]; allowed values: westus, eastus',
        ),
    ],
)
def test_a_value_outside_its_declaration_is_refused_saying_what_is_allowed(
    tmp_path: Path, declared: dict[str, Any], value: str, message: str
) -> None:
    root = stack_with(tmp_path, {"p": declared})
    stack, diagnostics = load_stack(root, variables=[("p", value)])
    assert stack is None
    [problem] = diagnostics
    assert (problem.code, problem.message, problem.file) == ("AIB0013", message, "main.json")
    assert "hunter2" not in problem.message


def test_a_default_value_outside_its_limits_is_refused_too(tmp_path: Path) -> None:
    root = stack_with(tmp_path, {"n": {"type": "int", "maxValue": 3, "defaultValue": 4}})
    _, diagnostics = load_stack(root)
    assert [d.message for d in diagnostics] == [
        "parameter 'n' (from its defaultValue) is 4; it must be at most 3 (maxValue)"
    ]


def test_values_within_the_limits_load(tmp_path: Path) -> None:
    root = stack_with(
        tmp_path,
        {
            "n": {"type": "int", "minValue": 1, "maxValue": 5},
            "name": {"type": "string", "minLength": 3, "maxLength": 24, "allowedValues": ["abc", "images"]},
        },
    )
    stack, diagnostics = load_stack(root, variables=[("n", "5"), ("NAME", "images")])
    assert diagnostics == [] and stack is not None
    assert stack.resources[0].body["tags"] == {"n": "5", "name": "images"}
