"""The benchmark harness: a stack generator and scripts that print figures (not timed tests)."""
