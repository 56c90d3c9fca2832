"""Tests for planner.stack.jsonc: comment stripping, error positions, the source map, and the plain reading
by orjson answering as the checked reading."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.stack import jsonc
from planner.stack.jsonc import JsonSyntaxError, SourceMap, load_jsonc, strip_comments
from state.jsontext import MAX_DEPTH, UNREAD

# ---------------------------------------------------------------- strip_comments


def test_strip_comments_fast_path_returns_same_object() -> None:
    text = '{"a": 1}'
    assert strip_comments(text) is text


def test_strip_comments_keeps_positions_and_newlines() -> None:
    text = '{ // note\n  "a": /* x\ny */ 1 }'
    stripped = strip_comments(text)
    assert len(stripped) == len(text)
    assert stripped.count("\n") == text.count("\n")
    assert "note" not in stripped and "x" not in stripped
    assert stripped.index('"a"') == text.index('"a"')
    assert json.loads(stripped) == {"a": 1}


def test_strip_comments_keeps_crlf() -> None:
    text = '{"a": 1 /* one\r\ntwo */}\r\n'
    stripped = strip_comments(text)
    assert stripped == '{"a": 1 ' + " " * 6 + "\r\n" + " " * 6 + "}\r\n"


@pytest.mark.parametrize(
    "value",
    ["http://x", "a//b", "/* not a comment */", "// nor this", 'quote \\" then // still string', "\\\\"],
)
def test_comment_markers_inside_strings_survive(value: str) -> None:
    text = json.dumps({"k": value}) + " // trailing"
    assert load_jsonc(text, "f.json") == {"k": value}


@pytest.mark.parametrize(
    "text",
    [
        '// leading\n{"a": 1}',
        '/* leading */ {"a": 1}',
        '{"a": 1} // trailing',
        '{"a": 1} /* trailing */',
        '{"a": 1} // no newline at end',
        '{/* before key */ "a": 1}',
        '{"a" /* before colon */ : 1}',
        '{"a": /* before value */ 1}',
        '{"a": 1 /* after value */}',
        '{"a": 1 // line end\n}',
        '{"a": 1 /* multi\nline\ncomment */}',
        '{"a":/**/1}',
        '{"a":1}/***/',
        '{"a": 1 /* star * inside ** // */}',
        '{"a": 1 // /* not a block comment\n}',
    ],
)
def test_comments_in_all_places(text: str) -> None:
    assert load_jsonc(text, "f.json") == {"a": 1}


def test_comments_between_array_elements() -> None:
    assert load_jsonc("[1, /* x */ 2, // y\n 3]", "f") == [1, 2, 3]


def test_plain_json_loads() -> None:
    data: Any = {"a": [1, 2.5, True, None, "s"], "b": {"c": "\u00e9"}}
    assert load_jsonc(json.dumps(data), "f") == data


def test_bom_is_ignored() -> None:
    assert load_jsonc('\ufeff{"a": 1}', "f") == {"a": 1}


# ---------------------------------------------------------------- syntax errors


def _error(text: str) -> JsonSyntaxError:
    with pytest.raises(JsonSyntaxError) as info:
        load_jsonc(text, "t.json")
    return info.value


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ('{\n  "a": 1,\n}', "trailing comma before '}'", 2, 9),
        ("[1,\n 2,\n ]", "trailing comma before ']'", 2, 3),
        ('{"a": [1, 2,]}', "trailing comma before ']'", 1, 12),
        ('{"a": 1, /* c */ }', "trailing comma before '}'", 1, 8),
        ('{\n  "a": "abc\n}', "unterminated string (a string cannot span lines)", 2, 8),
        ('{"a": "x", "b": "abc', "unterminated string", 1, 17),
        ('{\n  "a": 1\n  "b": 2\n}', "missing comma between object members", 3, 3),
        ("[1\n 2]", "missing comma between array elements", 2, 2),
        ("{'a': 1}", "strings must use double quotes, not single quotes", 1, 2),
        ("{\"a\": 'x'}", "strings must use double quotes, not single quotes", 1, 7),
        ('{\n "a": 1 /* open', "unterminated /* comment", 2, 9),
        ("", "file is empty", 1, 1),
        ("  \n\t ", "file is empty", 1, 1),
        ("// only a comment\n/* and another */", "file is empty", 1, 1),
        ('{"a": NaN}', "NaN is not valid JSON (only finite numbers are allowed)", 1, 7),
        (
            '{"s": "NaN",\n "a": -Infinity}',
            "-Infinity is not valid JSON (only finite numbers are allowed)",
            2,
            7,
        ),
        ("[Infinity]", "Infinity is not valid JSON (only finite numbers are allowed)", 1, 2),
        ('{"a": 1,\n "a": 2}', "duplicate key 'a'", 2, 2),
        ('{"x": {"b": 1, "c": {"b": 2}, "b": 3}}', "duplicate key 'b'", 1, 31),
        ('{"a" 1}', "expected ':' after object key but found '1'", 1, 6),
        ("{a: 1}", "object keys must be double-quoted strings, found 'a'", 1, 2),
        ('{"a": 1} x', "unexpected content after the end of the JSON document", 1, 10),
        ('{"a": [1, 2', "unexpected end of file: missing ']'", 1, 12),
        ('{"a": 1', "unexpected end of file: missing '}'", 1, 8),
        ('{"a": 1;}', "expected ',' or '}' but found ';'", 1, 8),
        ("[1,,2]", "unexpected ',' (missing value?)", 1, 4),
        ('{"a": }', "unexpected '}' (missing value?)", 1, 7),
        ('{"a": tru}', "unexpected 't': expected a JSON value", 1, 7),
        ('["\\q"]', "invalid escape sequence in string", 1, 3),
        ('["a\tb"]', "control character '\\t' in string must be escaped", 1, 4),
    ],
)
def test_syntax_errors(text: str, message: str, line: int, column: int) -> None:
    error = _error(text)
    assert (error.message, error.line, error.column) == (message, line, column)
    assert error.file == "t.json"
    assert str(error) == f"t.json:{line}:{column}: {message}"


def test_positions_ignore_comments_before_the_error() -> None:
    error = _error('/* a\n b */ // c\n{"a": 1,}')
    assert (error.line, error.column) == (3, 8)


def test_unterminated_string_with_comment_markers() -> None:
    error = _error('{\n "u": "http://x\n}')
    assert (error.message, error.line, error.column) == (
        "unterminated string (a string cannot span lines)",
        2,
        7,
    )


def test_duplicate_keys_in_different_objects_are_fine() -> None:
    assert load_jsonc('[{"a": 1}, {"a": 2}]', "f") == [{"a": 1}, {"a": 2}]


def test_duplicate_key_with_escapes() -> None:
    error = _error('{"\\u0061": 1, "a": 2}')
    assert (error.message, error.line, error.column) == ("duplicate key 'a'", 1, 15)


# -------------------------------------------------------------------- SourceMap

_DOC = """// template
{
  "a": {
    "b": [10, {"c": "x"}, [true, null]],
    "s": "with \\"quote\\" and \\\\ and \\u00e9 /* not */"
  },
  /* comment */ "n": -1.5e3,
  "e\\u0073c": {},
  "empty": []
}
"""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ((), (2, 1)),
        (("a",), (3, 8)),
        (("a", "b"), (4, 10)),
        (("a", "b", 0), (4, 11)),
        (("a", "b", 1), (4, 15)),
        (("a", "b", 1, "c"), (4, 21)),
        (("a", "b", 2), (4, 27)),
        (("a", "b", 2, 1), (4, 34)),
        (("a", "s"), (5, 10)),
        (("n",), (7, 22)),
        (("esc",), (8, 15)),
        (("empty",), (9, 12)),
    ],
)
def test_source_map_locate(path: tuple[str | int, ...], expected: tuple[int, int]) -> None:
    assert SourceMap(_DOC).locate(path) == expected


@pytest.mark.parametrize(
    "path",
    [("x",), ("a", "b", 3), ("a", "b", "0"), ("a", "b", 1, "d"), ("n", 0), ("empty", 0)],
)
def test_source_map_locate_missing(path: tuple[str | int, ...]) -> None:
    assert SourceMap(_DOC).locate(path) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("a", "b", 1, "missing", 3), (4, 15)),
        (("a", "zzz"), (3, 8)),
        (("nope",), (2, 1)),
        (("a", "b", 2, 1), (4, 34)),
        ((), (2, 1)),
    ],
)
def test_source_map_locate_nearest(path: tuple[str | int, ...], expected: tuple[int, int]) -> None:
    assert SourceMap(_DOC).locate_nearest(path) == expected


def test_source_map_empty_text() -> None:
    source_map = SourceMap("")
    assert source_map.locate(()) is None
    assert source_map.locate_nearest(("a",)) == (1, 1)


def test_source_map_is_lazy_and_reusable() -> None:
    source_map = SourceMap('{"a": 1, "b": [2, 3]}')
    assert source_map._scanner is None and not source_map._offsets
    assert source_map.locate(("a",)) == (1, 7)
    assert ("b",) not in source_map._offsets  # the scan stopped at what was asked for
    assert source_map.locate(("a",)) == (1, 7)
    assert source_map.locate(("b", 1)) == (1, 19)
    assert source_map.locate(("c",)) is None


def test_source_map_scalar_root_and_nested_arrays() -> None:
    assert SourceMap("  42").locate(()) == (1, 3)
    source_map = SourceMap("[[1, 2], [], [[3]]]")
    assert source_map.locate((0, 1)) == (1, 6)
    assert source_map.locate((1,)) == (1, 10)
    assert source_map.locate((2, 0, 0)) == (1, 16)


def test_source_map_large_document() -> None:
    doc = {"items": [{"name": f"n{i}", "tags": {"k": [i, "a//b"]}} for i in range(2000)]}
    text = json.dumps(doc, indent=1)
    line, column = SourceMap(text).locate(("items", 1999, "tags", "k", 1)) or (0, 0)
    assert text.splitlines()[line - 1][column - 1 :].startswith('"a//b"')


def test_source_map_positions_asked_in_any_order_with_crlf_lines() -> None:
    source_map = SourceMap('{\r\n  "a": 1,\r\n  "b": [\r\n    2,\r\n    3\r\n  ]\r\n}\r\n')
    assert source_map.locate(("b", 1)) == (5, 5)
    assert source_map.locate(("a",)) == (2, 8)
    assert source_map.locate(()) == (1, 1)
    assert source_map.locate(("b",)) == (3, 8)


# ---------------------------------------------------------------- the plain reading (orjson)
#
# load_jsonc has orjson read a file that needs none of its checks. Whatever the text, the answer must be
# the checked reading's: the same value (repr: types, key order, every digit) or the same error, at the
# same place. The checked reading alone is what load_jsonc gives with the plain reading turned off.

DEEP = MAX_DEPTH + 1
PLAIN_EDGES = [
    '{"a": 1, "b": {"c": [1, 2.5, -0, -0.0, true, null, "x:y"]}}',
    '{"a": 1, "a": 2}',
    '{"a": {"k": "v", "k": "w"}}',
    '[{"k": 1}, {"k": 2, "k": 3}]',
    '{"a": "1:2:3", "a": ":"}',  # a key twice, the colons of the value dropped with it
    '{"a\\u003a": 1, "a\\u003a": 2}',  # a colon written as an escape
    '{"a": "\\u003a", "b": "\\u003A"}',
    '{"a": 1, "a:": 2}',
    '{"n": 123456789012345678901234567890}',
    '{"n": 1e999}',
    '{"n": NaN}',
    '{"s": "\\ud800"}',
    '{"a": 1} // a comment',
    '{"a": 1, /* here */ "b": 2}',
    '{"a": 1,}',
    '\ufeff{"a": 1}',
    "[" * MAX_DEPTH + "]" * MAX_DEPTH,
    "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1),
    "[" * DEEP + "]" * DEEP,
    '{"a": ' * DEEP + "1" + "}" * DEEP,
    "[" * 300 + "]" * 300,  # deeper than orjson writes
    "[" * 2000 + "]" * 2000,  # deeper than orjson reads
    "",
    "{",
]


def _read(text: str) -> tuple[str, object]:
    try:
        return "value", repr(load_jsonc(text, "f.json"))
    except JsonSyntaxError as exc:
        return "error", str(exc)


def _checked_only(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, object]:
    with monkeypatch.context() as patched:
        patched.setattr(jsonc, "_read_plain", lambda text: UNREAD)
        return _read(text)


@pytest.mark.parametrize("text", PLAIN_EDGES)
def test_the_plain_reading_answers_as_the_checked_reading(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _read(text) == _checked_only(text, monkeypatch)


def test_the_plain_reading_reads_plain_files() -> None:
    text = json.dumps({"resources": [{"name": f"r{i}", "tags": {"a": "b:c"}} for i in range(3)]}, indent=2)
    assert jsonc._read_plain(text) == json.loads(text)


_keys = st.sampled_from(["a", "b", "a:", ":", "k"])
_documents = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.lists(st.tuples(_keys, inner), max_size=4),
    max_leaves=15,
)


def _written(value: object) -> str:
    """JSON text of a generated value; a list of (key, value) pairs is an object, its keys as given (so
    some come twice)."""
    if isinstance(value, list) and value and all(isinstance(item, tuple) for item in value):
        members = ", ".join(f"{json.dumps(key)}: {_written(item)}" for key, item in value)
        return "{" + members + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_written(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(_documents)
def test_any_document_reads_as_the_checked_reading_reads_it(value: object) -> None:
    text = _written(value)
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _read(text) == _checked_only(text, monkeypatch)
