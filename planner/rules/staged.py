"""Rules reported while loading files or building the graph. Registered without a check so that they are
documented, have fixtures and appear in SARIF like the rest; the loader and the graph emit the codes."""

from __future__ import annotations

from ..diagnostics import Severity
from . import Rule

_ALL = ("*",)
_FORMAT = "create-an-azure-image-builder-template"

RULES = (
    Rule(
        "AIB0001",
        Severity.ERROR,
        "files are JSON (comments allowed): no trailing commas, single quotes or "
        "missing commas; reported with file, line and column",
        _FORMAT,
        _ALL,
        None,
        stage="load",
        example='"customize": [ {...}, ]',
    ),
    Rule(
        "AIB0004",
        Severity.ERROR,
        "ARM expressions can be evaluated before deployment; a value known only after apply "
        "(reference()) only in the body",
        _FORMAT,
        _ALL,
        None,
        stage="load",
        example="\"[listKeys(variables('storageId'), '2023-01-01').keys[0].value]\"",
    ),
    Rule(
        "AIB0005",
        Severity.ERROR,
        "no sample placeholder is left (<region>, <imgBuilderId>, ...)",
        _FORMAT,
        _ALL,
        None,
        stage="load",
        example='"location": "<region>"',
    ),
    Rule(
        "AIB0006",
        Severity.WARNING,
        "resources of types aibplan does not manage are reported and left out",
        "type-and-api-version",
        _ALL,
        None,
        stage="load",
        example='"type": "Microsoft.Storage/storageAccounts"',
    ),
    Rule(
        "AIB0010",
        Severity.WARNING,
        "a file validated alone reports the parameter and scope values it lacks "
        "(nothing is guessed; checks of those values are skipped)",
        _FORMAT,
        _ALL,
        None,
        stage="load",
        example='"location": "[resourceGroup().location]" in a file given without a stack',
    ),
    Rule(
        "AIB0011",
        Severity.WARNING,
        "a file left out of the stack for its name (*.plan.json, *.state.json, *.parameters.json, .jsonc) "
        "holds no resources",
        _FORMAT,
        _ALL,
        None,
        stage="load",
        example="images.plan.json holding an image template",
    ),
    Rule(
        "AIB1001",
        Severity.ERROR,
        "resources do not depend on each other in a cycle",
        "depends-on-optional",
        _ALL,
        None,
        stage="graph",
        example="a template dependsOn its identity, which dependsOn the template",
    ),
    Rule(
        "AIB1002",
        Severity.ERROR,
        "every dependsOn entry names a resource in the stack (did-you-mean)",
        "depends-on-optional",
        _ALL,
        None,
        stage="graph",
        example='"dependsOn": ["aibBuidler"]',
    ),
    Rule(
        "AIB1003",
        Severity.ERROR,
        "every reference() names a resource: by name, one of the stack; by id, one of the stack or one "
        "outside it with its api version",
        "depends-on-optional",
        _ALL,
        None,
        stage="load",
        example='"principalId": "[reference(\'aibBuidler\').principalId]"',
    ),
    Rule(
        "AIB2001",
        Severity.ERROR,
        "type is the ARM type of a managed resource (a near miss is a typo, not another type)",
        "type-and-api-version",
        _ALL,
        None,
        stage="load",
        example='"type": "Microsoft.VirtualMachineImages/imageTemplate"',
    ),
)
