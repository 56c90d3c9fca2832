"""Values known only after apply in the expression evaluator: what `reference()` gives before the cloud can
be asked, how such a value travels through expressions, and how it is evaluated again once it can."""

from __future__ import annotations

from typing import Any

import pytest

from planner.stack.expressions import (
    NOT_YET,
    Evaluator,
    ExpressionError,
    ReferenceTarget,
    Scope,
    Unknown,
)
from planner.stack.expressions.unknown import has_unknown, rebind, unknown_leaves

SCOPE = Scope(subscription_id="sub-1", resource_group="rg-images", location="westeurope")
IDENTITY = (
    "/subscriptions/sub-1/resourceGroups/rg-images/providers/"
    + "Microsoft.ManagedIdentity/userAssignedIdentities/aib"
)
VARIABLES = {
    "identityId": "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'aib')]",
    "principal": "[reference(variables('identityId'), '2023-01-31').principalId]",
    "assignment": {
        "principalId": "[variables('principal')]",
        "principalType": "ServicePrincipal",
    },
}
IDENTITY_BODY = {
    "id": IDENTITY,
    "location": "westeurope",
    "identity": None,
    "properties": {"principalId": "p-123", "clientId": "c-456", "tenantId": "t-789"},
}


class Cloud:
    """Answers reference() with a body per id (NOT_YET for what does not exist yet), and counts the asks."""

    def __init__(self, bodies: dict[str, Any]) -> None:
        self.bodies = bodies
        self.asked: list[ReferenceTarget] = []

    def value_of(self, target: ReferenceTarget) -> Any:
        self.asked.append(target)
        body = self.bodies[target.resource]
        if body is NOT_YET or target.full:
            return body
        return body["properties"]


def planned(text: str, parameters: dict[str, Any] | None = None) -> Any:
    """The value at load time: nothing can be asked yet."""
    return Evaluator(SCOPE, parameters or {"env": "dev"}, VARIABLES).evaluate_string(text)


def resolved(value: Any, bodies: dict[str, Any] | None = None) -> Any:
    cloud = Cloud(bodies if bodies is not None else {IDENTITY: IDENTITY_BODY})
    evaluator = Evaluator(Scope(None, None, None), {}, {}, references=cloud)
    if isinstance(value, Unknown):
        return evaluator.resolve(value)
    return value


def test_a_reference_is_unknown_until_the_cloud_can_answer_then_the_identitys_principal() -> None:
    value = planned("[reference(variables('identityId')).principalId]")
    assert isinstance(value, Unknown)
    assert value.targets == {ReferenceTarget(IDENTITY, None, False)}
    assert str(value) == f"[reference('{IDENTITY}').principalId]"
    assert resolved(value) == "p-123"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[concat('id-', reference(variables('identityId')).principalId)]", "id-p-123"),
        ("[format('{0}/{1}', reference(variables('identityId')).tenantId, 'x')]", "t-789/x"),
        ("[toUpper(reference(variables('identityId')).clientId)]", "C-456"),
        ("[equals(reference(variables('identityId')).tenantId, 't-789')]", True),
        ("[if(empty(reference(variables('identityId')).clientId), 'none', 'some')]", "some"),
        ("[reference(variables('identityId'), '2023-01-31', 'Full').properties.principalId]", "p-123"),
        ("[reference(variables('identityId'), '2023-01-31', 'Full')['location']]", "westeurope"),
        ("[json('{\"a\": \"b\"}')[reference(variables('identityId')).clientId]]", None),
    ],
)
def test_what_is_computed_from_an_unknown_is_unknown_and_resolves_to_the_real_value(
    text: str, expected: Any
) -> None:
    value = planned(text)
    assert isinstance(value, Unknown), text
    if expected is None:
        with pytest.raises(ExpressionError, match="property 'c-456' does not exist"):
            resolved(value)
    else:
        assert resolved(value) == expected


def test_the_unknowns_text_is_an_expression_that_evaluates_to_the_same_value() -> None:
    value = planned("[concat('it''s ', reference(variables('identityId')).principalId, string(json('[1]')))]")
    assert isinstance(value, Unknown)
    assert "'it''s '" in str(value)
    again = Evaluator(SCOPE, {}, {}, references=Cloud({IDENTITY: IDENTITY_BODY})).evaluate_string(str(value))
    assert again == resolved(value) == "it's p-123[1]"


def test_if_with_a_known_condition_picks_its_branch_and_never_evaluates_the_other() -> None:
    assert (
        planned("[if(equals(parameters('env'), 'dev'), 'x', reference(variables('identityId')).id)]") == "x"
    )
    assert planned("[if(false(), reference('aib').principalId, 'y')]") == "y"
    branch = planned("[if(true(), reference(variables('identityId')).principalId, 'y')]")
    assert isinstance(branch, Unknown) and resolved(branch) == "p-123"


def test_if_with_an_unknown_condition_is_unknown_until_the_condition_is_known() -> None:
    value = planned("[if(equals(reference(variables('identityId')).tenantId, 't-789'), 'mine', 'other')]")
    assert isinstance(value, Unknown)
    assert resolved(value) == "mine"


def test_comparisons_of_unknowns_are_unknown_but_and_or_decided_by_a_known_argument_are_known() -> None:
    assert isinstance(planned("[equals(variables('principal'), variables('principal'))]"), Unknown)
    assert isinstance(planned("[less(variables('principal'), 'm')]"), Unknown)
    assert isinstance(planned("[and(true(), empty(variables('principal')))]"), Unknown)
    assert planned("[and(false(), empty(variables('principal')))]") is False
    assert planned("[or(empty(variables('principal')), true())]") is True


def test_an_unknown_inside_a_variable_stays_where_it_is() -> None:
    value = planned("[variables('assignment')]")
    assert not isinstance(value, Unknown) and has_unknown(value)
    assert value["principalType"] == "ServicePrincipal"
    ((path, unknown),) = list(unknown_leaves(value))
    assert path == ("principalId",)
    assert resolved(unknown) == "p-123"
    # A function over a container that holds one is unknown as a whole.
    whole = planned("[union(variables('assignment'), createObject('description', 'x'))]")
    assert isinstance(whole, Unknown)
    assert resolved(whole) == {
        "principalId": "p-123",
        "principalType": "ServicePrincipal",
        "description": "x",
    }


def test_the_cloud_answering_not_yet_keeps_that_part_unknown() -> None:
    value = planned("[concat(reference(variables('identityId')).principalId, '/', 'x')]")
    assert isinstance(value, Unknown)
    still = resolved(value, {IDENTITY: NOT_YET})
    assert isinstance(still, Unknown) and str(still) == str(value)
    partly = {**IDENTITY_BODY, "properties": {**IDENTITY_BODY["properties"], "clientId": NOT_YET}}
    full = planned("[reference(variables('identityId'), '2023-01-31', 'Full')]")
    answer = resolved(full, {IDENTITY: partly})
    assert answer["properties"]["principalId"] == "p-123"
    assert isinstance(answer["properties"]["clientId"], Unknown)
    assert str(answer["properties"]["clientId"]).endswith("'Full').properties.clientId]")
    assert resolved(answer["properties"]["clientId"]) == "c-456"


def test_a_name_is_bound_to_the_id_it_names() -> None:
    value = planned("[concat(reference('aib').principalId, '-x')]")
    assert isinstance(value, Unknown)
    assert value.targets == {ReferenceTarget("aib")}
    bound = rebind(value, lambda t: ReferenceTarget(IDENTITY, t.api_version, t.full))
    assert bound.targets == {ReferenceTarget(IDENTITY)}
    assert resolved(bound) == "p-123-x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[reference(reference('aib').principalId)]", "a resource id or name known before apply"),
        ("[reference('aib', '2023-01-31', 'Properties')]", "the third argument can only be 'Full'"),
        ("[reference('')]", "needs a resource id or name"),
        ("[reference(1)]", "expects a resource id or name (string)"),
        ("[reference('a', '1', 'Full', 'x')]", "expects 1 to 3 arguments, got 4"),
    ],
)
def test_reference_arguments_are_checked(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        planned(text)


def test_a_property_name_cannot_be_known_only_after_apply() -> None:
    with pytest.raises(ExpressionError, match="a property name must be known before apply"):
        Evaluator(SCOPE, {}, VARIABLES).evaluate_value({"[variables('principal')]": {}})
