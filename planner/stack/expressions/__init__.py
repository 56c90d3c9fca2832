"""Evaluator for ARM template language expressions (``"[concat('a', parameters('b'))]"``).

Only the deterministic part of the language is supported: everything that can be
known before a deployment runs, and ``reference()``, whose value is an `Unknown` (known
only after apply) until the cloud can be asked. Other functions that need the live
deployment (``list*``...) raise :class:`ExpressionError` naming the function, so
callers can report "cannot be planned" instead of guessing.

Modules: `parser` (tokens and the syntax tree), `evaluator` (`Evaluator`, `Scope`), `functions` (the
library's table and argument checks) and one `functions_*` module per group of ARM functions, `values`
(JSON values as ARM compares and prints them), `unknown` (values known only after apply), `formatting`
(.NET format strings), `hashing` (`uniqueString`, `guid`), `errors` (`ExpressionError`).
"""

from .errors import ExpressionError
from .evaluator import Evaluator, Scope
from .hashing import arm_guid, unique_string
from .parser import is_expression
from .unknown import NOT_YET, References, ReferenceTarget, Unknown

__all__ = [
    "NOT_YET",
    "Evaluator",
    "ExpressionError",
    "ReferenceTarget",
    "References",
    "Scope",
    "Unknown",
    "arm_guid",
    "is_expression",
    "unique_string",
]
