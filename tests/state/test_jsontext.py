"""state.jsontext.loads: JSON nested deeper than MAX_DEPTH is refused with where it opens; brackets inside
strings do not count."""

from __future__ import annotations

import json

import pytest

from state.jsontext import MAX_DEPTH, JsonLimitError, loads


def _nested(depth: int, leaf: object = 1) -> object:
    value: object = leaf
    for level in range(depth):
        value = {"k": value} if level % 2 else [value, "[{"]
    return value


@pytest.mark.parametrize("depth", [1, 2, MAX_DEPTH - 1, MAX_DEPTH])
def test_nesting_up_to_the_limit_is_read(depth: int) -> None:
    value = {"pad": "]]]}}}[[[{{{" * 40, "value": _nested(depth - 1)}
    assert loads(json.dumps(value)) == value


def test_nesting_past_the_limit_is_refused_where_it_opens() -> None:
    text = json.dumps({"a": "{{{{", "b": _nested(MAX_DEPTH)})
    with pytest.raises(JsonLimitError) as refused:
        loads(text)
    assert f"nested more than {MAX_DEPTH} levels deep" in refused.value.message
    assert text[refused.value.offset] in "[{"
    assert text[: refused.value.offset].count("[") + text[: refused.value.offset].count("{") > MAX_DEPTH


def test_brackets_in_strings_and_escaped_quotes_do_not_count() -> None:
    text = json.dumps({"s": '\\" [[[[' * 100, "list": [[["x"]]]})
    assert loads(text)["list"] == [[["x"]]]
