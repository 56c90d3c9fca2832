"""How long apply waits for what it cannot hurry (apart: a request names it without importing apply)."""

from __future__ import annotations

# How long a template's running build may take to reach Canceled before its delete fails (seconds).
DEFAULT_CANCEL_TIMEOUT = 1800.0
