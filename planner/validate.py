"""Validate a loaded stack: every rule in the registry, then the graph's own checks."""

from __future__ import annotations

import networkx as nx

from .diagnostics import Diagnostic, sort_key
from .loader import locator_for, resource_sources
from .locate import place_all
from .model import Stack
from .rules import run_rules
from .rules.registry import ALL_RULES


def validate_stack(stack: Stack, graph: nx.DiGraph | None = None) -> list[Diagnostic]:
    """Diagnostics for the stack, placed at file, line and column, sorted by place."""
    found = run_rules(ALL_RULES, stack, graph)
    return sorted(place_all(found, locator_for(stack), resource_sources(stack)), key=sort_key)
