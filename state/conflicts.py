"""A state file git left with conflict markers: refused with where, which resources, and what to do.

Each conflict is named by the resources it is in: the entry the markers stand inside (read from the
lines before it, which both sides share) and every entry or removed resource either side has inside the
markers. A conflict outside any entry is in the file's head (its lineage or format version).
"""

from __future__ import annotations

import re

_START, _BASE, _MIDDLE, _END = "<<<<<<< ", "||||||| ", "=======", ">>>>>>> "
# Entries stand two levels deep in the `resources` list; their keys one level further.
_ENTRY_START = "    {"
_ENTRY_END = re.compile(r"^    \},?$")
_ADDRESS = re.compile(r'^      "address": "((?:[^"\\]|\\.)*)",?$')


def has_conflict_markers(text: str) -> bool:
    return _START in text or _END in text


def conflict_message(text: str, source: str) -> str | None:
    """The error for a text with conflict markers, naming each conflict's resources and how to resolve
    it; None when there is none."""
    lines = text.splitlines()
    conflicts: list[list[str]] = []
    first: int | None = None
    inside: str | None = None  # the address of the entry the shared lines have opened, if any
    current: list[str] | None = None
    side = "ours"
    closed: set[str] = set()  # the sides that have closed the enclosing entry
    enclosing: str | None = None
    for number, line in enumerate(lines, start=1):
        if line.startswith(_START):
            first = first or number
            current, side, closed = [], "ours", set()
            enclosing = inside
            continue
        if current is not None and (line.startswith(_BASE) or line.rstrip() == _MIDDLE):
            side = "base" if line.startswith(_BASE) else "theirs"
            continue
        if current is not None and line.startswith(_END):
            conflicts.append(current)
            current = None
            continue
        found = _ADDRESS.match(line)
        if current is not None:
            if found and found.group(1) not in current:
                current.append(found.group(1))
            if _ENTRY_END.match(line):
                closed.add(side)
            elif enclosing and side not in closed and line.strip() and enclosing not in current:
                # This side changes the enclosing entry itself, not only where it ends.
                current.insert(0, enclosing)
            if side != "ours":
                continue  # the structure is followed on one side only
        if line == _ENTRY_START:
            inside = None
        elif found and inside is None:
            inside = found.group(1)
        elif _ENTRY_END.match(line):
            inside = None
    if first is None:
        first = next((n for n, line in enumerate(lines, start=1) if line.startswith(_END)), None)
        if first is None:
            return None
    named: list[str] = []
    for names in conflicts:
        for name in names or ["the head of the file (lineage, format version)"]:
            if name not in named:
                named.append(name)
    return (
        f"{source}:{first}: the state file contains a git merge-conflict marker "
        f"({len(conflicts)} conflict(s), in {', '.join(named) or 'the file'}). Resolve the conflict so each "
        "resource appears once: keep both sides' resources; for a resource both sides changed keep either "
        "side (the next `aibplan plan` compares it with the cloud); where one side removed a resource the "
        "other changed, keep the entry if the stack still declares it, else the removal; for a resource "
        "one side moved to a new address (`state mv`) keep only the entry under the address the stack "
        "declares, never both (one id under two addresses is refused); then run "
        "`aibplan plan` to check it. Or take one side whole with `git checkout --ours/--theirs -- "
        "STATE_FILE` and run `aibplan apply` (or `aibplan import`) to adopt what the other side created."
    )
