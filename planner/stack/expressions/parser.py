"""The expression language's tokenizer and recursive-descent parser: a string ``[...]`` into a small
immutable tree of literals, calls, member accesses and indexes (cached per string)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NoReturn

from .errors import ExpressionError


@dataclass(frozen=True, slots=True)
class Literal:
    """A string literal (quotes taken off, '' unescaped) or an integer literal."""

    value: str | int


@dataclass(frozen=True, slots=True)
class Call:
    """A function call, `name(args...)`; `position` is where its name starts."""

    name: str
    args: tuple[Node, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Member:
    """A property of a value, `target.name`."""

    target: Node
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Index:
    """An element of a value, `target[index]`; `position` is where the `[` is."""

    target: Node
    index: Node
    position: int


@dataclass(frozen=True, slots=True)
class Known:
    """A value computed already (any JSON value), standing in a residual expression (expressions.unknown)."""

    value: Any


Node = Literal | Call | Member | Index | Known

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),.\[\]])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    """One token of an expression."""

    kind: str  # "string", "number", "ident", "punct", "end"
    text: str
    position: int  # 1-based character in the whole string value ('[' is character 1)


def is_expression(value: str) -> bool:
    """True when a JSON string is an ARM expression: ``[...]`` but not ``[[...``."""
    return len(value) >= 2 and value[0] == "[" and value[-1] == "]" and not value.startswith("[[")


def _tokenize(source: str) -> list[_Token]:
    """Split the inside of ``[...]`` into tokens; positions count from the '['."""
    tokens: list[_Token] = []
    index = 0
    length = len(source)
    while index < length:
        match = _TOKEN.match(source, index)
        position = index + 2
        if match is None:
            char = source[index]
            if char == "'":
                raise ExpressionError(f"unterminated string literal starting at character {position}")
            raise ExpressionError(f"unexpected character {char!r} at character {position}")
        kind = match.lastgroup
        assert kind is not None
        text = match.group()
        if kind == "number" and source.startswith(".", match.end()):
            after = match.end() + 1
            if after < length and source[after].isdigit():
                raise ExpressionError(f"floating-point literal at character {position} is not supported")
        if kind != "space":
            tokens.append(_Token(kind, text, position))
        index = match.end()
    tokens.append(_Token("end", "", length + 2))
    return tokens


class _Parser:
    """Recursive-descent parser: call, literal, then any number of .member / [index]."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, token: _Token, expected: str = "") -> NoReturn:
        what = "end of expression" if token.kind == "end" else repr(token.text)
        suffix = f" (expected {expected})" if expected else ""
        raise ExpressionError(f"unexpected {what} at character {token.position}{suffix}")

    def expect(self, text: str) -> _Token:
        token = self.advance()
        if token.kind != "punct" or token.text != text:
            self.fail(token, repr(text))
        return token

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExpressionError("empty expression")
        node = self.expression()
        token = self.peek()
        if token.kind != "end":
            self.fail(token, "end of expression")
        return node

    def expression(self) -> Node:
        node = self.primary()
        while True:
            token = self.peek()
            if token.kind == "punct" and token.text == ".":
                self.advance()
                name = self.advance()
                if name.kind != "ident":
                    self.fail(name, "a property name")
                node = Member(node, name.text, name.position)
            elif token.kind == "punct" and token.text == "[":
                self.advance()
                index = self.expression()
                self.expect("]")
                node = Index(node, index, token.position)
            else:
                return node

    def primary(self) -> Node:
        token = self.advance()
        if token.kind == "string":
            return Literal(token.text[1:-1].replace("''", "'"))
        if token.kind == "number":
            return Literal(int(token.text))
        if token.kind != "ident":
            self.fail(token, "a function call or a literal")
        name = token.text
        follow = self.peek()
        # User-defined functions are written namespace.name(...).
        if (
            follow.kind == "punct"
            and follow.text == "."
            and self.tokens[self.index + 1].kind == "ident"
            and self.tokens[self.index + 2].text == "("
        ):
            qualified = f"{name}.{self.tokens[self.index + 1].text}"
            raise ExpressionError(
                f"unsupported function '{qualified}': user-defined functions are not supported",
                function=qualified,
            )
        if follow.kind != "punct" or follow.text != "(":
            if name.lower() in ("true", "false", "null"):
                self.fail(token, f"{name}() - literals are written as function calls")
            self.fail(follow, f"'(' after function name {name!r}")
        self.advance()
        args: list[Node] = []
        if self.peek().kind == "punct" and self.peek().text == ")":
            self.advance()
            return Call(name, tuple(args), token.position)
        while True:
            args.append(self.expression())
            separator = self.advance()
            if separator.kind == "punct" and separator.text == ")":
                return Call(name, tuple(args), token.position)
            if separator.kind != "punct" or separator.text != ",":
                self.fail(separator, "',' or ')'")


@lru_cache(maxsize=4096)
def parse(text: str) -> Node:
    """Parse an expression string (including its brackets); cached, ASTs are immutable."""
    return _Parser(text[1:-1]).parse()
