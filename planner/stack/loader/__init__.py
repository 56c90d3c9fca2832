"""Load a stack folder: aibplan.json, resource files (resources, lists, ARM deployment templates), parameters.

`stack` loads (a stack, its settings alone, or files given without their stack); `config` reads aibplan.json;
`parameters` gathers parameter values by precedence and builds a deployment template's evaluator;
`resources` turns a file into resources; `placeholders` finds sample values left in; `alone` reports what
files validated outside a stack cannot know; `loading` holds one load's findings until they are placed.
"""

from .alone import UNKNOWN_RESOURCE_GROUP, UNKNOWN_SUBSCRIPTION
from .parameters import parse_var
from .stack import (
    environments_of,
    find_stack_root,
    load_config,
    load_files,
    load_stack,
    locator_for,
    resource_sources,
)

__all__ = [
    "UNKNOWN_RESOURCE_GROUP",
    "UNKNOWN_SUBSCRIPTION",
    "environments_of",
    "find_stack_root",
    "load_config",
    "load_files",
    "load_stack",
    "locator_for",
    "parse_var",
    "resource_sources",
]
