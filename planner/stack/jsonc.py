"""JSON with comments: loading with precise diagnostics, and a lazy source map.

ARM templates may contain ``//`` and ``/* */`` comments. Comments are blanked out
with spaces (newlines kept) so every character keeps its line and column, then the
fast C JSON parser does the real work. Positions are only computed when something
goes wrong or a caller asks for one, so loading stays fast. A file that is plain JSON
(no comment, no key twice, nothing the limits refuse) is read by orjson, faster still
(`_read_plain`); anything else takes the checked reading, which says what and where.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterator
from typing import Any

import orjson

from state.jsontext import MAX_DEPTH, UNREAD, JsonLimitError, loads, read_fast

__all__ = ["JsonSyntaxError", "SourceMap", "line_comments", "load_jsonc", "strip_comments"]

JsonPath = tuple[str | int, ...]

# Strings (double- or single-quoted, possibly unterminated on their line) are matched
# so that comment markers inside them are left alone; comments are matched to be blanked.
_COMMENT_OR_STRING = re.compile(
    r"""
      "[^"\\\n]*(?:\\.[^"\\\n]*)*"?       # double-quoted string
    | '[^'\\\n]*(?:\\.[^'\\\n]*)*'?       # single-quoted string (invalid JSON, kept intact)
    | //[^\n]*                            # line comment
    | /\*.*?(?:\*/|\Z)                    # block comment (possibly unterminated)
    """,
    re.DOTALL | re.VERBOSE,
)

# Tokens of the source-map scanner. ':' and ',' are not needed: inside an object,
# strings alternate between key and value, which is enough to track the path.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[{}\[\]]|[^\s{}\[\]:,"]+')

_JSON_WHITESPACE = " \t\r\n"
_NEWLINE = re.compile("\n")
_NON_JSON_CONSTANT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|-?(?:NaN|Infinity)')


class JsonSyntaxError(Exception):
    """Raised for text that is not JSON (plus comments), with a 1-based position.

    ``str(error)`` is ``file:line:column: message`` so it can be printed as is.
    """

    def __init__(self, message: str, file: str, line: int, column: int) -> None:
        super().__init__(f"{file}:{line}:{column}: {message}")
        self.message = message
        self.file = file
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class _DuplicateKeyError(Exception):
    """Internal: raised from the object hook; located afterwards with the source map."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _NonJsonConstantError(Exception):
    """Internal: NaN/Infinity were found; json.loads would otherwise accept them."""


def _strip(text: str) -> tuple[str, int | None]:
    """Blank out comments; also return the offset of an unterminated ``/*`` if any."""
    unterminated: int | None = None

    def blank(match: re.Match[str]) -> str:
        nonlocal unterminated
        token = match.group()
        if token[0] != "/":
            return token
        if token[1] == "*" and (len(token) < 4 or not token.endswith("*/")):
            unterminated = match.start()
        # Keep newlines (and carriage returns) so line numbers do not move.
        return re.sub(r"[^\r\n]", " ", token) if "\n" in token else " " * len(token)

    if "/" not in text:
        return text, None
    return _COMMENT_OR_STRING.sub(blank, text), unterminated


def strip_comments(text: str) -> str:
    """Replace comments outside strings with spaces (newlines kept) so positions are unchanged.

    An unterminated ``/*`` comment is blanked to the end of the text; :func:`load_jsonc`
    reports it as an error.
    """
    return _strip(text)[0]


def line_comments(text: str) -> Iterator[tuple[int, str]]:
    """Each `//` comment outside strings: (its offset, its text after the slashes)."""
    for match in _COMMENT_OR_STRING.finditer(text):
        token = match.group()
        if token.startswith("//"):
            yield match.start(), token[2:]


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a character offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _line_starts(text: str) -> list[int]:
    """The offset at which each line of `text` starts (the first line at 0)."""
    return [0, *(newline.end() for newline in _NEWLINE.finditer(text))]


def _reject_constant(name: str) -> Any:
    raise _NonJsonConstantError(name)


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return result


# A line of orjson's indented output that starts this deep is inside MAX_DEPTH containers or more.
_DEEP_LINE = b"\n" + b"  " * MAX_DEPTH


def _read_plain(text: str) -> Any:
    """The value of `text` read by orjson (two to three times sooner than the checked reading below), when
    it is plain JSON that needs none of the checks: else UNREAD, and the checked reading decides.

    - read_fast: JSON orjson reads as json.loads would (no comment, no NaN, no number of 19 digits or more,
      no lone surrogate);
    - no key twice in an object. Outside strings a colon follows each key, and orjson writes every colon
      as it is, so the text and orjson's writing of the value hold as many colons unless a key was
      dropped (with its value's colons) or a colon was written as the escape \\u003a;
    - not nested more than MAX_DEPTH deep: orjson indents each line two spaces per container it is in,
      and no line of the value's indented writing starts MAX_DEPTH containers deep or deeper.
    """
    value = read_fast(text)
    if value is UNREAD or "\\u003a" in text or "\\u003A" in text:
        return UNREAD
    try:
        written = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except TypeError:  # nested deeper than orjson writes (254 levels): far past the limit
        return UNREAD
    if written.count(b":") != text.count(":") or _DEEP_LINE in written:
        return UNREAD
    return value


def load_jsonc(text: str, file: str) -> Any:
    """Parse JSON that may contain comments; raise :class:`JsonSyntaxError` on bad input.

    Common mistakes (trailing commas, missing commas, single quotes, unterminated
    strings or comments, NaN/Infinity, duplicate keys) get a specific message and
    the position of the offending character.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    value = _read_plain(text)
    if value is not UNREAD:
        return value
    try:  # most files have no comment: then the text parses as it is, and stripping is not needed
        return loads(text, object_pairs_hook=_pairs_hook, parse_constant=_reject_constant)
    except (ValueError, _DuplicateKeyError, _NonJsonConstantError, RecursionError):
        pass  # comments, or a mistake: the careful path below says which, and where
    stripped, unterminated = _strip(text)
    if unterminated is not None:
        raise JsonSyntaxError("unterminated /* comment", file, *_line_col(text, unterminated))
    if not stripped.strip(_JSON_WHITESPACE):
        raise JsonSyntaxError("file is empty", file, 1, 1)
    try:
        return loads(stripped, object_pairs_hook=_pairs_hook, parse_constant=_reject_constant)
    except JsonLimitError as exc:
        raise JsonSyntaxError(exc.message, file, *_line_col(stripped, exc.offset)) from None
    except json.JSONDecodeError as exc:
        message, offset = _describe(exc.msg, exc.pos, stripped)
        raise JsonSyntaxError(message, file, *_line_col(stripped, offset)) from None
    except _DuplicateKeyError as exc:
        position = SourceMap(stripped).duplicate_key_position(exc.key) or (1, 1)
        raise JsonSyntaxError(f"duplicate key {exc.key!r}", file, *position) from None
    except _NonJsonConstantError as exc:
        offset = _find_constant(stripped)
        raise JsonSyntaxError(
            f"{exc.args[0]} is not valid JSON (only finite numbers are allowed)",
            file,
            *_line_col(stripped, offset),
        ) from None


def _find_constant(text: str) -> int:
    """Offset of the first NaN/Infinity outside strings (0 if not found)."""
    for match in _NON_JSON_CONSTANT.finditer(text):
        if match.group()[0] != '"':
            return match.start()
    return 0


def _previous_significant(text: str, offset: int) -> int:
    """Offset of the last non-whitespace character before offset, or -1."""
    index = offset - 1
    while index >= 0 and text[index] in _JSON_WHITESPACE:
        index -= 1
    return index


def _enclosing_container(text: str, offset: int) -> str | None:
    """'{' or '[' for the innermost container open at offset (strings skipped)."""
    stack: list[str] = []
    for match in _TOKEN.finditer(text, 0, offset):
        token = match.group()
        if token in ("{", "["):
            stack.append(token)
        elif token in ("}", "]") and stack:
            stack.pop()
    return stack[-1] if stack else None


def _string_start_on_line(text: str, offset: int) -> int:
    """Offset of the opening quote of the string left open at offset on the same line."""
    line_start = text.rfind("\n", 0, offset) + 1
    start = line_start
    inside = False
    index = line_start
    while index < offset:
        char = text[index]
        if inside and char == "\\":
            index += 2
            continue
        if char == '"':
            inside = not inside
            if inside:
                start = index
        index += 1
    return start


def _starts_value(char: str) -> bool:
    return char in '"{[-' or char.isdigit() or char in "tfn"


def _trailing_comma(text: str, offset: int) -> tuple[str, int] | None:
    """If offset is just after a trailing comma (at '}' or ']'), describe it."""
    if offset < len(text) and text[offset] in "}]":
        comma = _previous_significant(text, offset)
        if comma >= 0 and text[comma] == ",":
            return f"trailing comma before '{text[offset]}'", comma
    if offset < len(text) and text[offset] == ",":  # newer Pythons point at the comma
        after = offset + 1
        while after < len(text) and text[after] in _JSON_WHITESPACE:
            after += 1
        if after < len(text) and text[after] in "}]":
            return f"trailing comma before '{text[after]}'", offset
    return None


def _describe(msg: str, offset: int, text: str) -> tuple[str, int]:
    """Turn a json module error message into a human one, with the offset to report."""
    char = text[offset] if offset < len(text) else ""
    trailing = _trailing_comma(text, offset)
    if trailing is not None:
        return trailing
    if char == "'":
        return "strings must use double quotes, not single quotes", offset
    if msg.startswith("Unterminated string"):
        return "unterminated string", offset
    if msg.startswith("Invalid control character"):
        if char in "\r\n":
            return "unterminated string (a string cannot span lines)", _string_start_on_line(text, offset)
        return f"control character {char!r} in string must be escaped", offset
    if msg.startswith("Invalid \\escape") or msg.startswith("Invalid \\uXXXX"):
        return "invalid escape sequence in string", offset
    if not char:
        container = _enclosing_container(text, offset)
        if container is not None:
            closer = "}" if container == "{" else "]"
            return f"unexpected end of file: missing '{closer}'", offset
        return "unexpected end of file", offset
    if msg.startswith("Expecting ',' delimiter"):
        container = _enclosing_container(text, offset)
        if _starts_value(char):
            if container == "{":
                return "missing comma between object members", offset
            return "missing comma between array elements", offset
        closer = "}" if container == "{" else "]"
        return f"expected ',' or '{closer}' but found {char!r}", offset
    if msg.startswith("Expecting ':' delimiter"):
        return f"expected ':' after object key but found {char!r}", offset
    if msg.startswith("Expecting property name"):
        if char == ",":
            return "unexpected ',' (extra comma?)", offset
        return f"object keys must be double-quoted strings, found {char!r}", offset
    if msg.startswith("Expecting value"):
        if char == ",":
            return "unexpected ',' (missing value?)", offset
        if char in "}]":
            return f"unexpected '{char}' (missing value?)", offset
        return f"unexpected {char!r}: expected a JSON value", offset
    if msg.startswith("Extra data"):
        return "unexpected content after the end of the JSON document", offset
    return msg, offset


class SourceMap:
    """Maps a JSON path to the (line, column) where that value starts.

    Paths are tuples of object keys (str) and array indexes (int); for a key the
    position is that of the value after the colon. The map is built on first use by
    a small scanner, because positions are only needed for diagnostics, and only as
    far as needed: the scan stops at the path asked for and resumes from there for
    the next one (a path that does not exist scans to the end). Offsets become lines and columns
    through an index of where each line starts, built on the first position asked for, so that each
    position costs O(log lines) however many diagnostics a large file has.
    """

    def __init__(self, text: str) -> None:
        if text.startswith("\ufeff"):
            text = text[1:]
        self._raw = text
        self._text: str | None = None
        self._offsets: dict[JsonPath, int] = {}
        self._duplicates: list[tuple[str, int]] = []
        self._scanner: Iterator[JsonPath] | None = None
        self._complete = False
        self._line_starts: list[int] | None = None

    def _scan(self) -> Iterator[JsonPath]:
        """Scan the comment-stripped text once, recording where every value starts; yields each path as
        it is recorded."""
        try:  # text that parses has no comment to blank out
            json.loads(self._raw)
            text = self._raw
        except Exception:
            text = strip_comments(self._raw)
        self._text = text
        offsets = self._offsets
        duplicates = self._duplicates
        # One frame per open container: [path, is_object, next_index, key, expecting_key]
        paths: list[JsonPath] = []
        is_object: list[bool] = []
        counters: list[int] = []
        keys: list[str] = []
        expecting_key: list[bool] = []
        key_seen: list[set[str]] = []
        for match in _TOKEN.finditer(text):
            token = match.group()
            first = token[0]
            if first == "}" or first == "]":
                if paths:
                    paths.pop()
                    is_object.pop()
                    counters.pop()
                    keys.pop()
                    expecting_key.pop()
                    key_seen.pop()
                continue
            if not paths:
                path: JsonPath = ()
                if path in offsets:  # extra data after the document: ignore it
                    continue
            elif is_object[-1]:
                if expecting_key[-1]:
                    if first == '"':
                        key = _decode_key(token)
                        keys[-1] = key
                        expecting_key[-1] = False
                        seen = key_seen[-1]
                        if key in seen:
                            duplicates.append((key, match.start()))
                        seen.add(key)
                    continue
                path = paths[-1] + (keys[-1],)
                expecting_key[-1] = True
            else:
                path = paths[-1] + (counters[-1],)
                counters[-1] += 1
            if first == "{" or first == "[":
                paths.append(path)
                is_object.append(first == "{")
                counters.append(0)
                keys.append("")
                expecting_key.append(True)
                key_seen.append(set())
            if path not in offsets:
                offsets[path] = match.start()
                yield path
        self._complete = True

    def _offset(self, path: JsonPath) -> int | None:
        found = self._offsets.get(path)
        if found is not None or self._complete:
            return found
        if self._scanner is None:
            self._scanner = self._scan()
        for recorded in self._scanner:
            if recorded == path:
                return self._offsets[path]
        return None

    def _finish(self) -> None:
        if not self._complete:
            if self._scanner is None:
                self._scanner = self._scan()
            for _ in self._scanner:
                pass

    def _position(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in characters) of an offset in the scanned text."""
        assert self._text is not None
        if self._line_starts is None:
            self._line_starts = _line_starts(self._text)
        line = bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def locate(self, path: JsonPath) -> tuple[int, int] | None:
        """Position of the value at path, or None when the path does not exist."""
        offset = self._offset(tuple(path))
        return None if offset is None else self._position(offset)

    def locate_nearest(self, path: JsonPath) -> tuple[int, int]:
        """Position of the longest existing prefix of path (the document start for ())."""
        path = tuple(path)
        for length in range(len(path), -1, -1):
            offset = self._offset(path[:length])
            if offset is not None:
                return self._position(offset)
        return (1, 1)

    def duplicate_key_position(self, key: str | None = None) -> tuple[int, int] | None:
        """Position of the first repeated key in an object (optionally with that name)."""
        self._finish()
        for name, offset in self._duplicates:
            if key is None or name == key:
                return self._position(offset)
        if self._duplicates:
            return self._position(self._duplicates[0][1])
        return None


def _decode_key(token: str) -> str:
    """The text of a string token; escapes are decoded only when present."""
    if "\\" not in token:
        return token[1:-1] if len(token) > 1 and token.endswith('"') else token[1:]
    try:
        value = json.loads(token)
    except ValueError:
        return token[1:-1]
    return value if isinstance(value, str) else token[1:-1]
