"""Rule findings turned off where the stack says so: scoped, with a reason, and still counted
(docs/guardrails.md).

- aibplan.json `rules`: `{"AIB3408": "off"}` (the whole stack) or `{"AIB3408": {"off": ["imageTemplate.web"],
  "reason": "..."}}` (those resources);
- a comment in a resource file, `// aibplan-ignore AIB3408: reason` (several ids: `AIB3408, AIB3409`):
  alone on its line it covers the next line with JSON on it and, when that line opens an object or a
  list, everything to its end; after JSON on a line, that line (and what it opens). The reason is
  required: a comment without one, or naming no rule, is a warning (AIB0020) and turns nothing off.

Only findings of the rules in the registry can be turned off, and never an error from loading or the
graph (AIB0xxx, AIB1xxx): a resource such an error is about drops out of the plan, and hiding that
would hide a delete. Suppressed findings are kept with what suppressed them, so every output counts them
(and SARIF carries them with `suppressions`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..diagnostics import Diagnostic, Severity
from ..stack.jsonc import line_comments, strip_comments
from ..stack.locate import Locator
from ..stack.model import CONFIG_FILE, Stack

COMMENT_CODE = "AIB0020"
_MARK = "aibplan-ignore"
_COMMENT = re.compile(
    r"^\s*aibplan-ignore\s+(?P<codes>[A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*)\s*(?::\s*(?P<reason>.*?))?\s*$"
)
_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[\]{}]')


@dataclass(frozen=True)
class Suppression:
    """What turns findings off: rule ids, a reason, and where it is written."""

    codes: tuple[str, ...]
    reason: str | None
    # SARIF's words: "inSource" (a comment in the file) or "external" (aibplan.json).
    kind: str
    # For people: "template.json:12" or "aibplan.json rules.AIB3408".
    where: str
    # A comment: its file and the lines it covers. aibplan.json: the addresses (None: everywhere).
    file: str | None = None
    lines: tuple[int, int] = (0, 0)
    addresses: tuple[str, ...] | None = None

    def covers(self, d: Diagnostic) -> bool:
        if d.code not in self.codes:
            return False
        if self.kind == "inSource":
            return d.file == self.file and d.line is not None and self.lines[0] <= d.line <= self.lines[1]
        return self.addresses is None or d.address in self.addresses


@dataclass(frozen=True)
class Suppressed:
    """A finding that was turned off, and by what."""

    diagnostic: Diagnostic
    by: Suppression


def apply_suppressions(
    diagnostics: Sequence[Diagnostic], stack: Stack, rule_ids: Callable[[], Iterable[str]]
) -> tuple[list[Diagnostic], list[Suppressed]]:
    """(the findings kept, with warnings about the suppressions themselves; the findings turned off).
    `rule_ids` gives the ids of every rule, asked for only when the stack turns some finding off."""
    marked = [(file, text) for file, text in stack.texts.items() if _MARK in text]
    if not stack.config.rules and not marked:
        return [*diagnostics], []
    known = frozenset(rule_ids())
    suppressions, notes = _config(stack, known)
    for file, text in marked:
        found, said = _comments(file, text, known)
        suppressions += found
        notes += said
    if not suppressions:
        return [*diagnostics, *notes], []
    kept: list[Diagnostic] = []
    off: list[Suppressed] = []
    for d in diagnostics:
        by = next((s for s in suppressions if s.covers(d)), None) if _can_be_suppressed(d) else None
        if by is None:
            kept.append(d)
        else:
            off.append(Suppressed(d, by))
    return [*kept, *notes], off


def _can_be_suppressed(d: Diagnostic) -> bool:
    return d.severity is not Severity.ERROR or not d.code.startswith(("AIB0", "AIB1"))


def _config(stack: Stack, known: frozenset[str]) -> tuple[list[Suppression], list[Diagnostic]]:
    found: list[Suppression] = []
    notes: list[Diagnostic] = []
    locator = Locator(stack.texts)
    for rule, setting in stack.config.rules.items():
        if rule not in known:
            note = Diagnostic(
                "AIB0003",
                Severity.WARNING,
                f"{CONFIG_FILE}: rules.{rule} names no rule aibplan has; it turns nothing off",
                path=("rules", rule),
                hint="docs/rules.md lists the rules",
            )
            notes.append(locator.place(note, CONFIG_FILE, ()))
            continue
        where = f"{CONFIG_FILE} rules.{rule}"
        found.append(Suppression((rule,), setting.reason, "external", where, addresses=setting.addresses))
    return found, notes


def _comments(file: str, text: str, known: frozenset[str]) -> tuple[list[Suppression], list[Diagnostic]]:
    """The `// aibplan-ignore` comments of one file, and warnings about those that cannot be used."""
    found: list[Suppression] = []
    notes: list[Diagnostic] = []
    stripped = strip_comments(text)
    starts = _line_starts(text)
    for offset, body in line_comments(text):
        if _MARK not in body:
            continue
        line = _line_of(starts, offset)
        column = offset - starts[line - 1] + 1

        def warn(message: str, line: int = line, column: int = column) -> None:
            notes.append(
                Diagnostic(
                    COMMENT_CODE,
                    Severity.WARNING,
                    message,
                    file=file,
                    line=line,
                    column=column,
                    hint="write it as: // aibplan-ignore AIB3408: why this finding does not apply here",
                )
            )

        match = _COMMENT.match(body)
        if match is None:
            warn("this aibplan-ignore comment names no rule; it turns nothing off")
            continue
        codes = [c.strip() for c in match["codes"].split(",")]
        unknown = [c for c in codes if c not in known]
        if unknown:
            warn(f"aibplan-ignore: {', '.join(unknown)} is not a rule aibplan has (docs/rules.md)")
        codes = [c for c in codes if c in known]
        if not match["reason"]:
            warn("an aibplan-ignore comment needs a reason after a colon; it turns nothing off")
            continue
        if codes:
            first, last = _covered(stripped, starts, offset, line)
            found.append(
                Suppression(tuple(codes), match["reason"], "inSource", f"{file}:{line}", file, (first, last))
            )
    return found, notes


def _covered(stripped: str, starts: list[int], offset: int, line: int) -> tuple[int, int]:
    """The lines a comment at `offset` (on `line`) covers: its own line when JSON comes before it there,
    else the next line with JSON; with what that line opens (an object or a list), to its end."""
    line_start = starts[line - 1]
    if stripped[line_start:offset].strip():
        target = line
    else:
        target = line + 1
        while target <= len(starts) and not _line_text(stripped, starts, target).strip():
            target += 1
        if target > len(starts):
            return line, line
    code = _line_text(stripped, starts, target).rstrip()
    if not code.endswith(("{", "[")):
        return target, target
    opening = starts[target - 1] + len(code) - 1
    return target, _line_of(starts, _closing(stripped, opening))


def _closing(text: str, opening: int) -> int:
    """The offset of the bracket that closes the one at `opening` (the end of the text if none does)."""
    depth = 0
    for match in _TOKENS.finditer(text, opening):
        token = match.group()
        if token in ("{", "["):
            depth += 1
        elif token in ("}", "]"):
            depth -= 1
            if depth == 0:
                return match.start()
    return len(text)


def _line_starts(text: str) -> list[int]:
    return [0, *(match.end() for match in re.finditer("\n", text))]


def _line_of(starts: list[int], offset: int) -> int:
    low, high = 0, len(starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if starts[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low + 1


def _line_text(text: str, starts: list[int], line: int) -> str:
    end = starts[line] - 1 if line < len(starts) else len(text)
    return text[starts[line - 1] : end]
