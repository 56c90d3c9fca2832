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
        "AIB0012",
        Severity.ERROR,
        "every --var and --var-file value names a parameter a template declares (did-you-mean; names match "
        "without case, as in ARM)",
        _FORMAT,
        _ALL,
        None,
        stage="load",
        example="--var vmSzie=Standard_D4s_v5 for a template declaring vmSize",
    ),
    Rule(
        "AIB0013",
        Severity.ERROR,
        "a parameter's value keeps its declaration's allowedValues, minValue/maxValue and "
        "minLength/maxLength",
        _FORMAT,
        _ALL,
        None,
        stage="load",
        example='"buildTimeout": {"type": "int", "maxValue": 960} given --var buildTimeout=1440',
    ),
    Rule(
        "AIB0014",
        Severity.ERROR,
        "a .bicep file in the stack is compiled with the bicep CLI (bicep or az bicep on the PATH); without "
        "it, or when it fails, the file is an error, never left out",
        _FORMAT,
        _ALL,
        None,
        stage="load",
        example="main.bicep in a stack folder on a machine without bicep",
    ),
    Rule(
        "AIB0030",
        Severity.ERROR,
        "a copy loop is well formed: a resource's copy an object with a name and a count (mode serial or "
        "parallel, batchSize 1 to 800); a property or variable copy a list of {name, count, input}",
        _FORMAT,
        _ALL,
        None,
        stage="load",
        example='"copy": {"count": 3}',
    ),
    Rule(
        "AIB0031",
        Severity.ERROR,
        "a copy loop's count is an integer from 0 to 800, known before apply",
        _FORMAT,
        _ALL,
        None,
        stage="load",
        example='"copy": {"name": "web", "count": 1000}',
    ),
    Rule(
        "AIB0032",
        Severity.ERROR,
        "copy loops (resource and property) are on top-level resources only, not on a resource declared "
        "inside another's resources",
        _FORMAT,
        _ALL,
        None,
        stage="load",
        example="a gallery's nested images resource with a copy",
    ),
    Rule(
        "AIB0033",
        Severity.ERROR,
        "copyIndex() is used inside a copy loop, and copyIndex('name') inside the loop of that name",
        _FORMAT,
        _ALL,
        None,
        stage="load",
        example='"name": "[concat(\'web-\', copyIndex())]" on a resource without copy',
    ),
    Rule(
        "AIB0034",
        Severity.ERROR,
        "copy loop names are unique in a template, and a kind's loop instances (KIND.LOOP[INDEX]) in the "
        "stack",
        _FORMAT,
        _ALL,
        None,
        stage="load",
        example='two resources with "copy": {"name": "web", ...} in one template',
    ),
    Rule(
        "AIB0015",
        Severity.INFO,
        "a resource whose type names only the namespace (Microsoft.VirtualMachineImages) is recognised by "
        "what its body holds and checked fully",
        "type-and-api-version",
        _ALL,
        None,
        stage="load",
        example='"type": "Microsoft.VirtualMachineImages" on an image template body',
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
