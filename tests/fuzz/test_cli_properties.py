"""Property-based tests (hypothesis) through the real CLI entry point, in process: mutated stack files
(resource bodies, expressions, structure, raw text), `--var` values of every shape for parameters of every
type, and edited state files. Every command must exit 0, 1 or 2 with something said, never with an
uncaught exception or a traceback, and never leave a partial state file.

Bounded and derandomized (a fixed sequence of examples, so CI cannot flake), a few seconds each; the long
run is `python -m benchmarks.fuzz` (the strategies live there).
"""

from __future__ import annotations

import pytest

from benchmarks.fuzz import run_kind


# The sequence is fixed for a given code base and set of imported modules only: hypothesis also draws
# constants from the project's modules loaded at the time. 25 state examples reached no successful command
# after the state format changed (in some test orders); 40 reach both sides in every order tried.
@pytest.mark.parametrize(("kind", "examples"), [("stacks", 40), ("vars", 40), ("states", 40)])
def test_no_mutation_ends_in_a_traceback_or_a_partial_state(kind: str, examples: int) -> None:
    tally = run_kind(kind, examples, None, raise_on_failure=True, derandomize=True)
    assert tally.failures == []
    assert tally.examples >= examples
    # The mutations reached both sides: commands that went through and commands that refused.
    assert tally.exit_codes[0] > 0 and tally.exit_codes[1] > 0, tally.exit_codes
