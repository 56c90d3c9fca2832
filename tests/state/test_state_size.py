"""The state file's size is a property of its format: at most twice the stack's resource files, in each
layout a user writes (one file per resource, one file holding a list, one ARM deployment template)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.generate import generate_stack
from benchmarks.state_size import COMPARABLE, state_size
from tests.helpers import apply_root


@pytest.mark.parametrize("layout", COMPARABLE)
def test_the_state_of_an_applied_stack_is_at_most_twice_its_resource_files(
    tmp_path: Path, layout: str
) -> None:
    root = generate_stack(tmp_path / "stack", 20, layout=layout)
    apply_root(root)
    size = state_size(root)
    assert size.resources == 2 + 1 + 5 + 20
    # Each body once, as sent; the observed body as what the service added or changed (its read-only
    # fields, the identity's principal, the exact source version, the staging group): about 1.9x in the
    # files layout, the smallest resource files (docs/performance.md).
    assert size.ratio <= 2.0, size
    # Keeping every observed body whole (format 3) was about 3x.
    assert size.format_3 > 1.4 * size.state, size
