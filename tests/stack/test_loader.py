"""Loading stacks: every file format, expressions, parameters and their precedence, and bad input."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from planner.diagnostics import Severity
from planner.stack.loader import load_stack
from planner.stack.loader.loading import body_json
from planner.stack.model import Stack
from tests.helpers import STACK_CONFIG, write_stack

CONFIG = STACK_CONFIG
IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"


def load_ok(root: Path, **kwargs: object) -> Stack:
    stack, diagnostics = load_stack(root, **kwargs)  # type: ignore[arg-type]
    assert stack is not None, [d.message for d in diagnostics]
    return stack


def test_single_resource_object(tmp_path: Path) -> None:
    root = write_stack(
        tmp_path, {"id.json": {"type": IDENTITY_TYPE, "apiVersion": "2023-01-31", "name": "builder"}}
    )
    stack = load_ok(root)
    (resource,) = stack.resources
    assert resource.address == "identity.builder"
    assert resource.arm_id == (
        "/subscriptions/sub-1/resourceGroups/rg-images/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/builder"
    )
    assert resource.body["location"] == "westeurope"  # the stack's default location


def test_list_of_resources_and_child_type(tmp_path: Path) -> None:
    root = write_stack(
        tmp_path,
        {
            "gallery.json": [
                {"type": "Microsoft.Compute/galleries", "name": "gal", "location": "westeurope"},
                {
                    "type": "Microsoft.Compute/galleries/images",
                    "name": "gal/linux",
                    "location": "westeurope",
                    "properties": {
                        "osType": "Linux",
                        "osState": "Generalized",
                        "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
                    },
                },
            ]
        },
    )
    stack = load_ok(root)
    assert [r.address for r in stack.resources] == ["gallery.gal", "imageDefinition.gal/linux"]
    assert stack.by_address["imageDefinition.gal/linux"].arm_id.endswith("/galleries/gal/images/linux")


def test_nested_child_resources_are_flattened(tmp_path: Path) -> None:
    root = write_stack(
        tmp_path,
        {
            "gallery.json": {
                "type": "Microsoft.Compute/galleries",
                "name": "gal",
                "resources": [{"type": "images", "name": "win", "properties": {"osType": "Windows"}}],
            }
        },
    )
    stack = load_ok(root)
    assert "imageDefinition.gal/win" in stack.by_address


def test_bare_template_body_takes_its_name_from_the_file(tmp_path: Path) -> None:
    root = write_stack(
        tmp_path,
        {
            "helloImageTemplate.json": {
                "type": "Microsoft.VirtualMachineImages/imageTemplates",
                "properties": {},
            }
        },
    )
    stack = load_ok(root)
    assert [r.address for r in stack.resources] == ["imageTemplate.helloImageTemplate"]


def test_comments_are_accepted(tmp_path: Path) -> None:
    text = """{
      // the builder identity
      "type": "Microsoft.ManagedIdentity/userAssignedIdentities", /* inline */ "name": "b"
    }"""
    stack = load_ok(write_stack(tmp_path, {"id.json": text}))
    assert stack.resources[0].name == "b"


def test_deployment_template_with_parameters_variables_and_functions(tmp_path: Path) -> None:
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "prefix": {"type": "string", "defaultValue": "corp"},
            "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
            "count": {"type": "int", "defaultValue": 2},
        },
        "variables": {
            "galleryName": "[format('{0}_gallery', toUpper(parameters('prefix')))]",
            "identityName": "[concat(parameters('prefix'), '-', uniqueString(resourceGroup().id))]",
        },
        "resources": [
            {
                "type": "Microsoft.Compute/galleries",
                "apiVersion": "2024-03-03",
                "name": "[variables('galleryName')]",
                "location": "[parameters('location')]",
                "tags": {
                    "sub": "[subscription().subscriptionId]",
                    "rg": "[resourceGroup().name]",
                    "n": "[string(parameters('count'))]",
                    "lit": "[[not an expression]",
                    "g": "[guid('a', 'b')]",
                    "e": "[if(empty(''), 'yes', 'no')]",
                    "c": "[coalesce(null(), 'first')]",
                    "lower": "[toLower('ABC')]",
                    "eq": "[string(equals(1, 1))]",
                },
            },
            {
                "type": IDENTITY_TYPE,
                "apiVersion": "2023-01-31",
                "name": "[variables('identityName')]",
                "dependsOn": ["[resourceId('Microsoft.Compute/galleries', variables('galleryName'))]"],
            },
        ],
    }
    stack = load_ok(write_stack(tmp_path, {"pipeline.json": template}))
    gallery = stack.by_address["gallery.CORP_gallery"]
    assert gallery.body["location"] == "westeurope"
    tags = gallery.body["tags"]
    assert tags["sub"] == "sub-1" and tags["rg"] == "rg-images" and tags["n"] == "2"
    assert tags["lit"] == "[not an expression]"
    assert tags["g"] == str(uuid.uuid5(uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830"), "a-b"))
    assert tags["e"] == "yes" and tags["c"] == "first" and tags["lower"] == "abc" and tags["eq"] == "True"
    identity = next(r for r in stack.resources if r.kind == "identity")
    assert identity.name.startswith("corp-") and len(identity.name) == len("corp-") + 13
    assert identity.depends_on == (gallery.arm_id,)


def test_parameter_precedence(tmp_path: Path) -> None:
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "parameters": {"name": {"type": "string", "defaultValue": "from-default"}},
        "resources": [{"type": IDENTITY_TYPE, "name": "[parameters('name')]"}],
    }
    root = write_stack(tmp_path / "s", {"t.json": template})
    assert load_ok(root).resources[0].name == "from-default"
    config = {**CONFIG, "parameters": {"name": "from-config"}}
    root = write_stack(tmp_path / "s", {"t.json": template}, config)
    assert load_ok(root).resources[0].name == "from-config"
    var_file = tmp_path / "values.parameters.json"
    var_file.write_text(json.dumps({"parameters": {"name": {"value": "from-file"}}}))
    assert load_ok(root, var_files=[var_file]).resources[0].name == "from-file"
    assert (
        load_ok(root, var_files=[var_file], variables=[("name", "from-var")]).resources[0].name == "from-var"
    )


def test_var_values_are_converted_to_the_declared_type(tmp_path: Path) -> None:
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "parameters": {"regions": {"type": "array"}, "size": {"type": "int"}},
        "resources": [
            {
                "type": IDENTITY_TYPE,
                "name": "x",
                "tags": {
                    "r": "[string(length(parameters('regions')))]",
                    "s": "[string(add(parameters('size'), 1))]",
                },
            }
        ],
    }
    root = write_stack(tmp_path, {"t.json": template})
    stack = load_ok(root, variables=[("regions", '["a","b","c"]'), ("size", "41")])
    assert stack.resources[0].body["tags"] == {"r": "3", "s": "42"}
    stack, diagnostics = load_stack(root, variables=[("regions", "[]"), ("size", "many")])
    assert stack is None
    assert any("expected an integer" in d.message and d.code == "AIB0009" for d in diagnostics)


def test_missing_parameter_value_is_an_error(tmp_path: Path) -> None:
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "parameters": {"name": {"type": "string"}},
        "resources": [{"type": IDENTITY_TYPE, "name": "[parameters('name')]"}],
    }
    stack, diagnostics = load_stack(write_stack(tmp_path, {"t.json": template}))
    assert stack is None
    (d,) = [d for d in diagnostics if d.is_error]
    assert d.code == "AIB0009" and "'name' has no value" in d.message and d.line is not None


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    root = write_stack(tmp_path, {"bad.json": '{\n  "type": "x",\n  "name": "y",\n}\n'})
    stack, diagnostics = load_stack(root)
    assert stack is None
    (d,) = diagnostics
    assert (d.code, d.file, d.line, d.column) == ("AIB0001", "bad.json", 3, 14)
    assert "trailing comma" in d.message


def test_unsupported_function_names_function_file_and_path(tmp_path: Path) -> None:
    resource = {"type": IDENTITY_TYPE, "name": "x", "tags": {"k": "[deployer().objectId]"}}
    stack, diagnostics = load_stack(write_stack(tmp_path, {"id.json": resource}))
    assert stack is None
    (d,) = diagnostics
    assert d.code == "AIB0004" and "deployer" in d.message
    assert d.file == "id.json" and d.path == ("tags", "k") and d.line == 5


def test_leftover_placeholder_names_token_and_place(tmp_path: Path) -> None:
    resource = {"type": IDENTITY_TYPE, "name": "x", "location": "<region>"}
    stack, diagnostics = load_stack(write_stack(tmp_path, {"id.json": resource}))
    assert stack is None
    (d,) = diagnostics
    assert d.code == "AIB0005" and "'<region>'" in d.message and d.path == ("location",) and d.line == 4


def test_shell_syntax_in_inline_commands_is_not_a_placeholder(tmp_path: Path) -> None:
    resource = {
        "type": "Microsoft.VirtualMachineImages/imageTemplates",
        "name": "t",
        "properties": {
            "customize": [{"type": "Shell", "inline": ["sed -i 's/<title>/x/' f", "echo <imgBuilderId>"]}]
        },
    }
    _stack, diagnostics = load_stack(write_stack(tmp_path, {"t.json": resource}))
    codes = [(d.code, d.message) for d in diagnostics]
    assert codes == [("AIB0005", "leftover placeholder '<imgBuilderId>'")]


def test_unmanaged_type_is_a_visible_warning(tmp_path: Path) -> None:
    resources = [
        {"type": IDENTITY_TYPE, "name": "x"},
        {"type": "Microsoft.Storage/storageAccounts", "name": "abc"},
    ]
    stack, diagnostics = load_stack(write_stack(tmp_path, {"r.json": resources}))
    assert stack is not None
    (d,) = diagnostics
    assert d.severity is Severity.WARNING and d.code == "AIB0006"
    assert "does not manage Microsoft.Storage/storageAccounts" in d.message
    assert [u.address for u in stack.unmanaged] == ["Microsoft.Storage/storageAccounts.abc"]


def test_missing_type_and_config_errors(tmp_path: Path) -> None:
    stack, diagnostics = load_stack(write_stack(tmp_path / "a", {"r.json": {"name": "x"}}))
    assert stack is None and diagnostics[0].code == "AIB0008" and "no 'type'" in diagnostics[0].message
    (tmp_path / "b").mkdir()
    stack, diagnostics = load_stack(tmp_path / "b")
    assert stack is None and "has no aibplan.json" in diagnostics[0].message
    stack, diagnostics = load_stack(write_stack(tmp_path / "c", {}, {"resourceGroup": "rg", "location": "x"}))
    assert stack is None and "'subscriptionId' is required" in diagnostics[0].message


def test_duplicate_resources_are_reported(tmp_path: Path) -> None:
    root = write_stack(
        tmp_path,
        {"a.json": {"type": IDENTITY_TYPE, "name": "x"}, "b.json": {"type": IDENTITY_TYPE, "name": "X"}},
    )
    stack, diagnostics = load_stack(root)
    assert stack is None and diagnostics[0].code == "AIB0007"


def test_state_and_parameter_files_are_not_resources(tmp_path: Path) -> None:
    root = write_stack(
        tmp_path,
        {
            "id.json": {"type": IDENTITY_TYPE, "name": "x"},
            "aibplan.state.json": {"format_version": 1},
            "dev.parameters.json": {"parameters": {}},
        },
    )
    assert [r.name for r in load_ok(root).resources] == ["x"]


def test_examples_load_cleanly(example: object) -> None:
    from tests.helpers import EXAMPLES

    for name in ("quickstart", "arm-deployment"):
        stack, diagnostics = load_stack(EXAMPLES / name)
        assert stack is not None, diagnostics
        assert [d for d in diagnostics if d.is_error] == []


def test_resources_taken_as_written_are_evaluated_alike_and_hashed_alike(tmp_path: Path) -> None:
    """In a file with few expressions, a resource without one is taken as written (its body not walked)
    and its body's JSON text, written then, is reused by the inputs hash: the bodies and the hash must be
    what evaluating every body and hashing it would give."""
    resources = [
        {"type": IDENTITY_TYPE, "name": "plain", "tags": {"b": "2", "a": "x [y]"}, "dependsOn": ["placed"]},
        {
            "type": IDENTITY_TYPE,
            "name": "placed",
            "location": "eastus",
            "tags": {"z": 1, "y": [True, None, 1.5]},
        },
        {"type": IDENTITY_TYPE, "name": "escaped", "tags": {"a": "[[literal]"}},
        {"type": IDENTITY_TYPE, "name": "computed", "tags": {"at": "[resourceGroup().location]"}},
    ]
    stack = load_ok(write_stack(tmp_path, {"r.json": resources}))
    bodies = {r.name: r.body for r in stack.resources}
    assert bodies == {
        "plain": {"tags": {"b": "2", "a": "x [y]"}, "location": CONFIG["location"]},
        "placed": {"location": "eastus", "tags": {"z": 1, "y": [True, None, 1.5]}},
        "escaped": {"tags": {"a": "[literal]"}, "location": CONFIG["location"]},
        "computed": {"tags": {"at": CONFIG["location"]}, "location": CONFIG["location"]},
    }
    config = stack.config
    digest = hashlib.sha256()
    settings = [config.subscription_id, config.resource_group, config.location, config.provider]
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for r in sorted(stack.resources, key=lambda r: r.address):
        shown = [r.address, r.api_version, r.body, r.depends_on]
        text = json.dumps(shown, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))
        assert text == body_json(shown)
        digest.update(text.encode())
    assert stack.inputs_hash == digest.hexdigest()


@pytest.mark.parametrize(
    "value",
    [
        {"b": [1, 2.5, True, None], "a": "é \u2028 [x]"},  # a null: written by json
        {"z": {"y": 1e16, "x": -0.0}, "a": ["\n\t\u001f", "/"]},
        {"big": 2**70},  # beyond 64 bits: orjson cannot
        {"inf": float("inf")},  # orjson would write null
        {"when": datetime(2026, 12, 3, tzinfo=timezone.utc), "d": date(2026, 1, 2)},
    ],
)
def test_the_body_text_is_what_compact_sorted_json_writes(value: Any) -> None:
    """The inputs hash's text of a value (loading.body_json) is json.dumps' compact, key-sorted writing, by
    orjson where it can: one text per value, whichever writes it."""
    expected = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))
    assert body_json(value) == expected
    assert body_json([value, "x"]) == f'[{expected},"x"]'


def test_the_inputs_hash_is_of_the_evaluated_stack_and_changes_with_it(tmp_path: Path) -> None:
    """A value written out or computed by an expression hashes alike; another value does not."""

    def stack_with(location: str, tag: object) -> str:
        resources = [{"type": IDENTITY_TYPE, "name": "id", "location": location, "tags": {"t": tag}}]
        return load_ok(
            write_stack(tmp_path / str(len(list(tmp_path.iterdir()))), {"r.json": resources})
        ).inputs_hash

    written = stack_with(CONFIG["location"], 2**70)
    assert stack_with("[resourceGroup().location]", 2**70) == written
    assert stack_with(CONFIG["location"], 2**70 + 1) != written
    assert stack_with(CONFIG["location"], "x") != stack_with(CONFIG["location"], "y")
