"""Adding a kind touches only the catalog (and its rules): read from the source with `ast`, no module
outside `providers/catalog/` and `planner/rules/` names a kind.

A kind is named by a string equal to it (`"imageTemplate"`), by an address written out
(`"imageTemplate."`, `"imageTemplate.web"`, the constant part of `f"imageTemplate.{name}"`), or by a
comparison of something's `kind` with a string. `identity` is also the ARM body key of the same name, so
for it only a comparison with a `kind`, or a tuple holding it beside another kind, counts. Docstrings,
messages and examples in sentences (anything with a space) are prose, not code that branches.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from planner.stack.model import BODY_KEYS
from providers.catalog import EXTERNAL_KINDS, RESOURCE_TYPES
from providers.catalog.artifacts import ARTIFACT_TYPES
from tests.helpers import ROOT

KINDS = {t.kind for t in (*RESOURCE_TYPES, *ARTIFACT_TYPES)}
ALLOWED = ("providers/catalog/", "planner/rules/")
_ADDRESS = re.compile(r"^(?P<kind>[A-Za-z]+)\.\S*$")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _is_kind_name(node: ast.AST) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    return name == "kind" or name.endswith("_kind")


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [s for item in node.elts for s in _strings(item)]
    return []


def kind_literals(source: str, filename: str) -> Iterator[tuple[int, str]]:
    """(line, what) for every place the source names a kind."""
    tree = ast.parse(source, filename)
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_kind_name(side) for side in sides):
                for side in sides:
                    for text in _strings(side):
                        if text in KINDS:
                            yield node.lineno, f"a kind compared with '{text}'"
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            named = [s for s in _strings(node) if s in KINDS]
            if len(named) > 1 and any(s not in BODY_KEYS for s in named):
                yield node.lineno, f"a list of kinds {named}"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
            if text in KINDS and text not in BODY_KEYS:
                yield node.lineno, f"the kind '{text}'"
            address = _ADDRESS.match(text)
            if address and address.group("kind") in KINDS:
                yield node.lineno, f"the address '{text}'"


def _modules() -> list[Path]:
    files = [p for top in ("planner", "providers", "state") for p in (ROOT / top).rglob("*.py")]
    return sorted(p for p in files if not p.relative_to(ROOT).as_posix().startswith(ALLOWED))


def test_no_module_outside_the_catalog_and_the_rules_names_a_kind() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in _modules()
        for line, what in kind_literals(path.read_text(), str(path))
    ]
    assert not found, "kinds named outside the catalog:\n" + "\n".join(found)


def test_the_check_catches_each_way_of_naming_a_kind() -> None:
    source = '''
"""A docstring naming imageTemplate.web is prose."""
CASCADING = ("gallery", "imageDefinition", "identity")
if change.kind == "imageTemplate":
    pass
if resource.kind != "identity":
    pass
address = f"imageTemplate.{name}"
body.get("identity")
message = "run `aibplan cancel imageTemplate.NAME` first"
'''
    found = sorted(what for _, what in kind_literals(source, "example.py"))
    assert found == sorted(
        [
            "a list of kinds ['gallery', 'imageDefinition', 'identity']",
            "the kind 'gallery'",
            "the kind 'imageDefinition'",
            "a kind compared with 'imageTemplate'",
            "the kind 'imageTemplate'",
            "a kind compared with 'identity'",
            "the address 'imageTemplate.'",
        ]
    )


def test_every_kind_shows_in_graphs_when_referenced_from_outside() -> None:
    assert set(EXTERNAL_KINDS.values()) >= KINDS
