"""A package's names loaded from its modules when first asked for (PEP 562), so that importing the package
(`planner.operations`, `planner.views`) does not import every module behind it: a command imports what it
uses (issue 14: start-up and what a command imports)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

from .collector import collector_paused


def lazy_exports(package: str, modules: Mapping[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: each name of `modules` (module -> names) imported from its
    module on first use and kept in the package, so the next use is an ordinary attribute."""
    module_of = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        with collector_paused():  # a module's objects live as long as the process (planner.collector)
            value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
