"""Tests for planner.stack.expressions: parsing, every supported function, and error reporting."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import pytest

from planner.stack.expressions import Evaluator, ExpressionError, Scope, is_expression, unique_string

SUB = "00000000-0000-0000-0000-000000000000"
SCOPE = Scope(subscription_id=SUB, resource_group="my-rg", location="westeurope", tenant_id="tid")
PARAMS: dict[str, Any] = {
    "name": "img",
    "count": 3,
    "flag": True,
    "obj": {"y": [10, 20], "Mixed": "m"},
    "list": ["a", "b"],
    "nothing": None,
    "ratio": 1.5,
}
VARS: dict[str, Any] = {
    "prefix": "[concat('aib-', parameters('name'))]",
    "full": "[concat(variables('prefix'), '-', string(parameters('count')))]",
    "m": {"key": "[toUpper('v')]", "list": ["[variables('prefix')]", 2]},
    "plain": "literal",
    "cycleA": "[variables('cycleB')]",
    "cycleB": "[concat('x', variables('cycleA'))]",
    "self": "[variables('self')]",
    "broken": {"inner": ["ok", "[listKeys('r', '2023-01-01')]"]},
}


def ev(text: str, **kwargs: Any) -> Any:
    return Evaluator(SCOPE, PARAMS, VARS, **kwargs).evaluate_string(text)


def err(text: str, scope: Scope = SCOPE, **kwargs: Any) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        Evaluator(scope, PARAMS, VARS, **kwargs).evaluate_string(text)
    return info.value


# ---------------------------------------------------------------------- literals


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("", ""),
        ("[", "["),
        ("]", "]"),
        ("[not closed", "[not closed"),
        ("[[escaped]", "[escaped]"),
        ("[[concat('a')]", "[concat('a')]"),
        ("[[", "[["),
        ("a [concat('x')]", "a [concat('x')]"),
    ],
)
def test_literals_and_escapes(text: str, expected: str) -> None:
    assert ev(text) == expected


def test_is_expression() -> None:
    assert is_expression("[x()]")
    assert not is_expression("[[x()]")
    assert not is_expression("x")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("['it''s']", "it's"),
        ("['']", ""),
        ("[''''] ", "[''''] "),  # does not end with ']' : literal
        ("['a b']", "a b"),
        ("[ 'spaced' ]", "spaced"),
        ("[42]", 42),
        ("[-7]", -7),
        ("[ concat( 'a' , 'b' ) ]", "ab"),
        ("[concat('a',\n'b')]", "ab"),
        ("[CONCAT('a', 'b')]", "ab"),
        ("[true()]", True),
        ("[false()]", False),
        ("[null()]", None),
    ],
)
def test_literal_grammar(text: str, expected: Any) -> None:
    assert ev(text) == expected


# -------------------------------------------------------------- member / index


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[parameters('obj').y[0]]", 10),
        ("[parameters('obj')['y'][1]]", 20),
        ("[parameters('obj').mixed]", "m"),
        ("[variables('m')['key']]", "V"),
        ("[variables('m').list[0]]", "aib-img"),
        ("[parameters('list')[add(0, 1)]]", "b"),
        ("[createArray(1, 2, 3)[2]]", 3),
        ("[resourceGroup().location]", "westeurope"),
        ("[resourceGroup()['name']]", "my-rg"),
        ("[subscription().subscriptionId]", SUB),
        ('[json(\'{"a": {"b": [1, {"c": 5}]}}\').a.b[1].c]', 5),
        ("['abc'[1]]", "b"),
    ],
)
def test_member_and_index_access(text: str, expected: Any) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[parameters('obj').missing]", "property 'missing' does not exist (available: y, Mixed)"),
        ("[parameters('list')[5]]", "index 5 is out of range for an array of length 2"),
        ("[parameters('list').x]", "cannot access property 'x' of an array"),
        ("[parameters('count').x]", "cannot access property 'x' of integer"),
        ("[parameters('nothing').x]", "cannot access property 'x' of null"),
        ("[parameters('obj')[0]]", "cannot index an object with integer 0"),
    ],
)
def test_member_and_index_errors(text: str, fragment: str) -> None:
    assert fragment in err(text).message


# ------------------------------------------------------------- parse errors


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[concat('a',)]", "unexpected ')' at character 13 (expected a function call or a literal)"),
        ("[concat('a' 'b')]", "unexpected \"'b'\" at character 13 (expected ',' or ')')"),
        ("[concat('a'", "[concat('a'"),  # not an expression at all
        ("[concat('a']", "unexpected end of expression at character 12 (expected ',' or ')')"),
        ("[concat('a'))]", "unexpected ')' at character 13 (expected end of expression)"),
        ("[concat('abc)]", "unterminated string literal starting at character 9"),
        ("[concat('a') @]", "unexpected character '@' at character 14"),
        ("[]", "empty expression"),
        ("[  ]", "empty expression"),
        ("[true]", "unexpected 'true' at character 2 (expected true() - literals are written as function"),
        ("[concat]", "unexpected end of expression at character 8 (expected '(' after function name"),
        ("[parameters('obj').]", "unexpected end of expression at character 20 (expected a property name)"),
        ("[parameters('obj')[0]", "unexpected end of expression at character 21 (expected ']')"),
        ("[1.5]", "floating-point literal at character 2 is not supported"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    if not is_expression(text):
        assert ev(text) == message
        return
    error = err(text)
    assert error.message.startswith(message)
    assert error.expression == text
    assert error.function is None


# ------------------------------------------------------------ functions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # deployment values
        ("[parameters('name')]", "img"),
        ("[parameters('NAME')]", "img"),
        ("[variables('prefix')]", "aib-img"),
        ("[variables('full')]", "aib-img-3"),
        ("[variables('plain')]", "literal"),
        ("[variables('m')]", {"key": "V", "list": ["aib-img", 2]}),
        # strings
        ("[concat('a', 'b', 'c')]", "abc"),
        ("[concat('n', 1, true())]", "n1True"),
        ("[concat(createArray(1, 2), createArray(3), parameters('list'))]", [1, 2, 3, "a", "b"]),
        ("[format('{0}-{1}', 'a', 2)]", "a-2"),
        ("[format('{0:D3}', 7)]", "007"),
        ("[format('{0:D3}', -7)]", "-007"),
        ("[format('{{literal}} {0}', 'x')]", "{literal} x"),
        ("[format('{1}{0}{1}', 'a', 'b')]", "bab"),
        ("[format('{0,5}|{1,-3}|', 'ab', 'c')]", "   ab|c  |"),
        ("[format('{0:X}{0:x4}', 255)]", "FF00ff"),
        ("[format('{0:N0}', 1234567)]", "1,234,567"),
        ("[format('{0:000}', 5)]", "005"),
        ("[format('{0}', true())]", "True"),
        ("[toLower('AbC')]", "abc"),
        ("[toUpper('AbC')]", "ABC"),
        ("[trim('  x y \t')]", "x y"),
        ("[replace('a-b-c', '-', '_')]", "a_b_c"),
        ("[replace('aAa', 'a', 'x')]", "xAx"),
        ("[split('a,b,,c', ',')]", ["a", "b", "", "c"]),
        ("[split('a,b;c', createArray(',', ';'))]", ["a", "b", "c"]),
        ("[join(createArray('a', 'b', 1), '/')]", "a/b/1"),
        ("[substring('abcdef', 2)]", "cdef"),
        ("[substring('abcdef', 1, 3)]", "bcd"),
        ("[substring('abc', 3, 0)]", ""),
        ("[padLeft('7', 3, '0')]", "007"),
        ("[padLeft(7, 3)]", "  7"),
        ("[padLeft('abcd', 2, '0')]", "abcd"),
        ("[startsWith('Microsoft.Compute', 'microsoft.')]", True),
        ("[startsWith('abc', 'b')]", False),
        ("[endsWith('Image.VHD', '.vhd')]", True),
        ("[indexOf('abcABC', 'C')]", 2),
        ("[indexOf('abc', 'z')]", -1),
        ("[lastIndexOf('abcABC', 'b')]", 4),
        ("[indexOf(createArray('a', 'b', 'a'), 'a')]", 0),
        ("[lastIndexOf(createArray('a', 'b', 'a'), 'a')]", 2),
        ("[indexOf(createArray('a'), 'A')]", -1),
        ("[string('s')]", "s"),
        ("[string(12)]", "12"),
        ("[string(true())]", "True"),
        ("[string(false())]", "False"),
        ("[string(null())]", ""),
        ("[string(createArray(1, 'a', true(), null()))]", '[1,"a",true,null]'),
        ("[string(parameters('obj'))]", '{"y":[10,20],"Mixed":"m"}'),
        ('[string(json(\'{"e": "\\u00e9"}\'))]', '{"e":"\u00e9"}'),
        # conversions
        ("[int('42')]", 42),
        ("[int('-3')]", -3),
        ("[int(5)]", 5),
        ("[bool('TRUE')]", True),
        ("[bool('false')]", False),
        ("[bool(0)]", False),
        ("[bool(1)]", True),
        ("[bool(true())]", True),
        ("[array('x')]", ["x"]),
        ("[array(parameters('list'))]", ["a", "b"]),
        ("[array(parameters('obj'))]", [{"y": [10, 20], "Mixed": "m"}]),
        ("[json('[1, {\"a\": null}]')]", [1, {"a": None}]),
        ("[json('null')]", None),
        ("[base64('hello wörld')]", "aGVsbG8gd8O2cmxk"),
        ("[base64ToString('aGVsbG8gd8O2cmxk')]", "hello wörld"),
        ("[uri('https://a.b/c/d', 'e')]", "https://a.b/c/e"),
        ("[uri('https://a.b/c/', 'e/f')]", "https://a.b/c/e/f"),
        ("[uriComponent('a b/c?d=é')]", "a%20b%2Fc%3Fd%3D%C3%A9"),
        ("[uriComponentToString('a%20b%2Fc')]", "a b/c"),
        # logic / comparison
        ("[if(true(), 'yes', 'no')]", "yes"),
        ("[if(false(), 'yes', 'no')]", "no"),
        ("[if(equals(parameters('count'), 3), createArray(1), null())]", [1]),
        ("[equals('a', 'a')]", True),
        ("[equals('a', 'A')]", False),
        ("[equals(1, true())]", False),
        ("[equals(createArray(1, createObject('a', 'b')), json('[1, {\"a\": \"b\"}]'))]", True),
        ("[equals(createObject('a', 1), createObject('a', 2))]", False),
        ("[equals(null(), null())]", True),
        ("[not(false())]", True),
        ("[and(true(), true(), false())]", False),
        ("[and(true(), true())]", True),
        ("[or(false(), true())]", True),
        ("[or(false(), false())]", False),
        ("[less(1, 2)]", True),
        ("[less('b', 'a')]", False),
        ("[lessOrEquals(2, 2)]", True),
        ("[greater(3, 2)]", True),
        ("[greater('a', 'B')]", True),
        ("[greaterOrEquals(1, 2)]", False),
        ("[empty(null())]", True),
        ("[empty('')]", True),
        ("[empty(createArray())]", True),
        ("[empty(createObject())]", True),
        ("[empty(' ')]", False),
        ("[empty(parameters('list'))]", False),
        ("[coalesce(null(), null(), 'x', 'y')]", "x"),
        ("[coalesce(null())]", None),
        ("[coalesce(parameters('nothing'), 0)]", 0),
        # arrays / objects
        ("[length('abc')]", 3),
        ("[length(parameters('list'))]", 2),
        ("[length(parameters('obj'))]", 2),
        ("[contains('abc', 'b')]", True),
        ("[contains('abc', 'B')]", False),
        ("[contains('a1', 1)]", True),
        ("[contains(parameters('list'), 'a')]", True),
        ("[contains(parameters('list'), 'A')]", False),
        ("[contains(parameters('obj'), 'MIXED')]", True),
        ("[contains(parameters('obj'), 'z')]", False),
        ("[take('abcdef', 2)]", "ab"),
        ("[take(parameters('list'), 5)]", ["a", "b"]),
        ("[take(parameters('list'), -1)]", []),
        ("[skip('abcdef', 4)]", "ef"),
        ("[skip(parameters('list'), 1)]", ["b"]),
        ("[first('abc')]", "a"),
        ("[first('')]", ""),
        ("[first(parameters('list'))]", "a"),
        ("[first(createArray())]", None),
        ("[last('abc')]", "c"),
        ("[last(parameters('list'))]", "b"),
        ("[union(createArray(1, 2), createArray(2, 3), createArray(1, 4))]", [1, 2, 3, 4]),
        (
            "[union(createObject('a', 1, 'n', createObject('x', 1, 'y', 1)),"
            " createObject('b', 2, 'n', createObject('y', 2)))]",
            {"a": 1, "n": {"x": 1, "y": 2}, "b": 2},
        ),
        ("[intersection(createArray(1, 2, 3, 2), createArray(2, 3, 4))]", [2, 3]),
        (
            "[intersection(createObject('a', 1, 'b', 2), createObject('a', 1, 'b', 3))]",
            {"a": 1},
        ),
        ("[createArray()]", []),
        ("[createArray('a', 1, null())]", ["a", 1, None]),
        ("[createObject()]", {}),
        ("[createObject('k', 'v', 'n', createArray(1))]", {"k": "v", "n": [1]}),
        ("[range(5, 3)]", [5, 6, 7]),
        ("[range(0, 0)]", []),
        ("[objectKeys(parameters('obj'))]", ["y", "Mixed"]),
        ("[flatten(createArray(createArray(1), createArray(2, 3)))]", [1, 2, 3]),
        ("[tryGet(parameters('obj'), 'y', 1)]", 20),
        ("[tryGet(parameters('obj'), 'nope')]", None),
        ("[tryGet(parameters('obj'), 'y', 9)]", None),
        # arithmetic
        ("[add(2, 3)]", 5),
        ("[sub(2, 5)]", -3),
        ("[mul(-4, 5)]", -20),
        ("[div(7, 2)]", 3),
        ("[div(-7, 2)]", -3),
        ("[mod(7, 3)]", 1),
        ("[mod(-7, 3)]", -1),
        ("[min(3, 1, 2)]", 1),
        ("[min(createArray(5, -1))]", -1),
        ("[max(3, 1, 2)]", 3),
        ("[max(createArray(5, -1))]", 5),
        # nested calls
        ("[toUpper(substring(concat(parameters('name'), '-', variables('plain')), 0, 5))]", "IMG-L"),
        ("[length(split(join(createArray('a', 'b', 'c'), '.'), '.'))]", 3),
    ],
)
def test_functions(text: str, expected: Any) -> None:
    result = ev(text)
    assert result == expected
    assert type(result) is type(expected)


def test_uniquestring_known_values() -> None:
    assert ev("[uniqueString('test')]") == "rbgf3xv4ufgzg"
    assert ev("[uniqueString('hello', 'world')]") == "a7wkljktk6wne"
    assert ev("[uniqueString('abc')]") == "cgtzqvhu4i23s"
    assert ev("[uniqueString(resourceGroup().id)]") == "bmg7c6xu4tw46"
    assert unique_string(f"/subscriptions/{SUB}/resourceGroups/my-rg") == "bmg7c6xu4tw46"


@pytest.mark.parametrize("text", ["", "a", "abcdefg", "abcdefgh", "abcdefghi", "é" * 9, "x" * 33])
def test_uniquestring_shape(text: str) -> None:
    value = unique_string(text)
    assert len(value) == 13
    assert set(value) <= set("abcdefghijklmnopqrstuvwxyz234567")


def test_guid() -> None:
    namespace = uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830")
    assert ev("[guid('a', 'b', 'c')]") == str(uuid.uuid5(namespace, "a-b-c"))
    assert ev("[guid('x')]") == str(uuid.uuid5(namespace, "x"))


def test_scope_functions() -> None:
    assert ev("[resourceGroup()]") == {
        "id": f"/subscriptions/{SUB}/resourceGroups/my-rg",
        "name": "my-rg",
        "type": "Microsoft.Resources/resourceGroups",
        "location": "westeurope",
        "properties": {"provisioningState": "Succeeded"},
    }
    assert ev("[subscription()]") == {
        "id": f"/subscriptions/{SUB}",
        "subscriptionId": SUB,
        "tenantId": "tid",
    }
    assert ev("[tenant().tenantId]") == "tid"
    assert ev("[deployment()]") == {"name": "aibplan", "properties": {}}
    assert ev("[deployment().name]") == "aibplan"


# ------------------------------------------------------------ resourceId


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[resourceId('Microsoft.Compute/galleries', 'g')]",
            f"/subscriptions/{SUB}/resourceGroups/my-rg/providers/Microsoft.Compute/galleries/g",
        ),
        (
            "[resourceId('Microsoft.Compute/galleries/images', 'g', 'i')]",
            f"/subscriptions/{SUB}/resourceGroups/my-rg/providers/Microsoft.Compute/galleries/g/images/i",
        ),
        (
            "[resourceId('other-rg', 'Microsoft.Compute/galleries', 'g')]",
            f"/subscriptions/{SUB}/resourceGroups/other-rg/providers/Microsoft.Compute/galleries/g",
        ),
        (
            "[resourceId('sub2', 'rg.2', 'Microsoft.Compute/galleries/images/versions', 'g', 'i', '1.0.0')]",
            "/subscriptions/sub2/resourceGroups/rg.2/providers/Microsoft.Compute/galleries/g/images/i"
            "/versions/1.0.0",
        ),
        (
            "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-1')]",
            f"/subscriptions/{SUB}/resourceGroups/my-rg/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/id-1",
        ),
        (
            "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r1')]",
            f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/r1",
        ),
        (
            "[subscriptionResourceId('s9', 'Microsoft.Authorization/roleDefinitions', 'r1')]",
            "/subscriptions/s9/providers/Microsoft.Authorization/roleDefinitions/r1",
        ),
        (
            "[tenantResourceId('Microsoft.Management/managementGroups', 'mg')]",
            "/providers/Microsoft.Management/managementGroups/mg",
        ),
        (
            "[extensionResourceId(resourceId('Microsoft.Compute/galleries', 'g'),"
            " 'Microsoft.Authorization/locks', 'lk')]",
            f"/subscriptions/{SUB}/resourceGroups/my-rg/providers/Microsoft.Compute/galleries/g"
            "/providers/Microsoft.Authorization/locks/lk",
        ),
    ],
)
def test_resource_ids(text: str, expected: str) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "[resourceId('Microsoft.Compute/galleries/images', 'g')]",
            "resource type 'Microsoft.Compute/galleries/images' needs 2 resource name(s), got 1",
        ),
        (
            "[resourceId('Microsoft.Compute/galleries', 'g', 'extra')]",
            "needs 1 resource name(s), got 2",
        ),
        ("[resourceId('a', 'b', 'c', 'Microsoft.Compute/galleries', 'g')]", "at most 2 argument(s)"),
        ("[resourceId('a', 'b')]", "needs a resource type"),
        ("[resourceId('Microsoft.Compute/galleries', 1)]", "expects string arguments, got integer"),
        ("[subscriptionResourceId('s', 'rg', 'Microsoft.Authorization/roleDefinitions', 'r')]", "at most 1"),
        ("[tenantResourceId('s', 'Microsoft.Management/managementGroups', 'mg')]", "at most 0"),
    ],
)
def test_resource_id_errors(text: str, fragment: str) -> None:
    assert fragment in err(text).message


# ------------------------------------------------------------ missing scope

_NO_SCOPE = Scope(subscription_id=None, resource_group=None, location=None)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[subscription()]", "subscription id is not known"),
        ("[subscription().subscriptionId]", "subscription id is not known"),
        ("[resourceGroup()]", "is not known"),
        ("[resourceGroup().id]", "subscription id is not known"),
        ("[resourceGroup().name]", "resource group is not known"),
        ("[resourceGroup().location]", "resource group location is not known"),
        ("[resourceId('Microsoft.Compute/galleries', 'g')]", "subscription id is not known"),
        ("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r')]", "subscription id"),
        ("[subscription().displayName]", "displayName is not known before deployment"),
    ],
)
def test_missing_scope_values(text: str, fragment: str) -> None:
    assert fragment in err(text, scope=_NO_SCOPE).message


def test_missing_scope_values_not_needed() -> None:
    evaluator = Evaluator(_NO_SCOPE, {}, {})
    assert evaluator.evaluate_string("[resourceGroup().type]") == "Microsoft.Resources/resourceGroups"
    assert evaluator.evaluate_string("[subscription().tenantId]") == "00000000-0000-0000-0000-000000000000"
    assert evaluator.evaluate_string("[resourceId('s', 'rg', 'Microsoft.Compute/galleries', 'g')]") == (
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g"
    )
    assert evaluator.evaluate_string("[tenantResourceId('Microsoft.Management/managementGroups', 'm')]")


# ------------------------------------------------------------ laziness


def test_if_only_evaluates_the_chosen_branch() -> None:
    assert ev("[if(true(), 'ok', listKeys('x', '2023-01-01').keys)]") == "ok"
    assert ev("[if(false(), div(1, 0), 'ok')]") == "ok"
    assert ev("[if(equals(1, 1), parameters('name'), parameters('undefined'))]") == "img"
    assert err("[if(false(), 'ok', listKeys('x', '2023-01-01'))]").function == "listKeys"


def test_variables_are_lazy_and_cached() -> None:
    evaluator = Evaluator(SCOPE, PARAMS, {"bad": "[listKeys('x', '1')]", "good": "[toUpper('a')]"})
    assert evaluator.evaluate_string("[variables('good')]") == "A"
    assert evaluator._variable_cache == {"good": "A"}
    assert evaluator.evaluate_string("[variables('GOOD')]") == "A"


def test_results_are_new_structures() -> None:
    evaluator = Evaluator(SCOPE, PARAMS, VARS)
    first = evaluator.evaluate_string("[parameters('obj')]")
    first["y"].append(99)
    assert PARAMS["obj"]["y"] == [10, 20]
    second = evaluator.evaluate_string("[variables('m')]")
    second["list"].clear()
    assert evaluator.evaluate_string("[variables('m')]")["list"] == ["aib-img", 2]


# ------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("text", "function", "fragment"),
    [
        (
            "[deployer().objectId]",
            "deployer",
            "unsupported function 'deployer': it cannot be evaluated before",
        ),
        ("[listKeys('x', '2020-01-01')]", "listKeys", "cannot be evaluated before deployment"),
        ("[listAccountSas('x')]", "listAccountSas", "cannot be evaluated before deployment"),
        ("[providers('Microsoft.Compute')]", "providers", "cannot be evaluated before deployment"),
        ("[environment().name]", "environment", "cannot be evaluated before deployment"),
        ("[pickZones('a', 'b', 'c')]", "pickZones", "cannot be evaluated before deployment"),
        ("[copyIndex()]", "copyIndex", "cannot be evaluated before deployment"),
        ("[dateTimeAdd('x', 'PT1H')]", "dateTimeAdd", "unsupported function 'dateTimeAdd': not implemented"),
        ("[foo()]", "foo", "unknown function 'foo'"),
        ("[Foo(concat('a'))]", "Foo", "unknown function 'Foo'"),
        ("[concat('a', bar())]", "bar", "unknown function 'bar'"),
        ("[ns.fn('x')]", "ns.fn", "user-defined functions are not supported"),
    ],
)
def test_unsupported_and_unknown_functions(text: str, function: str, fragment: str) -> None:
    error = err(text)
    assert error.function == function
    assert fragment in error.message
    assert error.expression == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[concat()]", "concat() expects at least 1 argument, got 0"),
        ("[toLower('a', 'b')]", "toLower() expects 1 argument, got 2"),
        ("[true(1)]", "true() expects no arguments, got 1"),
        ("[substring('a')]", "substring() expects 2 to 3 arguments, got 1"),
        ("[if(true(), 'a')]", "if() expects 3 arguments, got 2"),
        ("[and(true())]", "and() expects at least 2 arguments, got 1"),
        ("[equals(1)]", "equals() expects 2 arguments, got 1"),
    ],
)
def test_wrong_arity(text: str, message: str) -> None:
    error = err(text)
    assert error.message == message
    assert error.function is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[toLower(1)]", "toLower() expects a string, got integer"),
        ("[if('yes', 1, 2)]", "if() expects a boolean condition, got string"),
        ("[not(1)]", "not() expects a boolean, got integer"),
        ("[and(true(), 'x')]", "and() expects boolean arguments, got string"),
        ("[add(1, 'x')]", "add() expects integer operands, got string"),
        ("[add(1, true())]", "add() expects integer operands, got boolean"),
        ("[add(parameters('ratio'), 1)]", "floating-point number (1.5); ARM expressions only support"),
        ("[mul(parameters('ratio'), 2)]", "only support integers"),
        ("[div(1, 0)]", "div(): division by zero"),
        ("[mod(1, 0)]", "mod(): division by zero"),
        ("[mul(9223372036854775807, 2)]", "does not fit in a 64-bit integer"),
        ("[less(1, 'a')]", "less() expects two integers or two strings, got integer and string"),
        ("[length(1)]", "length() expects a string, array or object, got integer"),
        ("[empty(0)]", "empty() expects a string, array, object or null, got integer"),
        ("[concat(createArray(1), 'a')]", "concat() expects arrays only"),
        ("[concat('a', createArray(1))]", "concat() expects strings, integers or booleans"),
        ("[int('abc')]", "int(): 'abc' is not an integer"),
        ("[int(parameters('ratio'))]", "int() expects an integer or a string of digits"),
        ("[bool('yes')]", "bool() expects a boolean, 'true'/'false' or an integer, got 'yes'"),
        ("[json('{bad')]", "json(): invalid JSON"),
        ("[json('NaN')]", "json(): invalid JSON"),
        ("[base64ToString('!!')]", "base64ToString(): '!!' is not valid base64"),
        ("[substring('abc', 4)]", "start index 4 is outside the string (length 3)"),
        ("[substring('abc', 1, 5)]", "exceeds the string length 3"),
        ("[padLeft('a', 3, 'xy')]", "exactly one character"),
        ("[range(0, 10001)]", "count must be between 0 and 10000"),
        ("[createObject('a')]", "createObject() expects key/value pairs"),
        ("[createObject(1, 2)]", "createObject() expects string keys, got integer"),
        ("[union(createArray(), createObject())]", "union() expects all arrays or all objects"),
        ("[replace('abc', '', 'x')]", "must not be empty"),
        ("[uri('relative/path', 'x')]", "is not absolute"),
        ("[format('{1}', 'a')]", "format item {1} refers to a missing argument"),
        ("[format('{0', 'a')]", "invalid format item"),
        ("[format('a}b')]", "unmatched '}'"),
        ("[format('{0:Q}', 1)]", "unsupported format specifier 'Q'"),
        ("[parameters('undefined')]", "parameter 'undefined' is not defined"),
        ("[variables('undefined')]", "variable 'undefined' is not defined"),
        ("[min(createArray())]", "min() needs at least one integer"),
        ("[split('a', 1)]", "split() expects a delimiter string or array of strings, got integer"),
    ],
)
def test_type_and_value_errors(text: str, fragment: str) -> None:
    error = err(text)
    assert fragment in error.message
    assert error.function is None


def test_variable_cycle() -> None:
    error = err("[variables('cycleA')]")
    assert error.message == "in variable 'cycleB': variable cycle: cycleA -> cycleB -> cycleA"
    assert error.variable_path == ("variables", "cycleB")
    assert error.path == ()
    assert err("[variables('self')]").message == ("in variable 'self': variable cycle: self -> self")


def test_error_inside_variable_definition() -> None:
    evaluator = Evaluator(SCOPE, PARAMS, VARS)
    with pytest.raises(ExpressionError) as info:
        evaluator.evaluate_value({"props": {"x": "[variables('broken')]"}}, ("resources", 0))
    error = info.value
    assert error.function == "listKeys"
    assert error.message.startswith("in variable 'broken': unsupported function 'listKeys'")
    assert error.path == ("resources", 0, "props", "x")
    assert error.variable_path == ("variables", "broken", "inner", 1)
    assert error.expression == "[variables('broken')]"


# ------------------------------------------------------------ evaluate_value


def test_evaluate_value_walks_structures() -> None:
    evaluator = Evaluator(SCOPE, PARAMS, VARS)
    raw = {
        "name": "[variables('prefix')]",
        "tags": {"k": "[[literal]", "n": 1, "b": False, "z": None},
        "list": ["[parameters('count')]", {"deep": "[toLower('X')]"}],
    }
    result = evaluator.evaluate_value(raw)
    assert result == {
        "name": "aib-img",
        "tags": {"k": "[literal]", "n": 1, "b": False, "z": None},
        "list": [3, {"deep": "x"}],
    }
    assert raw["name"] == "[variables('prefix')]"
    assert result["tags"] is not raw["tags"]


def test_evaluate_value_error_path() -> None:
    evaluator = Evaluator(SCOPE, PARAMS, VARS)
    raw = {"a": [1, {"b": "ok"}, {"c": ["x", "[foo()]"]}]}
    with pytest.raises(ExpressionError) as info:
        evaluator.evaluate_value(raw, ("resources", 2))
    error = info.value
    assert error.path == ("resources", 2, "a", 2, "c", 1)
    assert error.function == "foo"
    assert error.expression == "[foo()]"


def test_evaluate_string_error_has_empty_path() -> None:
    assert err("[foo()]").path == ()


# ------------------------------------------------------------ nondeterministic


def test_nondeterministic_functions_rejected_by_default() -> None:
    assert err("[utcNow()]").message == "utcNow() is only allowed in a parameter's defaultValue"
    assert err("[newGuid()]").message == "newGuid() is only allowed in a parameter's defaultValue"


def test_nondeterministic_functions_allowed_in_default_values() -> None:
    moment = datetime(2024, 3, 5, 7, 8, 9, 123456, tzinfo=timezone.utc)
    evaluator = Evaluator(SCOPE, {}, {}, allow_nondeterministic=True, clock=lambda: moment)
    assert evaluator.evaluate_string("[utcNow()]") == "20240305T070809Z"
    assert evaluator.evaluate_string("[utcNow('u')]") == "2024-03-05 07:08:09Z"
    assert evaluator.evaluate_string("[utcNow('yyyy-MM-dd')]") == "2024-03-05"
    assert evaluator.evaluate_string("[utcNow('o')]") == "2024-03-05T07:08:09.1234560Z"
    assert evaluator.evaluate_string("[utcNow('r')]") == "Tue, 05 Mar 2024 07:08:09 GMT"
    assert evaluator.evaluate_string("[utcNow('d-M-yy h tt')]") == "5-3-24 7 AM"
    value = evaluator.evaluate_string("[newGuid()]")
    assert str(uuid.UUID(value)) == value
    assert evaluator.evaluate_string("[newGuid()]") != value
    real_clock = Evaluator(SCOPE, {}, {}, allow_nondeterministic=True).evaluate_string("[utcNow('yyyy')]")
    assert len(real_clock) == 4 and real_clock.isdigit()
