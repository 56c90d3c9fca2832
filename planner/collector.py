"""Python's cyclic garbage collector paused while aibplan makes many long-lived objects and few cycles.

Loading a stack, reading a state, making a plan and importing modules each make many objects that live
until the command ends (parsed JSON, functions, classes) and almost no reference cycles; the collector,
run every few hundred allocations, would scan them again and again as they accumulate (a third of the
time of loading a 10,000-template stack; a few percent of a command's imports).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the collector for the block; it runs again as soon as the block ends (nested blocks: when the
    outermost ends). What was made meanwhile is then counted as old already (frozen, then unfrozen into the
    oldest generation): else the collector's next run would scan it all at once, a tenth of a second at
    5,000 templates, to find it all alive. A cycle among it is still collected, by a full collection."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
