"""state.jsontext.loads: JSON nested deeper than MAX_DEPTH is refused with where it opens; brackets inside
strings do not count. read_json: where orjson reads a document instead of the standard library, the value
and every refusal are the standard library's."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from state.jsontext import MAX_DEPTH, JsonLimitError, loads, read_json


def _nested(depth: int, leaf: object = 1) -> object:
    value: object = leaf
    for level in range(depth):
        value = {"k": value} if level % 2 else [value, "[{"]
    return value


@pytest.mark.parametrize("depth", [1, 2, MAX_DEPTH - 1, MAX_DEPTH])
def test_nesting_up_to_the_limit_is_read(depth: int) -> None:
    value = {"pad": "]]]}}}[[[{{{" * 40, "value": _nested(depth - 1)}
    assert loads(json.dumps(value)) == value


@pytest.mark.parametrize("pad", [0, 70_000], ids=["short", "long"])
def test_nesting_past_the_limit_is_refused_where_it_opens(pad: int) -> None:
    # A long text is walked without its brackets counted first (a state of thousands of resources).
    text = json.dumps({"a": "{{{{" + "x" * pad, "b": _nested(MAX_DEPTH)})
    with pytest.raises(JsonLimitError) as refused:
        loads(text)
    assert f"nested more than {MAX_DEPTH} levels deep" in refused.value.message
    assert text[refused.value.offset] in "[{"
    assert text[: refused.value.offset].count("[") + text[: refused.value.offset].count("{") > MAX_DEPTH


def test_brackets_in_strings_and_escaped_quotes_do_not_count() -> None:
    text = json.dumps({"s": '\\" [[[[' * 100, "list": [[["x"]]]})
    assert loads(text)["list"] == [[["x"]]]


# Where read_json has orjson read a document, the value is json.loads' value, of the same types, and what
# json.loads refuses is refused in its words: each text below is read both ways.
EDGES = [
    '{"a": 1, "b": [true, false, null], "c": "é\\u00e9\\ud83d\\ude00", "d": -0, "e": -0.0, "f": 1.5e3}',
    '{"a": 1, "a": 2, "b": 3}',  # a key twice: the last value, at the first key's place
    "9223372036854775807",  # the largest 64-bit integer
    "18446744073709551616",  # one past what orjson reads as an integer: it would give a float
    "-9223372036854775809",
    "[123456789012345678901234567890, 1]",
    '{"id": "resource-1234567890123456789012"}',  # a digit run in a string: left to json.loads
    "0.1000000000000000055511151231257827",
    "1e308",
    "1e999",
    "-1E400",
    "NaN",
    "[Infinity]",
    '"\\ud800"',  # a lone surrogate escape
    '"\\udc00\\ud800"',
    "\ufeff{}",
    '"tab\there"',  # a control character inside a string
    "[1,]",
    "{} x",
    "",
    "   ",
    "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
    json.dumps({"deep": _nested(MAX_DEPTH - 1)}),
    "[" * 5000 + "]" * 5000,
]


def _outcome(read: Callable[[], object]) -> tuple[str, object]:
    try:
        value = read()
    except Exception as exc:  # the kind and the words of the refusal are what is compared
        return type(exc).__name__, str(exc)
    return "value", repr(value)  # types, key order, -0.0 and every digit of a float included


@pytest.mark.parametrize("text", EDGES)
def test_read_json_gives_what_json_loads_gives(text: str) -> None:
    assert _outcome(lambda: read_json(text)) == _outcome(lambda: json.loads(text))


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_any_document_reads_as_json_loads_reads_it(value: object) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert _outcome(lambda: read_json(text)) == _outcome(lambda: json.loads(text))
