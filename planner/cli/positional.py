"""The one rule for positional arguments: a command's own operands first, then the stack folder, which
is optional and may also be given as `-C DIR` / `--stack DIR`:

    aibplan state show ADDRESS [STACK]      aibplan import ADDRESS ARM_ID [STACK]
    aibplan run [ADDRESS]... [STACK]        aibplan sim set-tag TARGET KEY=VALUE [STACK]

The older forms with the stack first (`aibplan run STACK ADDRESS`, `aibplan sim show STACK TARGET`) still
work where they cannot be mistaken: the first argument is a folder and the last is not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import click

# `kind.name` (an address, maybe with a slash: imageDefinition.gallery/definition).
_ADDRESS = re.compile(r"^[A-Za-z]+\.[^\s]")


def looks_like_address(text: str) -> bool:
    return bool(_ADDRESS.match(text)) and not text.startswith(".")


def _is_stack(text: str) -> bool:
    return Path(text).is_dir() and not looks_like_address(text)


def _looks_like_path(text: str) -> bool:
    return not looks_like_address(text) and ("/" in text or "\\" in text or text.startswith((".", "~")))


def split_stack(
    args: Sequence[str],
    stack_dir: str | None,
    *,
    names: Sequence[str] | None = None,
    usage: str = "",
) -> tuple[str, list[str]]:
    """(stack folder, operands). `names` lists the operands a command takes exactly (None: any number)."""
    args = list(args)
    if stack_dir is not None:
        stack, operands = stack_dir, args
    elif names is not None:
        stack, operands = _fixed(args, len(names), usage or " ".join([*names, "[STACK]"]))
    else:
        stack, operands = _variadic(args)
    if names is not None and len(operands) != len(names):
        raise click.UsageError(f"expected {usage or ' '.join(names)}, got {len(args)} argument(s)")
    return stack, operands


def _fixed(args: list[str], count: int, usage: str) -> tuple[str, list[str]]:
    if len(args) == count + 1:
        if _is_stack(args[-1]):
            return args[-1], args[:-1]
        if _is_stack(args[0]):
            return args[0], args[1:]
        named = args[0] if looks_like_address(args[-1]) and not looks_like_address(args[0]) else args[-1]
        raise click.UsageError(f"{named}: no such stack folder (expected {usage})")
    return ".", args


def _variadic(args: list[str]) -> tuple[str, list[str]]:
    if args and _is_stack(args[-1]):
        return args[-1], args[:-1]
    if len(args) > 1 and _is_stack(args[0]):
        return args[0], args[1:]
    for arg in args:
        if _looks_like_path(arg):
            raise click.UsageError(f"{arg}: no such stack folder")
    return ".", args
