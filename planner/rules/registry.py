"""The one list of every validation rule, in the order they run and are documented."""

from __future__ import annotations

from . import Rule
from .essentials import RULES as ESSENTIALS

ALL_RULES: tuple[Rule, ...] = (*ESSENTIALS,)


def by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in ALL_RULES}
